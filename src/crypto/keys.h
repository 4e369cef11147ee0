// WireGuard key types and their text forms.
//
// Secret keys (PrivateKey, PresharedKey) zero their bytes on destruction and never print; only
// PublicKey has a text form meant for humans. Text forms are the 44-character standard base64 that
// `wg` prints; decoding accepts only the canonical encoding (padding bits zero), as `wg` does.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wgate::crypto {

inline constexpr size_t kKeyLen = 32;
using KeyBytes = std::array<uint8_t, kKeyLen>;

// Zeroes memory in a way the compiler may not elide.
void SecureZero(void* p, size_t n);

// Constant-time equality of two equally sized buffers.
bool ConstantTimeEqual(const void* a, const void* b, size_t n);

// Why a key's text was refused; the text itself is never quoted (it may be a secret).
enum class KeyParseError { kNone, kWrongLength, kNotBase64, kNotCanonical, kAllZero };
std::string_view KeyParseErrorText(KeyParseError e);

// Decodes 44-char base64 into 32 bytes. Does not refuse all-zero (callers decide; see ParseKey).
KeyParseError DecodeKeyBase64(std::string_view text, KeyBytes* out);
// Same, plus refuses the all-zero key.
KeyParseError ParseKey(std::string_view text, KeyBytes* out);
std::string EncodeKeyBase64(const KeyBytes& key);
// Lower-case hex, as the UAPI protocol uses.
std::string EncodeKeyHex(const KeyBytes& key);
bool DecodeKeyHex(std::string_view text, KeyBytes* out);

class PublicKey {
 public:
  PublicKey() { bytes_.fill(0); }
  explicit PublicKey(const KeyBytes& b) : bytes_(b) {}
  const KeyBytes& bytes() const { return bytes_; }
  std::string ToBase64() const { return EncodeKeyBase64(bytes_); }
  bool operator==(const PublicKey& o) const { return bytes_ == o.bytes_; }

 private:
  KeyBytes bytes_;
};

// A 32-byte secret that zeroes itself. Copyable (configs are copied), never printable.
class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  explicit SecretKey(const KeyBytes& b) : bytes_(b) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey() { SecureZero(bytes_.data(), bytes_.size()); }
  const KeyBytes& bytes() const { return bytes_; }
  KeyBytes& mutable_bytes() { return bytes_; }
  bool IsZero() const;
  bool operator==(const SecretKey& o) const {
    return ConstantTimeEqual(bytes_.data(), o.bytes_.data(), kKeyLen);
  }

 private:
  KeyBytes bytes_;
};

class PrivateKey : public SecretKey {
 public:
  using SecretKey::SecretKey;
  // Curve25519 public key of this private key (the scalar is clamped, as X25519 does).
  PublicKey DerivePublic() const;
  // A fresh random private key.
  static PrivateKey Generate();
};

class PresharedKey : public SecretKey {
 public:
  using SecretKey::SecretKey;
};

}  // namespace wgate::crypto
