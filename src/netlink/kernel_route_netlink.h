// KernelRouteNetlink: RouteNetlink over NETLINK_ROUTE sockets (libmnl).
//
// It acts on the network namespace of the thread that called Create(), for its whole life, from
// whichever thread uses it (sockets keep their namespace). Names are resolved to indexes at every
// call, never cached: the tunnel interface may be deleted and re-created under the same name.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "netlink/message.h"
#include "netlink/route_netlink.h"
#include "netlink/socket.h"

namespace wgate::netlink {

class KernelRouteNetlink final : public RouteNetlink {
 public:
  static Result<std::unique_ptr<KernelRouteNetlink>> Create();

  Result<Link> GetLink(std::string_view name) override;
  Result<Link> GetLinkByIndex(int ifindex) override;
  Result<std::vector<Link>> ListLinks() override;
  Status SetLinkUp(std::string_view name, bool up) override;
  Status SetMtu(std::string_view name, uint32_t mtu) override;
  Status DeleteLink(std::string_view name) override;

  Status AddAddress(std::string_view dev, const IpPrefix& address) override;
  Status DeleteAddress(std::string_view dev, const IpPrefix& address) override;
  Result<std::vector<Address>> ListAddresses(std::string_view dev) override;

  Status AddRoute(const Route& route) override;
  Status ReplaceRoute(const Route& route) override;
  Status PrependRoute(const Route& route) override;
  Status DeleteRoute(const Route& route) override;
  Result<std::vector<Route>> ListRoutes(IpAddress::Family family, uint32_t table) override;
  Result<RouteLookup> LookupRoute(const IpAddress& dst, std::optional<uint32_t> mark) override;

  Status AddRule(const Rule& rule) override;
  Status DeleteRule(const Rule& rule) override;
  Result<std::vector<Rule>> ListRules(IpAddress::Family family) override;

  // The monitor's socket is opened in this object's namespace, not the caller's.
  Result<std::unique_ptr<LinkMonitor>> WatchLinks() override;

 private:
  KernelRouteNetlink(std::unique_ptr<RtnlSocket> sock, UniqueFd netns)
      : sock_(std::move(sock)), netns_(std::move(netns)) {}

  // Sends a request that changes state; a failure is wrapped as "<what>: <kernel error>".
  Status Change(nlmsghdr* request, std::string_view what);
  Result<Link> QueryLink(int ifindex, std::string_view name, std::string_view what);
  Status WriteRoute(RouteWrite op, const Route& route);
  // index -> name of every link, to name the devices of listed routes and addresses.
  Result<std::map<int, std::string>> LinkNames();

  std::unique_ptr<RtnlSocket> sock_;
  UniqueFd netns_;  // /proc/thread-self/ns/net at Create(), to open monitors in the same place
};

}  // namespace wgate::netlink
