#include "daemon/status.h"

#include <sstream>

#include "base/strings.h"

namespace wgate::daemon {

std::string_view GatewayStateName(GatewayState s) {
  switch (s) {
    case GatewayState::kStarting:
      return "starting";
    case GatewayState::kBlocked:
      return "blocked";
    case GatewayState::kConnecting:
      return "connecting";
    case GatewayState::kConnected:
      return "connected";
    case GatewayState::kHolding:
      return "holding";
  }
  return "?";
}

namespace {

GatewayState StateFromName(const std::string& name) {
  for (GatewayState s : {GatewayState::kStarting, GatewayState::kBlocked, GatewayState::kConnecting,
                         GatewayState::kConnected, GatewayState::kHolding}) {
    if (GatewayStateName(s) == name) return s;
  }
  return GatewayState::kBlocked;
}

std::string Ago(WallTime then, WallTime now) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (secs < 0) secs = 0;
  std::string out;
  auto part = [&](long long n, const char* unit) {
    if (n == 0) return;
    out += StrCat(out.empty() ? "" : ", ", n, " ", unit, n == 1 ? "" : "s");
  };
  part(secs / 3600, "hour");
  part(secs / 60 % 60, "minute");
  part(secs % 60, "second");
  return out.empty() ? "just now" : out + " ago";
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream o;
  o.precision(u == 0 ? 0 : 2);
  o << std::fixed << v << " " << units[u];
  return o.str();
}

}  // namespace

nlohmann::json StatusToJson(const GatewayStatus& s) {
  nlohmann::json j = {
      {"role", s.role},
      {"state", GatewayStateName(s.state)},
      {"reason", s.reason},
      {"healthy", s.healthy()},
      {"config", s.config_path},
      {"interface", s.interface},
      {"firewall", s.firewall},
      {"rules_verified", s.rules_verified},
      {"rules_problem", s.rules_problem},
      {"rules_reapplied", s.rules_reapplied},
      {"endpoint", s.endpoint},
      {"rx_bytes", s.rx_bytes},
      {"tx_bytes", s.tx_bytes},
      {"warnings", s.warnings},
      {"protections", s.protections},
      {"pid", s.pid},
  };
  j["last_handshake"] = s.last_handshake
                            ? nlohmann::json(std::chrono::duration_cast<std::chrono::seconds>(
                                                 s.last_handshake->time_since_epoch())
                                                 .count())
                            : nlohmann::json(nullptr);
  return j;
}

GatewayStatus StatusFromJson(const nlohmann::json& j) {
  GatewayStatus s;
  s.role = j.value("role", "gateway");
  s.state = StateFromName(j.value("state", "blocked"));
  s.reason = j.value("reason", "");
  s.config_path = j.value("config", "");
  s.interface = j.value("interface", "");
  s.firewall = j.value("firewall", "");
  s.rules_verified = j.value("rules_verified", false);
  s.rules_problem = j.value("rules_problem", "");
  s.rules_reapplied = j.value("rules_reapplied", uint64_t{0});
  s.endpoint = j.value("endpoint", "");
  s.rx_bytes = j.value("rx_bytes", uint64_t{0});
  s.tx_bytes = j.value("tx_bytes", uint64_t{0});
  s.pid = j.value("pid", 0);
  for (auto [key, into] : {std::pair{"warnings", &s.warnings}, {"protections", &s.protections}}) {
    if (!j.contains(key) || !j[key].is_array()) continue;
    for (const auto& w : j[key]) {
      if (w.is_string()) into->push_back(w.get<std::string>());
    }
  }
  if (j.contains("last_handshake") && j["last_handshake"].is_number_integer()) {
    s.last_handshake = WallTime{} + std::chrono::seconds(j["last_handshake"].get<int64_t>());
  }
  return s;
}

std::string FormatStatus(const GatewayStatus& s, WallTime now) {
  std::ostringstream o;
  if (s.role != "gateway") o << "role: " << s.role << "\n";
  o << "state: " << GatewayStateName(s.state);
  if (!s.reason.empty()) o << " (" << s.reason << ")";
  o << "\n";
  o << "healthy: " << (s.healthy() ? "yes" : "no") << "\n";
  o << "firewall: " << s.firewall << ", "
    << (s.rules_verified
            ? "rules verified"
            : "rules NOT verified" + (s.rules_problem.empty() ? "" : ": " + s.rules_problem));
  if (s.rules_reapplied) o << " (re-applied " << s.rules_reapplied << " times after tampering)";
  o << "\n";
  if (!s.config_path.empty()) o << "config: " << s.config_path << "\n";
  if (!s.interface.empty()) o << "interface: " << s.interface << "\n";
  if (!s.endpoint.empty()) o << "endpoint: " << s.endpoint << "\n";
  if (s.state == GatewayState::kConnecting || s.state == GatewayState::kConnected) {
    o << "latest handshake: " << (s.last_handshake ? Ago(*s.last_handshake, now) : "none yet")
      << "\n";
    o << "transfer: " << Bytes(s.rx_bytes) << " received, " << Bytes(s.tx_bytes) << " sent\n";
  }
  for (const std::string& p : s.protections) o << "protection: " << p << "\n";
  for (const std::string& w : s.warnings) o << "warning: " << w << "\n";
  if (s.pid) o << "pid: " << s.pid << "\n";
  return o.str();
}

}  // namespace wgate::daemon
