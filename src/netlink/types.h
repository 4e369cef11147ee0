// Plain values for what rtnetlink manipulates: links, addresses, routes and policy rules, and the
// one-line text that names each of them in errors and logs ("0.0.0.0/0 dev wg0 table 51820").
//
// Pure: no syscalls. Interfaces are named by `dev` (what callers and error messages speak) and by
// `ifindex` (what the kernel speaks); the RouteNetlink implementations translate between the two.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/ip.h"

namespace wgate::netlink {

// Routing table ids as in /etc/iproute2/rt_tables.
inline constexpr uint32_t kTableMain = 254;     // RT_TABLE_MAIN
inline constexpr uint32_t kTableLocal = 255;    // RT_TABLE_LOCAL
inline constexpr uint32_t kTableDefault = 253;  // RT_TABLE_DEFAULT

struct Link {
  int index = 0;
  std::string name;
  uint32_t flags = 0;     // IFF_UP, IFF_RUNNING, IFF_LOWER_UP, ... (net/if.h)
  uint8_t operstate = 0;  // IF_OPER_UP, IF_OPER_DOWN, IF_OPER_UNKNOWN, ... (linux/if.h)
  uint32_t mtu = 0;
  std::string kind;  // IFLA_INFO_KIND: "veth", "tun", "wireguard"; "" when the kernel omits it

  bool up() const;                    // administratively up (IFF_UP)
  bool lower_up() const;              // carrier (IFF_LOWER_UP)
  std::string OperStateName() const;  // "UP", "DOWN", "UNKNOWN", ... as `ip link` prints it
};

// An interface address: `prefix.addr` keeps the host bits ("10.64.0.2/32", "fd00::2/64").
struct Address {
  IpPrefix prefix;
  std::string dev;
  int ifindex = 0;
  uint8_t scope = 0;   // RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST
  uint32_t flags = 0;  // IFA_F_*

  // "10.64.0.2/32 dev wg0"
  std::string ToString() const;
};

enum class RouteType : uint8_t {
  kUnicast,
  kBlackhole,    // silently discarded
  kUnreachable,  // discarded with ICMP host unreachable / EHOSTUNREACH for local senders
  kProhibit,     // discarded with ICMP administratively prohibited / EACCES
  kLocal,        // only seen in dumps of the local table
  kOther,        // broadcast, multicast, throw, ...: listed, never created by wgate
};

struct Route {
  IpPrefix dst;  // its family is the route's family; 0.0.0.0/0 and ::/0 are default routes
  RouteType type = RouteType::kUnicast;
  uint32_t table = kTableMain;
  std::string dev;  // empty for blackhole/unreachable/prohibit
  int ifindex = 0;
  std::optional<IpAddress> gateway;
  std::optional<IpAddress> prefsrc;
  std::optional<uint32_t> metric;  // RTA_PRIORITY; the kernel reports v6 routes' 1024 default
  std::optional<uint32_t> mtu;     // RTAX_MTU, the route's own MTU lock ("mtu 1380")
  uint8_t protocol = 0;            // RTPROT_*; 0 lets the builder use RTPROT_BOOT like `ip`
  uint8_t scope = 0;               // RT_SCOPE_*: parsed only; the builder derives it

  bool is_default() const { return dst.len == 0; }
  // "0.0.0.0/0 via 192.0.2.1 dev eth0 metric 100", "blackhole ::/0 table 51820": the object part
  // of an error message, like `ip route` prints it. The main table is not named.
  std::string ToString() const;
};

// An `ip rule`. Matches are optional; the action is always "lookup table".
struct Rule {
  IpAddress::Family family = IpAddress::Family::kV4;
  std::optional<uint32_t> priority;  // unset: the kernel picks one below the previous rule
  uint32_t table = kTableMain;
  bool invert = false;  // "not": the rule applies when its matches do NOT hold
  std::optional<uint32_t> fwmark;
  std::optional<uint32_t> fwmask;  // unset: the kernel's 0xffffffff
  std::optional<IpPrefix> src;
  std::optional<IpPrefix> dst;
  // "suppress_prefixlength N": ignore a lookup result whose prefix is N bits or shorter.
  std::optional<uint32_t> suppress_prefixlength;

  // "not from all fwmark 0xca6c lookup 51820", "-6 from fd00::10 lookup 100 pref 100": as
  // `ip [-6] rule` prints it.
  std::string ToString() const;
  bool operator==(const Rule& o) const = default;
};

// What the kernel answers to "how would a packet to `dst` leave?" (`ip route get`).
struct RouteLookup {
  IpAddress dst;
  std::string dev;
  int ifindex = 0;
  std::optional<IpAddress> gateway;
  std::optional<IpAddress> prefsrc;
  uint32_t table = kTableMain;

  std::string ToString() const;  // "203.0.113.5 via 192.0.2.1 dev eth0 src 192.0.2.2"
};

// The interface that holds a namespace's default route: where wgate sends its encrypted UDP.
struct Uplink {
  std::string dev;
  int ifindex = 0;
  std::optional<IpAddress> gateway4;  // the v4 default route's gateway, if it has one
  std::optional<IpAddress> gateway6;  // the v6 default route's gateway on the same link, if any
  uint32_t mtu = 0;                   // the default route's own MTU if set, else the link's

  std::string ToString() const;  // "eth0 via 192.0.2.1 mtu 1500"
};

// One RTNLGRP_LINK notification.
struct LinkEvent {
  enum class Kind : uint8_t {
    kNew,      // RTM_NEWLINK: created or changed (up/down, MTU, rename)
    kDeleted,  // RTM_DELLINK
    kOverrun,  // the kernel dropped notifications (ENOBUFS): re-read the state you care about
  };
  Kind kind = Kind::kNew;
  Link link;  // empty for kOverrun
};

}  // namespace wgate::netlink
