// The namespace holder over fakes of nftables and netlink; for real (containers and namespaces)
// in tests/leak_suite.sh (hold scenarios) and tests/container_suite.sh.
#include "daemon/hold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/temp_dir.h"
#include "daemon/file_util.h"
#include "firewall/fake_nft_backend.h"
#include "netlink/fake_route_netlink.h"

namespace wgate::daemon {
namespace {

using ::testing::HasSubstr;

bool ipv6_disabled = false;
bool FakeSetIpv6Disabled(bool disabled) {  // never the host's /proc/sys
  ipv6_disabled = disabled;
  return true;
}

firewall::RulesetSpec GatewayConnected() {
  firewall::RulesetSpec s;
  s.mode = firewall::Mode::kConnected;
  s.fwmark = 51820;
  s.uplink = "eth0";
  s.tunnel = "wg0";
  s.endpoint = *SocketAddress::Parse("192.0.2.1:51820");
  return s;
}

class HoldTest : public ::testing::Test {
 protected:
  HoldTest() {
    net_.AddLink("eth0", 1500, "veth");
    netlink::Route def;
    def.dst = *IpPrefix::Parse("0.0.0.0/0");
    def.dev = "eth0";
    def.gateway = IpAddress::Parse("192.0.2.1");
    (void)net_.AddRoute(def);
  }
  netlink::FakeRouteNetlink net_;
  firewall::FakeNftBackend nft_;
  firewall::Firewall holder_fw_{nft_};
  firewall::Firewall gateway_fw_{nft_};  // another process's handle on the same kernel
  Holder holder_{&holder_fw_, &net_, &FakeSetIpv6Disabled};
};

TEST_F(HoldTest, LocksDownFirstAndIsHealthyWhenVerified) {
  GatewayStatus before = holder_.status();
  EXPECT_FALSE(before.healthy());
  ASSERT_TRUE(holder_.Lockdown().ok());
  ASSERT_EQ(nft_.scripts().size(), 1u);
  EXPECT_THAT(nft_.scripts()[0], HasSubstr("(lockdown)"));
  holder_.Tick();
  const GatewayStatus& s = holder_.status();
  EXPECT_EQ(s.role, "hold");
  EXPECT_EQ(s.state, GatewayState::kHolding);
  EXPECT_EQ(s.firewall, "lockdown");
  EXPECT_EQ(s.reason, "lockdown verified; no gateway has taken over");
  EXPECT_TRUE(s.healthy());
}

TEST_F(HoldTest, LeavesAGatewaysRulesetAloneAndRelocksWhenTheTableGoes) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  ASSERT_TRUE(gateway_fw_.Apply(GatewayConnected()).ok());  // `wgate run` takes over
  size_t scripts = nft_.scripts().size();
  holder_.Tick();
  EXPECT_EQ(nft_.scripts().size(), scripts) << "the holder must not touch a gateway's ruleset";
  EXPECT_EQ(holder_.status().firewall, "a gateway's ruleset");
  EXPECT_TRUE(holder_.status().healthy());
  EXPECT_TRUE(gateway_fw_.Verify().ok());

  nft_.table().reset();  // `nft delete table inet wgate` from outside, or a gateway's unblock
  holder_.Tick();
  ASSERT_TRUE(nft_.table().has_value());
  EXPECT_THAT(nft_.scripts().back(), HasSubstr("(lockdown)"));
  EXPECT_EQ(holder_.status().rules_reapplied, 1u);
  EXPECT_EQ(holder_.status().firewall, "lockdown");
  EXPECT_TRUE(holder_.status().healthy());
}

TEST_F(HoldTest, RelocksATableThatNoLongerFailsClosed) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  ASSERT_TRUE(gateway_fw_.Apply(GatewayConnected()).ok());
  for (firewall::ListedObject& o : nft_.table()->objects) {
    if (o.name == "output") o.header = "type filter hook output priority filter; policy accept;";
  }
  holder_.Tick();
  EXPECT_THAT(nft_.scripts().back(), HasSubstr("(lockdown)"));
  EXPECT_EQ(holder_.status().rules_reapplied, 1u);
  EXPECT_TRUE(holder_fw_.Verify().ok());
}

TEST_F(HoldTest, AHolderRestartedBesideALiveGatewayKeepsItsRuleset) {
  ASSERT_TRUE(gateway_fw_.Apply(GatewayConnected()).ok());
  netlink::Rule tunnel_rule;
  tunnel_rule.priority = kRulePriorityTunnel;
  tunnel_rule.table = 51820;
  tunnel_rule.invert = true;
  tunnel_rule.fwmark = 51820;
  ASSERT_TRUE(net_.AddRule(tunnel_rule).ok());
  size_t rules = net_.rules().size();
  ASSERT_TRUE(holder_.Lockdown().ok());
  EXPECT_EQ(nft_.scripts().size(), 1u) << "only the gateway's apply";
  EXPECT_EQ(net_.rules().size(), rules) << "the gateway's policy rules stay";
  EXPECT_TRUE(gateway_fw_.Verify().ok());
  EXPECT_TRUE(holder_.status().healthy());
}

TEST_F(HoldTest, WithoutNftablesShutsTheNamespaceAndIsNeverHealthy) {
  Holder holder(nullptr, &net_, &FakeSetIpv6Disabled);
  ASSERT_TRUE(holder.Lockdown().ok());
  bool v4 = false;
  for (const netlink::Route& r : net_.routes()) {
    v4 |= r.type == netlink::RouteType::kBlackhole && r.is_default() && r.dst.addr.is_v4() &&
          r.table == netlink::kTableMain;
  }
  EXPECT_TRUE(v4);
  EXPECT_TRUE(ipv6_disabled);
  holder.Tick();
  EXPECT_THAT(holder.status().firewall, HasSubstr("blackhole fallback"));
  EXPECT_FALSE(holder.status().healthy());
  ASSERT_TRUE(holder.Unblock(nullptr).ok());
  for (const netlink::Route& r : net_.routes())
    EXPECT_NE(r.type, netlink::RouteType::kBlackhole) << r.ToString();
  EXPECT_FALSE(ipv6_disabled);
}

TEST_F(HoldTest, UnblockOpensForGoodAndRestoresResolvConf) {
  TempDir dir;
  std::string path = dir.Write("resolv.conf", "nameserver 127.0.0.11\n", 0644);
  ResolvConf resolv(path, dir.path() + "/resolv.conf.orig");
  ASSERT_TRUE(resolv.Apply({*IpAddress::Parse("10.64.0.1")}, {}).ok());  // a gateway's rewrite
  ASSERT_TRUE(holder_.Lockdown().ok());
  ASSERT_TRUE(holder_.Unblock(&resolv).ok());
  EXPECT_FALSE(nft_.table().has_value());
  EXPECT_EQ(*ReadFile(path), "nameserver 127.0.0.11\n");
  holder_.Tick();
  EXPECT_FALSE(nft_.table().has_value()) << "an unblocked holder does not lock again";
  EXPECT_FALSE(holder_.status().healthy());
  EXPECT_THAT(holder_.status().reason, HasSubstr("unblocked"));
}

}  // namespace
}  // namespace wgate::daemon
