// PreUp/PostUp/PreDown/PostDown hooks from the config, run as wg-quick runs them: each command
// through `/bin/sh -c` with every %i replaced by the interface name, in config order.
//
// Hooks never decide whether the kill switch exists: a failing hook is reported (and shows in
// status), and bring-up goes on. Command text is not logged: it may carry credentials.
//
// Hooks never hold up the daemon's loop either: starting a stage returns at once, the commands
// run in the background one after the other, and the loop learns of their ends through a file
// descriptor it polls. A hook gets /dev/null as stdin, the daemon's stdout and stderr (so the
// container log shows its output), default signal dispositions, a process group of its own, and
// no other file descriptor: none of wgate's sockets (nftables, rtnetlink, the control socket)
// leak into user commands.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"

namespace wgate::daemon {

// A hook still running this long after it started is killed (SIGKILL, with its process group).
inline constexpr std::chrono::milliseconds kHookTimeout = std::chrono::seconds(60);

struct HookFailure {
  std::string stage;   // "PostUp"
  size_t index = 0;    // 1-based position among that stage's commands
  std::string reason;  // "exited with status 3", "killed by signal 9", "timed out after 60 s"
  std::string ToString() const;  // "PostUp hook 1 exited with status 3"
};

// wg-quick's %i substitution.
std::string SubstituteInterface(std::string_view command, std::string_view interface);

// What the gateway needs of a hook runner. Nothing here waits for a hook.
class HookRunner {
 public:
  virtual ~HookRunner() = default;
  // Queues `commands` (%i replaced by `interface`) to run one after the other, after every command
  // queued before them: stages run in the order they were started, never two commands at once.
  virtual void Start(std::string_view stage, const std::vector<std::string>& commands,
                     std::string_view interface) = 0;
  // Stops `stage`: its running command is killed and its queued ones are dropped, each reported
  // as a failure. Other stages are left alone.
  virtual void Cancel(std::string_view stage) = 0;
  // The failures since the last call, in the order they happened.
  virtual std::vector<HookFailure> TakeFailures() = 0;
};

// The real runner: posix_spawn of /bin/sh, one pidfd per running hook, a timerfd for its
// deadline, both behind one epoll fd for the daemon's poll loop.
//
// Thread-safety: none; the daemon's loop drives it. The process must not reap children behind its
// back (waitpid(-1)): a daemon that reaps orphans (PID 1) does it through ReapChildren().
class ShellHookRunner final : public HookRunner {
 public:
  explicit ShellHookRunner(std::chrono::milliseconds timeout = kHookTimeout);
  // Kills (and reaps) a hook still running.
  ~ShellHookRunner() override;
  ShellHookRunner(const ShellHookRunner&) = delete;
  ShellHookRunner& operator=(const ShellHookRunner&) = delete;

  void Start(std::string_view stage, const std::vector<std::string>& commands,
             std::string_view interface) override;
  void Cancel(std::string_view stage) override;
  std::vector<HookFailure> TakeFailures() override;

  // Readable when the running hook ended or its deadline passed: then call Process().
  int fd() const { return epoll_.get(); }
  // Collects the running hook if it ended, kills it if its deadline passed, starts the next one.
  // Never waits.
  void Process();
  // Reaps every child of the process that has ended: the running hook's status is recorded, any
  // other child (an orphan re-parented to a PID 1 daemon, say) is simply reaped. For SIGCHLD.
  void ReapChildren();
  // True when no hook runs and none is queued.
  bool idle() const { return !running_ && queue_.empty(); }
  // Waits until idle (each hook within its deadline). Only for the daemon's exit, when there is
  // no loop left to hold up: the Down hooks of its last teardown get to run.
  void Finish();

 private:
  struct Job {
    std::string stage;
    size_t index = 0;  // 1-based
    size_t count = 0;  // commands in the stage
    std::string command;
  };
  struct Running {
    Running() {}  // user-provided: clang cannot see the member initialisers from std::optional yet
    Job job;
    pid_t pid = -1;
    UniqueFd pidfd;  // invalid when pidfd_open is unavailable: SIGCHLD/ReapChildren report it
    std::chrono::steady_clock::time_point deadline;
    std::optional<std::string> killed_because;  // set when we killed it
  };

  void StartNext();
  void Finished(std::string reason);  // reason "" when it succeeded
  void Kill(const std::string& why);
  void Report(const Job& job, std::string reason);
  void ArmTimer();

  std::chrono::milliseconds timeout_;
  UniqueFd epoll_;
  UniqueFd timer_;
  std::deque<Job> queue_;
  std::optional<Running> running_;
  std::vector<HookFailure> failures_;
};

}  // namespace wgate::daemon
