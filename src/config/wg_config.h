// A WireGuard configuration in the wg-quick format, as typed values.
//
// Holds secrets (PrivateKey, PresharedKey): they zero themselves and are never printed; use
// PrivateKey::DerivePublic() to show the interface's identity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.h"
#include "crypto/keys.h"

namespace wgate::config {

// Where a peer's endpoint points: an IP address, or a hostname still to be resolved.
struct Endpoint {
  std::string host;             // as written, without brackets
  std::optional<IpAddress> ip;  // set when `host` is an IP literal
  uint16_t port = 0;

  std::string ToString() const;  // "192.0.2.1:51820", "[fd00::1]:51820", "vpn.example:51820"
};

// wg-quick's Table setting.
struct RoutingTable {
  enum class Kind { kAuto, kOff, kId };
  Kind kind = Kind::kAuto;
  uint32_t id = 0;  // for kId; "main" is 254, "local" 255, "default" 253

  std::string ToString() const;
};

struct InterfaceConfig {
  crypto::PrivateKey private_key;
  std::optional<uint16_t> listen_port;  // absent: random
  uint32_t fwmark = 0;                  // 0: off
  std::vector<IpPrefix> addresses;
  std::vector<IpAddress> dns_servers;
  std::vector<std::string> dns_search;
  std::optional<int> mtu;  // absent: computed from the uplink
  RoutingTable table;
  std::vector<std::string> pre_up, post_up, pre_down, post_down;
  bool save_config = false;  // accepted, never acted upon
  int line = 0;              // line of the [Interface] header
};

struct PeerConfig {
  crypto::PublicKey public_key;
  std::optional<crypto::PresharedKey> preshared_key;
  std::vector<IpPrefix> allowed_ips;  // network form (host bits cleared), as `wg` stores them
  std::optional<Endpoint> endpoint;
  uint16_t persistent_keepalive = 0;  // seconds; 0: off
  int line = 0;                       // line of the [Peer] header
};

struct WgConfig {
  std::string source;  // the file it came from
  InterfaceConfig interface;
  std::vector<PeerConfig> peers;
};

}  // namespace wgate::config
