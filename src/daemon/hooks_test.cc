#include "daemon/hooks.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/temp_dir.h"
#include "daemon/file_util.h"

namespace wgate::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// What the daemon's loop does: poll the runner's fd, let it process. False when not idle in time.
bool RunUntilIdle(ShellHookRunner& runner, milliseconds limit = milliseconds(10000)) {
  auto until = steady_clock::now() + limit;
  while (!runner.idle() && steady_clock::now() < until) {
    pollfd p{runner.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    if (p.revents) runner.Process();
  }
  return runner.idle();
}

std::vector<std::string> Strings(const std::vector<HookFailure>& failures) {
  std::vector<std::string> out;
  for (const HookFailure& f : failures) out.push_back(f.ToString());
  return out;
}

TEST(HooksTest, SubstitutesEveryPercentI) {
  EXPECT_EQ(SubstituteInterface("iptables -I OUTPUT ! -o %i -m mark ! --mark $(wg show %i fwmark)",
                                "wg0"),
            "iptables -I OUTPUT ! -o wg0 -m mark ! --mark $(wg show wg0 fwmark)");
  EXPECT_EQ(SubstituteInterface("100%", "wg0"), "100%");
  EXPECT_EQ(SubstituteInterface("%%i", "x"), "%x");
}

TEST(HooksTest, StartReturnsAtOnceWhileTheHookRuns) {
  TempDir dir;
  std::string done = dir.path() + "/done";
  ShellHookRunner runner;
  auto start = steady_clock::now();
  runner.Start("PostUp", {"sleep 5; touch " + done}, "wg0");
  EXPECT_LT(steady_clock::now() - start, milliseconds(500));
  EXPECT_FALSE(runner.idle());
  pollfd p{runner.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 200), 0) << "nothing to process while the hook runs";
  runner.Process();
  EXPECT_FALSE(runner.idle());
  EXPECT_TRUE(runner.TakeFailures().empty());
  EXPECT_FALSE(ReadFile(done).ok());
}

TEST(HooksTest, RunsInOrderAndReportsFailuresWithoutStopping) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  ShellHookRunner runner;
  // The first command is the slowest: a second one starting early would write first.
  runner.Start("PostUp",
               {"sleep 0.3; echo one %i >> " + log, "exit 3", "echo three >> " + log, "kill -9 $$"},
               "wgt0");
  // A later stage waits for the earlier one.
  runner.Start("PreDown", {"echo four >> " + log}, "wgt0");
  ASSERT_TRUE(RunUntilIdle(runner));
  EXPECT_EQ(*ReadFile(log), "one wgt0\nthree\nfour\n");
  EXPECT_EQ(Strings(runner.TakeFailures()),
            (std::vector<std::string>{"PostUp hook 2 exited with status 3",
                                      "PostUp hook 4 was killed by signal 9"}));
  EXPECT_TRUE(runner.TakeFailures().empty()) << "each failure is reported once";
}

TEST(HooksTest, HooksStartWithDefaultSignalsEvenWhenTheDaemonIgnoresSigpipe) {
  TempDir dir;
  std::string out = dir.path() + "/sig";
  signal(SIGPIPE, SIG_IGN);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  ShellHookRunner runner;
  runner.Start("PostUp", {"grep -E '^(SigIgn|SigBlk)' /proc/self/status > " + out}, "wg0");
  sigprocmask(SIG_SETMASK, &old, nullptr);
  signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(RunUntilIdle(runner));
  EXPECT_TRUE(runner.TakeFailures().empty());
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

// libmnl opens its netlink socket without SOCK_CLOEXEC; the daemon's nftables socket must not
// reach a user's command, nor anything else the daemon holds.
TEST(HooksTest, HooksInheritNoDescriptorButStdio) {
  TempDir dir;
  std::string out = dir.path() + "/fds";
  std::string in = dir.path() + "/stdin";
  int netfilter = ::socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
  ASSERT_GE(netfilter, 3);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ShellHookRunner runner;
  // exec: the hook's process itself, not a child of the shell, which keeps a saved copy of a
  // redirected stdout at fd 10. ls reads /proc/self/fd through a descriptor of its own: the lowest
  // free one, 3 when nothing was inherited.
  runner.Start("PostUp",
               {"exec ls /proc/self/fd > " + out, "exec readlink /proc/self/fd/0 > " + in}, "wg0");
  ::close(netfilter);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(RunUntilIdle(runner));
  EXPECT_TRUE(runner.TakeFailures().empty());
  EXPECT_EQ(*ReadFile(out), "0\n1\n2\n3\n");
  EXPECT_EQ(*ReadFile(in), "/dev/null\n");
}

TEST(HooksTest, AHangingHookIsKilledAtItsDeadlineWithWhatItStarted) {
  TempDir dir;
  std::string child = dir.path() + "/child";
  std::string log = dir.path() + "/log";
  ShellHookRunner runner(milliseconds(300));
  auto start = steady_clock::now();
  // sh waits for its own child here: the whole process group goes.
  runner.Start("PreUp", {"sleep 30 & echo $! > " + child + "; wait", "echo next >> " + log}, "wg0");
  ASSERT_TRUE(RunUntilIdle(runner));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(steady_clock::now() - start, milliseconds(300));
  EXPECT_EQ(Strings(runner.TakeFailures()),
            (std::vector<std::string>{"PreUp hook 1 timed out after 0 s and was killed"}));
  EXPECT_EQ(*ReadFile(log), "next\n") << "the next command still runs";
  std::string sleeper = *ReadFile(child);
  sleeper.pop_back();
  // Killed: a zombie until whoever it was re-parented to reaps it, or gone.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    auto stat = ReadFile("/proc/" + sleeper + "/stat");
    gone = !stat.ok() || stat->find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the hook's child " << sleeper << " survived";
}

TEST(HooksTest, CancelStopsOneStageAndLeavesTheOthers) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  ShellHookRunner runner;
  runner.Start("PreUp", {"sleep 30"}, "wg0");
  runner.Start("PostUp", {"echo post >> " + log, "echo post2 >> " + log}, "wg0");
  runner.Start("PreDown", {"echo down >> " + log}, "wg0");
  auto start = steady_clock::now();
  runner.Cancel("PostUp");
  runner.Cancel("PreUp");
  EXPECT_LT(steady_clock::now() - start, milliseconds(500)) << "Cancel does not wait";
  ASSERT_TRUE(RunUntilIdle(runner));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(*ReadFile(log), "down\n");
  EXPECT_EQ(Strings(runner.TakeFailures()),
            (std::vector<std::string>{"PostUp hook 1 was cancelled before it started",
                                      "PostUp hook 2 was cancelled before it started",
                                      "PreUp hook 1 was stopped before it finished"}));
}

// As PID 1 the daemon reaps orphans; doing so must not swallow a running hook's status.
TEST(HooksTest, ReapingChildrenKeepsTheHooksStatus) {
  ShellHookRunner runner;
  pid_t other = ::fork();
  ASSERT_GE(other, 0);
  if (other == 0) ::_exit(0);
  runner.Start("PostUp", {"exit 4"}, "wg0");
  std::this_thread::sleep_for(milliseconds(300));  // both have ended, neither is reaped
  runner.ReapChildren();
  EXPECT_TRUE(runner.idle());
  EXPECT_EQ(Strings(runner.TakeFailures()),
            (std::vector<std::string>{"PostUp hook 1 exited with status 4"}));
  EXPECT_EQ(::waitpid(other, nullptr, WNOHANG), -1) << "the other child was reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST(HooksTest, FinishWaitsForTheQueue) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  ShellHookRunner runner;
  runner.Start("PreDown", {"sleep 0.2; echo a >> " + log}, "wg0");
  runner.Start("PostDown", {"echo b >> " + log}, "wg0");
  runner.Finish();
  EXPECT_TRUE(runner.idle());
  EXPECT_EQ(*ReadFile(log), "a\nb\n");
}

}  // namespace
}  // namespace wgate::daemon
