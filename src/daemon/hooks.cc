#include "daemon/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/log.h"
#include "base/strings.h"
#include "daemon/loop_fds.h"

extern char** environ;

namespace wgate::daemon {

std::string HookFailure::ToString() const { return StrCat(stage, " hook ", index, " ", reason); }

std::string SubstituteInterface(std::string_view command, std::string_view interface) {
  std::string out;
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i] == '%' && i + 1 < command.size() && command[i + 1] == 'i') {
      out += interface;
      ++i;
    } else {
      out += command[i];
    }
  }
  return out;
}

namespace {

// Starts `/bin/sh -c command`; returns its pid, or the reason it could not start.
Result<pid_t> Spawn(const std::string& command) {
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  // The daemon ignores SIGPIPE and blocks the signals its signalfd reads; a hook starts clean, in
  // a process group of its own so that a deadline kills what it started too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  // stdin from /dev/null, stdout and stderr the daemon's, and nothing else: libmnl and others
  // open their netlink sockets without O_CLOEXEC, and a hook holding wgate's nftables socket
  // could change the ruleset through it.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&files, STDERR_FILENO + 1);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &files, &attr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error(StrCat("could not start /bin/sh: ", std::strerror(rc)));
  return pid;
}

// glibc 2.36's <sys/pidfd.h> declares pidfd_open without extern "C": call the kernel directly.
int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status) == 0 ? "" : StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return StrCat("was killed by signal ", WTERMSIG(status));
  return "ended abnormally";
}

}  // namespace

ShellHookRunner::ShellHookRunner(std::chrono::milliseconds timeout)
    : timeout_(timeout),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  WGATE_CHECK(epoll_.valid() && timer_.valid());
  epoll_event ev{};
  ev.events = EPOLLIN;
  WGATE_CHECK(::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, timer_.get(), &ev) == 0);
}

ShellHookRunner::~ShellHookRunner() {
  queue_.clear();
  if (!running_) return;
  ::kill(-running_->pid, SIGKILL);
  ::waitpid(running_->pid, nullptr, 0);
}

void ShellHookRunner::Start(std::string_view stage, const std::vector<std::string>& commands,
                            std::string_view interface) {
  for (size_t i = 0; i < commands.size(); ++i) {
    queue_.push_back(Job{std::string(stage), i + 1, commands.size(),
                         SubstituteInterface(commands[i], interface)});
  }
  if (!running_) StartNext();
}

void ShellHookRunner::Cancel(std::string_view stage) {
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->stage != stage) {
      ++it;
      continue;
    }
    Report(*it, "was cancelled before it started");
    it = queue_.erase(it);
  }
  // Reported once it is collected: its pidfd becomes readable within milliseconds of SIGKILL.
  if (running_ && running_->job.stage == stage && !running_->killed_because)
    Kill("was stopped before it finished");
}

std::vector<HookFailure> ShellHookRunner::TakeFailures() { return std::exchange(failures_, {}); }

void ShellHookRunner::Report(const Job& job, std::string reason) {
  HookFailure f{job.stage, job.index, std::move(reason)};
  LogWarn(f.ToString() + " (the kill switch does not depend on hooks)");
  failures_.push_back(std::move(f));
}

void ShellHookRunner::StartNext() {
  while (!running_ && !queue_.empty()) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    LogInfo(StrCat("running ", job.stage, " hook ", job.index, " of ", job.count));
    auto pid = Spawn(job.command);
    if (!pid.ok()) {
      Report(job, pid.error().message());
      continue;
    }
    running_.emplace();
    running_->job = std::move(job);
    running_->pid = *pid;
    running_->deadline = std::chrono::steady_clock::now() + timeout_;
    // Nothing reaps it before this: the daemon's loop is single-threaded and reaps through us.
    running_->pidfd.reset(PidfdOpen(*pid));
    if (running_->pidfd.valid()) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, running_->pidfd.get(), &ev);
    } else {
      LogDebug(StrCat("pidfd_open: ", std::strerror(errno), "; following the hook by SIGCHLD"));
    }
  }
  ArmTimer();
}

void ShellHookRunner::ArmTimer() {
  itimerspec spec{};  // zero disarms
  if (running_ && !running_->killed_because) {
    auto left = running_->deadline - std::chrono::steady_clock::now();
    auto ns =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(left).count());
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = ns % 1000000000;
  }
  ::timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

void ShellHookRunner::Kill(const std::string& why) {
  // The whole group: `sleep 30; true` leaves sh waiting on a child that would outlive it.
  ::kill(-running_->pid, SIGKILL);
  running_->killed_because = why;
  ArmTimer();
}

void ShellHookRunner::Finished(std::string reason) {
  Running done = std::move(*running_);
  running_.reset();
  if (done.pidfd.valid()) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, done.pidfd.get(), nullptr);
  if (done.killed_because) reason = *done.killed_because;  // SIGKILL says less than why we sent it
  if (!reason.empty()) Report(done.job, std::move(reason));
  StartNext();
}

void ShellHookRunner::Process() {
  Drain(timer_.get());
  while (running_) {
    int status = 0;
    pid_t r = ::waitpid(running_->pid, &status, WNOHANG);
    if (r == running_->pid) {
      Finished(DescribeExit(status));
      continue;
    }
    if (r < 0 && errno == ECHILD) {  // someone else's waitpid(-1) took it: say so, go on
      Finished("ended, but its exit status was taken by another waitpid");
      continue;
    }
    if (!running_->killed_because && std::chrono::steady_clock::now() >= running_->deadline) {
      Kill(StrCat("timed out after ",
                  std::chrono::duration_cast<std::chrono::seconds>(timeout_).count(),
                  " s and was killed"));
    }
    break;
  }
}

void ShellHookRunner::ReapChildren() {
  while (true) {
    // Look before reaping: the running hook's status is ours to record.
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
    if (running_ && info.si_pid == running_->pid) {
      Process();
    } else {
      ::waitpid(info.si_pid, nullptr, WNOHANG);
    }
  }
}

void ShellHookRunner::Finish() {
  while (!idle()) {
    // Without a pidfd nothing wakes the poll when the hook ends: look every 50 ms.
    pollfd p{fd(), POLLIN, 0};
    ::poll(&p, 1, running_ && running_->pidfd.valid() ? -1 : 50);
    Process();
  }
}

}  // namespace wgate::daemon
