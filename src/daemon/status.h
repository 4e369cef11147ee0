// What the gateway reports about itself: `wgate status`, the control socket, health.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"

namespace wgate::daemon {

enum class GatewayState {
  kStarting,    // before the lockdown is in place (a few milliseconds)
  kBlocked,     // locked down; `reason` says why (bad config, missing file, stopped...)
  kConnecting,  // tunnel configured, waiting for the first handshake
  kConnected,   // a handshake completed within the last few minutes
  kHolding,     // `wgate hold`: keeping the namespace locked for whichever gateway joins it
};
std::string_view GatewayStateName(GatewayState s);  // "blocked", ...

struct GatewayStatus {
  std::string role = "gateway";  // "gateway" (`wgate run`) or "hold" (`wgate hold`)
  GatewayState state = GatewayState::kStarting;
  std::string reason;  // why blocked, or "" (never contains key material)
  std::string config_path;
  std::string interface;
  std::string firewall;          // "lockdown", "connected", "blackhole fallback", "none"
  bool rules_verified = false;   // the kernel's ruleset matched what was applied, last check
  std::string rules_problem;     // what the last check found, when not verified
  uint64_t rules_reapplied = 0;  // times the ruleset was found altered and re-applied
  std::string endpoint;          // "198.51.100.1:51820"
  std::optional<WallTime> last_handshake;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  std::vector<std::string> warnings;  // config warnings, failed hooks
  // What guards the ruleset on this kernel, one line each ("table ownership: on (...)",
  // "nftables events: watched (...)"), and which of them are not in force.
  std::vector<std::string> protections;
  int pid = 0;
  // A gateway: connected with verified rules. A holder: the namespace verified locked.
  bool healthy() const {
    return (state == GatewayState::kConnected || state == GatewayState::kHolding) &&
           rules_verified;
  }
};

nlohmann::json StatusToJson(const GatewayStatus& s);
// Parses what StatusToJson wrote (the CLI side of the control socket).
GatewayStatus StatusFromJson(const nlohmann::json& j);
// The human form `wgate status` prints; `now` makes "1 minute, 3 seconds ago" testable.
std::string FormatStatus(const GatewayStatus& s, WallTime now);

}  // namespace wgate::daemon
