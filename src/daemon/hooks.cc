#include "daemon/hooks.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/log.h"
#include "base/strings.h"

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

// Runs one command; returns "" on success, else the reason.
std::string RunOne(const std::string& command, std::chrono::milliseconds timeout) {
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  // The daemon ignores SIGPIPE and blocks the signals its signalfd reads; a hook starts clean.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, const_cast<char**>(argv), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return StrCat("could not start /bin/sh: ", std::strerror(rc));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return StrCat("waitpid: ", std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return StrCat("timed out after ",
                    std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                    " s and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status) == 0 ? "" : StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return StrCat("was killed by signal ", WTERMSIG(status));
  return "ended abnormally";
}

}  // namespace

std::vector<HookFailure> RunHooks(std::string_view stage, const std::vector<std::string>& commands,
                                  std::string_view interface, std::chrono::milliseconds timeout) {
  std::vector<HookFailure> failures;
  for (size_t i = 0; i < commands.size(); ++i) {
    LogInfo(StrCat("running ", stage, " hook ", i + 1, " of ", commands.size()));
    std::string reason = RunOne(SubstituteInterface(commands[i], interface), timeout);
    if (reason.empty()) continue;
    HookFailure f{std::string(stage), i + 1, reason};
    LogWarn(f.ToString() + " (the kill switch does not depend on hooks)");
    failures.push_back(std::move(f));
  }
  return failures;
}

}  // namespace wgate::daemon
