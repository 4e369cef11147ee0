#include "daemon/hooks.h"

#include <gtest/gtest.h>

#include "base/temp_dir.h"
#include "daemon/file_util.h"

namespace wgate::daemon {
namespace {

TEST(HooksTest, SubstitutesEveryPercentI) {
  EXPECT_EQ(SubstituteInterface("iptables -I OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark)",
                                "wg0"),
            "iptables -I OUTPUT ! -o wg0 -m mark ! --mark $(wg show wg0 fwmark)");
  EXPECT_EQ(SubstituteInterface("100%", "wg0"), "100%");
  EXPECT_EQ(SubstituteInterface("%%i", "x"), "%x");
}

TEST(HooksTest, RunsInOrderAndReportsFailuresWithoutStopping) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  std::vector<std::string> cmds = {"echo one %i >> " + log, "exit 3", "echo three >> " + log,
                                   "kill -9 $$"};
  std::vector<HookFailure> f = RunHooks("PostUp", cmds, "wgt0");
  EXPECT_EQ(*ReadFile(log), "one wgt0\nthree\n");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].ToString(), "PostUp hook 2 exited with status 3");
  EXPECT_EQ(f[1].ToString(), "PostUp hook 4 was killed by signal 9");
}

TEST(HooksTest, HangingHookIsKilled) {
  auto start = std::chrono::steady_clock::now();
  std::vector<HookFailure> f =
      RunHooks("PreUp", {"sleep 30"}, "wg0", std::chrono::milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].ToString(), "PreUp hook 1 timed out after 0 s and was killed");
}

}  // namespace
}  // namespace wgate::daemon
