// RouteNetlink: what the daemon and the engine ask of the kernel's routing layer (links,
// addresses, routes, policy rules, link notifications), behind an interface that unit tests fake
// (fake_route_netlink.h). The real one is KernelRouteNetlink (kernel_route_netlink.h).
//
// Interfaces are named by name, as `ip` does. Every error names the operation and the object and
// quotes the kernel: "RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820: File exists",
// "RTM_NEWADDR 10.64.0.2/32 dev wg0: No such device"; sys_errno() holds the errno.
//
// An implementation acts on one network namespace, fixed when it was created. Not thread-safe:
// callers serialise (the daemon's control thread owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/ip.h"
#include "netlink/types.h"

namespace wgate::netlink {

// RTNLGRP_LINK notifications on a descriptor an event loop can poll.
//
// Subscribe first, then read the state you watch (LinkExists), so that a change between the two
// is not missed. Not thread-safe.
class LinkMonitor {
 public:
  virtual ~LinkMonitor() = default;
  // Readable (POLLIN) while events wait. Owned by the monitor.
  virtual int fd() const = 0;
  // Every waiting event, in order, without blocking; empty when none. When the kernel dropped
  // notifications the list holds a kOverrun event: re-read the state.
  virtual Result<std::vector<LinkEvent>> ReadEvents() = 0;
};

class RouteNetlink {
 public:
  virtual ~RouteNetlink() = default;

  // --- Links. A missing link is an error with errno ENODEV. ---
  virtual Result<Link> GetLink(std::string_view name) = 0;
  virtual Result<Link> GetLinkByIndex(int ifindex) = 0;
  virtual Result<std::vector<Link>> ListLinks() = 0;
  virtual Status SetLinkUp(std::string_view name, bool up) = 0;
  virtual Status SetMtu(std::string_view name, uint32_t mtu) = 0;
  virtual Status DeleteLink(std::string_view name) = 0;

  // --- Addresses (v4 and v6 with prefix; v6 without duplicate address detection). ---
  virtual Status AddAddress(std::string_view dev, const IpPrefix& address) = 0;
  virtual Status DeleteAddress(std::string_view dev, const IpPrefix& address) = 0;
  // Both families; every link when dev is empty.
  virtual Result<std::vector<Address>> ListAddresses(std::string_view dev) = 0;

  // --- Routes. route.dev names the device (empty for blackhole/unreachable/prohibit). ---
  // Fails with EEXIST when a route with the same destination and metric is in the table.
  virtual Status AddRoute(const Route& route) = 0;
  // Adds, or replaces the route with the same destination and metric.
  virtual Status ReplaceRoute(const Route& route) = 0;
  // Adds ahead of a route with the same destination and metric, which it then shadows and keeps
  // (`ip route prepend`). EEXIST only when an identical route is there.
  virtual Status PrependRoute(const Route& route) = 0;
  // Deletes the first route of the table matching dst and type, and dev, gateway and metric where
  // set. ESRCH when none does; ENODEV when dev does not exist (its routes went with it).
  virtual Status DeleteRoute(const Route& route) = 0;
  // The routes of one table (kTableMain, or a number; 0 for every table), one family. Cached
  // clones are left out.
  virtual Result<std::vector<Route>> ListRoutes(IpAddress::Family family, uint32_t table) = 0;
  // How the kernel would route a packet to `dst` carrying firewall mark `mark` (`ip route get
  // DST mark M`): with the engine's mark this is the path its encrypted UDP takes.
  virtual Result<RouteLookup> LookupRoute(const IpAddress& dst, std::optional<uint32_t> mark) = 0;

  // --- Policy rules. ---
  // EEXIST when an identical rule exists.
  virtual Status AddRule(const Rule& rule) = 0;
  // Deletes the first rule matching every field that is set. ENOENT when none does.
  virtual Status DeleteRule(const Rule& rule) = 0;
  virtual Result<std::vector<Rule>> ListRules(IpAddress::Family family) = 0;

  // --- Notifications. ---
  virtual Result<std::unique_ptr<LinkMonitor>> WatchLinks() = 0;

  // --- Conveniences over the above, shared by every implementation. ---
  // false when the link does not exist (ENODEV); other failures are errors.
  Result<bool> LinkExists(std::string_view name);
  Result<int> LinkIndex(std::string_view name);
  Result<std::string> LinkName(int ifindex);
  Result<uint32_t> GetMtu(std::string_view name);

  // The unicast default routes of the main table, lowest metric first.
  Result<std::vector<Route>> DefaultRoutes(IpAddress::Family family);
  // The link of the best v4 default route (else the best v6 one), its gateways and MTU. An error
  // with ENETUNREACH when the namespace has no default route.
  Result<Uplink> FindUplink();

  // Every table a route of either family or a rule refers to, main included, local excluded:
  // where a fail-closed fallback must blackhole the defaults.
  Result<std::vector<uint32_t>> TablesInUse();
  // Fallback when no firewall can be installed: blackhole 0.0.0.0/0 (metric 0) and ::/0
  // (metric 1: the kernel reads a v6 metric 0 as 1024) in `table`, ahead of every default route,
  // which stay (shadowed) for when the blackholes are deleted. Idempotent. More specific routes
  // (the LAN's) keep working.
  Status InstallBlackholeDefaults(uint32_t table);
  // Deletes exactly what InstallBlackholeDefaults added; missing ones are fine.
  Status RemoveBlackholeDefaults(uint32_t table);
};

}  // namespace wgate::netlink
