#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <climits>
#include <cstring>

#include "base/error.h"
#include "crypto/internal.h"

namespace wgate::crypto {

using internal::AeadLibrary;
using internal::kIetfNonceLen;

namespace {

// Which library seals and opens a transport packet: the faster one for its size, measured with
// bench/crypto_bench.cc (see the figures at ChaChaPolySeal below).
constexpr size_t kSodiumMaxPlaintext = 128;

AeadLibrary ChaChaPolyLibraryFor(size_t plaintext_len) {
  return plaintext_len <= kSodiumMaxPlaintext ? AeadLibrary::kSodium : AeadLibrary::kOpenSsl;
}

static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagLen);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kIetfNonceLen);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kXNonceLen);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeyLen);

const EVP_CIPHER* ChaChaPolyCipher() {
  // Fetched once: an implicit fetch inside every EVP_*Init would look the algorithm up by name.
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  WGATE_CHECK(cipher != nullptr);
  return cipher;
}

// One OpenSSL cipher context per thread and direction, bound to the cipher once and re-keyed on
// every call: EVP_CIPHER_CTX_new per packet would allocate on the hot path, and a context shared
// between threads would need a lock. Trade-off: the context keeps the last key it was given until
// the thread's next AEAD call or its exit (freeing cleanses it), so a session key the protocol
// core has zeroed can outlive it here on an idle worker thread. An IV-only re-init for an
// unchanged key was tried and measured within noise (<5%), so every call loads its key and no
// state is carried from one message to the next.
class ThreadCipherContext {
 public:
  explicit ThreadCipherContext(bool encrypt) : ctx_(EVP_CIPHER_CTX_new()) {
    WGATE_CHECK(ctx_ != nullptr);
    WGATE_CHECK(EVP_CipherInit_ex2(ctx_, ChaChaPolyCipher(), nullptr, nullptr, encrypt ? 1 : 0,
                                   nullptr) == 1);
  }
  ThreadCipherContext(const ThreadCipherContext&) = delete;
  ThreadCipherContext& operator=(const ThreadCipherContext&) = delete;
  ~ThreadCipherContext() { EVP_CIPHER_CTX_free(ctx_); }

  EVP_CIPHER_CTX* get() { return ctx_; }

 private:
  EVP_CIPHER_CTX* ctx_;
};

EVP_CIPHER_CTX* SealContext() {
  thread_local ThreadCipherContext ctx(/*encrypt=*/true);
  return ctx.get();
}

EVP_CIPHER_CTX* OpenContext() {
  thread_local ThreadCipherContext ctx(/*encrypt=*/false);
  return ctx.get();
}

// OpenSSL counts in int; packets are far smaller, so a larger size is a caller bug.
int OpenSslLength(size_t n) {
  WGATE_CHECK(n <= static_cast<size_t>(INT_MAX));
  return static_cast<int>(n);
}

void OpenSslSeal(const KeyBytes& key, const uint8_t nonce[kIetfNonceLen], ConstBytes plaintext,
                 ConstBytes aad, uint8_t* out) {
  EVP_CIPHER_CTX* ctx = SealContext();
  int len = 0;
  WGATE_CHECK(EVP_EncryptInit_ex2(ctx, nullptr, key.data(), nonce, nullptr) == 1);
  if (!aad.empty()) {
    WGATE_CHECK(EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), OpenSslLength(aad.size())) == 1);
  }
  if (!plaintext.empty()) {
    WGATE_CHECK(
        EVP_EncryptUpdate(ctx, out, &len, plaintext.data(), OpenSslLength(plaintext.size())) == 1);
  }
  uint8_t* tag = out + plaintext.size();
  WGATE_CHECK(EVP_EncryptFinal_ex(ctx, tag, &len) == 1);
  WGATE_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagLen, tag) == 1);
}

bool OpenSslOpen(const KeyBytes& key, const uint8_t nonce[kIetfNonceLen], ConstBytes sealed,
                 ConstBytes aad, uint8_t* out) {
  const size_t text_len = sealed.size() - kAeadTagLen;
  EVP_CIPHER_CTX* ctx = OpenContext();
  int len = 0;
  WGATE_CHECK(EVP_DecryptInit_ex2(ctx, nullptr, key.data(), nonce, nullptr) == 1);
  // The tag is copied into the context before decryption may overwrite it in place.
  WGATE_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagLen,
                                  const_cast<uint8_t*>(sealed.data() + text_len)) == 1);
  if (!aad.empty()) {
    WGATE_CHECK(EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), OpenSslLength(aad.size())) == 1);
  }
  if (text_len != 0) {
    WGATE_CHECK(EVP_DecryptUpdate(ctx, out, &len, sealed.data(), OpenSslLength(text_len)) == 1);
  }
  if (EVP_DecryptFinal_ex(ctx, out + text_len, &len) == 1) return true;
  // OpenSSL decrypts before it checks the tag: wipe the unauthenticated plaintext, and drop the
  // queued error so a flood of forged packets leaves nothing behind in this thread's error queue.
  SecureZero(out, text_len);
  ERR_clear_error();
  return false;
}

void SodiumSeal(const KeyBytes& key, const uint8_t nonce[kIetfNonceLen], ConstBytes plaintext,
                ConstBytes aad, uint8_t* out) {
  internal::EnsureSodium();
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + plaintext.size(), nullptr,
                                                     plaintext.data(), plaintext.size(), aad.data(),
                                                     aad.size(), nullptr, nonce, key.data());
}

bool SodiumOpen(const KeyBytes& key, const uint8_t nonce[kIetfNonceLen], ConstBytes sealed,
                ConstBytes aad, uint8_t* out) {
  internal::EnsureSodium();
  const size_t text_len = sealed.size() - kAeadTagLen;
  // libsodium checks the tag before it decrypts, so `out` is untouched on failure.
  return crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, nullptr, sealed.data(), text_len,
                                                            sealed.data() + text_len, aad.data(),
                                                            aad.size(), nonce, key.data()) == 0;
}

}  // namespace

namespace internal {

void WireGuardNonce(uint64_t counter, uint8_t nonce[kIetfNonceLen]) {
  std::memset(nonce, 0, 4);
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
}

void ChaChaPolySealIetf(AeadLibrary library, const KeyBytes& key,
                        const uint8_t nonce[kIetfNonceLen], ConstBytes plaintext, ConstBytes aad,
                        uint8_t* out) {
  if (library == AeadLibrary::kOpenSsl) {
    OpenSslSeal(key, nonce, plaintext, aad, out);
  } else {
    SodiumSeal(key, nonce, plaintext, aad, out);
  }
}

bool ChaChaPolyOpenIetf(AeadLibrary library, const KeyBytes& key,
                        const uint8_t nonce[kIetfNonceLen], ConstBytes sealed, ConstBytes aad,
                        uint8_t* out) {
  if (sealed.size() < kAeadTagLen) return false;
  return library == AeadLibrary::kOpenSsl ? OpenSslOpen(key, nonce, sealed, aad, out)
                                          : SodiumOpen(key, nonce, sealed, aad, out);
}

}  // namespace internal

// LIBRARY CHOICE. bench/crypto_bench.cc, Release build, on the 2-core AMD EPYC (AVX-512) build
// machine shared with other jobs, CPU time per call, median of 5 runs (2026-11-25):
//   plaintext   OpenSSL 3.0.19 EVP seal / open      libsodium 1.0.18 seal / open
//   64 B        463 / 447 ns                        304 / 300 ns    <- libsodium 1.5x faster
//   128 B       469 / 469 ns                        436 / 413 ns    <- libsodium 7-12% faster
//   192 B       499 / 469 ns                        547 / 549 ns    <- OpenSSL 9-15% faster
//   1024 B      633 / 639 ns (1.5 GB/s)             910 / 876 ns (1.1 GB/s)
//   1420 B      1000 / 1042 ns (1.32 / 1.27 GB/s)   1456 / 1439 ns (0.93 / 0.94 GB/s)
// At the full-size 1420-byte packet OpenSSL wins: 31% less time, 1.4x the throughput.
// Why small messages differ: perf on a 64-byte OpenSSL seal shows most time in its AVX-512
// ChaCha20 loop, which computes four blocks per call and is called for the Poly1305 key and again
// for the payload, and ~15% in the EVP layer's OSSL_PARAM handling; libsodium has neither cost.
// Each library is used where it is faster: libsodium up to kSodiumMaxPlaintext, OpenSSL above.
// Both compute RFC 8439 exactly, and aead_test.cc checks they agree byte for byte at every size.
void ChaChaPolySeal(const KeyBytes& key, uint64_t counter, ConstBytes plaintext, ConstBytes aad,
                    uint8_t* out) {
  uint8_t nonce[kIetfNonceLen];
  internal::WireGuardNonce(counter, nonce);
  internal::ChaChaPolySealIetf(ChaChaPolyLibraryFor(plaintext.size()), key, nonce, plaintext, aad,
                               out);
}

bool ChaChaPolyOpen(const KeyBytes& key, uint64_t counter, ConstBytes sealed, ConstBytes aad,
                    uint8_t* out) {
  if (sealed.size() < kAeadTagLen) return false;
  uint8_t nonce[kIetfNonceLen];
  internal::WireGuardNonce(counter, nonce);
  return internal::ChaChaPolyOpenIetf(ChaChaPolyLibraryFor(sealed.size() - kAeadTagLen), key, nonce,
                                      sealed, aad, out);
}

// OpenSSL has no XChaCha20-Poly1305; libsodium does. Not on the per-packet path (cookie replies).
void XChaChaPolySeal(const KeyBytes& key, const uint8_t nonce[kXNonceLen], ConstBytes plaintext,
                     ConstBytes aad, uint8_t* out) {
  internal::EnsureSodium();
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      out, out + plaintext.size(), nullptr, plaintext.data(), plaintext.size(), aad.data(),
      aad.size(), nullptr, nonce, key.data());
}

bool XChaChaPolyOpen(const KeyBytes& key, const uint8_t nonce[kXNonceLen], ConstBytes sealed,
                     ConstBytes aad, uint8_t* out) {
  if (sealed.size() < kAeadTagLen) return false;
  internal::EnsureSodium();
  const size_t text_len = sealed.size() - kAeadTagLen;
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, nullptr, sealed.data(), text_len,
                                                             sealed.data() + text_len, aad.data(),
                                                             aad.size(), nonce, key.data()) == 0;
}

}  // namespace wgate::crypto
