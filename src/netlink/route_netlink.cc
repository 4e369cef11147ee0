#include "netlink/route_netlink.h"

#include <algorithm>
#include <cerrno>
#include <set>

#include "base/strings.h"

namespace wgate::netlink {

Result<bool> RouteNetlink::LinkExists(std::string_view name) {
  Result<Link> link = GetLink(name);
  if (link) return true;
  if (link.error().sys_errno() == ENODEV) return false;
  return link.error();
}

Result<int> RouteNetlink::LinkIndex(std::string_view name) {
  Result<Link> link = GetLink(name);
  if (!link) return link.error();
  return link->index;
}

Result<std::string> RouteNetlink::LinkName(int ifindex) {
  Result<Link> link = GetLinkByIndex(ifindex);
  if (!link) return link.error();
  return link->name;
}

Result<uint32_t> RouteNetlink::GetMtu(std::string_view name) {
  Result<Link> link = GetLink(name);
  if (!link) return link.error();
  return link->mtu;
}

Result<std::vector<Route>> RouteNetlink::DefaultRoutes(IpAddress::Family family) {
  Result<std::vector<Route>> routes = ListRoutes(family, kTableMain);
  if (!routes) return routes.error();
  std::vector<Route> out;
  for (Route& r : *routes) {
    if (r.is_default() && r.type == RouteType::kUnicast && r.ifindex != 0) {
      out.push_back(std::move(r));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Route& a, const Route& b) {
    return a.metric.value_or(0) < b.metric.value_or(0);
  });
  return out;
}

Result<Uplink> RouteNetlink::FindUplink() {
  Result<std::vector<Route>> v4 = DefaultRoutes(IpAddress::Family::kV4);
  if (!v4) return v4.error();
  Result<std::vector<Route>> v6 = DefaultRoutes(IpAddress::Family::kV6);
  if (!v6) return v6.error();
  const Route* best = !v4->empty() ? &v4->front() : !v6->empty() ? &v6->front() : nullptr;
  if (best == nullptr) return Error::FromErrno("no default route", ENETUNREACH);
  Uplink up;
  up.dev = best->dev;
  up.ifindex = best->ifindex;
  for (const std::vector<Route>* routes : {&*v4, &*v6}) {
    for (const Route& r : *routes) {
      if (r.ifindex != best->ifindex || !r.gateway) continue;
      std::optional<IpAddress>& gw = r.gateway->is_v4() ? up.gateway4 : up.gateway6;
      if (!gw) gw = r.gateway;
    }
  }
  if (best->mtu) {
    up.mtu = *best->mtu;
  } else {
    Result<Link> link = GetLinkByIndex(best->ifindex);
    if (!link) return link.error();
    up.dev = link->name;
    up.mtu = link->mtu;
  }
  return up;
}

Result<std::vector<uint32_t>> RouteNetlink::TablesInUse() {
  std::set<uint32_t> tables = {kTableMain};
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    Result<std::vector<Route>> routes = ListRoutes(family, 0);
    if (!routes) return routes.error();
    for (const Route& r : *routes) tables.insert(r.table);
    Result<std::vector<Rule>> rules = ListRules(family);
    if (!rules) return rules.error();
    for (const Rule& r : *rules) tables.insert(r.table);
  }
  tables.erase(kTableLocal);
  tables.erase(0);
  return std::vector<uint32_t>(tables.begin(), tables.end());
}

namespace {

// The fallback's blackhole default route of one family in `table`.
Route BlackholeDefault(const char* any, uint32_t table) {
  Route r;
  r.dst = *IpPrefix::Parse(any);
  r.type = RouteType::kBlackhole;
  r.table = table;
  r.metric = r.dst.addr.is_v4() ? 0 : 1;
  return r;
}

}  // namespace

Status RouteNetlink::InstallBlackholeDefaults(uint32_t table) {
  for (const char* any : {"0.0.0.0/0", "::/0"}) {
    Status s = PrependRoute(BlackholeDefault(any, table));
    if (!s && s.error().sys_errno() != EEXIST) return s;  // EEXIST: this very blackhole is there
  }
  return Ok();
}

Status RouteNetlink::RemoveBlackholeDefaults(uint32_t table) {
  for (const char* any : {"0.0.0.0/0", "::/0"}) {
    Status s = DeleteRoute(BlackholeDefault(any, table));
    if (!s && s.error().sys_errno() != ESRCH) return s;
  }
  return Ok();
}

}  // namespace wgate::netlink
