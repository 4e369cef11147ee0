#include "netlink/types.h"

#include <linux/if.h>

#include "gtest/gtest.h"
#include "netlink/test_values.h"

namespace wgate::netlink {
namespace {

using test_values::P;

TEST(RouteTest, PrintsLikeIpRouteWithoutTheMainTable) {
  Route r;
  r.dst = P("0.0.0.0/0");
  r.dev = "wg0";
  r.table = 51820;
  EXPECT_EQ(r.ToString(), "0.0.0.0/0 dev wg0 table 51820");

  r.table = kTableMain;
  r.dev = "eth0";
  r.gateway = IpAddress::Parse("192.0.2.1");
  r.metric = 100;
  r.mtu = 1380;
  EXPECT_EQ(r.ToString(), "0.0.0.0/0 via 192.0.2.1 dev eth0 metric 100 mtu 1380");

  Route b;
  b.dst = P("fd00::1/64");  // host bits are not printed
  b.type = RouteType::kBlackhole;
  b.table = 7;
  EXPECT_EQ(b.ToString(), "blackhole fd00::/64 table 7");
  b.type = RouteType::kUnreachable;
  b.dev.clear();
  b.ifindex = 3;
  EXPECT_EQ(b.ToString(), "unreachable fd00::/64 ifindex 3 table 7");
  b.type = RouteType::kProhibit;
  b.ifindex = 0;
  b.prefsrc = IpAddress::Parse("fd00::2");
  EXPECT_EQ(b.ToString(), "prohibit fd00::/64 table 7 src fd00::2");
  EXPECT_FALSE(b.is_default());
}

TEST(RuleTest, PrintsLikeIpRule) {
  Rule r;
  r.invert = true;
  r.fwmark = 0xca6c;
  r.table = 51820;
  EXPECT_EQ(r.ToString(), "not from all fwmark 0xca6c lookup 51820");
  r.fwmask = 0xff00;
  EXPECT_EQ(r.ToString(), "not from all fwmark 0xca6c/0xff00 lookup 51820");
  r.fwmask = 0xffffffff;  // the kernel's default mask is not printed
  EXPECT_EQ(r.ToString(), "not from all fwmark 0xca6c lookup 51820");

  Rule s;
  s.suppress_prefixlength = 0;
  EXPECT_EQ(s.ToString(), "from all lookup main suppress_prefixlength 0");

  Rule src;
  src.family = IpAddress::Family::kV6;
  src.src = P("fd00::10/128");
  src.dst = P("fd00:1::/64");
  src.table = 100;
  src.priority = 100;
  EXPECT_EQ(src.ToString(), "-6 from fd00::10/128 to fd00:1::/64 lookup 100 pref 100");
}

TEST(LinkTest, FlagsAndOperState) {
  Link l;
  l.flags = IFF_UP;
  l.operstate = IF_OPER_LOWERLAYERDOWN;
  EXPECT_TRUE(l.up());
  EXPECT_FALSE(l.lower_up());
  EXPECT_EQ(l.OperStateName(), "LOWERLAYERDOWN");
  l.operstate = IF_OPER_UP;
  EXPECT_EQ(l.OperStateName(), "UP");
  l.operstate = 200;
  EXPECT_EQ(l.OperStateName(), "UNKNOWN");
}

TEST(LookupAndUplinkTest, Print) {
  RouteLookup l;
  l.dst = *IpAddress::Parse("203.0.113.5");
  l.dev = "eth0";
  l.gateway = IpAddress::Parse("192.0.2.1");
  l.prefsrc = IpAddress::Parse("192.0.2.2");
  EXPECT_EQ(l.ToString(), "203.0.113.5 via 192.0.2.1 dev eth0 src 192.0.2.2");
  l.table = 5;
  l.gateway.reset();
  l.prefsrc.reset();
  EXPECT_EQ(l.ToString(), "203.0.113.5 dev eth0 table 5");

  Uplink u;
  u.dev = "eth0";
  u.gateway4 = IpAddress::Parse("192.0.2.1");
  u.mtu = 1500;
  EXPECT_EQ(u.ToString(), "eth0 via 192.0.2.1 mtu 1500");

  Address a;
  a.prefix = P("10.64.0.2/32");
  a.dev = "wg0";
  EXPECT_EQ(a.ToString(), "10.64.0.2/32 dev wg0");
}

}  // namespace
}  // namespace wgate::netlink
