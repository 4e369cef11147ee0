// The fake must answer like the kernel where the daemon depends on it (the same cases are pinned
// against the real kernel in netlink_netns_test.cc), and the conveniences shared by every
// RouteNetlink are tested through it.
#include "netlink/fake_route_netlink.h"

#include <poll.h>

#include "gtest/gtest.h"
#include "netlink/link_down_check.h"
#include "netlink/test_values.h"

namespace wgate::netlink {
namespace {

using test_values::A;
using test_values::DevRoute;
using test_values::P;

// A namespace as a container starts: eth0 with 192.0.2.2/24 and fd00:1::2/64, default routes
// via .1 and fd00:1::1.
class FakeRouteNetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nl_.AddLink("eth0", 1500, "veth");
    ASSERT_TRUE(nl_.SetLinkUp("eth0", true));
    ASSERT_TRUE(nl_.AddAddress("eth0", P("192.0.2.2/24")));
    ASSERT_TRUE(nl_.AddAddress("eth0", P("fd00:1::2/64")));
    Route def4 = DevRoute("0.0.0.0/0", "eth0");
    def4.gateway = A("192.0.2.1");
    ASSERT_TRUE(nl_.AddRoute(def4));
    Route def6 = DevRoute("::/0", "eth0");
    def6.gateway = A("fd00:1::1");
    ASSERT_TRUE(nl_.AddRoute(def6));
    nl_.AddLink("wg0", 1420, "tun");
    nl_.ClearOperations();
  }

  FakeRouteNetlink nl_;
};

TEST_F(FakeRouteNetlinkTest, ErrorsReadLikeTheKernels) {
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  ASSERT_TRUE(nl_.AddRoute(DevRoute("0.0.0.0/0", "wg0", 51820)));
  Status dup = nl_.AddRoute(DevRoute("0.0.0.0/0", "wg0", 51820));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message(), "RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820: File exists");
  EXPECT_EQ(dup.error().sys_errno(), EEXIST);

  Status missing = nl_.AddAddress("wg1", P("10.64.0.2/32"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "RTM_NEWADDR 10.64.0.2/32 dev wg1: No such device");
  EXPECT_EQ(nl_.SetMtu("wg1", 1420).error().message(), "RTM_NEWLINK wg1 mtu 1420: No such device");
  EXPECT_EQ(nl_.GetLink("wg1").error().message(), "RTM_GETLINK wg1: No such device");

  ASSERT_TRUE(nl_.AddAddress("wg0", P("192.0.2.20/32")));
  EXPECT_EQ(nl_.AddAddress("wg0", P("192.0.2.20/32")).error().message(),
            "RTM_NEWADDR 192.0.2.20/32 dev wg0: File exists (ipv4: Address already assigned)");

  ASSERT_TRUE(nl_.SetLinkUp("wg0", false));
  EXPECT_EQ(nl_.AddRoute(DevRoute("198.51.100.0/24", "wg0")).error().message(),
            "RTM_NEWROUTE 198.51.100.0/24 dev wg0: Network is down (Device for nexthop is not up)");

  Route unreachable;
  unreachable.dst = P("198.51.100.0/24");
  unreachable.type = RouteType::kUnreachable;
  unreachable.table = 100;
  EXPECT_EQ(nl_.DeleteRoute(unreachable).error().message(),
            "RTM_DELROUTE unreachable 198.51.100.0/24 table 100: No such process");

  Rule tunnel;
  tunnel.family = IpAddress::Family::kV6;
  tunnel.invert = true;
  tunnel.fwmark = 0xca6c;
  tunnel.table = 51820;
  EXPECT_EQ(nl_.DeleteRule(tunnel).error().message(),
            "RTM_DELRULE -6 not from all fwmark 0xca6c lookup 51820: No such file or directory");
}

TEST_F(FakeRouteNetlinkTest, ALinkThatGoesDownLosesItsRoutesAndIpv6AddressesLikeTheKernel) {
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  test_values::CheckLinkDownDropsRoutesAndIpv6Addresses(nl_, "wg0");
}

TEST_F(FakeRouteNetlinkTest, RecordsOperationsAndInjectsFailures) {
  nl_.FailNext("RTM_NEWADDR 10.64.0.2/32", EACCES, "denied by test");
  Status s = nl_.AddAddress("wg0", P("10.64.0.2/32"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(),
            "RTM_NEWADDR 10.64.0.2/32 dev wg0: Permission denied (denied by test)");
  EXPECT_EQ(s.error().sys_errno(), EACCES);
  EXPECT_TRUE(nl_.ListAddresses("wg0")->empty());  // a failed call changes nothing

  ASSERT_TRUE(nl_.AddAddress("wg0", P("10.64.0.2/32")));  // one-shot
  ASSERT_TRUE(nl_.SetMtu("wg0", 1380));
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  EXPECT_EQ(nl_.operations(), (std::vector<std::string>{
                                  "RTM_NEWADDR 10.64.0.2/32 dev wg0",
                                  "RTM_NEWADDR 10.64.0.2/32 dev wg0",
                                  "RTM_NEWLINK wg0 mtu 1380",
                                  "RTM_NEWLINK wg0 up",
                              }));

  nl_.FailNext("RTM_GETROUTE dump", EBUSY);
  EXPECT_EQ(nl_.ListRoutes(IpAddress::Family::kV4, kTableMain).error().message(),
            "RTM_GETROUTE dump: Device or resource busy");
  EXPECT_EQ(nl_.SetMtu("wg0", 20).error().sys_errno(), EINVAL);
}

TEST_F(FakeRouteNetlinkTest, FindsTheUplink) {
  Result<Uplink> up = nl_.FindUplink();
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(up->ToString(), "eth0 via 192.0.2.1 via fd00:1::1 mtu 1500");
  EXPECT_EQ(up->ifindex, *nl_.LinkIndex("eth0"));

  // A route MTU wins over the link's; a worse default elsewhere does not win.
  Route def4 = DevRoute("0.0.0.0/0", "eth0");
  def4.gateway = A("192.0.2.1");
  def4.mtu = 1400;
  ASSERT_TRUE(nl_.ReplaceRoute(def4));
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  Route worse = DevRoute("0.0.0.0/0", "wg0");
  worse.metric = 500;
  ASSERT_TRUE(nl_.AddRoute(worse));
  EXPECT_EQ(nl_.FindUplink()->mtu, 1400u);
  EXPECT_EQ(nl_.FindUplink()->dev, "eth0");

  FakeRouteNetlink empty;
  Result<Uplink> none = empty.FindUplink();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "no default route: Network is unreachable");
}

TEST_F(FakeRouteNetlinkTest, LookupFollowsWgQuickPolicyRouting) {
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  ASSERT_TRUE(nl_.AddRoute(DevRoute("0.0.0.0/0", "wg0", 51820)));
  Rule tunnel;
  tunnel.invert = true;
  tunnel.fwmark = 0xca6c;
  tunnel.table = 51820;
  Rule suppress;
  suppress.suppress_prefixlength = 0;
  ASSERT_TRUE(nl_.AddRule(tunnel));
  ASSERT_TRUE(nl_.AddRule(suppress));

  // Unmarked traffic to the internet: the tunnel. The engine's marked UDP: the uplink.
  EXPECT_EQ(nl_.LookupRoute(A("203.0.113.5"), std::nullopt)->ToString(),
            "203.0.113.5 dev wg0 table 51820");
  EXPECT_EQ(nl_.LookupRoute(A("203.0.113.5"), 0xca6c)->ToString(),
            "203.0.113.5 via 192.0.2.1 dev eth0");
  // The LAN: main's connected route beats suppress_prefixlength 0.
  EXPECT_EQ(nl_.LookupRoute(A("192.0.2.9"), std::nullopt)->ToString(),
            "192.0.2.9 dev eth0 src 192.0.2.2");

  // The kernel's priorities: one below the second rule each time.
  Result<std::vector<Rule>> rules = nl_.ListRules(IpAddress::Family::kV4);
  ASSERT_TRUE(rules);
  std::vector<std::string> texts;
  for (const Rule& r : *rules) texts.push_back(r.ToString());
  EXPECT_EQ(texts, (std::vector<std::string>{
                       "from all lookup 255 pref 0",
                       "from all lookup main suppress_prefixlength 0 pref 32764",
                       "not from all fwmark 0xca6c lookup 51820 pref 32765",
                       "from all lookup main pref 32766",
                       "from all lookup 253 pref 32767",
                   }));
  tunnel.priority = 32765;
  EXPECT_EQ(nl_.AddRule(tunnel).error().sys_errno(), EEXIST);
  tunnel.priority.reset();
  ASSERT_TRUE(nl_.DeleteRule(tunnel));  // matched without its priority

  // No route at all, and a blackhole.
  ASSERT_TRUE(nl_.InstallBlackholeDefaults(kTableMain));
  Result<RouteLookup> dropped = nl_.LookupRoute(A("203.0.113.5"), std::nullopt);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().message(), "RTM_GETROUTE 203.0.113.5: Invalid argument");
  EXPECT_EQ(nl_.LookupRoute(A("fd00:2::1"), std::nullopt).error().sys_errno(), EINVAL);
  ASSERT_TRUE(nl_.DeleteAddress("eth0", P("192.0.2.2/24")));
  Route gone;
  gone.dst = P("0.0.0.0/0");
  gone.type = RouteType::kBlackhole;
  ASSERT_TRUE(nl_.DeleteRoute(gone));
  ASSERT_TRUE(nl_.DeleteRoute(DevRoute("0.0.0.0/0", "eth0")));
  EXPECT_EQ(nl_.LookupRoute(A("192.0.2.9"), std::nullopt).error().sys_errno(), ENETUNREACH);
}

TEST_F(FakeRouteNetlinkTest, BlackholeFallbackCoversEveryTable) {
  ASSERT_TRUE(nl_.SetLinkUp("wg0", true));
  ASSERT_TRUE(nl_.AddRoute(DevRoute("::/0", "wg0", 51820)));
  Rule published;
  published.src = P("192.0.2.2/32");
  published.table = 100;
  published.priority = 100;
  ASSERT_TRUE(nl_.AddRule(published));

  Result<std::vector<uint32_t>> tables = nl_.TablesInUse();
  ASSERT_TRUE(tables);
  EXPECT_EQ(*tables, (std::vector<uint32_t>{100, kTableDefault, kTableMain, 51820}));
  for (uint32_t t : *tables) ASSERT_TRUE(nl_.InstallBlackholeDefaults(t));
  for (uint32_t t : *tables) ASSERT_TRUE(nl_.InstallBlackholeDefaults(t));  // idempotent

  std::vector<std::string> blackholes;
  for (IpAddress::Family f : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    Result<std::vector<Route>> routes = nl_.ListRoutes(f, 0);
    ASSERT_TRUE(routes);
    for (const Route& r : *routes) {
      if (r.type == RouteType::kBlackhole) blackholes.push_back(r.ToString());
    }
  }
  std::sort(blackholes.begin(), blackholes.end());
  EXPECT_EQ(blackholes, (std::vector<std::string>{
                            "blackhole 0.0.0.0/0",
                            "blackhole 0.0.0.0/0 table 100",
                            "blackhole 0.0.0.0/0 table 253",
                            "blackhole 0.0.0.0/0 table 51820",
                            "blackhole ::/0 metric 1",
                            "blackhole ::/0 table 100 metric 1",
                            "blackhole ::/0 table 253 metric 1",
                            "blackhole ::/0 table 51820 metric 1",
                        }));
  // Ahead of the uplink's default: nothing leaves through it any more.
  EXPECT_EQ(nl_.LookupRoute(A("203.0.113.5"), std::nullopt).error().sys_errno(), EINVAL);
  EXPECT_EQ(nl_.LookupRoute(A("fd00:9::1"), std::nullopt).error().sys_errno(), EINVAL);
  // The LAN still answers; the uplink's defaults are kept, shadowed.
  EXPECT_EQ(nl_.LookupRoute(A("192.0.2.9"), std::nullopt)->dev, "eth0");
  EXPECT_EQ(nl_.DefaultRoutes(IpAddress::Family::kV4)->size(), 1u);

  for (uint32_t t : *tables) ASSERT_TRUE(nl_.RemoveBlackholeDefaults(t));
  for (uint32_t t : *tables) ASSERT_TRUE(nl_.RemoveBlackholeDefaults(t));  // idempotent
  EXPECT_EQ(nl_.LookupRoute(A("203.0.113.5"), std::nullopt)->dev, "eth0");
  EXPECT_EQ(nl_.LookupRoute(A("fd00:9::1"), std::nullopt)->dev, "eth0");
}

TEST_F(FakeRouteNetlinkTest, MonitorSeesLinksGoAndCome) {
  Result<std::unique_ptr<LinkMonitor>> monitor = nl_.WatchLinks();
  ASSERT_TRUE(monitor);
  pollfd pfd{(*monitor)->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 0), 0);
  EXPECT_TRUE((*monitor)->ReadEvents()->empty());

  ASSERT_TRUE(nl_.AddAddress("wg0", P("10.64.0.2/32")));
  nl_.RemoveLinkFromOutside("wg0");
  ASSERT_EQ(poll(&pfd, 1, 0), 1);
  Result<std::vector<LinkEvent>> events = (*monitor)->ReadEvents();
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, LinkEvent::Kind::kDeleted);
  EXPECT_EQ((*events)[0].link.name, "wg0");
  EXPECT_EQ(poll(&pfd, 1, 0), 0);  // drained
  EXPECT_FALSE(*nl_.LinkExists("wg0"));
  EXPECT_TRUE(nl_.ListAddresses("").value().size() == 2);  // wg0's address went with it

  nl_.AddLink("wg0");
  nl_.OverrunMonitors();
  events = (*monitor)->ReadEvents();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, LinkEvent::Kind::kNew);
  EXPECT_EQ((*events)[1].kind, LinkEvent::Kind::kOverrun);

  nl_.FailNext("RTNLGRP_LINK", EPERM);
  EXPECT_EQ(nl_.WatchLinks().error().message(), "RTNLGRP_LINK subscribe: Operation not permitted");
}

TEST(FakeRouteNetlinkLifetimeTest, MonitorMayOutliveTheFake) {
  std::unique_ptr<LinkMonitor> monitor;
  {
    FakeRouteNetlink nl;
    monitor = std::move(*nl.WatchLinks());
    nl.AddLink("wg0");
  }
  EXPECT_EQ(monitor->ReadEvents()->size(), 1u);
  EXPECT_TRUE(monitor->ReadEvents()->empty());
}

}  // namespace
}  // namespace wgate::netlink
