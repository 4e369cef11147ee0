#include "config/value_parsers.h"

#include <gtest/gtest.h>

namespace wgate::config {
namespace {

TEST(ValueParsersTest, Unsigned) {
  std::string why;
  EXPECT_EQ(ParseUnsigned("51820", 0, 65535, &why), 51820u);
  EXPECT_FALSE(ParseUnsigned("", 0, 10, &why));
  EXPECT_EQ(why, "is not a number");
  EXPECT_FALSE(ParseUnsigned("-1", 0, 10, &why));
  EXPECT_EQ(why, "is not a number");
  EXPECT_FALSE(ParseUnsigned("12 3", 0, 1000, &why));
  EXPECT_EQ(why, "has an unexpected trailing \" 3\"");
  EXPECT_FALSE(ParseUnsigned("11", 0, 10, &why));
  EXPECT_EQ(why, "is out of range 0-10");
  EXPECT_FALSE(ParseUnsigned("18446744073709551616", 0, UINT64_MAX, &why));
  EXPECT_EQ(why, "is out of range 0-18446744073709551615");
}

TEST(ValueParsersTest, AnyBase) {
  std::string why;
  EXPECT_EQ(ParseUnsignedAnyBase("0xca6c", 0xffffffff, &why), 51820u);
  EXPECT_EQ(ParseUnsignedAnyBase("0XCA6C", 0xffffffff, &why), 51820u);
  EXPECT_EQ(ParseUnsignedAnyBase("51820", 0xffffffff, &why), 51820u);
  EXPECT_FALSE(ParseUnsignedAnyBase("0x1ffffffff", 0xffffffff, &why));
  EXPECT_EQ(why, "is out of range 0-4294967295");
}

TEST(ValueParsersTest, DomainNames) {
  EXPECT_TRUE(IsDomainName("vpn.example.com"));
  EXPECT_TRUE(IsDomainName("corp"));
  EXPECT_TRUE(IsDomainName("se-got-wg-001.relays.example."));
  EXPECT_FALSE(IsDomainName(""));
  EXPECT_FALSE(IsDomainName("a..b"));
  EXPECT_FALSE(IsDomainName(".a"));
  EXPECT_FALSE(IsDomainName("has space"));
  EXPECT_FALSE(IsDomainName(std::string(64, 'a')));
}

}  // namespace
}  // namespace wgate::config
