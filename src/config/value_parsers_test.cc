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

TEST(ValueParsersTest, SecondsBareOrGoDuration) {
  std::string why;
  EXPECT_EQ(ParseSeconds("25", 65535, &why), 25u);
  EXPECT_EQ(ParseSeconds("0", 65535, &why), 0u);
  EXPECT_EQ(ParseSeconds("25s", 65535, &why), 25u);
  EXPECT_EQ(ParseSeconds("1m", 65535, &why), 60u);
  EXPECT_EQ(ParseSeconds("1m30s", 65535, &why), 90u);
  EXPECT_EQ(ParseSeconds("1.5m", 65535, &why), 90u);
  EXPECT_EQ(ParseSeconds("1h", 65535, &why), 3600u);
  EXPECT_EQ(ParseSeconds("0s", 65535, &why), 0u);
  EXPECT_EQ(ParseSeconds("2000ms", 65535, &why), 2u);
  EXPECT_EQ(ParseSeconds("1500ms500000us", 65535, &why), 2u);
  EXPECT_EQ(ParseSeconds("3000000000ns", 65535, &why), 3u);
  EXPECT_EQ(ParseSeconds(".5m", 65535, &why), 30u);
  EXPECT_EQ(ParseSeconds("1000000\xC2\xB5s", 65535, &why), 1u);

  EXPECT_FALSE(ParseSeconds("1500ms", 65535, &why));
  EXPECT_EQ(why, "is not a whole number of seconds");
  EXPECT_FALSE(ParseSeconds("1.0000000001s", 65535, &why));
  EXPECT_EQ(why, "is not a whole number of seconds");
  EXPECT_FALSE(ParseSeconds("20h", 65535, &why));
  EXPECT_EQ(why, "is out of range 0-65535 seconds");
  EXPECT_FALSE(ParseSeconds("99999999999999999999999h", 65535, &why));
  EXPECT_EQ(why, "is out of range 0-65535 seconds");
  EXPECT_FALSE(ParseSeconds("70000", 65535, &why));
  EXPECT_EQ(why, "is out of range 0-65535 seconds");
  for (const char* bad : {"", "s", "25x", "25 s", "-1s", "1m30", ".s", "forever"}) {
    EXPECT_FALSE(ParseSeconds(bad, 65535, &why)) << bad;
    EXPECT_EQ(why, "is not a duration (expected seconds, or a number and a unit such as 25s or 1m)")
        << bad;
  }
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
