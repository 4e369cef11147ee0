// FakeRouteNetlink: an in-memory namespace's routing state behind RouteNetlink, for unit tests of
// the daemon and the engine that need no root.
//
// It behaves like the kernel where wgate depends on it, with the kernel's error texts
// ("RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820: File exists"): EEXIST for a duplicate route
// (same table, destination and metric), address or rule; ENODEV for a missing device; ESRCH /
// ENOENT / EADDRNOTAVAIL when deleting what is not there; ENETDOWN for a route via a device that
// is down; a v6 metric of 0 becomes 1024; a prepended route goes ahead of its equal; an address
// with a prefix shorter than its length adds its connected route to main; taking a link down
// drops every route through it and its IPv6 addresses, bringing it up re-creates the connected
// routes of its IPv4 addresses (the IPv6 link-local address is not modelled); deleting a link
// (DeleteLink or RemoveLinkFromOutside) drops its addresses and routes and notifies the monitors.
// Lookups follow the rules in priority order (fwmark, invert, suppress_prefixlength) and
// longest-prefix match. Not modelled: the local table's per-address routes, multipath, route
// caching, source-address selection.
//
// Tests set the stage (AddLink, routes()/rules() to tamper), read what the code under test did
// (operations(): every state-changing call, in order, as its operation text, also when it
// failed), and make the next matching call fail (FailNext).
//
// Monitors may outlive the fake (they then stay silent). Not thread-safe, like the real one.
#pragma once

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "netlink/message.h"
#include "netlink/route_netlink.h"

namespace wgate::netlink {

class FakeRouteNetlink final : public RouteNetlink {
 public:
  // A namespace with lo (index 1, up, MTU 65536) and the kernel's default rules.
  FakeRouteNetlink() {
    Link lo;
    lo.index = 1;
    lo.name = "lo";
    lo.flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
    lo.operstate = IF_OPER_UNKNOWN;
    lo.mtu = 65536;
    links_.push_back(lo);
    for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
      rules_.push_back(DefaultRule(family, 0, kTableLocal));
      rules_.push_back(DefaultRule(family, 32766, kTableMain));
      if (family == IpAddress::Family::kV4) rules_.push_back(DefaultRule(family, 32767, 253));
    }
  }
  ~FakeRouteNetlink() override {
    for (Monitor* m : monitors_) m->Detach();
  }

  // --- Test controls ---

  // Creates a link, down, as `ip link add` or a TUN open would; returns its index.
  int AddLink(std::string name, uint32_t mtu = 1500, std::string kind = "") {
    Link link;
    link.index = next_index_++;
    link.name = std::move(name);
    link.mtu = mtu;
    link.kind = std::move(kind);
    link.operstate = IF_OPER_DOWN;
    links_.push_back(link);
    Notify(LinkEvent::Kind::kNew, link);
    return link.index;
  }
  // Deletes a link behind the code's back (`ip link del`, the engine's TUN fd closed).
  void RemoveLinkFromOutside(std::string_view name) {
    Link* link = FindLink(name);
    WGATE_CHECK(link != nullptr);
    Unlink(link->index);
  }
  // Every monitor gets a kOverrun event, as when the kernel drops notifications.
  void OverrunMonitors() { Notify(LinkEvent::Kind::kOverrun, Link{}); }

  // The next call whose operation text starts with `op_prefix` ("RTM_NEWROUTE", "RTM_NEWADDR
  // 10.64.0.2/32", "RTM_GETLINK wg0") fails with `err` (and the kernel's explanation `extack`, if
  // any) and changes nothing. Several pending failures are used in order of matching.
  void FailNext(std::string op_prefix, int err, std::string extack = "") {
    failures_.push_back(Failure{std::move(op_prefix), err, std::move(extack)});
  }

  // The operation text of every state-changing call so far, in order, failed ones included.
  const std::vector<std::string>& operations() const { return operations_; }
  void ClearOperations() { operations_.clear(); }

  // The state, to inspect or tamper with.
  std::vector<Link>& links() { return links_; }
  std::vector<Address>& addresses() { return addresses_; }
  std::vector<Route>& routes() { return routes_; }
  std::vector<Rule>& rules() { return rules_; }

  // --- RouteNetlink ---

  Result<Link> GetLink(std::string_view name) override {
    const std::string op = LinkOpText(RTM_GETLINK, name);
    if (std::optional<Error> e = Injected(op)) return *e;
    const Link* link = FindLink(name);
    if (link == nullptr) return Error::FromErrno(op, ENODEV);
    return *link;
  }

  Result<Link> GetLinkByIndex(int ifindex) override {
    const std::string op = LinkOpText(RTM_GETLINK, StrCat("ifindex ", ifindex));
    if (std::optional<Error> e = Injected(op)) return *e;
    for (const Link& l : links_) {
      if (l.index == ifindex) return l;
    }
    return Error::FromErrno(op, ENODEV);
  }

  Result<std::vector<Link>> ListLinks() override {
    if (std::optional<Error> e = Injected(DumpOpText(RTM_GETLINK))) return *e;
    return links_;
  }

  Status SetLinkUp(std::string_view name, bool up) override {
    Link* link = nullptr;
    if (Status s = StartLinkOp(LinkOpText(RTM_NEWLINK, name, up ? "up" : "down"), name, &link);
        !s) {
      return s;
    }
    const uint32_t bits = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    const bool was_up = link->up();
    link->flags = up ? link->flags | bits : link->flags & ~bits;
    link->operstate = up ? IF_OPER_UP : IF_OPER_DOWN;
    const int index = link->index;
    if (was_up && !up) {
      // As the kernel: every route through a link that goes down goes, and its IPv6 addresses.
      std::erase_if(routes_, [&](const Route& r) { return r.ifindex == index; });
      std::erase_if(addresses_,
                    [&](const Address& a) { return a.ifindex == index && a.prefix.addr.is_v6(); });
    } else if (!was_up && up) {
      // Coming up re-creates the on-link routes of the IPv4 addresses it kept, nothing else.
      for (const Address& a : addresses_) {
        if (a.ifindex != index || !a.prefix.addr.is_v4() || a.prefix.len == 32) continue;
        const Route connected = ConnectedRoute(a);
        if (std::none_of(routes_.begin(), routes_.end(), [&](const Route& r) {
              return r.ifindex == index && r.dst == connected.dst && r.table == kTableMain;
            })) {
          routes_.push_back(connected);
        }
      }
    }
    Notify(LinkEvent::Kind::kNew, *link);
    return Ok();
  }

  Status SetMtu(std::string_view name, uint32_t mtu) override {
    const std::string op = LinkOpText(RTM_NEWLINK, name, StrCat("mtu ", mtu));
    Link* link = nullptr;
    if (Status s = StartLinkOp(op, name, &link); !s) return s;
    if (mtu < 68 || mtu > 65535) return KernelError(op, EINVAL, "mtu out of the device's range");
    link->mtu = mtu;
    Notify(LinkEvent::Kind::kNew, *link);
    return Ok();
  }

  Status DeleteLink(std::string_view name) override {
    Link* link = nullptr;
    if (Status s = StartLinkOp(LinkOpText(RTM_DELLINK, name), name, &link); !s) return s;
    Unlink(link->index);
    return Ok();
  }

  Status AddAddress(std::string_view dev, const IpPrefix& address) override {
    const std::string op = AddressOpText(RTM_NEWADDR, dev, address);
    Link* link = nullptr;
    if (Status s = StartLinkOp(op, dev, &link); !s) return s;
    for (const Address& a : addresses_) {
      if (a.ifindex == link->index && a.prefix.addr == address.addr) {
        return KernelError(op, EEXIST,
                           address.addr.is_v4() ? "ipv4: Address already assigned" : "");
      }
    }
    Address a;
    a.prefix = address;
    a.dev = link->name;
    a.ifindex = link->index;
    a.flags = address.addr.is_v6() ? IFA_F_NODAD : 0;
    addresses_.push_back(a);
    if (address.len < address.addr.bit_length()) routes_.push_back(ConnectedRoute(a));
    return Ok();
  }

  Status DeleteAddress(std::string_view dev, const IpPrefix& address) override {
    const std::string op = AddressOpText(RTM_DELADDR, dev, address);
    Link* link = nullptr;
    if (Status s = StartLinkOp(op, dev, &link); !s) return s;
    auto it = std::find_if(addresses_.begin(), addresses_.end(), [&](const Address& a) {
      return a.ifindex == link->index && a.prefix == address;
    });
    if (it == addresses_.end()) {
      return KernelError(op, EADDRNOTAVAIL, address.addr.is_v4() ? "ipv4: Address not found" : "");
    }
    const Route connected = ConnectedRoute(*it);
    addresses_.erase(it);
    std::erase_if(routes_, [&](const Route& r) {
      return r.protocol == RTPROT_KERNEL && r.ifindex == connected.ifindex &&
             r.dst == connected.dst;
    });
    return Ok();
  }

  Result<std::vector<Address>> ListAddresses(std::string_view dev) override {
    if (std::optional<Error> e = Injected(DumpOpText(RTM_GETADDR))) return *e;
    if (dev.empty()) return addresses_;
    const Link* link = FindLink(dev);
    if (link == nullptr)
      return Error::FromErrno(StrCat(DumpOpText(RTM_GETADDR), " dev ", dev), ENODEV);
    std::vector<Address> out;
    for (const Address& a : addresses_) {
      if (a.ifindex == link->index) out.push_back(a);
    }
    return out;
  }

  Status AddRoute(const Route& route) override { return WriteRoute(RouteWrite::kAdd, route); }
  Status ReplaceRoute(const Route& route) override {
    return WriteRoute(RouteWrite::kReplace, route);
  }
  Status PrependRoute(const Route& route) override {
    return WriteRoute(RouteWrite::kPrepend, route);
  }

  Status DeleteRoute(const Route& route) override {
    const std::string op = RouteOpText(RouteWrite::kDelete, route);
    operations_.push_back(op);
    if (std::optional<Error> e = Injected(op)) return *e;
    std::optional<uint32_t> metric = route.metric;
    if (metric && route.dst.addr.is_v6() && *metric == 0) metric = 1024;
    if (metric && route.dst.addr.is_v4() && *metric == 0) metric.reset();
    auto it = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) {
      return r.table == route.table && r.dst.Network() == route.dst.Network() &&
             r.type == route.type && (route.dev.empty() || r.dev == route.dev) &&
             (!route.gateway || r.gateway == route.gateway) && (!metric || r.metric == metric);
    });
    if (it == routes_.end()) return Error::FromErrno(op, ESRCH);
    routes_.erase(it);
    return Ok();
  }

  Result<std::vector<Route>> ListRoutes(IpAddress::Family family, uint32_t table) override {
    if (std::optional<Error> e = Injected(DumpOpText(RTM_GETROUTE))) return *e;
    std::vector<Route> out;
    for (const Route& r : routes_) {
      if (r.dst.addr.family() == family && (table == 0 || r.table == table)) out.push_back(r);
    }
    return out;
  }

  Result<RouteLookup> LookupRoute(const IpAddress& dst, std::optional<uint32_t> mark) override {
    const std::string op = LookupOpText(dst, mark);
    if (std::optional<Error> e = Injected(op)) return *e;
    std::vector<const Rule*> order;
    for (const Rule& r : rules_) {
      if (r.family == dst.family()) order.push_back(&r);
    }
    std::stable_sort(order.begin(), order.end(), [](const Rule* a, const Rule* b) {
      return a->priority.value_or(0) < b->priority.value_or(0);
    });
    for (const Rule* rule : order) {
      if (!RuleMatches(*rule, dst, mark.value_or(0))) continue;
      const Route* best = nullptr;
      for (const Route& r : routes_) {
        if (r.table != rule->table || r.dst.addr.family() != dst.family() ||
            !r.dst.Network().Contains(dst)) {
          continue;
        }
        if (best == nullptr || r.dst.len > best->dst.len ||
            (r.dst.len == best->dst.len && r.metric.value_or(0) < best->metric.value_or(0))) {
          best = &r;
        }
      }
      if (best == nullptr) continue;
      if (rule->suppress_prefixlength &&
          best->dst.len <= static_cast<int>(*rule->suppress_prefixlength)) {
        continue;
      }
      switch (best->type) {
        case RouteType::kBlackhole:
          return Error::FromErrno(op, EINVAL);
        case RouteType::kUnreachable:
          return Error::FromErrno(op, EHOSTUNREACH);
        case RouteType::kProhibit:
          return Error::FromErrno(op, EACCES);
        default:
          break;
      }
      RouteLookup out;
      out.dst = dst;
      out.dev = best->dev;
      out.ifindex = best->ifindex;
      out.gateway = best->gateway;
      out.prefsrc = best->prefsrc;
      out.table = best->table;
      return out;
    }
    return Error::FromErrno(op, ENETUNREACH);
  }

  Status AddRule(const Rule& rule) override {
    const std::string op = RuleOpText(RTM_NEWRULE, rule);
    operations_.push_back(op);
    if (std::optional<Error> e = Injected(op)) return *e;
    Rule added = rule;
    if (!added.priority) added.priority = DefaultRulePriority(rule.family);
    for (const Rule& r : rules_) {
      if (r == added) return Error::FromErrno(op, EEXIST);
    }
    rules_.push_back(added);
    std::stable_sort(rules_.begin(), rules_.end(), [](const Rule& a, const Rule& b) {
      return a.priority.value_or(0) < b.priority.value_or(0);
    });
    return Ok();
  }

  Status DeleteRule(const Rule& rule) override {
    const std::string op = RuleOpText(RTM_DELRULE, rule);
    operations_.push_back(op);
    if (std::optional<Error> e = Injected(op)) return *e;
    auto it = std::find_if(rules_.begin(), rules_.end(), [&](const Rule& r) {
      return r.family == rule.family && r.table == rule.table && r.invert == rule.invert &&
             (!rule.priority || r.priority == rule.priority) &&
             (!rule.fwmark || r.fwmark == rule.fwmark) &&
             (!rule.fwmask || r.fwmask == rule.fwmask) && (!rule.src || r.src == rule.src) &&
             (!rule.dst || r.dst == rule.dst) &&
             (!rule.suppress_prefixlength || r.suppress_prefixlength == rule.suppress_prefixlength);
    });
    if (it == rules_.end()) return Error::FromErrno(op, ENOENT);
    rules_.erase(it);
    return Ok();
  }

  Result<std::vector<Rule>> ListRules(IpAddress::Family family) override {
    if (std::optional<Error> e = Injected(DumpOpText(RTM_GETRULE))) return *e;
    std::vector<Rule> out;
    for (const Rule& r : rules_) {
      if (r.family == family) out.push_back(r);
    }
    return out;
  }

  Result<std::unique_ptr<LinkMonitor>> WatchLinks() override {
    if (std::optional<Error> e = Injected(std::string(kWatchLinksOpText))) return *e;
    UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) return Error::FromErrno("eventfd", errno);
    return std::unique_ptr<LinkMonitor>(new Monitor(this, std::move(fd)));
  }

 private:
  struct Failure {
    std::string prefix;
    int err;
    std::string extack;
  };

  // Readable through an eventfd while events are queued.
  class Monitor final : public LinkMonitor {
   public:
    Monitor(FakeRouteNetlink* owner, UniqueFd fd) : owner_(owner), fd_(std::move(fd)) {
      owner_->monitors_.insert(this);
    }
    ~Monitor() override {
      if (owner_ != nullptr) owner_->monitors_.erase(this);
    }
    void Detach() { owner_ = nullptr; }  // the fake is going away first
    int fd() const override { return fd_.get(); }
    Result<std::vector<LinkEvent>> ReadEvents() override {
      uint64_t count = 0;
      (void)!read(fd_.get(), &count, sizeof(count));  // EAGAIN when nothing is queued
      std::vector<LinkEvent> out(queue_.begin(), queue_.end());
      queue_.clear();
      return out;
    }
    void Push(LinkEvent event) {
      queue_.push_back(std::move(event));
      const uint64_t one = 1;
      (void)!write(fd_.get(), &one, sizeof(one));
    }

   private:
    FakeRouteNetlink* owner_;
    UniqueFd fd_;
    std::deque<LinkEvent> queue_;
  };

  static Rule DefaultRule(IpAddress::Family family, uint32_t priority, uint32_t table) {
    Rule r;
    r.family = family;
    r.priority = priority;
    r.table = table;
    return r;
  }

  static Error KernelError(std::string_view op, int err, std::string_view extack) {
    Error e = Error::FromErrno(op, err);
    if (extack.empty()) return e;
    return Error(StrCat(e.message(), " (", extack, ")"), err);
  }

  std::optional<Error> Injected(const std::string& op) {
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (op.compare(0, it->prefix.size(), it->prefix) == 0) {
        Error e = KernelError(op, it->err, it->extack);
        failures_.erase(it);
        return e;
      }
    }
    return std::nullopt;
  }

  Link* FindLink(std::string_view name) {
    for (Link& l : links_) {
      if (l.name == name) return &l;
    }
    return nullptr;
  }

  // Records a state-changing call on device `name`, applies an injected failure, finds the link.
  Status StartLinkOp(const std::string& op, std::string_view name, Link** link) {
    operations_.push_back(op);
    if (std::optional<Error> e = Injected(op)) return *e;
    *link = FindLink(name);
    if (*link == nullptr) return Error::FromErrno(op, ENODEV);
    return Ok();
  }

  void Unlink(int ifindex) {
    auto it = std::find_if(links_.begin(), links_.end(),
                           [&](const Link& l) { return l.index == ifindex; });
    const Link gone = *it;
    links_.erase(it);
    std::erase_if(addresses_, [&](const Address& a) { return a.ifindex == ifindex; });
    std::erase_if(routes_, [&](const Route& r) { return r.ifindex == ifindex; });
    Notify(LinkEvent::Kind::kDeleted, gone);
  }

  void Notify(LinkEvent::Kind kind, const Link& link) {
    for (Monitor* m : monitors_) m->Push(LinkEvent{kind, link});
  }

  static Route ConnectedRoute(const Address& a) {
    Route r;
    r.dst = a.prefix.Network();
    r.dev = a.dev;
    r.ifindex = a.ifindex;
    r.protocol = RTPROT_KERNEL;
    r.scope = RT_SCOPE_LINK;
    if (a.prefix.addr.is_v4()) {
      r.prefsrc = a.prefix.addr;
    } else {
      r.metric = 256;
    }
    return r;
  }

  Status WriteRoute(RouteWrite op_kind, const Route& route) {
    const std::string op = RouteOpText(op_kind, route);
    operations_.push_back(op);
    if (std::optional<Error> e = Injected(op)) return *e;
    Route r = route;
    r.dst = route.dst.Network();
    if (r.type == RouteType::kUnicast) {
      if (r.dev.empty()) return Error::FromErrno(op, EINVAL);  // wgate always names the device
      const Link* link = FindLink(r.dev);
      if (link == nullptr) return Error::FromErrno(op, ENODEV);
      if (!link->up()) {
        return KernelError(
            op, ENETDOWN,
            r.dst.addr.is_v4() ? "Device for nexthop is not up" : "Nexthop device is not up");
      }
      r.ifindex = link->index;
    } else {
      r.dev.clear();
      r.ifindex = 0;
    }
    if (r.protocol == 0) r.protocol = RTPROT_BOOT;
    r.scope = r.type == RouteType::kUnicast && !r.gateway ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    // As the kernel stores them: v4 metric 0 is no metric, a v6 metric 0 is 1024.
    if (r.dst.addr.is_v4() && r.metric == 0u) r.metric.reset();
    if (r.dst.addr.is_v6() && r.metric.value_or(0) == 0) r.metric = 1024;
    auto same = std::find_if(routes_.begin(), routes_.end(), [&](const Route& o) {
      return o.table == r.table && o.dst == r.dst && o.metric == r.metric;
    });
    if (same != routes_.end()) {
      if (op_kind == RouteWrite::kReplace) {
        *same = r;
        return Ok();
      }
      if (op_kind == RouteWrite::kAdd ||
          (same->type == r.type && same->ifindex == r.ifindex && same->gateway == r.gateway)) {
        return Error::FromErrno(op, EEXIST);
      }
      routes_.insert(same, r);  // the first of equals wins a lookup
      return Ok();
    }
    routes_.push_back(r);
    return Ok();
  }

  // The kernel's choice for a rule added without a priority: one below the second rule's.
  uint32_t DefaultRulePriority(IpAddress::Family family) const {
    std::vector<uint32_t> prios;
    for (const Rule& r : rules_) {
      if (r.family == family) prios.push_back(r.priority.value_or(0));
    }
    std::sort(prios.begin(), prios.end());
    return prios.size() >= 2 && prios[1] > 0 ? prios[1] - 1 : 0;
  }

  static bool RuleMatches(const Rule& rule, const IpAddress& dst, uint32_t mark) {
    bool match = true;
    if (rule.fwmark) match = (mark & rule.fwmask.value_or(0xffffffff)) == *rule.fwmark;
    if (rule.dst && !rule.dst->Network().Contains(dst)) match = false;
    if (rule.src && rule.src->len > 0) match = false;  // lookups carry no source address
    return match != rule.invert;
  }

  std::vector<Link> links_;
  std::vector<Address> addresses_;
  std::vector<Route> routes_;
  std::vector<Rule> rules_;
  std::vector<std::string> operations_;
  std::vector<Failure> failures_;
  std::set<Monitor*> monitors_;
  int next_index_ = 2;
};

}  // namespace wgate::netlink
