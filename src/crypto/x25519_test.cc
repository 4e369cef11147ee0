#include "crypto/x25519.h"

#include <gtest/gtest.h>

#include "crypto/test_hex.h"

namespace wgate::crypto {
namespace {

using testing::KeyFromHex;
using testing::ToHex;

std::string Dh(const char* scalar_hex, const char* u_hex) {
  KeyBytes shared;
  EXPECT_TRUE(X25519(KeyFromHex(scalar_hex), KeyFromHex(u_hex), &shared));
  return ToHex(shared);
}

// RFC 7748 section 5.2. The second u has its top bit set, which X25519 must ignore.
TEST(X25519Test, Rfc7748Section52Vectors) {
  EXPECT_EQ(Dh("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
               "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  EXPECT_EQ(Dh("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
               "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 section 5.2, iterated: k = u = 9, then (k, u) = (X25519(k, u), k).
TEST(X25519Test, Rfc7748Section52Iterations) {
  KeyBytes k{9}, u{9};
  for (int i = 1; i <= 1000; ++i) {
    KeyBytes next;
    ASSERT_TRUE(X25519(k, u, &next));
    u = k;
    k = next;
    if (i == 1) {
      EXPECT_EQ(ToHex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  EXPECT_EQ(ToHex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// RFC 7748 section 6.1.
TEST(X25519Test, Rfc7748Section61DiffieHellman) {
  const KeyBytes alice =
      KeyFromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const KeyBytes bob =
      KeyFromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const KeyBytes alice_public = PrivateKey(alice).DerivePublic().bytes();
  const KeyBytes bob_public = PrivateKey(bob).DerivePublic().bytes();
  EXPECT_EQ(ToHex(alice_public),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(bob_public), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  KeyBytes k1, k2;
  ASSERT_TRUE(X25519(alice, bob_public, &k1));
  ASSERT_TRUE(X25519(bob, alice_public, &k2));
  EXPECT_EQ(ToHex(k1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(k1, k2);

  // The output may overwrite an input.
  KeyBytes in_place = bob_public;
  ASSERT_TRUE(X25519(alice, in_place, &in_place));
  EXPECT_EQ(in_place, k1);
}

// Points of small order give the all-zero shared secret whatever the (clamped) scalar: the
// handshake must refuse them. The list is the usual one (RFC 7748 section 6.1 warns of it): u = 0,
// u = 1, the two points of order 8, and p - 1.
TEST(X25519Test, RefusesSmallOrderPointsAndZeroesTheOutput) {
  const PrivateKey secret = PrivateKey::Generate();
  for (const char* u : {
           "0000000000000000000000000000000000000000000000000000000000000000",
           "0100000000000000000000000000000000000000000000000000000000000000",
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
           "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
           "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
       }) {
    KeyBytes shared;
    shared.fill(0xaa);
    EXPECT_FALSE(X25519(secret.bytes(), KeyFromHex(u), &shared)) << u;
    EXPECT_EQ(shared, KeyBytes{}) << u;
  }
}

}  // namespace
}  // namespace wgate::crypto
