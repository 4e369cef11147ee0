#include "netlink/kernel_route_netlink.h"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <map>
#include <thread>

#include "base/strings.h"
#include "netlink/message.h"

namespace wgate::netlink {
namespace {

constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

// Runs fn in the network namespace `netns`: on this thread when it is already there, else on a
// short-lived thread that joined it (setns changes only the calling thread, and must not change
// the caller's). fn does not run at all if joining fails.
Status RunInNetns(int netns, const std::function<Status()>& fn) {
  struct stat want;
  struct stat have;
  if (fstat(netns, &want) == 0 && stat(kThreadNetns, &have) == 0 && want.st_ino == have.st_ino &&
      want.st_dev == have.st_dev) {
    return fn();
  }
  Status result;
  std::thread worker([&] {
    if (setns(netns, CLONE_NEWNET) != 0) {
      result = Error::FromErrno("setns(CLONE_NEWNET)", errno);
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

class KernelLinkMonitor final : public LinkMonitor {
 public:
  explicit KernelLinkMonitor(std::unique_ptr<RtnlSocket> sock) : sock_(std::move(sock)) {}

  int fd() const override { return sock_->fd(); }

  Result<std::vector<LinkEvent>> ReadEvents() override {
    std::vector<LinkEvent> events;
    const auto on_message = [&](const nlmsghdr* nlh) -> Status {
      if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) return Ok();
      Result<LinkEvent> event = ParseLinkEvent(nlh);
      if (!event) return event.error().Wrap("RTNLGRP_LINK");
      events.push_back(std::move(*event));
      return Ok();
    };
    for (;;) {
      Result<bool> got = sock_->ReadNotifications(on_message);
      if (!got && got.error().sys_errno() == ENOBUFS) {
        events.push_back(LinkEvent{LinkEvent::Kind::kOverrun, Link{}});
        continue;
      }
      if (!got) return got.error();
      if (!*got) return events;
    }
  }

 private:
  std::unique_ptr<RtnlSocket> sock_;
};

// Sends `request` and parses every answer with `parse`; a failure is wrapped with `what`.
template <typename T>
Result<std::vector<T>> Collect(RtnlSocket& sock, nlmsghdr* request,
                               Result<T> (*parse)(const nlmsghdr*), std::string_view what) {
  std::vector<T> out;
  Status s = sock.Exchange(request, [&](const nlmsghdr* nlh) -> Status {
    Result<T> item = parse(nlh);
    if (!item) return item.error();
    out.push_back(std::move(*item));
    return Ok();
  });
  if (!s) return s.error().Wrap(what);
  return out;
}

}  // namespace

Result<std::unique_ptr<KernelRouteNetlink>> KernelRouteNetlink::Create() {
  UniqueFd netns(open(kThreadNetns, O_RDONLY | O_CLOEXEC));
  if (!netns) return Error::FromErrno(StrCat("open ", kThreadNetns), errno);
  Result<std::unique_ptr<RtnlSocket>> sock = RtnlSocket::Open();
  if (!sock) return sock.error();
  return std::unique_ptr<KernelRouteNetlink>(
      new KernelRouteNetlink(std::move(*sock), std::move(netns)));
}

Status KernelRouteNetlink::Change(nlmsghdr* request, std::string_view what) {
  Status s = sock_->Exchange(request, [](const nlmsghdr*) { return Ok(); });
  if (!s) return s.error().Wrap(what);
  return Ok();
}

Result<Link> KernelRouteNetlink::QueryLink(int ifindex, std::string_view name,
                                           std::string_view what) {
  RequestBuffer buf;
  Result<std::vector<Link>> links =
      Collect(*sock_, BuildGetLink(buf.span(), ifindex, name), &ParseLink, what);
  if (!links) return links.error();
  if (links->empty()) return Error::FromErrno(what, ENODEV);
  return std::move(links->front());
}

Result<Link> KernelRouteNetlink::GetLink(std::string_view name) {
  if (name.empty()) return Error::FromErrno("RTM_GETLINK with an empty name", EINVAL);
  return QueryLink(0, name, LinkOpText(RTM_GETLINK, name));
}

Result<Link> KernelRouteNetlink::GetLinkByIndex(int ifindex) {
  return QueryLink(ifindex, "", LinkOpText(RTM_GETLINK, StrCat("ifindex ", ifindex)));
}

Result<std::map<int, std::string>> KernelRouteNetlink::LinkNames() {
  Result<std::vector<Link>> links = ListLinks();
  if (!links) return links.error();
  std::map<int, std::string> names;
  for (const Link& l : *links) names[l.index] = l.name;
  return names;
}

Result<std::vector<Link>> KernelRouteNetlink::ListLinks() {
  RequestBuffer buf;
  return Collect(*sock_, BuildDumpLinks(buf.span()), &ParseLink, DumpOpText(RTM_GETLINK));
}

Status KernelRouteNetlink::SetLinkUp(std::string_view name, bool up) {
  const std::string what = LinkOpText(RTM_NEWLINK, name, up ? "up" : "down");
  Result<Link> link = QueryLink(0, name, what);
  if (!link) return link.error();
  RequestBuffer buf;
  return Change(BuildSetLink(buf.span(), link->index, up, std::nullopt), what);
}

Status KernelRouteNetlink::SetMtu(std::string_view name, uint32_t mtu) {
  const std::string what = LinkOpText(RTM_NEWLINK, name, StrCat("mtu ", mtu));
  Result<Link> link = QueryLink(0, name, what);
  if (!link) return link.error();
  RequestBuffer buf;
  return Change(BuildSetLink(buf.span(), link->index, std::nullopt, mtu), what);
}

Status KernelRouteNetlink::DeleteLink(std::string_view name) {
  const std::string what = LinkOpText(RTM_DELLINK, name);
  Result<Link> link = QueryLink(0, name, what);
  if (!link) return link.error();
  RequestBuffer buf;
  return Change(BuildDeleteLink(buf.span(), link->index), what);
}

Status KernelRouteNetlink::AddAddress(std::string_view dev, const IpPrefix& address) {
  const std::string what = AddressOpText(RTM_NEWADDR, dev, address);
  Result<Link> link = QueryLink(0, dev, what);
  if (!link) return link.error();
  RequestBuffer buf;
  return Change(BuildAddress(buf.span(), RTM_NEWADDR, link->index, address), what);
}

Status KernelRouteNetlink::DeleteAddress(std::string_view dev, const IpPrefix& address) {
  const std::string what = AddressOpText(RTM_DELADDR, dev, address);
  Result<Link> link = QueryLink(0, dev, what);
  if (!link) return link.error();
  RequestBuffer buf;
  return Change(BuildAddress(buf.span(), RTM_DELADDR, link->index, address), what);
}

Result<std::vector<Address>> KernelRouteNetlink::ListAddresses(std::string_view dev) {
  Result<std::map<int, std::string>> names = LinkNames();
  if (!names) return names.error();
  int only = 0;
  if (!dev.empty()) {
    Result<Link> link = QueryLink(0, dev, StrCat(DumpOpText(RTM_GETADDR), " dev ", dev));
    if (!link) return link.error();
    only = link->index;
  }
  std::vector<Address> out;
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    RequestBuffer buf;
    Result<std::vector<Address>> addresses = Collect(*sock_, BuildDumpAddresses(buf.span(), family),
                                                     &ParseAddress, DumpOpText(RTM_GETADDR));
    if (!addresses) return addresses.error();
    for (Address& a : *addresses) {
      if (only != 0 && a.ifindex != only) continue;
      a.dev = (*names)[a.ifindex];
      out.push_back(std::move(a));
    }
  }
  return out;
}

Status KernelRouteNetlink::WriteRoute(RouteWrite op, const Route& route) {
  const std::string what = RouteOpText(op, route);
  Route r = route;
  if (!r.dev.empty()) {
    Result<Link> link = QueryLink(0, r.dev, what);
    if (!link) return link.error();
    r.ifindex = link->index;
  }
  if (op == RouteWrite::kDelete && r.dst.addr.is_v6() && !r.metric) {
    // IPv6 deletes ignore the route type: `ip -6 route del blackhole default` removes the
    // lowest-metric default, whatever its type. Name the metric of the route really meant.
    Result<std::vector<Route>> routes = ListRoutes(IpAddress::Family::kV6, r.table);
    if (!routes) return routes.error().Wrap(what);
    for (const Route& o : *routes) {
      if (o.dst.Network() == r.dst.Network() && o.type == r.type &&
          (r.ifindex == 0 || o.ifindex == r.ifindex) && (!r.gateway || o.gateway == r.gateway)) {
        r.metric = o.metric;
        break;
      }
    }
    if (!r.metric) return Error::FromErrno(what, ESRCH);
  }
  RequestBuffer buf;
  return Change(BuildRoute(buf.span(), op, r), what);
}

Status KernelRouteNetlink::AddRoute(const Route& route) {
  return WriteRoute(RouteWrite::kAdd, route);
}
Status KernelRouteNetlink::ReplaceRoute(const Route& route) {
  return WriteRoute(RouteWrite::kReplace, route);
}
Status KernelRouteNetlink::PrependRoute(const Route& route) {
  return WriteRoute(RouteWrite::kPrepend, route);
}
Status KernelRouteNetlink::DeleteRoute(const Route& route) {
  return WriteRoute(RouteWrite::kDelete, route);
}

Result<std::vector<Route>> KernelRouteNetlink::ListRoutes(IpAddress::Family family,
                                                          uint32_t table) {
  Result<std::map<int, std::string>> names = LinkNames();
  if (!names) return names.error();
  RequestBuffer buf;
  Result<std::vector<Route>> routes =
      Collect(*sock_, BuildDumpRoutes(buf.span(), family), &ParseRoute, DumpOpText(RTM_GETROUTE));
  if (!routes) return routes.error();
  std::vector<Route> out;
  for (Route& r : *routes) {
    if (table != 0 && r.table != table) continue;
    if (r.ifindex != 0) r.dev = (*names)[r.ifindex];
    out.push_back(std::move(r));
  }
  return out;
}

Result<RouteLookup> KernelRouteNetlink::LookupRoute(const IpAddress& dst,
                                                    std::optional<uint32_t> mark) {
  const std::string what = LookupOpText(dst, mark);
  RequestBuffer buf;
  Result<std::vector<RouteLookup>> found =
      Collect(*sock_, BuildLookupRoute(buf.span(), dst, mark), &ParseRouteLookup, what);
  if (!found) return found.error();
  if (found->empty()) return Error::FromErrno(what, ENETUNREACH);
  RouteLookup out = std::move(found->front());
  if (out.ifindex != 0) {
    Result<Link> link = QueryLink(out.ifindex, "", what);
    if (!link) return link.error();
    out.dev = link->name;
  }
  return out;
}

Status KernelRouteNetlink::AddRule(const Rule& rule) {
  RequestBuffer buf;
  return Change(BuildRule(buf.span(), RTM_NEWRULE, rule), RuleOpText(RTM_NEWRULE, rule));
}

Status KernelRouteNetlink::DeleteRule(const Rule& rule) {
  RequestBuffer buf;
  return Change(BuildRule(buf.span(), RTM_DELRULE, rule), RuleOpText(RTM_DELRULE, rule));
}

Result<std::vector<Rule>> KernelRouteNetlink::ListRules(IpAddress::Family family) {
  RequestBuffer buf;
  return Collect(*sock_, BuildDumpRules(buf.span(), family), &ParseRule, DumpOpText(RTM_GETRULE));
}

Result<std::unique_ptr<LinkMonitor>> KernelRouteNetlink::WatchLinks() {
  std::unique_ptr<RtnlSocket> sock;
  Status s = RunInNetns(netns_.get(), [&]() -> Status {
    Result<std::unique_ptr<RtnlSocket>> opened = RtnlSocket::Open(RTMGRP_LINK);
    if (!opened) return opened.error();
    sock = std::move(*opened);
    return Ok();
  });
  if (!s) return s.error().Wrap(kWatchLinksOpText);
  return std::unique_ptr<LinkMonitor>(new KernelLinkMonitor(std::move(sock)));
}

}  // namespace wgate::netlink
