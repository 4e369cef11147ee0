// PreUp/PostUp/PreDown/PostDown hooks from the config, run as wg-quick runs them: each command
// through `/bin/sh -c` with every %i replaced by the interface name, in config order.
//
// Hooks never decide whether the kill switch exists: a failing hook is reported (and shows in
// status), and bring-up goes on. Command text is not logged: it may carry credentials.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace wgate::daemon {

struct HookFailure {
  std::string stage;   // "PostUp"
  size_t index = 0;    // 1-based position among that stage's commands
  std::string reason;  // "exited with status 3", "killed by signal 9", "timed out after 60 s"
  std::string ToString() const;  // "PostUp hook 1 exited with status 3"
};

// wg-quick's %i substitution.
std::string SubstituteInterface(std::string_view command, std::string_view interface);

// Runs the commands one after the other; a hook still running after `timeout` is killed.
std::vector<HookFailure> RunHooks(std::string_view stage, const std::vector<std::string>& commands,
                                  std::string_view interface,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace wgate::daemon
