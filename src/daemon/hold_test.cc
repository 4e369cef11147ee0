// The namespace holder over fakes of nftables and netlink; for real (containers and namespaces)
// in tests/leak_suite.sh (hold scenarios) and tests/container_suite.sh.
#include "daemon/hold.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fake_clock.h"
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
  s.engine_port = 43210;
  return s;
}

// The fallback's /proc/sys and record, kept in `dir`.
FallbackSystem Fallback(const TempDir& dir) {
  FallbackSystem sys;
  sys.set_ipv6_disabled = &FakeSetIpv6Disabled;
  sys.ipv6_disabled = []() -> std::optional<bool> { return ipv6_disabled; };
  sys.record_path = dir.path() + "/fallback.json";
  return sys;
}

class HoldTest : public ::testing::Test {
 protected:
  HoldTest() {
    ipv6_disabled = false;
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
  FakeClock clock_;
  Holder holder_{&holder_fw_, &net_, &clock_, &FakeSetIpv6Disabled};
  // A gateway's `wgate run`: its connected ruleset, and the tunnel its engine holds open.
  void GatewayTakesOver() {
    net_.AddLink("wg0", 1420, "tun");
    ASSERT_TRUE(gateway_fw_.Apply(GatewayConnected()).ok());
  }
  void AlterOutput(const std::string& rule) {
    for (firewall::ListedObject& o : nft_.table()->objects) {
      if (o.name == "output") o.lines.insert(o.lines.begin(), rule);
    }
  }
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
  GatewayTakesOver();
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

// Published ports add wgate's own sets and route chain to the table: still a gateway's ruleset.
TEST_F(HoldTest, VouchesForAGatewayWithPublishedPorts) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  net_.AddLink("wg0", 1420, "tun");
  firewall::RulesetSpec spec = GatewayConnected();
  spec.input_ports = {8080};
  spec.ipv6_tunnelled = true;
  ASSERT_TRUE(gateway_fw_.Apply(spec).ok());
  const size_t scripts = nft_.scripts().size();
  holder_.Tick();
  EXPECT_EQ(nft_.scripts().size(), scripts) << holder_.status().reason;
  EXPECT_EQ(holder_.status().firewall, "a gateway's ruleset");
  EXPECT_TRUE(holder_.status().healthy());
}

TEST_F(HoldTest, RelocksATableThatNoLongerFailsClosed) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  GatewayTakesOver();
  for (firewall::ListedObject& o : nft_.table()->objects) {
    if (o.name == "output") o.header = "type filter hook output priority filter; policy accept;";
  }
  holder_.Tick();
  EXPECT_THAT(nft_.scripts().back(), HasSubstr("(lockdown)"));
  EXPECT_EQ(holder_.status().rules_reapplied, 1u);
  EXPECT_TRUE(holder_fw_.Verify().ok());
}

// The review's findings: one NET_ADMIN command must not leave the namespace open while the
// holder says it is locked.
TEST_F(HoldTest, RelocksADormantTableOrABareAcceptAtOnce) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  nft_.table()->attributes.push_back("flags dormant");  // unhooks every chain
  holder_.Tick();
  EXPECT_EQ(holder_.status().rules_reapplied, 1u);
  EXPECT_TRUE(nft_.table()->attributes.empty());
  EXPECT_TRUE(holder_fw_.Verify().ok());
  GatewayTakesOver();
  AlterOutput("accept");
  holder_.Tick();
  EXPECT_EQ(holder_.status().rules_reapplied, 2u) << "even over a live gateway's rules";
  EXPECT_TRUE(holder_fw_.Verify().ok());
}

TEST_F(HoldTest, RulesNoLiveGatewayVouchesForAreReplacedAfterTheGrace) {
  ASSERT_TRUE(holder_.Lockdown().ok());
  GatewayTakesOver();
  holder_.Tick();
  EXPECT_TRUE(holder_.status().healthy());
  net_.RemoveLinkFromOutside("wg0");  // the gateway was SIGKILLed: its rules stay, nobody checks
  holder_.Tick();
  EXPECT_FALSE(holder_.status().healthy()) << holder_.status().reason;
  EXPECT_TRUE(gateway_fw_.Verify().ok()) << "not yet: a gateway's bring-up runs PreUp first";
  clock_.Advance(Holder::kGatewayGrace);
  holder_.Tick();
  EXPECT_EQ(holder_.status().rules_reapplied, 1u);
  EXPECT_TRUE(holder_fw_.Verify().ok());
  EXPECT_TRUE(holder_.status().healthy());

  // The holder's own lockdown with a hole of a legitimate shape: not its lockdown, no gateway.
  AlterOutput("ip daddr 203.0.113.0/24 accept");
  holder_.Tick();
  EXPECT_FALSE(holder_.status().healthy());
  clock_.Advance(Holder::kGatewayGrace);
  holder_.Tick();
  EXPECT_EQ(holder_.status().rules_reapplied, 2u);
  EXPECT_TRUE(holder_fw_.Verify().ok());
}

TEST_F(HoldTest, AHolderRestartedBesideALiveGatewayKeepsItsRuleset) {
  net_.AddLink("wg0", 1420, "tun");
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
  holder_.Tick();
  EXPECT_EQ(nft_.scripts().size(), 1u);
  EXPECT_TRUE(holder_.status().healthy());
}

TEST_F(HoldTest, WithoutNftablesShutsTheNamespaceAndIsNeverHealthy) {
  TempDir dir;
  Holder holder(nullptr, &net_, &clock_, Fallback(dir));
  ASSERT_TRUE(holder.Lockdown().ok());
  bool v4 = false;
  for (const netlink::Route& r : net_.routes()) {
    v4 |= r.type == netlink::RouteType::kBlackhole && r.is_default() && r.dst.addr.is_v4() &&
          r.table == netlink::kTableMain;
  }
  EXPECT_TRUE(v4);
  EXPECT_TRUE(ipv6_disabled);
  // A gateway's unblock or stale-rule clean-up removes the fallback's rule: it goes back in.
  size_t rules = net_.rules().size();
  std::erase_if(net_.rules(), [](const netlink::Rule& r) { return r.table == kFallbackTable; });
  holder.Tick();
  EXPECT_EQ(net_.rules().size(), rules);
  EXPECT_EQ(holder.status().rules_reapplied, 1u);
  EXPECT_THAT(holder.status().firewall, HasSubstr("blackhole fallback"));
  EXPECT_FALSE(holder.status().healthy());
  ASSERT_TRUE(holder.Unblock(nullptr).ok());
  for (const netlink::Route& r : net_.routes())
    EXPECT_NE(r.type, netlink::RouteType::kBlackhole) << r.ToString();
  EXPECT_FALSE(ipv6_disabled);
}

TEST_F(HoldTest, WithoutNftablesKeepsTheUplinkDownUntilUnblocked) {
  ASSERT_TRUE(net_.SetLinkUp("eth0", true).ok());
  netlink::Route def;
  def.dst = *IpPrefix::Parse("0.0.0.0/0");
  def.dev = "eth0";
  def.gateway = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(net_.AddRoute(def).ok());
  TempDir dir;
  ipv6_disabled = false;
  Holder holder(nullptr, &net_, &clock_, Fallback(dir));
  ASSERT_TRUE(holder.Lockdown().ok());
  EXPECT_FALSE(net_.GetLink("eth0")->up());
  EXPECT_TRUE(ipv6_disabled);
  holder.Tick();
  EXPECT_EQ(holder.status().rules_reapplied, 0u) << "nothing to re-shut";
  ASSERT_TRUE(net_.SetLinkUp("eth0", true).ok());  // another NET_ADMIN process
  holder.Tick();
  EXPECT_FALSE(net_.GetLink("eth0")->up());
  EXPECT_EQ(holder.status().rules_reapplied, 1u);
  EXPECT_THAT(holder.status().rules_problem,
              HasSubstr("eth0 was brought up from outside and is down again"));
  Status s = holder.Unblock(nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(net_.GetLink("eth0")->up());
  EXPECT_EQ(net_.DefaultRoutes(IpAddress::Family::kV4)->size(), 1u) << "the default route is back";
  EXPECT_FALSE(ipv6_disabled);
  holder.Tick();
  EXPECT_TRUE(net_.GetLink("eth0")->up()) << "an unblocked holder shuts nothing";
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
