#include "crypto/aead.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "crypto/internal.h"
#include "crypto/test_hex.h"

namespace wgate::crypto {
namespace {

using internal::AeadLibrary;
using internal::kIetfNonceLen;
using testing::FromHex;
using testing::KeyFromHex;
using testing::ToHex;

constexpr AeadLibrary kLibraries[] = {AeadLibrary::kOpenSsl, AeadLibrary::kSodium};

const char* Name(AeadLibrary library) {
  return library == AeadLibrary::kOpenSsl ? "openssl" : "libsodium";
}

std::vector<uint8_t> Text(std::string_view text) { return {text.begin(), text.end()}; }

// RFC 8439 section 2.8.2. Its nonce (07 00 00 00 || 40..47) does not have WireGuard's shape (32
// zero bits || counter), so it reaches the libraries through the full-nonce internal functions.
struct Rfc8439Section282 {
  KeyBytes key = KeyFromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  std::vector<uint8_t> nonce = FromHex("070000004041424344454647");
  std::vector<uint8_t> aad = FromHex("50515253c0c1c2c3c4c5c6c7");
  std::vector<uint8_t> plaintext = Text(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.");
  std::string sealed_hex =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92"
      "728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b"
      "4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
      "1ae10b594f09e26a7e902ecbd0600691";  // tag
};

// RFC 8439 appendix A.5. Its nonce, 00 00 00 00 || 01 02 .. 08, is exactly WireGuard's nonce for
// the counter 0x0807060504030201, so this vector exercises the public API end to end.
struct Rfc8439AppendixA5 {
  KeyBytes key = KeyFromHex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
  uint64_t counter = 0x0807060504030201;
  std::vector<uint8_t> aad = FromHex("f33388860000000000004e91");
  std::vector<uint8_t> plaintext = Text(
      "Internet-Drafts are draft documents valid for a maximum of six months and may be "
      "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
      "use Internet-Drafts as reference material or to cite them other than as "
      "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d");
  std::string sealed_hex =
      "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e38"
      "2d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f9"
      "82b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d"
      "46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04"
      "b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049"
      "e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b"
      "eead9d67890cbb22392336fea1851f38";  // tag
};

std::vector<uint8_t> RandomVector(std::mt19937& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(AeadTest, Rfc8439Section282SealsAndOpensWithBothLibraries) {
  Rfc8439Section282 v;
  for (AeadLibrary library : kLibraries) {
    SCOPED_TRACE(Name(library));
    std::vector<uint8_t> sealed(v.plaintext.size() + kAeadTagLen);
    internal::ChaChaPolySealIetf(library, v.key, v.nonce.data(), v.plaintext, v.aad, sealed.data());
    EXPECT_EQ(ToHex(sealed), v.sealed_hex);

    std::vector<uint8_t> opened(v.plaintext.size());
    ASSERT_TRUE(internal::ChaChaPolyOpenIetf(library, v.key, v.nonce.data(), FromHex(v.sealed_hex),
                                             v.aad, opened.data()));
    EXPECT_EQ(opened, v.plaintext);
  }
}

TEST(AeadTest, WireGuardNonceIsZeroPrefixAndLittleEndianCounter) {
  uint8_t nonce[kIetfNonceLen];
  internal::WireGuardNonce(0x0807060504030201, nonce);
  EXPECT_EQ(ToHex(nonce), "000000000102030405060708");
  internal::WireGuardNonce(~uint64_t{0}, nonce);
  EXPECT_EQ(ToHex(nonce), "00000000ffffffffffffffff");
}

TEST(AeadTest, Rfc8439AppendixA5ThroughThePublicApi) {
  Rfc8439AppendixA5 v;
  std::vector<uint8_t> sealed = FromHex(v.sealed_hex);
  std::vector<uint8_t> opened(sealed.size() - kAeadTagLen);
  ASSERT_TRUE(ChaChaPolyOpen(v.key, v.counter, sealed, v.aad, opened.data()));
  EXPECT_EQ(opened, v.plaintext);

  std::vector<uint8_t> resealed(sealed.size());
  ChaChaPolySeal(v.key, v.counter, v.plaintext, v.aad, resealed.data());
  EXPECT_EQ(ToHex(resealed), v.sealed_hex);
}

TEST(AeadTest, EveryAlterationIsRefused) {
  Rfc8439AppendixA5 v;
  uint8_t nonce[kIetfNonceLen];
  internal::WireGuardNonce(v.counter, nonce);
  const std::vector<uint8_t> sealed = FromHex(v.sealed_hex);
  std::vector<uint8_t> out(sealed.size());

  for (AeadLibrary library : kLibraries) {
    SCOPED_TRACE(Name(library));
    auto open = [&](const KeyBytes& key, const uint8_t* n, const std::vector<uint8_t>& s,
                    const std::vector<uint8_t>& aad) {
      std::fill(out.begin(), out.end(), 0);
      return internal::ChaChaPolyOpenIetf(library, key, n, s, aad, out.data());
    };
    ASSERT_TRUE(open(v.key, nonce, sealed, v.aad));

    for (size_t i :
         {size_t{0}, sealed.size() / 2, sealed.size() - kAeadTagLen, sealed.size() - 1}) {
      std::vector<uint8_t> tampered = sealed;
      tampered[i] ^= 0x01;
      EXPECT_FALSE(open(v.key, nonce, tampered, v.aad)) << "byte " << i;
      // No unauthenticated plaintext is left behind.
      EXPECT_NE(std::vector<uint8_t>(out.begin(), out.begin() + v.plaintext.size()), v.plaintext);
    }
    std::vector<uint8_t> aad = v.aad;
    aad.back() ^= 0x80;
    EXPECT_FALSE(open(v.key, nonce, sealed, aad));
    EXPECT_FALSE(open(v.key, nonce, sealed, {}));
    KeyBytes key = v.key;
    key[31] ^= 0x01;
    EXPECT_FALSE(open(key, nonce, sealed, v.aad));
    uint8_t next[kIetfNonceLen];
    internal::WireGuardNonce(v.counter + 1, next);
    EXPECT_FALSE(open(v.key, next, sealed, v.aad));
    std::vector<uint8_t> truncated(sealed.begin(), sealed.end() - 1);
    EXPECT_FALSE(open(v.key, nonce, truncated, v.aad));
  }

  EXPECT_FALSE(ChaChaPolyOpen(v.key, v.counter + 1, sealed, v.aad, out.data()));
}

TEST(AeadTest, InputShorterThanATagIsRefused) {
  KeyBytes key{};
  std::vector<uint8_t> sealed(kAeadTagLen);
  ChaChaPolySeal(key, 0, {}, {}, sealed.data());
  uint8_t out[1];
  const uint8_t xnonce[kXNonceLen] = {};
  ASSERT_TRUE(ChaChaPolyOpen(key, 0, sealed, {}, out));
  for (size_t n = 0; n < kAeadTagLen; ++n) {
    EXPECT_FALSE(ChaChaPolyOpen(key, 0, ConstBytes(sealed).first(n), {}, out)) << n;
    EXPECT_FALSE(XChaChaPolyOpen(key, xnonce, ConstBytes(sealed).first(n), {}, out)) << n;
  }
}

TEST(AeadTest, LibrariesAgreeAndSealInPlace) {
  std::mt19937 rng(8439);
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{64}, size_t{255},
                      size_t{1420}, size_t{1500}}) {
    SCOPED_TRACE(size);
    KeyBytes key;
    for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
    const uint64_t counter = (uint64_t{rng()} << 32) | rng();
    std::vector<uint8_t> plaintext = RandomVector(rng, size);
    std::vector<uint8_t> aad = RandomVector(rng, size % 40);
    uint8_t nonce[kIetfNonceLen];
    internal::WireGuardNonce(counter, nonce);

    std::vector<uint8_t> expected(size + kAeadTagLen);
    internal::ChaChaPolySealIetf(AeadLibrary::kSodium, key, nonce, plaintext, aad, expected.data());
    for (AeadLibrary library : kLibraries) {
      SCOPED_TRACE(Name(library));
      std::vector<uint8_t> buf = plaintext;
      buf.resize(size + kAeadTagLen);
      internal::ChaChaPolySealIetf(library, key, nonce, ConstBytes(buf).first(size), aad,
                                   buf.data());
      EXPECT_EQ(buf, expected);
      ASSERT_TRUE(internal::ChaChaPolyOpenIetf(library, key, nonce, buf, aad, buf.data()));
      EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + size), plaintext);
    }

    std::vector<uint8_t> buf = plaintext;
    buf.resize(size + kAeadTagLen);
    ChaChaPolySeal(key, counter, ConstBytes(buf).first(size), aad, buf.data());
    EXPECT_EQ(buf, expected);
    ASSERT_TRUE(ChaChaPolyOpen(key, counter, buf, aad, buf.data()));
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + size), plaintext);
  }
}

// The OpenSSL path reuses one context per thread for every message: switching keys, repeating
// one, and failing in between must never carry state from one message into the next.
TEST(AeadTest, OpenSslContextReuseKeepsMessagesIndependent) {
  std::mt19937 rng(7539);
  KeyBytes keys[3];
  for (KeyBytes& key : keys) {
    for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
  }
  const std::vector<uint8_t> aad = RandomVector(rng, 13);
  for (int i = 0; i < 60; ++i) {
    SCOPED_TRACE(i);
    const KeyBytes& key = keys[(i / 2 + i % 3) % 3];  // runs of one key, then switches
    const size_t size = 200 + rng() % 1300;
    const std::vector<uint8_t> plaintext = RandomVector(rng, size);
    uint8_t nonce[kIetfNonceLen];
    internal::WireGuardNonce(rng() % 4, nonce);  // counters repeat across keys

    std::vector<uint8_t> expected(size + kAeadTagLen), sealed(size + kAeadTagLen);
    internal::ChaChaPolySealIetf(AeadLibrary::kSodium, key, nonce, plaintext, aad, expected.data());
    internal::ChaChaPolySealIetf(AeadLibrary::kOpenSsl, key, nonce, plaintext, aad, sealed.data());
    ASSERT_EQ(sealed, expected);

    std::vector<uint8_t> out(size);
    if (i % 4 == 1) {  // a forgery first, under the same key
      std::vector<uint8_t> forged = sealed;
      forged[rng() % forged.size()] ^= 0x20;
      ASSERT_FALSE(
          internal::ChaChaPolyOpenIetf(AeadLibrary::kOpenSsl, key, nonce, forged, aad, out.data()));
    }
    if (i % 5 == 2) {  // and a different key in between
      const KeyBytes& other = keys[(i + 1) % 3];
      ASSERT_FALSE(internal::ChaChaPolyOpenIetf(AeadLibrary::kOpenSsl,
                                                &other == &key ? keys[(i + 2) % 3] : other, nonce,
                                                sealed, aad, out.data()));
    }
    ASSERT_TRUE(
        internal::ChaChaPolyOpenIetf(AeadLibrary::kOpenSsl, key, nonce, sealed, aad, out.data()));
    ASSERT_EQ(out, plaintext);
  }
}

// Worker threads seal and open with the same key at once (aead.h's contract); each thread has its
// own OpenSSL contexts, so results must match the single-threaded ones exactly.
TEST(AeadTest, ConcurrentThreadsShareAKey) {
  std::mt19937 rng(1420);
  KeyBytes key;
  for (uint8_t& b : key) b = static_cast<uint8_t>(rng());
  const std::vector<uint8_t> plaintext = RandomVector(rng, 1420);
  std::vector<std::vector<uint8_t>> expected(64, std::vector<uint8_t>(1420 + kAeadTagLen));
  for (uint64_t counter = 0; counter < expected.size(); ++counter) {
    ChaChaPolySeal(key, counter, plaintext, {}, expected[counter].data());
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<uint8_t> buf(1420 + kAeadTagLen);
      for (int round = 0; round < 20; ++round) {
        for (uint64_t counter = 0; counter < expected.size(); ++counter) {
          std::copy(plaintext.begin(), plaintext.end(), buf.begin());
          ChaChaPolySeal(key, counter, ConstBytes(buf).first(1420), {}, buf.data());
          if (buf != expected[counter]) ++mismatches;
          if (!ChaChaPolyOpen(key, counter, buf, {}, buf.data()) ||
              !std::equal(plaintext.begin(), plaintext.end(), buf.begin())) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// draft-irtf-cfrg-xchacha-03 appendix A.3.1.
TEST(AeadTest, XChaChaDraftA31Vector) {
  const KeyBytes key =
      KeyFromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const std::vector<uint8_t> nonce = FromHex("404142434445464748494a4b4c4d4e4f5051525354555657");
  const std::vector<uint8_t> aad = FromHex("50515253c0c1c2c3c4c5c6c7");
  const std::vector<uint8_t> plaintext = Text(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.");
  const std::string sealed_hex =
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4e"
      "da7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2"
      "383565d3fff921f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49";  // tag

  std::vector<uint8_t> sealed(plaintext.size() + kAeadTagLen);
  XChaChaPolySeal(key, nonce.data(), plaintext, aad, sealed.data());
  EXPECT_EQ(ToHex(sealed), sealed_hex);

  std::vector<uint8_t> buf = sealed;  // in place
  ASSERT_TRUE(XChaChaPolyOpen(key, nonce.data(), buf, aad, buf.data()));
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + plaintext.size()), plaintext);

  buf = plaintext;
  buf.resize(sealed.size());
  XChaChaPolySeal(key, nonce.data(), ConstBytes(buf).first(plaintext.size()), aad, buf.data());
  EXPECT_EQ(buf, sealed);

  std::vector<uint8_t> out(plaintext.size());
  for (size_t i : {size_t{0}, sealed.size() - 1}) {
    std::vector<uint8_t> tampered = sealed;
    tampered[i] ^= 0x40;
    EXPECT_FALSE(XChaChaPolyOpen(key, nonce.data(), tampered, aad, out.data())) << i;
  }
  std::vector<uint8_t> other_nonce = nonce;
  other_nonce[23] ^= 1;
  EXPECT_FALSE(XChaChaPolyOpen(key, other_nonce.data(), sealed, aad, out.data()));
  EXPECT_FALSE(XChaChaPolyOpen(key, nonce.data(), sealed, {}, out.data()));
}

// Counts every allocation OpenSSL makes in this test binary. Installed before main(), i.e. before
// OpenSSL's first allocation, which is the only time CRYPTO_set_mem_functions accepts new ones.
std::atomic<long> openssl_allocations{0};
void* CountingMalloc(size_t n, const char*, int) {
  ++openssl_allocations;
  return std::malloc(n);
}
void* CountingRealloc(void* p, size_t n, const char*, int) {
  ++openssl_allocations;
  return std::realloc(p, n);
}
void CountingFree(void* p, const char*, int) { std::free(p); }
const bool counting_installed =
    CRYPTO_set_mem_functions(CountingMalloc, CountingRealloc, CountingFree) == 1;

TEST(AeadTest, HotPathDoesNotAllocate) {
  ASSERT_TRUE(counting_installed);
  KeyBytes key{};
  std::vector<uint8_t> buf(1420 + kAeadTagLen);
  // The first calls on this thread create its contexts and fetch the cipher.
  ChaChaPolySeal(key, 0, ConstBytes(buf).first(1420), {}, buf.data());
  ASSERT_TRUE(ChaChaPolyOpen(key, 0, buf, {}, buf.data()));
  buf[0] ^= 1;
  ASSERT_FALSE(ChaChaPolyOpen(key, 0, buf, {}, buf.data()));

  const long before = openssl_allocations.load();
  for (uint64_t counter = 1; counter < 200; ++counter) {
    key[0] = static_cast<uint8_t>(counter);
    for (size_t size : {size_t{0}, size_t{64}, size_t{1420}}) {
      ConstBytes sealed = ConstBytes(buf).first(size + kAeadTagLen);
      ChaChaPolySeal(key, counter, ConstBytes(buf).first(size), {}, buf.data());
      ASSERT_TRUE(ChaChaPolyOpen(key, counter, sealed, {}, buf.data()));
      buf[size / 2] ^= 1;
      ASSERT_FALSE(ChaChaPolyOpen(key, counter, sealed, {}, buf.data()));
    }
  }
  EXPECT_EQ(openssl_allocations.load(), before);
}

}  // namespace
}  // namespace wgate::crypto
