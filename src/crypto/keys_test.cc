#include "crypto/keys.h"

#include <gtest/gtest.h>

namespace wgate::crypto {
namespace {

// RFC 7748 section 6.1, Alice's key pair.
constexpr char kAlicePrivate[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
constexpr char kAlicePublic[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

TEST(KeysTest, DerivesPublicKeyPerRfc7748) {
  KeyBytes b;
  ASSERT_EQ(ParseKey(kAlicePrivate, &b), KeyParseError::kNone);
  EXPECT_EQ(PrivateKey(b).DerivePublic().ToBase64(), kAlicePublic);
}

TEST(KeysTest, Base64RoundTrip) {
  KeyBytes b;
  ASSERT_EQ(ParseKey(kAlicePublic, &b), KeyParseError::kNone);
  EXPECT_EQ(EncodeKeyBase64(b), kAlicePublic);
}

TEST(KeysTest, RefusesBadText) {
  KeyBytes b;
  EXPECT_EQ(ParseKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm=", &b), KeyParseError::kWrongLength);
  EXPECT_EQ(ParseKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo", &b), KeyParseError::kWrongLength);
  EXPECT_EQ(ParseKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Spjqqb!mo=", &b), KeyParseError::kNotBase64);
  EXPECT_EQ(ParseKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmoA", &b), KeyParseError::kNotBase64);
  // 'p' instead of 'o' sets a padding bit: decodes to the same bytes in lax decoders, refused here.
  EXPECT_EQ(ParseKey("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp=", &b), KeyParseError::kNotCanonical);
  EXPECT_EQ(ParseKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &b), KeyParseError::kAllZero);
  EXPECT_EQ(DecodeKeyBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &b), KeyParseError::kNone);
}

TEST(KeysTest, HexRoundTrip) {
  KeyBytes b;
  ASSERT_EQ(ParseKey(kAlicePublic, &b), KeyParseError::kNone);
  std::string hex = EncodeKeyHex(b);
  EXPECT_EQ(hex, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  KeyBytes back;
  ASSERT_TRUE(DecodeKeyHex(hex, &back));
  EXPECT_EQ(back, b);
  EXPECT_FALSE(DecodeKeyHex(hex.substr(1), &back));
  EXPECT_FALSE(DecodeKeyHex("zz" + hex.substr(2), &back));
}

TEST(KeysTest, GeneratedKeysAreClampedAndDistinct) {
  PrivateKey a = PrivateKey::Generate(), b = PrivateKey::Generate();
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.bytes()[0] & 7, 0);
  EXPECT_EQ(a.bytes()[31] & 0xc0, 0x40);
}

}  // namespace
}  // namespace wgate::crypto
