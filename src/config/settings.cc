#include "config/settings.h"

#include <algorithm>
#include <cstring>

#include "base/strings.h"
#include "config/value_parsers.h"

namespace wgate::config {

namespace {

const std::vector<SettingInfo> kSettings = {
    {"WGATE_CONFIG",
     "path of the wg-quick config (default /config/wg0.conf, else the first "
     "/config/wg_confs/*.conf)"},
    {"WGATE_INTERFACE",
     "name of the tunnel interface (default: the config file's name, as wg-quick)"},
    {"WGATE_LOG_LEVEL", "error, warn, info (default) or debug"},
    {"WGATE_LAN_SUBNETS",
     "comma-separated CIDRs reachable outside the tunnel, e.g. 192.168.1.0/24"},
    {"WGATE_INPUT_PORTS", "comma-separated ports published to the LAN, e.g. 8080,6881/udp"},
    {"WGATE_VPN_INPUT_PORTS",
     "comma-separated ports open to inbound connections through the tunnel"},
    {"WGATE_DNS", "comma-separated DNS servers to use when the config has no DNS line"},
    {"WGATE_ALLOW_DOCKER_DNS",
     "true to allow Docker's resolver 127.0.0.11 (it resolves outside the tunnel)"},
    {"WGATE_ENGINE_WORKERS",
     "crypto helper threads of the engine (default: one per core beyond the first)"},
    {"WGATE_TUN_OFFLOAD", "0 to turn off the tunnel device's TCP offloads (default: on)"},
};

// Reads one variable at a time, recording errors as `NAME: "value" reason`.
class SettingsReader {
 public:
  SettingsReader(const Environment& env, Diagnostics* diags) : env_(env), diags_(diags) {}

  const std::string* Raw(const char* name) {
    auto it = env_.find(name);
    if (it == env_.end()) return nullptr;
    std::string_view v = TrimSpace(it->second);
    if (v.empty()) return nullptr;  // set but empty means unset, as in compose files
    trimmed_ = std::string(v);
    return &trimmed_;
  }

  void Fail(const char* name, std::string_view value, std::string_view why) {
    diags_->Error(name, 0, StrCat("\"", value, "\" ", why));
  }

  template <typename F>
  void List(const char* name, F item) {
    const std::string* raw = Raw(name);
    if (!raw) return;
    std::string value = *raw;
    for (std::string_view piece : SplitTrimmed(value, ',')) {
      if (piece.empty()) {
        Fail(name, value, "has an empty item between commas");
        continue;
      }
      item(piece);
    }
  }

  void String(const char* name, std::optional<std::string>* out) {
    if (const std::string* raw = Raw(name)) *out = *raw;
  }

  void Bool(const char* name, bool* out) {
    const std::string* raw = Raw(name);
    if (!raw) return;
    std::string v = ToLower(*raw);
    if (v == "true" || v == "1" || v == "yes" || v == "on")
      *out = true;
    else if (v == "false" || v == "0" || v == "no" || v == "off")
      *out = false;
    else
      Fail(name, *raw, "is not a boolean (expected true or false)");
  }

  void Unsigned(const char* name, uint64_t min, uint64_t max, std::optional<int>* out) {
    const std::string* raw = Raw(name);
    if (!raw) return;
    std::string why;
    if (auto v = ParseUnsigned(*raw, min, max, &why)) {
      *out = static_cast<int>(*v);
    } else {
      Fail(name, *raw, why);
    }
  }

  void Level(const char* name, LogLevel* out) {
    const std::string* raw = Raw(name);
    if (raw && !ParseLogLevel(*raw, out)) {
      Fail(name, *raw, "is not a log level (expected error, warn, info or debug)");
    }
  }

  void Prefixes(const char* name, std::vector<IpPrefix>* out) {
    List(name, [&](std::string_view piece) {
      std::string why;
      if (auto p = IpPrefix::Parse(piece, &why))
        out->push_back(p->Network());
      else
        Fail(name, piece, "is not a CIDR: " + why);
    });
  }

  void Addresses(const char* name, std::vector<IpAddress>* out) {
    List(name, [&](std::string_view piece) {
      if (auto ip = IpAddress::Parse(piece))
        out->push_back(*ip);
      else
        Fail(name, piece, "is not an IP address");
    });
  }

  void Ports(const char* name, std::vector<Port>* out) {
    List(name, [&](std::string_view piece) {
      Port port;
      std::string_view number = piece;
      size_t slash = piece.find('/');
      if (slash != std::string_view::npos) {
        std::string proto = ToLower(piece.substr(slash + 1));
        number = piece.substr(0, slash);
        if (proto == "tcp")
          port.protocol = Port::Protocol::kTcp;
        else if (proto == "udp")
          port.protocol = Port::Protocol::kUdp;
        else {
          Fail(name, piece, "has an unknown protocol (expected PORT, PORT/tcp or PORT/udp)");
          return;
        }
      }
      std::string why;
      auto n = ParseUnsigned(number, 1, 65535, &why);
      if (!n) {
        Fail(name, piece, StrCat("is not a port: \"", number, "\" ", why));
        return;
      }
      port.number = static_cast<uint16_t>(*n);
      out->push_back(port);
    });
  }

 private:
  const Environment& env_;
  Diagnostics* diags_;
  std::string trimmed_;
};

}  // namespace

Environment WgateEnvironment(char** envp) {
  Environment env;
  for (char** e = envp; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 6) != "WGATE_") continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string Port::ToString() const {
  switch (protocol) {
    case Protocol::kTcp:
      return StrCat(number, "/tcp");
    case Protocol::kUdp:
      return StrCat(number, "/udp");
    case Protocol::kBoth:
      break;
  }
  return StrCat(number);
}

const std::vector<SettingInfo>& KnownSettings() { return kSettings; }

SettingsResult ReadSettings(const Environment& env) {
  SettingsResult result;
  GatewaySettings& s = result.settings;
  SettingsReader r(env, &result.diagnostics);
  r.String("WGATE_CONFIG", &s.config_path);
  r.String("WGATE_INTERFACE", &s.interface);
  r.Level("WGATE_LOG_LEVEL", &s.log_level);
  r.Prefixes("WGATE_LAN_SUBNETS", &s.lan_subnets);
  r.Ports("WGATE_INPUT_PORTS", &s.input_ports);
  r.Ports("WGATE_VPN_INPUT_PORTS", &s.vpn_input_ports);
  r.Addresses("WGATE_DNS", &s.dns);
  r.Bool("WGATE_ALLOW_DOCKER_DNS", &s.allow_docker_dns);
  r.Unsigned("WGATE_ENGINE_WORKERS", 0, 64, &s.engine_workers);
  r.Bool("WGATE_TUN_OFFLOAD", &s.tun_offload);

  for (const auto& [name, value] : env) {
    if (name.rfind("WGATE_", 0) != 0) continue;
    bool known = false;
    std::string best;
    size_t best_distance = SIZE_MAX;
    for (const SettingInfo& info : kSettings) {
      if (name == info.name) known = true;
      size_t d = EditDistance(name, info.name);
      if (d < best_distance) {
        best_distance = d;
        best = info.name;
      }
    }
    if (known) continue;
    // Compare the part after "WGATE_", so that short names do not all look alike.
    size_t limit = std::max<size_t>(1, std::min<size_t>(3, (name.size() - 6) / 3));
    std::string hint = best_distance <= limit ? StrCat("; did you mean ", best, "?") : "";
    result.diagnostics.Warning(name, 0, "unknown setting, ignored" + hint);
  }
  return result;
}

}  // namespace wgate::config
