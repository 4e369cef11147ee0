#include "base/strings.h"

#include <gtest/gtest.h>

namespace wgate {
namespace {

TEST(StringsTest, TrimSpace) {
  EXPECT_EQ(TrimSpace("  a b \t\r\n"), "a b");
  EXPECT_EQ(TrimSpace(""), "");
  EXPECT_EQ(TrimSpace(" \t "), "");
}

TEST(StringsTest, SplitTrimmedKeepsEmptyPieces) {
  auto parts = SplitTrimmed(" a, b,,c ", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], "b");
  EXPECT_EQ(parts[2], "");
  EXPECT_EQ(parts[3], "c");
  EXPECT_EQ(SplitTrimmed("", ',').size(), 1u);
}

TEST(StringsTest, CaseInsensitive) {
  EXPECT_TRUE(EqualsIgnoreCase("PrivateKey", "privatekey"));
  EXPECT_FALSE(EqualsIgnoreCase("PrivateKey", "PrivateKeys"));
  EXPECT_EQ(ToLower("AllowedIPs"), "allowedips");
}

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("Adress", "Address"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("MTU", "mtu"), 0u);
}

TEST(StringsTest, StrCat) {
  EXPECT_EQ(StrCat("port ", 70000, " out of range"), "port 70000 out of range");
}

}  // namespace
}  // namespace wgate

namespace wgate {
namespace {

TEST(JoinTest, PutsTheSeparatorBetweenPartsOnly) {
  EXPECT_EQ(Join({}, "; "), "");
  EXPECT_EQ(Join({"a"}, "; "), "a");
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
}

}  // namespace
}  // namespace wgate
