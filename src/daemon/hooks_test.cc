#include "daemon/hooks.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>

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

TEST(HooksTest, HooksStartWithDefaultSignalsEvenWhenTheDaemonIgnoresSigpipe) {
  TempDir dir;
  std::string out = dir.path() + "/sig";
  signal(SIGPIPE, SIG_IGN);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  std::vector<HookFailure> f =
      RunHooks("PostUp", {"grep -E '^(SigIgn|SigBlk)' /proc/self/status > " + out}, "wg0");
  sigprocmask(SIG_SETMASK, &old, nullptr);
  signal(SIGPIPE, SIG_DFL);
  EXPECT_TRUE(f.empty());
  // Neither SIGPIPE ignored nor SIGTERM blocked in the hook (signal n is bit n-1 of the masks).
  std::string status = *ReadFile(out);
  auto mask = [&](const char* name) {
    size_t at = status.find(name);
    return at == std::string::npos
               ? ~0ull
               : std::stoull(status.substr(at + std::strlen(name)), nullptr, 16);
  };
  EXPECT_EQ(mask("SigIgn:\t") & (1ull << (SIGPIPE - 1)), 0u) << status;
  EXPECT_EQ(mask("SigBlk:\t") & (1ull << (SIGTERM - 1)), 0u) << status;
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
