// The blackhole fallback's other half: shutting the links. Without a firewall, blackhole routes
// stop only what the kernel routes by destination; a socket that names its device
// (IP_UNICAST_IF, SO_BINDTODEVICE), broadcast and link-local multicast, and the kernel's own IPv6
// router solicitations and MLD reports still reach the wire. A link that is down sends nothing,
// so the fallback takes every link but loopback down, and switches IPv6 off where /proc/sys is
// writable. What it changes is recorded first (fallback_record.h), so that an unblock, by this
// daemon, another one, or `wgate unblock` after both died, puts it back.
//
// Thread-safety: none; the daemons' main threads call these.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "daemon/fallback_record.h"
#include "netlink/route_netlink.h"

namespace wgate::daemon {

// Writes net.ipv6.conf.{all,default}.disable_ipv6 of the calling thread's namespace. Best
// effort (a container may mount /proc/sys read-only): logs and returns false on failure.
bool SetIpv6Disabled(bool disabled);
// net.ipv6.conf.all.disable_ipv6; nullopt when it cannot be read (no IPv6 in the kernel).
std::optional<bool> ReadIpv6Disabled();

// What the fallback touches outside rtnetlink; tests replace every part (never the host's
// /proc/sys or /run).
struct FallbackSystem {
  bool (*set_ipv6_disabled)(bool disabled) = &SetIpv6Disabled;
  std::optional<bool> (*ipv6_disabled)() = &ReadIpv6Disabled;
  std::string record_path = FallbackRecordPath();
};

struct ShutOutcome {
  std::vector<std::string> taken_down;  // the links this call took down
  std::vector<std::string> problems;    // what could not be done, one sentence each
  std::string TakenDownNames() const;   // "eth0, eth1"
};

// Records every link but loopback that is up (its addresses and the routes through it, merged
// into the record already there) and then takes it down. A link already in the record keeps
// what was recorded while it was up the first time. A record that cannot be read is left as it
// is, and the links go down all the same: shut comes before restorable.
ShutOutcome ShutLinks(netlink::RouteNetlink& net, const std::string& record_path);

// A daemon's periodic check in the fallback: ShutLinks, logged, and its outcome as status lines
// ("eth0 was brought up from outside and is down again" first); *reshut says whether a link had
// to be taken down again. Empty when everything stayed shut.
std::vector<std::string> KeepLinksShut(netlink::RouteNetlink& net, const std::string& record_path,
                                       bool* reshut);

// Switches IPv6 off unless it is off already (then it is not the fallback's to switch back on),
// noting in the record that it did, before it does. False when IPv6 stays on.
bool SwitchIpv6Off(const FallbackSystem& sys, std::vector<std::string>* problems);

// Undoes ShutLinks and SwitchIpv6Off: IPv6 back on if the fallback switched it off, the links
// up, their addresses back, and every recorded route the kernel did not re-create itself; then
// the record is removed. No record: nothing to do. A record that cannot be read or parsed
// touches nothing and is an error naming the file. A step that fails keeps the record (a second
// unblock tries again) and is reported.
Status RestoreFallback(netlink::RouteNetlink& net, const FallbackSystem& sys);

}  // namespace wgate::daemon
