#include "base/error.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace wgate {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Error("odd: " + std::to_string(x));
  return x / 2;
}

TEST(ResultTest, HoldsValueOrError) {
  auto r = Half(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  auto e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "odd: 3");
}

TEST(ResultTest, VoidResult) {
  Status ok = Ok();
  EXPECT_TRUE(ok.ok());
  Status bad = Error("nope");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "nope");
}

TEST(ErrorTest, FromErrnoNamesTheOperation) {
  Error e = Error::FromErrno("open /config/wg0.conf", ENOENT);
  EXPECT_EQ(e.message(), "open /config/wg0.conf: No such file or directory");
  EXPECT_EQ(e.sys_errno(), ENOENT);
}

TEST(ErrorTest, WrapPrefixesContextAndKeepsErrno) {
  Error e = Error::FromErrno("sendmsg", EEXIST).Wrap("RTM_NEWROUTE 0.0.0.0/0 dev wg0");
  EXPECT_EQ(e.message(), "RTM_NEWROUTE 0.0.0.0/0 dev wg0: sendmsg: File exists");
  EXPECT_EQ(e.sys_errno(), EEXIST);
}

TEST(CheckDeathTest, AbortsWithExpression) {
  EXPECT_DEATH(WGATE_CHECK(1 + 1 == 3), "check failed: 1 \\+ 1 == 3");
}

}  // namespace
}  // namespace wgate
