// Internals of src/crypto shared by its .cc files, its tests and bench/crypto_bench.cc. Protocol
// code uses the public headers (aead.h, blake2s.h, x25519.h, random.h), never this one.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "base/bytes.h"
#include "crypto/keys.h"

namespace wgate::crypto::internal {

// Runs sodium_init() once; thread-safe and cheap after the first call. libsodium selects its SIMD
// implementations there (without it the AEADs run the portable reference code) and its CSPRNG
// needs it before concurrent use.
void EnsureSodium();

// The two libraries that implement RFC 8439 ChaCha20-Poly1305. aead.cc picks one for the public
// functions; both are kept so the tests check each against the RFC and the benchmark can compare.
enum class AeadLibrary { kOpenSsl, kSodium };

inline constexpr size_t kIetfNonceLen = 12;

// RFC 8439 AEAD with a full 96-bit nonce, as the RFC's own vectors use. Same contract as
// ChaChaPolySeal/ChaChaPolyOpen in aead.h (in-place allowed, no allocation per call).
void ChaChaPolySealIetf(AeadLibrary library, const KeyBytes& key,
                        const uint8_t nonce[kIetfNonceLen], ConstBytes plaintext, ConstBytes aad,
                        uint8_t* out);
[[nodiscard]] bool ChaChaPolyOpenIetf(AeadLibrary library, const KeyBytes& key,
                                      const uint8_t nonce[kIetfNonceLen], ConstBytes sealed,
                                      ConstBytes aad, uint8_t* out);

// WireGuard's nonce: 32 zero bits || counter as 64-bit little-endian.
void WireGuardNonce(uint64_t counter, uint8_t nonce[kIetfNonceLen]);

// Keyed BLAKE2s (RFC 7693) with any key size 1..32 and output size 1..32 (out.size()). The output
// size is part of BLAKE2's parameter block, so a 16-byte MAC is not a truncated 32-byte one.
void Blake2sKeyed(ConstBytes key, std::initializer_list<ConstBytes> parts, Bytes out);

}  // namespace wgate::crypto::internal
