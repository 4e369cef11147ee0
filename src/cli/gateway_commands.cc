#include "cli/gateway_commands.h"

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/exit_codes.h"
#include "daemon/control.h"
#include "daemon/engine_tunnel.h"
#include "daemon/hold.h"
#include "daemon/run.h"
#include "daemon/status.h"

extern char** environ;

namespace wgate::cli {

const char kRunHelp[] =
    "usage: wgate run [--config FILE]\n"
    "\n"
    "Runs the gateway in the foreground (PID 1 of the container). Before reading anything it\n"
    "locks the network namespace down (nftables: drop everything but loopback); it opens it only\n"
    "through the WireGuard tunnel it then brings up. A bad or missing config keeps the lockdown\n"
    "and is reported by `wgate status`; the config is re-read when the file changes or on SIGHUP.\n"
    "SIGTERM/SIGINT bring the tunnel down and leave the lockdown in place.\n"
    "\n"
    "  --config FILE   the wg-quick config (default: WGATE_CONFIG, else /config/wg0.conf, else\n"
    "                  the first /config/wg_confs/*.conf)\n"
    "\n"
    "Settings come from WGATE_* environment variables (see the README).\n";

const char kStatusHelp[] =
    "usage: wgate status [--json] [--healthy]\n"
    "\n"
    "Asks the wgate daemon of this network namespace for its state: blocked (and why),\n"
    "connecting or connected; endpoint, latest handshake, transfer, whether the firewall rules\n"
    "are verified. Exits 4 when no daemon runs.\n"
    "\n"
    "  --json      print the state as JSON\n"
    "  --healthy   print nothing; exit 0 when connected with verified rules, else 1\n"
    "              (for container health checks)\n";

const char kDownHelp[] =
    "usage: wgate down [--unblock]\n"
    "\n"
    "Asks the daemon to bring the tunnel down and exit. The namespace stays locked: nothing\n"
    "leaves until a new `wgate run` connects.\n"
    "\n"
    "  --unblock   also remove wgate's firewall rules and restore resolv.conf: the namespace is\n"
    "              OPEN afterwards and traffic leaves without the tunnel\n";

const char kUnblockHelp[] =
    "usage: wgate unblock\n"
    "\n"
    "Removes wgate's firewall rules, routes and policy rules and restores resolv.conf, whether or\n"
    "not a daemon runs (a running one is stopped). The only way to open the namespace: traffic\n"
    "then leaves WITHOUT the tunnel.\n";

const char kHoldHelp[] =
    "usage: wgate hold\n"
    "\n"
    "Holds the network namespace for gateways and consumers that join it (compose:\n"
    "network_mode: \"service:hold\"), as a Kubernetes pod's pause container does. It installs\n"
    "the same lockdown as `wgate run` first thing, then only keeps the namespace locked: it\n"
    "leaves a gateway's ruleset alone while it fails closed and re-applies the lockdown the\n"
    "moment wgate's table is gone or open. It reads no config and never needs updating, so the\n"
    "gateway container can be recreated while consumers keep their namespace and connections.\n"
    "`wgate status` in its container reports the holder; healthy means the namespace is\n"
    "verified locked. `wgate unblock` in its container opens the namespace for good.\n";

namespace {

// Flags: every arg must be in `known`; --help prints `help`. Returns -1 to go on, else an exit
// code.
int ParseFlags(const char* command, const std::vector<std::string_view>& args,
               std::vector<std::string_view> known, const char* help, Io io,
               std::vector<std::string_view>* seen) {
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") {
      io.out << help;
      return kExitOk;
    }
    if (std::find(known.begin(), known.end(), a) == known.end()) {
      io.err << "wgate " << command << ": unknown argument \"" << a << "\"\n" << help;
      return kExitUsage;
    }
    seen->push_back(a);
  }
  return -1;
}

bool Has(const std::vector<std::string_view>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool NoDaemon(const Error& e) { return e.sys_errno() == ENOENT || e.sys_errno() == ECONNREFUSED; }

constexpr char kOpenWarning[] =
    "wgate: the namespace is now OPEN: traffic leaves without the tunnel\n";

int LocalUnblock(Io io) {
  Status s = daemon::UnblockNamespace(daemon::kResolvConfPath, daemon::ResolvBackupPath());
  if (!s.ok()) {
    io.err << "wgate unblock: " << s.error().message() << "\n";
    return kExitFailure;
  }
  io.out << kOpenWarning;
  return kExitOk;
}

}  // namespace

int RunRun(const std::vector<std::string_view>& args, Io io) {
  daemon::RunOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      io.out << kRunHelp;
      return kExitOk;
    }
    if (args[i] == "--config" && i + 1 < args.size()) {
      options.config_flag = std::string(args[++i]);
    } else if (args[i] == "--test-without-nftables") {  // test only: the blackhole fallback
      options.test_without_nftables = true;
    } else if (args[i].substr(0, 9) == "--config=") {
      options.config_flag = std::string(args[i].substr(9));
    } else {
      io.err << "wgate run: unknown argument \"" << args[i] << "\"\n" << kRunHelp;
      return kExitUsage;
    }
  }
  options.envp = environ;
  options.resolv_backup = daemon::ResolvBackupPath();
  static SystemClock clock;
  options.make_engine = [] { return std::make_unique<daemon::EngineTunnel>(&clock); };
  return daemon::RunDaemon(options);
}

int RunHold(const std::vector<std::string_view>& args, Io io) {
  daemon::HoldOptions options;
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") {
      io.out << kHoldHelp;
      return kExitOk;
    }
    if (a == "--test-without-nftables") {  // test only: the blackhole fallback
      options.test_without_nftables = true;
      continue;
    }
    io.err << "wgate hold: unknown argument \"" << a << "\"\n" << kHoldHelp;
    return kExitUsage;
  }
  options.resolv_backup = daemon::ResolvBackupPath();
  return daemon::RunHold(options);
}

int RunStatus(const std::vector<std::string_view>& args, Io io) {
  std::vector<std::string_view> flags;
  if (int rc = ParseFlags("status", args, {"--json", "--healthy"}, kStatusHelp, io, &flags);
      rc >= 0)
    return rc;
  auto path = daemon::ControlSocketPath();
  if (!path.ok()) {
    io.err << "wgate status: " << path.error().message() << "\n";
    return kExitFailure;
  }
  auto reply = daemon::ControlRequest(*path, "status");
  if (!reply.ok() && NoDaemon(reply.error())) {
    // No gateway here: in the holder's container, the holder answers.
    if (auto hold = daemon::HoldSocketPath(); hold.ok()) {
      auto held = daemon::ControlRequest(*hold, "status");
      if (held.ok() || !NoDaemon(held.error())) reply = held;
    }
  }
  if (!reply.ok()) {
    if (NoDaemon(reply.error())) {
      io.err << "wgate status: no wgate daemon is running in this network namespace\n";
      return kExitNotRunning;
    }
    io.err << "wgate status: " << reply.error().message() << "\n";
    return kExitFailure;
  }
  nlohmann::json j = nlohmann::json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    io.err << "wgate status: the daemon answered something that is not JSON\n";
    return kExitFailure;
  }
  daemon::GatewayStatus status = daemon::StatusFromJson(j);
  if (Has(flags, "--healthy")) return status.healthy() ? kExitOk : kExitInvalid;
  if (Has(flags, "--json")) {
    io.out << j.dump(2) << "\n";
  } else {
    io.out << daemon::FormatStatus(status, std::chrono::system_clock::now());
  }
  return kExitOk;
}

int RunDown(const std::vector<std::string_view>& args, Io io) {
  std::vector<std::string_view> flags;
  if (int rc = ParseFlags("down", args, {"--unblock"}, kDownHelp, io, &flags); rc >= 0) return rc;
  bool unblock = Has(flags, "--unblock");
  auto path = daemon::ControlSocketPath();
  if (!path.ok()) {
    io.err << "wgate down: " << path.error().message() << "\n";
    return kExitFailure;
  }
  auto reply =
      daemon::ControlRequest(*path, unblock ? "down --unblock" : "down", std::chrono::seconds(30));
  if (!reply.ok()) {
    if (!NoDaemon(reply.error())) {
      io.err << "wgate down: " << reply.error().message() << "\n";
      return kExitFailure;
    }
    if (unblock) return RunUnblock({}, io);  // a holder here must stop locking too
    io.err << "wgate down: no wgate daemon is running in this network namespace (the lockdown, if "
              "any, stays; "
              "`wgate unblock` removes it)\n";
    return kExitNotRunning;
  }
  nlohmann::json j = nlohmann::json::parse(*reply, nullptr, false);
  bool ok = !j.is_discarded() && j.value("ok", false);
  if (ok && unblock) {
    // A holder in this namespace would lock it again at its next check.
    if (auto hold = daemon::HoldSocketPath(); hold.ok())
      (void)daemon::ControlRequest(*hold, "down --unblock", std::chrono::seconds(30));
  }
  (ok ? io.out : io.err) << "wgate: " << (j.is_discarded() ? *reply : j.value("message", *reply))
                         << "\n";
  return ok ? kExitOk : kExitFailure;
}

int RunUnblock(const std::vector<std::string_view>& args, Io io) {
  std::vector<std::string_view> flags;
  if (int rc = ParseFlags("unblock", args, {}, kUnblockHelp, io, &flags); rc >= 0) return rc;
  // Both daemons a namespace may have: the gateway, and the holder, which would otherwise lock
  // the namespace again at its next check.
  bool unblocked = false;
  for (auto path : {daemon::ControlSocketPath(), daemon::HoldSocketPath()}) {
    if (!path.ok()) continue;
    auto reply = daemon::ControlRequest(*path, "down --unblock", std::chrono::seconds(30));
    if (!reply.ok()) continue;
    nlohmann::json j = nlohmann::json::parse(*reply, nullptr, false);
    unblocked |= !j.is_discarded() && j.value("ok", false);
  }
  if (unblocked) {
    io.out << kOpenWarning;
    return kExitOk;
  }
  return LocalUnblock(io);
}

}  // namespace wgate::cli
