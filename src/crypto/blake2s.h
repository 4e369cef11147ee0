// BLAKE2s and the constructions the WireGuard paper builds on it (HASH, MAC, HMAC, KDF1/2/3).
// Stateless functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "base/bytes.h"

namespace wgate::crypto {

inline constexpr size_t kHashLen = 32;
inline constexpr size_t kMacLen = 16;
using Hash = std::array<uint8_t, kHashLen>;
using Mac = std::array<uint8_t, kMacLen>;

// HASH(p0 || p1 || ...): unkeyed BLAKE2s-256 over the concatenation of the parts.
Hash Blake2s256(std::initializer_list<ConstBytes> parts);

// MAC(key, p0 || p1 || ...): keyed BLAKE2s with a 16-byte output. key.size() is 1..32 (WireGuard
// uses 32-byte mac1 keys and 16-byte cookies).
Mac Blake2sMac128(ConstBytes key, std::initializer_list<ConstBytes> parts);

// HMAC(key, input) with BLAKE2s-256 as the hash (RFC 2104, 64-byte block).
Hash HmacBlake2s(ConstBytes key, ConstBytes input);

// KDF_n(key, input) of the WireGuard paper (HKDF with HMAC-BLAKE2s): T0 = HMAC(key, input),
// T1 = HMAC(T0, 0x1), Ti = HMAC(T0, T(i-1) || i). Intermediate secrets are zeroed.
void Kdf1(const Hash& key, ConstBytes input, Hash* t1);
void Kdf2(const Hash& key, ConstBytes input, Hash* t1, Hash* t2);
void Kdf3(const Hash& key, ConstBytes input, Hash* t1, Hash* t2, Hash* t3);

}  // namespace wgate::crypto
