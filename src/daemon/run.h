// `wgate run`: the gateway daemon's process, around Gateway: lockdown first, then the event loop
// (signals, control socket, config file changes, link events, periodic verification).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "daemon/gateway.h"

namespace wgate::daemon {

struct RunOptions {
  std::optional<std::string> config_flag;
  char** envp = nullptr;  // read only after the lockdown is in place
  std::chrono::milliseconds tick{1000};
  std::string control_dir = "/run/wgate";
  std::string resolv_conf = kResolvConfPath;
  std::string resolv_backup = kResolvConfBackupPath;
  // Test only: behave as if nftables were unusable, to exercise the blackhole fallback for real.
  bool test_without_nftables = false;
  // Makes the engine; called once, after the lockdown.
  std::function<std::unique_ptr<TunnelEngine>()> make_engine;
};

// Runs until SIGTERM/SIGINT or `wgate down`. Returns the process exit code: 0 after an orderly
// stop (lockdown left in place), 3 when neither firewall nor fallback could be installed or the
// control socket is taken.
int RunDaemon(const RunOptions& options);

// `wgate unblock` with no daemon running: removes wgate's table, its policy rules and any
// blackhole fallback routes, brings back what the fallback shut (links, routes, IPv6; from its
// record), restores resolv.conf. The only way to open the namespace.
Status UnblockNamespace(const std::string& resolv_conf, const std::string& resolv_backup);

}  // namespace wgate::daemon
