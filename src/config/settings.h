// Container settings that wg-quick files do not carry, read from WGATE_* environment variables.
//
// Every variable is read through SettingsReader, which reports a bad value as
// `WGATE_LAN_SUBNETS: "10.0.0.0/33" is not a CIDR: ...` and an unknown WGATE_ variable as a
// warning with the closest known name. Pure: the environment is passed in.
//
// gluetun's firewall variables are aliases (KnownAliases()): FIREWALL_OUTBOUND_SUBNETS is read as
// WGATE_LAN_SUBNETS, FIREWALL_INPUT_PORTS as WGATE_INPUT_PORTS, FIREWALL_VPN_INPUT_PORTS as
// WGATE_VPN_INPUT_PORTS. An alias used gives one warning naming the wgate variable; its bad values
// are reported under the alias's name. With both set, the WGATE_ one is read when they hold the
// same values (a warning), and it is an error when they differ: a gateway must not guess which
// of two hole lists the user meant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "base/log.h"
#include "config/diagnostic.h"

namespace wgate::config {

using Environment = std::map<std::string, std::string>;

// Reads the process environment (envp), keeping only the variables wgate reads: WGATE_*, and
// gluetun's WIREGUARD_*, VPN_ENDPOINT_* and FIREWALL_*.
Environment WgateEnvironment(char** envp);

struct Port {
  enum class Protocol { kTcp, kUdp, kBoth };
  uint16_t number = 0;
  Protocol protocol = Protocol::kBoth;
  std::string ToString() const;  // "8080", "8080/tcp"
  bool operator==(const Port& o) const { return number == o.number && protocol == o.protocol; }
};

struct GatewaySettings {
  std::optional<std::string> config_path;  // WGATE_CONFIG
  std::optional<std::string> interface;    // WGATE_INTERFACE
  LogLevel log_level = LogLevel::kInfo;    // WGATE_LOG_LEVEL
  std::vector<IpPrefix> lan_subnets;       // WGATE_LAN_SUBNETS
  std::vector<Port> input_ports;           // WGATE_INPUT_PORTS
  std::vector<Port> vpn_input_ports;       // WGATE_VPN_INPUT_PORTS
  std::vector<IpAddress> dns;              // WGATE_DNS
  bool allow_docker_dns = false;           // WGATE_ALLOW_DOCKER_DNS
  std::optional<int> engine_workers;       // WGATE_ENGINE_WORKERS (0-64)
  bool tun_offload = true;                 // WGATE_TUN_OFFLOAD
};

struct SettingsResult {
  GatewaySettings settings;  // meaningful only without errors
  Diagnostics diagnostics;
};

SettingsResult ReadSettings(const Environment& env);

// The recognised variables with one-line descriptions, for `--help` and the README.
struct SettingInfo {
  const char* name;
  const char* description;
};
const std::vector<SettingInfo>& KnownSettings();

// gluetun's names for wgate settings.
struct SettingAlias {
  const char* alias;  // FIREWALL_INPUT_PORTS
  const char* name;   // WGATE_INPUT_PORTS
};
const std::vector<SettingAlias>& KnownAliases();

}  // namespace wgate::config
