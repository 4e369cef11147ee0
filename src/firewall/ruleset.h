// The kill-switch ruleset as data: a plain description of the wanted state in, one nftables script
// out. Pure: no syscalls, no I/O; the applier (firewall.h) hands the script to the kernel.
//
// The ruleset lives in one table of wgate's own, `table inet wgate` (both IP families), and the
// script replaces any previous version of it in ONE kernel transaction:
//
//   add table inet wgate        <- makes the next line valid whether or not the table exists
//   delete table inet wgate     <- drops the old version (rules, chains) ...
//   table inet wgate { ... }    <- ... and installs the new one, in the same batch
//
// nf_tables commits a batch all-or-nothing, so there is never a moment with no rules, and a script
// the kernel refuses leaves the previous ruleset in force.
//
// Two states (shared/DESIGN.md, principles 1 and 3):
//  - kLockdown: everything dropped except loopback; on loopback Docker's embedded resolver
//    127.0.0.11 is refused unless allow_docker_dns, on every TCP/UDP port (Docker DNATs port 53
//    to a random port before the filter hook sees the packet). Optionally a DNS hole for wgate's
//    own marked sockets (to resolve a hostname endpoint before connecting).
//  - kConnected: lockdown plus the exact holes: out via the tunnel; the engine's marked UDP between
//    its own port and the endpoint, on the uplink only (consumers cannot reach that port over
//    lo); the listed LAN subnets; published input ports with their replies (conntrack replies of
//    connections that came in from the uplink, re-routed out of it; a UDP reply only while the
//    far side keeps sending).
// Both states end in a filter chain at postrouting priority 300, after every NAT chain (srcnat is
// 100): what a foreign nat chain redirected after wgate's output chain accepted it meets the same
// holes again, with its final addresses.
// Outbound refusals are rejects (a local program fails fast: TCP reset, ICMP admin-prohibited);
// inbound and forwarded packets are dropped silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/ip.h"

namespace wgate::firewall {

// The table wgate owns, as nft commands spell it; nothing else in the namespace is touched.
inline constexpr std::string_view kTable = "inet wgate";
// The device-level filter's table (RulesetSpec::egress).
inline constexpr std::string_view kNetdevTable = "netdev wgate";

// Docker's embedded resolver. It answers from the host's namespace, so a query to it leaves the
// host in the clear, outside the tunnel: a DNS leak.
inline constexpr std::string_view kDockerDnsAddress = "127.0.0.11";

// The base chains every version of the table has, each with the header nft lists for it. Their
// policy is drop: a flushed table still blocks everything, loopback included.
struct BaseChain {
  std::string_view name;
  std::string_view header;
};
inline constexpr BaseChain kBaseChains[] = {
    {"input", "type filter hook input priority filter; policy drop;"},
    {"forward", "type filter hook forward priority filter; policy drop;"},
    {"output", "type filter hook output priority filter; policy drop;"},
    {"postrouting", "type filter hook postrouting priority 300; policy drop;"},
};

// The connected state's route chain: it gives the replies of published connections wgate's
// fwmark, so that the kernel routes them again through the main table (the policy rule
// `not fwmark M lookup M` would send them into the tunnel). Policy accept: it only marks; the
// filter chains decide. Absent when no port is published.
inline constexpr BaseChain kRerouteChain = {
    "reroute", "type route hook output priority mangle; policy accept;"};

// The dynamic sets of live UDP flows to published ports, keyed far address . far port . local
// port. Only the input chain adds to them (every datagram from the far side renews its element);
// the output chain lets a UDP reply out only while its element lives. Their elements change with
// traffic: listings are taken without them (NFT_CTX_OUTPUT_TERSE).
inline constexpr std::string_view kPublishedUdpSets[] = {"published_udp4", "published_udp6"};
// How long one datagram from the far side keeps its return path open.
inline constexpr int kPublishedUdpTimeoutSeconds = 30;

enum class Mode { kLockdown, kConnected };

// The cgroup v2 that wgate's own sockets belong to, as nft's `socket cgroupv2 level L "path"`
// spells it: `path` relative to the cgroup mount (/sys/fs/cgroup), `level` its depth in the
// hierarchy as this kernel counts it (found by probing: kernel_probe.h).
struct OwnCgroup {
  std::string path;
  int level = 0;
};

// The device-level filter on the uplink: a netdev egress chain (table netdev wgate) that lets a
// frame leave only when wgate's postrouting check stamped it with `stamp`, or when it is ARP.
// Raw frames of packet sockets (a consumer with CAP_NET_RAW) pass no IP hook, so they carry no
// stamp; the stamp must be unguessable (random per process: such a consumer can set any mark).
struct EgressFilter {
  std::string device;
  uint32_t stamp = 0;
};
std::string_view ModeName(Mode mode);  // "lockdown", "connected"

struct RulesetSpec {
  Mode mode = Mode::kLockdown;

  // Packet mark (SO_MARK) of wgate's own sockets: the engine's UDP socket and the resolver hole.
  // Comes from the config's FwMark or a wgate default; never a constant of this layer. Must be
  // non-zero in kConnected and whenever dns_hole_resolvers is not empty; unused otherwise.
  uint32_t fwmark = 0;

  // Lets every local program reach 127.0.0.11 (Docker's resolver). Off by default: it leaks.
  bool allow_docker_dns = false;

  // Resolvers that wgate's marked sockets may query on port 53 (UDP and TCP), in either state,
  // to resolve a hostname endpoint. Unmarked packets to them stay blocked. May include 127.0.0.11.
  std::vector<IpAddress> dns_hole_resolvers;

  // Both modes, optional (kernel_probe.h says whether the kernel has them). engine_cgroup: the
  // engine's and the resolver's holes also require the packet's socket to be in wgate's own
  // cgroup, so that a consumer with CAP_NET_RAW (which may set any SO_MARK) cannot use them.
  // egress: the device-level filter above.
  std::optional<OwnCgroup> engine_cgroup;
  std::optional<EgressFilter> egress;

  // ---- kConnected only. Ignored (and not validated) in kLockdown, so that a bad value here can
  // never stand in the way of locking the namespace down.

  // The interface that holds the default route when wgate starts (eth0 in a container), and the
  // WireGuard interface. Names are checked against IFNAMSIZ and a conservative character set so
  // that nothing can inject nft syntax.
  std::string uplink;
  std::string tunnel;
  // The local UDP port the engine's socket is bound to (every address, both families). Only
  // datagrams from the endpoint reach it, only through the uplink; its own packets leave from it.
  uint16_t engine_port = 0;
  // Where the engine's encrypted UDP goes: only marked packets, only to this address and port,
  // only out of the uplink. Either family (independent of ipv6_tunnelled: the engine's UDP is not
  // a consumer's IPv6 traffic).
  SocketAddress endpoint;
  // Reachable directly out of the uplink (any protocol, any port, DNS included). Host bits are
  // ignored; /0 is refused (it would open the whole uplink).
  std::vector<IpPrefix> lan_subnets;
  // Ports the consumers publish: new connections accepted from the uplink, and their replies
  // (conntrack reply direction only) let back out of it. input_ports are opened for TCP and UDP,
  // the _tcp/_udp lists for that protocol only ("8080/tcp").
  std::vector<uint16_t> input_ports;
  std::vector<uint16_t> input_tcp_ports;
  std::vector<uint16_t> input_udp_ports;
  // Ports open to new connections arriving through the tunnel (provider port forwarding), by
  // protocol as above. Without them only established/related traffic comes in through the tunnel.
  std::vector<uint16_t> vpn_input_ports;
  std::vector<uint16_t> vpn_input_tcp_ports;
  std::vector<uint16_t> vpn_input_udp_ports;
  // When false, no IPv6 goes anywhere except loopback and the explicit address holes named above
  // (a v6 endpoint, v6 LAN subnets, v6 resolvers): not into the tunnel, not to published ports.
  bool ipv6_tunnelled = false;
};

// One chain of the table as nft lists it.
struct Chain {
  std::string name;
  // "type filter hook output priority filter; policy drop;" for a base chain, "" for a regular
  // chain (only reached by jump/goto).
  std::string header;
  // One nft rule per element, without trailing newline.
  std::vector<std::string> rules;
};

// One named set of the table, its definition lines as nft lists them ("type ...", "size ...").
struct Set {
  std::string name;
  std::vector<std::string> lines;
};

// A built ruleset: the script to run and the shape the kernel must show after running it.
struct Ruleset {
  Mode mode = Mode::kLockdown;
  std::vector<Set> sets;  // listed before the chains, as nft lists them
  std::vector<Chain> chains;
  // The chains of table netdev wgate (the egress filter), empty without one.
  std::vector<Chain> netdev_chains;
  // The whole nft script: replace-table preamble plus the table block. Ends with a newline.
  std::string script;
};

// Checks every field the mode uses. The error names the field and quotes the bad value, e.g.
// `firewall: input port 0 is out of range 1-65535`.
Status ValidateSpec(const RulesetSpec& spec);

// Validates, then builds. Deterministic: the same spec gives the same text (ports and subnets
// are sorted and deduplicated).
Result<Ruleset> BuildRuleset(const RulesetSpec& spec);

// Checks one interface name: 1-15 characters (IFNAMSIZ - 1) from [A-Za-z0-9_=+.-] (the set
// wg-quick accepts), not "." or "..". `what` names the field in the error ("uplink").
Status ValidateInterfaceName(std::string_view what, std::string_view name);

// Checks a cgroup path before it goes into nft syntax: [A-Za-z0-9_.:@/-] only, no "..".
Status ValidateCgroupPath(std::string_view path);

// nft's spelling of a mark as it lists it: 0x0000ca6c.
std::string FormatMark(uint32_t mark);

}  // namespace wgate::firewall
