// AEADs of the WireGuard protocol, over a well-kept library (no primitive is written here).
//
// All functions are stateless and thread-safe: many worker threads may seal/open with the same key
// at once. `out` may alias the input exactly (in-place); partial overlap is not allowed.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "crypto/keys.h"

namespace wgate::crypto {

inline constexpr size_t kAeadTagLen = 16;
inline constexpr size_t kXNonceLen = 24;

// ChaCha20-Poly1305 (RFC 8439) with WireGuard's 96-bit nonce: 32 zero bits || counter as 64-bit
// little-endian. Seal writes plaintext.size() + 16 bytes to `out` (ciphertext then tag).
void ChaChaPolySeal(const KeyBytes& key, uint64_t counter, ConstBytes plaintext, ConstBytes aad,
                    uint8_t* out);
// Opens ciphertext||tag (size >= 16) into `out` (size - 16 bytes). False if the tag is wrong; then
// `out` holds no usable data.
[[nodiscard]] bool ChaChaPolyOpen(const KeyBytes& key, uint64_t counter, ConstBytes sealed,
                                  ConstBytes aad, uint8_t* out);

// XChaCha20-Poly1305 with a 24-byte nonce (cookie replies).
void XChaChaPolySeal(const KeyBytes& key, const uint8_t nonce[kXNonceLen], ConstBytes plaintext,
                     ConstBytes aad, uint8_t* out);
[[nodiscard]] bool XChaChaPolyOpen(const KeyBytes& key, const uint8_t nonce[kXNonceLen],
                                   ConstBytes sealed, ConstBytes aad, uint8_t* out);

}  // namespace wgate::crypto
