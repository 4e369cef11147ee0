// rtnetlink messages: builders that lay out one request (nlmsghdr + family header + attributes,
// with libmnl) in a caller buffer, and parsers for the kernel's replies and notifications.
//
// Pure: no syscalls, so every layout is unit-tested without root. Builders take interfaces by
// index (the kernel's currency); resolving names is the caller's job. Parsers never trust
// lengths: a truncated or malformed message is an Error, never a read past the end.
//
// Builders leave nlmsg_seq at 0: the socket stamps its sequence number when it sends.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "netlink/types.h"

namespace wgate::netlink {

// Every request built here fits. (Replies are read into RtnlSocket's larger buffer.)
inline constexpr size_t kRequestBufferSize = 1024;

// A correctly aligned buffer for one request.
struct alignas(NLMSG_ALIGNTO) RequestBuffer {
  uint8_t bytes[kRequestBufferSize];
  std::span<uint8_t> span() { return bytes; }
};

// "RTM_NEWROUTE", "RTM_GETLINK", ...; "message type N" for others.
std::string MessageTypeName(uint16_t type);

// --- What a request is about: the operation part of error messages ("RTM_NEWROUTE 0.0.0.0/0 dev
// wg0 table 51820"), shared by every RouteNetlink so that real and fake errors read alike. ---

// "RTM_GETLINK wg0", "RTM_DELLINK wg0", "RTM_NEWLINK wg0 mtu 1420" (change: "up", "mtu 1420").
std::string LinkOpText(uint16_t type, std::string_view name, std::string_view change = "");
// "RTM_NEWADDR 10.64.0.2/32 dev wg0"
std::string AddressOpText(uint16_t type, std::string_view dev, const IpPrefix& address);
// "RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820" (adds and replaces), "RTM_DELROUTE ..."
enum class RouteWrite : uint8_t;
std::string RouteOpText(RouteWrite op, const Route& route);
// "RTM_NEWRULE not from all fwmark 0xca6c lookup 51820"
std::string RuleOpText(uint16_t type, const Rule& rule);
// "RTM_GETROUTE 203.0.113.5 mark 0xca6c"
std::string LookupOpText(const IpAddress& dst, std::optional<uint32_t> mark);
// "RTM_GETROUTE dump" and the like.
std::string DumpOpText(uint16_t type);
// Subscribing to link notifications.
inline constexpr std::string_view kWatchLinksOpText = "RTNLGRP_LINK subscribe";

// --- Builders. Each returns the header at buf.data(); nlmsg_len covers the whole message. ---
// Requests that change state carry NLM_F_ACK so that success is confirmed, not assumed.

// RTM_GETLINK for one link, by name (index 0) or by index (name empty).
nlmsghdr* BuildGetLink(std::span<uint8_t> buf, int ifindex, std::string_view name);
// RTM_GETLINK dump of every link.
nlmsghdr* BuildDumpLinks(std::span<uint8_t> buf);
// RTM_NEWLINK on an existing link: changes only what is set.
nlmsghdr* BuildSetLink(std::span<uint8_t> buf, int ifindex, std::optional<bool> up,
                       std::optional<uint32_t> mtu);
nlmsghdr* BuildDeleteLink(std::span<uint8_t> buf, int ifindex);

// RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELADDR. IPv6 addresses are added with
// IFA_F_NODAD: wgate's addresses are its own tunnel's, and waiting for DAD would only delay.
nlmsghdr* BuildAddress(std::span<uint8_t> buf, uint16_t type, int ifindex, const IpPrefix& prefix);
// RTM_GETADDR dump of one family.
nlmsghdr* BuildDumpAddresses(std::span<uint8_t> buf, IpAddress::Family family);

enum class RouteWrite : uint8_t {
  kAdd,      // RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL: EEXIST if the route exists
  kReplace,  // RTM_NEWROUTE, NLM_F_CREATE|NLM_F_REPLACE
  kPrepend,  // RTM_NEWROUTE, NLM_F_CREATE alone: ahead of a route with the same dst and metric
  kDelete,   // RTM_DELROUTE: unset fields (dev, gateway, metric) match any route
};
// Uses route.ifindex, not route.dev. Scope follows `ip route`: link for a unicast route with no
// gateway, universe otherwise. Tables above 255 go in RTA_TABLE only, as the kernel requires.
nlmsghdr* BuildRoute(std::span<uint8_t> buf, RouteWrite op, const Route& route);
// RTM_GETROUTE dump of one family (all tables; the caller filters).
nlmsghdr* BuildDumpRoutes(std::span<uint8_t> buf, IpAddress::Family family);
// RTM_GETROUTE for one destination, as a packet with firewall mark `mark` would be routed.
nlmsghdr* BuildLookupRoute(std::span<uint8_t> buf, const IpAddress& dst,
                           std::optional<uint32_t> mark);

// RTM_NEWRULE (NLM_F_CREATE|NLM_F_EXCL) or RTM_DELRULE.
nlmsghdr* BuildRule(std::span<uint8_t> buf, uint16_t type, const Rule& rule);
nlmsghdr* BuildDumpRules(std::span<uint8_t> buf, IpAddress::Family family);

// --- Parsers of RTM_NEWLINK/DELLINK, NEWADDR, NEWROUTE, NEWRULE messages. ---
// Interface names in the results are left empty (only ifindex is in the message), except Link.

Result<Link> ParseLink(const nlmsghdr* nlh);
Result<Address> ParseAddress(const nlmsghdr* nlh);
Result<Route> ParseRoute(const nlmsghdr* nlh);
Result<Rule> ParseRule(const nlmsghdr* nlh);
// A RTM_GETROUTE answer (a RTM_NEWROUTE message).
Result<RouteLookup> ParseRouteLookup(const nlmsghdr* nlh);
// A RTNLGRP_LINK notification: NEWLINK or DELLINK.
Result<LinkEvent> ParseLinkEvent(const nlmsghdr* nlh);

// --- Replies. ---

// Where one datagram of replies leaves the exchange.
enum class ReplyState : uint8_t {
  kMore,  // keep reading: a dump continues, or the ack has not arrived
  kDone,  // the ack (NLMSG_ERROR with error 0) or NLMSG_DONE arrived
};

// Walks one received datagram of replies to request `seq` from the kernel to `portid`. Data
// messages go to on_message (an error from it stops the walk and is returned). Messages of other
// sequence numbers are stale answers to an abandoned request and are skipped. A kernel error
// becomes Error(strerror, errno), with the extended ack text appended when the kernel sent one:
// "Invalid argument (Nexthop device is not up)"; the caller wraps it with the operation.
// A dump the kernel reports inconsistent (NLM_F_DUMP_INTR) is Error(..., EINTR): retry it.
Result<ReplyState> WalkReplies(std::span<const uint8_t> datagram, uint32_t seq, uint32_t portid,
                               const std::function<Status(const nlmsghdr*)>& on_message);

}  // namespace wgate::netlink
