#include "config/settings.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "base/strings.h"
#include "config/config_file.h"
#include "config/value_parsers.h"

namespace wgate::config {

namespace {

const std::vector<SettingInfo> kSettings = {
    {"WGATE_CONFIG",
     "path of the wg-quick config (default: the WIREGUARD_* variables if set, else "
     "/config/wg0.conf, else the first /config/wg_confs/*.conf)"},
    {"WGATE_INTERFACE",
     "name of the tunnel interface (default: the config file's name, as wg-quick; wg0 for a "
     "config from the environment)"},
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

const std::vector<SettingAlias> kAliases = {
    {"FIREWALL_OUTBOUND_SUBNETS", "WGATE_LAN_SUBNETS"},
    {"FIREWALL_INPUT_PORTS", "WGATE_INPUT_PORTS"},
    {"FIREWALL_VPN_INPUT_PORTS", "WGATE_VPN_INPUT_PORTS"},
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

  void Interface(const char* name, std::optional<std::string>* out) {
    const std::string* raw = Raw(name);
    if (!raw) return;
    if (IsValidInterfaceName(*raw)) {
      *out = *raw;
    } else {
      Fail(name, *raw, kNotAnInterfaceName);
    }
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

  // `name` or its gluetun alias (see settings.h for the rules), through `read`.
  template <typename T>
  void Aliased(const char* name, void (SettingsReader::*read)(const char*, std::vector<T>*),
               std::vector<T>* out) {
    const char* alias = nullptr;
    for (const SettingAlias& a : kAliases) {
      if (std::strcmp(a.name, name) == 0) alias = a.alias;
    }
    WGATE_CHECK(alias != nullptr);
    const std::string* raw_alias = Raw(alias);
    if (!raw_alias) {
      (this->*read)(name, out);
      return;
    }
    std::string alias_value = *raw_alias;
    std::vector<T> from_alias;
    size_t errors = diags_->error_count();
    (this->*read)(alias, &from_alias);
    const std::string* raw_name = Raw(name);
    if (!raw_name) {
      diags_->Warning("environment", 0,
                      StrCat(alias, " is gluetun's name; wgate reads it as ", name));
      *out = std::move(from_alias);
      return;
    }
    std::string name_value = *raw_name;
    (this->*read)(name, out);
    if (diags_->error_count() != errors) return;  // the bad value is the news
    if (*out != from_alias) {
      Fail(alias, alias_value,
           StrCat("differs from ", name, " \"", name_value,
                  "\", wgate's name for it; set only one"));
      return;
    }
    diags_->Warning("environment", 0,
                    StrCat(alias, " is gluetun's name for ", name,
                           "; both are set to the same value, ", name, " is read"));
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
    bool ours = false;
    for (std::string_view prefix : {"WGATE_", "WIREGUARD_", "VPN_ENDPOINT_", "FIREWALL_"}) {
      ours |= kv.substr(0, prefix.size()) == prefix;
    }
    if (!ours) continue;
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

const std::vector<SettingAlias>& KnownAliases() { return kAliases; }

SettingsResult ReadSettings(const Environment& env) {
  SettingsResult result;
  GatewaySettings& s = result.settings;
  SettingsReader r(env, &result.diagnostics);
  r.String("WGATE_CONFIG", &s.config_path);
  r.Interface("WGATE_INTERFACE", &s.interface);
  r.Level("WGATE_LOG_LEVEL", &s.log_level);
  r.Aliased("WGATE_LAN_SUBNETS", &SettingsReader::Prefixes, &s.lan_subnets);
  r.Aliased("WGATE_INPUT_PORTS", &SettingsReader::Ports, &s.input_ports);
  r.Aliased("WGATE_VPN_INPUT_PORTS", &SettingsReader::Ports, &s.vpn_input_ports);
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
