#include "crypto/blake2s.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

#include "base/error.h"
#include "crypto/internal.h"
#include "crypto/keys.h"

// libsodium's generichash is BLAKE2b, so every BLAKE2s construction here is OpenSSL's: the
// BLAKE2S-256 digest, the BLAKE2SMAC keyed mode and the generic HMAC over BLAKE2S-256. None of them
// is on the per-packet path (handshakes and cookies only), so a context per call is fine; freeing a
// context cleanses the keyed state in it.

namespace wgate::crypto {

namespace {

constexpr size_t kBlake2sMaxKeyLen = 32;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// Algorithms are fetched once: fetching by name takes the provider store's lock every time.
const EVP_MD* Blake2sDigest() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
  WGATE_CHECK(md != nullptr);
  return md;
}

EVP_MAC* FetchMac(const char* name) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, name, nullptr);
  WGATE_CHECK(mac != nullptr);
  return mac;
}

MacCtx NewMacContext(EVP_MAC* mac) {
  MacCtx ctx(EVP_MAC_CTX_new(mac));
  WGATE_CHECK(ctx != nullptr);
  return ctx;
}

void MacFinal(EVP_MAC_CTX* ctx, Bytes out) {
  size_t written = 0;
  WGATE_CHECK(EVP_MAC_final(ctx, out.data(), &written, out.size()) == 1);
  WGATE_CHECK(written == out.size());
}

// HMAC-BLAKE2s contexts for one computation (a KDF makes several HMACs with one context).
class HmacBlake2sContext {
 public:
  HmacBlake2sContext() {
    static EVP_MAC* const hmac = FetchMac("HMAC");
    ctx_ = NewMacContext(hmac);
    char digest[] = "BLAKE2S-256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    WGATE_CHECK(EVP_MAC_CTX_set_params(ctx_.get(), params) == 1);
  }

  // out = HMAC(key, p0 || p1 || ...).
  void Compute(ConstBytes key, std::initializer_list<ConstBytes> parts, Hash* out) {
    WGATE_CHECK(EVP_MAC_init(ctx_.get(), key.data(), key.size(), nullptr) == 1);
    for (ConstBytes part : parts) {
      WGATE_CHECK(EVP_MAC_update(ctx_.get(), part.data(), part.size()) == 1);
    }
    MacFinal(ctx_.get(), *out);
  }

 private:
  MacCtx ctx_;
};

// KDF_n of the WireGuard paper for n = outputs.size(). Each output is written only after the key
// and the input have been read for the last time, so outputs may alias either.
void Kdf(const Hash& key, ConstBytes input, std::initializer_list<Hash*> outputs) {
  HmacBlake2sContext hmac;
  Hash t0;
  hmac.Compute(key, {input}, &t0);
  const Hash* previous = nullptr;
  uint8_t index = 0;
  for (Hash* out : outputs) {
    ++index;
    const uint8_t counter[1] = {index};
    if (previous == nullptr) {
      hmac.Compute(t0, {counter}, out);
    } else {
      hmac.Compute(t0, {*previous, counter}, out);
    }
    previous = out;
  }
  SecureZero(t0.data(), t0.size());
}

}  // namespace

namespace internal {

void Blake2sKeyed(ConstBytes key, std::initializer_list<ConstBytes> parts, Bytes out) {
  WGATE_CHECK(!key.empty() && key.size() <= kBlake2sMaxKeyLen);
  WGATE_CHECK(!out.empty() && out.size() <= kHashLen);
  static EVP_MAC* const blake2s_mac = FetchMac("BLAKE2SMAC");
  MacCtx ctx = NewMacContext(blake2s_mac);
  size_t size = out.size();
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
      OSSL_PARAM_construct_end(),
  };
  WGATE_CHECK(EVP_MAC_init(ctx.get(), key.data(), key.size(), params) == 1);
  for (ConstBytes part : parts) {
    WGATE_CHECK(EVP_MAC_update(ctx.get(), part.data(), part.size()) == 1);
  }
  MacFinal(ctx.get(), out);
}

}  // namespace internal

Hash Blake2s256(std::initializer_list<ConstBytes> parts) {
  MdCtx ctx(EVP_MD_CTX_new());
  WGATE_CHECK(ctx != nullptr);
  WGATE_CHECK(EVP_DigestInit_ex2(ctx.get(), Blake2sDigest(), nullptr) == 1);
  for (ConstBytes part : parts) {
    WGATE_CHECK(EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1);
  }
  Hash out;
  unsigned int written = 0;
  WGATE_CHECK(EVP_DigestFinal_ex(ctx.get(), out.data(), &written) == 1);
  WGATE_CHECK(written == kHashLen);
  return out;
}

Mac Blake2sMac128(ConstBytes key, std::initializer_list<ConstBytes> parts) {
  Mac out;
  internal::Blake2sKeyed(key, parts, out);
  return out;
}

Hash HmacBlake2s(ConstBytes key, ConstBytes input) {
  Hash out;
  HmacBlake2sContext().Compute(key, {input}, &out);
  return out;
}

void Kdf1(const Hash& key, ConstBytes input, Hash* t1) { Kdf(key, input, {t1}); }

void Kdf2(const Hash& key, ConstBytes input, Hash* t1, Hash* t2) { Kdf(key, input, {t1, t2}); }

void Kdf3(const Hash& key, ConstBytes input, Hash* t1, Hash* t2, Hash* t3) {
  Kdf(key, input, {t1, t2, t3});
}

}  // namespace wgate::crypto
