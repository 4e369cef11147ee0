// The blackhole fallback's record: what it changed to shut the namespace, so that an unblock puts
// it back, also one run by `wgate unblock` after the daemon that shut it died.
//
// The fallback takes every link but loopback down. The kernel then drops every route through a
// link, and its IPv6 addresses; bringing the link up again re-creates only the IPv4 on-link
// routes of the addresses it kept (and the IPv6 link-local address and route). So the record
// keeps, per link, its addresses and every route through it (every table but local), and whether
// the fallback switched IPv6 off (it is switched back on only then).
//
// The record lives in gateway-private state, /run/wgate/fallback-net<netns inode>.json (0600,
// written atomically): a container's /run is its own, unlike the /etc files consumers share.
// It is parsed strictly: an unknown key, a missing one, a bad address or a value of the wrong
// type refuses the whole file, so a damaged record never brings anything up.
//
// Pure except the Load/Save/Remove functions. Thread-safety: none needed (values and files).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/ip.h"
#include "netlink/types.h"

namespace wgate::daemon {

// A link the fallback took down, as it was while up.
struct ShutLink {
  std::string name;
  std::vector<IpPrefix> addresses;     // with their host bits, "192.0.2.2/24"
  std::vector<netlink::Route> routes;  // through this link (dev == name), local table excluded
  bool operator==(const ShutLink& o) const;
};

struct FallbackRecord {
  std::vector<ShutLink> links;
  bool ipv6_disabled_by_wgate = false;  // disable_ipv6 was 0 and the fallback set it to 1
  bool operator==(const FallbackRecord& o) const = default;

  ShutLink* Find(std::string_view name);
};

// The record's path for the calling thread's network namespace.
std::string FallbackRecordPath();

std::string FallbackRecordToText(const FallbackRecord& record);
// `source` names the text in errors: "/run/wgate/fallback-net4026532281.json: links[0].routes[1]:
// gateway \"192.0.2.x\" is not an IP address".
Result<FallbackRecord> ParseFallbackRecord(std::string_view text, std::string_view source);

// nullopt when there is no record; an error when it cannot be read or parsed.
Result<std::optional<FallbackRecord>> LoadFallbackRecord(const std::string& path);
// Replaces the record atomically (a temporary file renamed over it), mode 0600.
Status SaveFallbackRecord(const std::string& path, const FallbackRecord& record);
// Succeeds when there is none.
Status RemoveFallbackRecord(const std::string& path);

}  // namespace wgate::daemon
