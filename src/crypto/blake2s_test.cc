#include "crypto/blake2s.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "crypto/internal.h"
#include "crypto/test_hex.h"

namespace wgate::crypto {
namespace {

using testing::FromHex;
using testing::Sequence;
using testing::ToHex;

ConstBytes Text(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Hash HashFromHex(std::string_view hex) {
  std::vector<uint8_t> bytes = FromHex(hex);
  Hash h;
  WGATE_CHECK(bytes.size() == h.size());
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

// RFC 7693 appendix B.
TEST(Blake2sTest, Rfc7693AppendixBAbc) {
  EXPECT_EQ(ToHex(Blake2s256({Text("abc")})),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

TEST(Blake2sTest, HashesTheConcatenationOfItsParts) {
  const std::vector<uint8_t> data = Sequence(200);
  const Hash whole = Blake2s256({data});
  const ConstBytes d(data);
  EXPECT_EQ(Blake2s256({d.first(64), d.subspan(64)}), whole);
  EXPECT_EQ(Blake2s256({d.first(1), {}, d.subspan(1, 130), d.subspan(131)}), whole);
  EXPECT_NE(Blake2s256({d.first(199)}), whole);
}

// HASH(CONSTRUCTION), the initial chaining key of every WireGuard handshake; the value is the one
// the reference implementations precompute.
TEST(Blake2sTest, WireGuardInitialChainingKey) {
  EXPECT_EQ(ToHex(Blake2s256({Text("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")})),
            "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
}

// blake2s-kat.txt of the BLAKE2 reference code: key 00..1f, input 00..(n-1), 32-byte output.
TEST(Blake2sTest, ReferenceKeyedKat) {
  const struct {
    size_t n;
    const char* hex;
  } kKat[] = {
      {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
      {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
      {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
      {63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
      {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
      {65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
      {255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"},
  };
  const std::vector<uint8_t> key = Sequence(32);
  for (const auto& kat : kKat) {
    Hash out;
    internal::Blake2sKeyed(key, {Sequence(kat.n)}, out);
    EXPECT_EQ(ToHex(out), kat.hex) << "n=" << kat.n;
  }
}

// Expected values: Python's hashlib.blake2s(data, key=key, digest_size=16), computed offline.
TEST(Blake2sTest, Mac128MatchesAnIndependentImplementation) {
  EXPECT_EQ(ToHex(Blake2sMac128(Sequence(32), {Text("wgate mac1 input")})),
            "091d503c619b1d0d14b08422c130835c");
  // A 16-byte key, as a cookie is when it keys mac2; the input may come in parts.
  EXPECT_EQ(ToHex(Blake2sMac128(Sequence(16, 0x10), {Text("wgate "), Text("mac2 input")})),
            "613f13a445c8019ba01d7da183368a8f");
  // The output length is in BLAKE2's parameter block: a 16-byte MAC is not a truncated 32-byte one.
  Hash full;
  internal::Blake2sKeyed(Sequence(32), {Text("wgate mac1 input")}, full);
  EXPECT_NE(ToHex(ConstBytes(full).first(kMacLen)), "091d503c619b1d0d14b08422c130835c");
}

// Expected values: Python's hmac.new(key, data, hashlib.blake2s), computed offline.
TEST(Blake2sTest, HmacMatchesAnIndependentImplementation) {
  EXPECT_EQ(ToHex(HmacBlake2s(Sequence(32, 0x20), Text("wgate hmac input"))),
            "94fdde361256561ef88f28eb69ae4f142ea75e18a1b7fa69e383aeef39fdf21b");
  // Keys longer than the 64-byte block are hashed first (RFC 2104).
  EXPECT_EQ(ToHex(HmacBlake2s(Sequence(100), Text("wgate hmac input"))),
            "75c78b219aacde49d8ad17327cc6d90147cb15c69f406a89f213dbfe09200cf5");
}

// Expected values: the paper's KDF written in Python over hmac + hashlib.blake2s, computed
// offline, with key = HASH(CONSTRUCTION) and input 40..5f.
constexpr char kKdfT1[] = "5b263c9127f235a15ebecdd050402881332f942c7ad5251bfecd88dd6f8a76d9";
constexpr char kKdfT2[] = "4717a3de67577baa29ce3559196431ba86bca12383e08e7395e610dd3470c0ab";
constexpr char kKdfT3[] = "2bd6664af56a105b3d5d6db6fbc3d1bfdcc9ed46f21d83132312758f0597e6d3";

TEST(Blake2sTest, KdfMatchesAnIndependentImplementation) {
  const Hash key = Blake2s256({Text("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")});
  const std::vector<uint8_t> input = Sequence(32, 0x40);
  Hash t1, t2, t3;
  Kdf1(key, input, &t1);
  EXPECT_EQ(ToHex(t1), kKdfT1);
  t1 = {};
  Kdf2(key, input, &t1, &t2);
  EXPECT_EQ(ToHex(t1), kKdfT1);
  EXPECT_EQ(ToHex(t2), kKdfT2);
  t1 = t2 = {};
  Kdf3(key, input, &t1, &t2, &t3);
  EXPECT_EQ(ToHex(t1), kKdfT1);
  EXPECT_EQ(ToHex(t2), kKdfT2);
  EXPECT_EQ(ToHex(t3), kKdfT3);

  // Empty input, as the handshake's final Kdf2(C, empty) uses.
  Kdf3(key, {}, &t1, &t2, &t3);
  EXPECT_EQ(ToHex(t1), "bd968725a9177942a8c2e4253d1dde31cf7b19ec001b4a3a3d141cd9d998d3ba");
  EXPECT_EQ(ToHex(t2), "aab5462b323780fa615bf80ffe469510239ff361575a663968e686a7ae41d693");
  EXPECT_EQ(ToHex(t3), "ae1e06e0931da10b9971bab8e282b42307522b38c0f4492cdd1bf44298126887");
}

// The handshake updates its chaining key in place: C = KDF(C, x).
TEST(Blake2sTest, KdfOutputsMayAliasKeyAndInput) {
  Hash chaining_key = Blake2s256({Text("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")});
  Hash second;
  Kdf2(chaining_key, Sequence(32, 0x40), &chaining_key, &second);
  EXPECT_EQ(ToHex(chaining_key), kKdfT1);
  EXPECT_EQ(ToHex(second), kKdfT2);

  Hash key = Blake2s256({Text("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")});
  Hash input = HashFromHex("404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f");
  Kdf1(key, input, &input);
  EXPECT_EQ(ToHex(input), kKdfT1);
}

}  // namespace
}  // namespace wgate::crypto
