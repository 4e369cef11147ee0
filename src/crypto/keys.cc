#include "crypto/keys.h"

#include <sodium.h>

#include "base/error.h"
#include "crypto/internal.h"

namespace wgate::crypto {

using internal::EnsureSodium;

void SecureZero(void* p, size_t n) { sodium_memzero(p, n); }

bool ConstantTimeEqual(const void* a, const void* b, size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

std::string_view KeyParseErrorText(KeyParseError e) {
  switch (e) {
    case KeyParseError::kNone:
      return "ok";
    case KeyParseError::kWrongLength:
      return "is not 44 characters of base64 (a 32-byte key)";
    case KeyParseError::kNotBase64:
      return "is not valid base64";
    case KeyParseError::kNotCanonical:
      return "is not in canonical base64 form (its last character is wrong)";
    case KeyParseError::kAllZero:
      return "is all zeros";
  }
  return "?";
}

KeyParseError DecodeKeyBase64(std::string_view text, KeyBytes* out) {
  EnsureSodium();
  if (text.size() != sodium_base64_ENCODED_LEN(kKeyLen, sodium_base64_VARIANT_ORIGINAL) - 1) {
    return KeyParseError::kWrongLength;
  }
  if (text.back() != '=') return KeyParseError::kNotBase64;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return KeyParseError::kNotBase64;
  }
  KeyBytes tmp;
  size_t len = 0;
  const char* end = nullptr;
  // libsodium refuses non-zero padding bits, i.e. enforces the canonical form.
  if (sodium_base642bin(tmp.data(), tmp.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kKeyLen || end != text.data() + text.size()) {
    SecureZero(tmp.data(), tmp.size());
    return KeyParseError::kNotCanonical;
  }
  *out = tmp;
  SecureZero(tmp.data(), tmp.size());
  return KeyParseError::kNone;
}

KeyParseError ParseKey(std::string_view text, KeyBytes* out) {
  KeyBytes tmp;
  KeyParseError e = DecodeKeyBase64(text, &tmp);
  if (e == KeyParseError::kNone) {
    if (sodium_is_zero(tmp.data(), tmp.size())) {
      e = KeyParseError::kAllZero;
    } else {
      *out = tmp;
    }
  }
  SecureZero(tmp.data(), tmp.size());
  return e;
}

std::string EncodeKeyBase64(const KeyBytes& key) {
  EnsureSodium();
  char buf[sodium_base64_ENCODED_LEN(kKeyLen, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof buf, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return std::string(buf);
}

std::string EncodeKeyHex(const KeyBytes& key) {
  char buf[kKeyLen * 2 + 1];
  sodium_bin2hex(buf, sizeof buf, key.data(), key.size());
  return std::string(buf);
}

bool DecodeKeyHex(std::string_view text, KeyBytes* out) {
  if (text.size() != kKeyLen * 2) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  size_t len = 0;
  return sodium_hex2bin(out->data(), out->size(), text.data(), text.size(), nullptr, &len,
                        nullptr) == 0 &&
         len == kKeyLen;
}

bool SecretKey::IsZero() const { return sodium_is_zero(bytes_.data(), bytes_.size()) != 0; }

PublicKey PrivateKey::DerivePublic() const {
  EnsureSodium();
  KeyBytes pub;
  // crypto_scalarmult_base clamps the scalar internally.
  WGATE_CHECK(crypto_scalarmult_curve25519_base(pub.data(), bytes().data()) == 0);
  return PublicKey(pub);
}

PrivateKey PrivateKey::Generate() {
  EnsureSodium();
  PrivateKey k;
  randombytes_buf(k.mutable_bytes().data(), kKeyLen);
  // Clamp as `wg genkey` does, so the stored key is the canonical scalar.
  k.mutable_bytes()[0] &= 248;
  k.mutable_bytes()[31] = (k.mutable_bytes()[31] & 127) | 64;
  return k;
}

}  // namespace wgate::crypto
