// Hex helpers for the crypto tests (test-only; vectors are written in hex as their sources print
// them).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "crypto/keys.h"

namespace wgate::crypto::testing {

// Decodes lower- or upper-case hex; aborts on malformed input (a typo in a test vector).
inline std::vector<uint8_t> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  WGATE_CHECK(hex.size() % 2 == 0);
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    WGATE_CHECK(hi >= 0 && lo >= 0);
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

inline std::string ToHex(ConstBytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

inline KeyBytes KeyFromHex(std::string_view hex) {
  std::vector<uint8_t> bytes = FromHex(hex);
  WGATE_CHECK(bytes.size() == kKeyLen);
  KeyBytes key;
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

// A byte sequence 0, 1, 2, ... (mod 256) of length n, as the BLAKE2 KAT inputs and keys are.
inline std::vector<uint8_t> Sequence(size_t n, uint8_t first = 0) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

}  // namespace wgate::crypto::testing
