// KernelRouteNetlink against the real kernel, each test in network namespaces of its own
// (tests/netns_harness.h): what it sets is read back both through its own getters and through
// `ip -j`, so that neither side can agree with itself by mistake.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "netlink/kernel_route_netlink.h"
#include "netlink/link_down_check.h"
#include "netlink/test_values.h"
#include "netns_harness.h"

namespace wgate::netlink {
namespace {

using nlohmann::json;

using test_values::A;
using test_values::DevRoute;
using test_values::P;

class NetlinkNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = netns::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    Result<std::unique_ptr<netns::Namespace>> ns = netns::Namespace::Create("nl");
    ASSERT_TRUE(ns) << ns.error().message();
    ns_ = std::move(*ns);
    nl_ = Open(*ns_);
    ASSERT_NE(nl_, nullptr);
  }

  // A RouteNetlink bound to `ns`: created on a thread inside it, then used from the test thread.
  static std::unique_ptr<KernelRouteNetlink> Open(netns::Namespace& ns) {
    std::unique_ptr<KernelRouteNetlink> nl;
    Status ran = ns.Run([&] {
      Result<std::unique_ptr<KernelRouteNetlink>> created = KernelRouteNetlink::Create();
      if (created) nl = std::move(*created);
    });
    EXPECT_TRUE(ran) << ran.error().message();
    return nl;
  }

  // A TUN device named `name` inside the namespace; it lives as long as the returned fd.
  UniqueFd Tun(const std::string& name) {
    UniqueFd fd;
    Status ran = ns_->Run([&] {
      UniqueFd tun(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
      if (!tun) return;
      ifreq ifr{};
      ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
      std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
      if (ioctl(tun.get(), TUNSETIFF, &ifr) == 0) fd = std::move(tun);
    });
    EXPECT_TRUE(ran && fd.valid()) << "cannot create TUN " << name;
    return fd;
  }

  // A second namespace joined to ours by a veth pair: `dev` here, veth1 there, both up; nullptr
  // when that fails.
  std::unique_ptr<netns::Namespace> Peer(const std::string& dev) {
    Result<std::unique_ptr<netns::Namespace>> peer = netns::Namespace::Create("nlpeer");
    EXPECT_TRUE(peer) << peer.error().message();
    if (!peer) return nullptr;
    Status veth = netns::AddVeth(*ns_, dev, **peer, "veth1");
    EXPECT_TRUE(veth) << veth.error().message();
    if (!veth) return nullptr;
    return std::move(*peer);
  }

  // `ip -j -n NS args...` parsed.
  json IpJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"-j"};
    full.insert(full.end(), args.begin(), args.end());
    Result<std::string> out = ns_->Ip(full);
    EXPECT_TRUE(out) << out.error().message();
    if (!out || TrimSpace(*out).empty()) return json::array();
    return json::parse(*out);
  }

  void Ip(const std::vector<std::string>& args) {
    Result<std::string> out = ns_->Ip(args);
    ASSERT_TRUE(out) << out.error().message();
  }

  std::unique_ptr<netns::Namespace> ns_;
  std::unique_ptr<KernelRouteNetlink> nl_;
};

TEST_F(NetlinkNetnsTest, LinkUpDownAndMtuOnVethAndTun) {
  std::unique_ptr<netns::Namespace> peer = Peer("veth0");
  ASSERT_NE(peer, nullptr);
  UniqueFd tun = Tun("tun0");

  for (const char* dev : {"veth0", "tun0"}) {
    SCOPED_TRACE(dev);
    Result<Link> link = nl_->GetLink(dev);
    ASSERT_TRUE(link) << link.error().message();
    EXPECT_EQ(link->name, dev);
    EXPECT_EQ(link->kind, std::string(dev) == "veth0" ? "veth" : "tun");
    Result<std::string> name = nl_->LinkName(link->index);
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, dev);

    ASSERT_TRUE(nl_->SetLinkUp(dev, false));
    EXPECT_FALSE(nl_->GetLink(dev)->up());
    json shown = IpJson({"link", "show", "dev", dev});
    EXPECT_EQ(shown[0]["flags"].dump().find("\"UP\""), std::string::npos) << shown.dump();

    ASSERT_TRUE(nl_->SetMtu(dev, 1280));
    ASSERT_TRUE(nl_->SetLinkUp(dev, true));
    Result<Link> after = nl_->GetLink(dev);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->up());
    EXPECT_EQ(after->mtu, 1280u);
    EXPECT_EQ(*nl_->GetMtu(dev), 1280u);
    shown = IpJson({"link", "show", "dev", dev});
    EXPECT_EQ(shown[0]["mtu"], 1280);
    EXPECT_NE(shown[0]["flags"].dump().find("\"UP\""), std::string::npos) << shown.dump();
    EXPECT_EQ(shown[0]["operstate"], after->OperStateName());
  }
  // The veth's peer is up, so it has carrier; the TUN has no reader attached to its queue...
  // but its fd is open, so it is up too.
  EXPECT_EQ(nl_->GetLink("veth0")->OperStateName(), "UP");

  EXPECT_TRUE(*nl_->LinkExists("tun0"));
  EXPECT_FALSE(*nl_->LinkExists("nosuch0"));
  Result<Link> missing = nl_->GetLink("nosuch0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "RTM_GETLINK nosuch0: No such device");

  ASSERT_TRUE(nl_->DeleteLink("veth0"));
  EXPECT_FALSE(*nl_->LinkExists("veth0"));
  Result<std::vector<Link>> links = nl_->ListLinks();
  ASSERT_TRUE(links);
  std::vector<std::string> names;
  for (const Link& l : *links) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"lo", "tun0"}));
}

TEST_F(NetlinkNetnsTest, ALinkThatGoesDownLosesItsRoutesAndIpv6Addresses) {
  std::unique_ptr<netns::Namespace> peer = Peer("veth0");
  ASSERT_NE(peer, nullptr);
  test_values::CheckLinkDownDropsRoutesAndIpv6Addresses(*nl_, "veth0");
}

TEST_F(NetlinkNetnsTest, AddsListsAndDeletesAddresses) {
  UniqueFd tun = Tun("wgn0");
  ASSERT_TRUE(nl_->SetLinkUp("wgn0", true));
  ASSERT_TRUE(nl_->AddAddress("wgn0", P("192.0.2.2/32")));
  ASSERT_TRUE(nl_->AddAddress("wgn0", P("198.51.100.7/24")));
  ASSERT_TRUE(nl_->AddAddress("wgn0", P("fd00:64::2/128")));

  json shown = IpJson({"addr", "show", "dev", "wgn0"});
  std::vector<std::string> seen;
  for (const json& a : shown[0]["addr_info"]) {
    seen.push_back(StrCat(a["local"].get<std::string>(), "/", a["prefixlen"].get<int>()));
    if (a["family"] == "inet6" && a["scope"] == "global") {
      // No duplicate address detection: usable at once, never "tentative".
      EXPECT_FALSE(a.contains("tentative")) << a.dump();
      EXPECT_TRUE(a.value("nodad", false)) << a.dump();
    }
  }
  EXPECT_NE(std::find(seen.begin(), seen.end(), "192.0.2.2/32"), seen.end()) << shown.dump();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "198.51.100.7/24"), seen.end()) << shown.dump();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "fd00:64::2/128"), seen.end()) << shown.dump();

  Result<std::vector<Address>> listed = nl_->ListAddresses("wgn0");
  ASSERT_TRUE(listed) << listed.error().message();
  std::vector<std::string> mine;
  for (const Address& a : *listed) {
    EXPECT_EQ(a.dev, "wgn0");
    if (a.scope == RT_SCOPE_UNIVERSE) mine.push_back(a.prefix.ToString());
  }
  EXPECT_EQ(mine, (std::vector<std::string>{"192.0.2.2/32", "198.51.100.7/24", "fd00:64::2/128"}));

  Status dup = nl_->AddAddress("wgn0", P("192.0.2.2/32"));
  ASSERT_FALSE(dup);
  // The kernel's extended ack explains its errno.
  EXPECT_EQ(dup.error().message(),
            "RTM_NEWADDR 192.0.2.2/32 dev wgn0: File exists (ipv4: Address already assigned)");

  ASSERT_TRUE(nl_->DeleteAddress("wgn0", P("192.0.2.2/32")));
  ASSERT_TRUE(nl_->DeleteAddress("wgn0", P("fd00:64::2/128")));
  shown = IpJson({"addr", "show", "dev", "wgn0"});
  EXPECT_EQ(shown.dump().find("192.0.2.2"), std::string::npos) << shown.dump();
  EXPECT_EQ(shown.dump().find("fd00:64::2"), std::string::npos) << shown.dump();
  EXPECT_NE(shown.dump().find("198.51.100.7"), std::string::npos) << shown.dump();
}

TEST_F(NetlinkNetnsTest, ErrorsNameTheOperationAndQuoteTheKernel) {
  Status s = nl_->AddAddress("wg0", P("203.0.113.2/32"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "RTM_NEWADDR 203.0.113.2/32 dev wg0: No such device");
  EXPECT_EQ(s.error().sys_errno(), ENODEV);

  s = nl_->AddRoute(DevRoute("0.0.0.0/0", "wg0", 51820));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "RTM_NEWROUTE 0.0.0.0/0 dev wg0 table 51820: No such device");

  s = nl_->SetMtu("wg0", 1420);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "RTM_NEWLINK wg0 mtu 1420: No such device");

  // What FakeRouteNetlink answers too.
  UniqueFd tun = Tun("wgn0");  // down
  s = nl_->AddRoute(DevRoute("198.51.100.0/24", "wgn0", kTableMain));
  ASSERT_FALSE(s);
  EXPECT_EQ(
      s.error().message(),
      "RTM_NEWROUTE 198.51.100.0/24 dev wgn0: Network is down (Device for nexthop is not up)");
  s = nl_->AddRoute(DevRoute("fd00:98::/64", "wgn0", kTableMain));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(),
            "RTM_NEWROUTE fd00:98::/64 dev wgn0: Network is down (Nexthop device is not up)");
  s = nl_->SetMtu("wgn0", 20);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().sys_errno(), EINVAL) << s.error().message();
  s = nl_->DeleteAddress("wgn0", P("192.0.2.99/24"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(),
            "RTM_DELADDR 192.0.2.99/24 dev wgn0: Cannot assign requested address (ipv4: Address "
            "not found)");
}

TEST_F(NetlinkNetnsTest, RoutesInMainAndNumberedTables) {
  UniqueFd tun = Tun("wgn0");
  ASSERT_TRUE(nl_->SetLinkUp("wgn0", true));
  ASSERT_TRUE(nl_->AddAddress("wgn0", P("192.0.2.2/32")));

  // What wg-quick does for AllowedIPs = 0.0.0.0/0, ::/0 with Table = auto.
  ASSERT_TRUE(nl_->AddRoute(DevRoute("0.0.0.0/0", "wgn0", 51820)));
  ASSERT_TRUE(nl_->AddRoute(DevRoute("::/0", "wgn0", 51820)));
  Route metric_route = DevRoute("203.0.113.0/24", "wgn0", kTableMain);
  metric_route.metric = 50;
  ASSERT_TRUE(nl_->AddRoute(metric_route));

  Status dup = nl_->AddRoute(DevRoute("0.0.0.0/0", "wgn0", 51820));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message(), "RTM_NEWROUTE 0.0.0.0/0 dev wgn0 table 51820: File exists");
  EXPECT_EQ(dup.error().sys_errno(), EEXIST);

  json t = IpJson({"-4", "route", "show", "table", "51820"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["dst"], "default");
  EXPECT_EQ(t[0]["dev"], "wgn0");
  t = IpJson({"-6", "route", "show", "table", "51820"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["dst"], "default");
  t = IpJson({"-4", "route", "show", "table", "main", "203.0.113.0/24"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["metric"], 50);

  // Blackhole defaults in the numbered table and in main: the no-firewall fallback.
  ASSERT_TRUE(nl_->InstallBlackholeDefaults(100));
  ASSERT_TRUE(nl_->InstallBlackholeDefaults(100));  // idempotent: replace, not add
  t = IpJson({"-4", "route", "show", "table", "100"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["type"], "blackhole");
  EXPECT_EQ(t[0]["dst"], "default");
  t = IpJson({"-6", "route", "show", "table", "100"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["type"], "blackhole");

  Route unreachable;
  unreachable.dst = P("198.51.100.0/24");
  unreachable.type = RouteType::kUnreachable;
  unreachable.table = 100;
  ASSERT_TRUE(nl_->AddRoute(unreachable));
  Route prohibit = unreachable;
  prohibit.dst = P("fd00:99::/64");
  prohibit.type = RouteType::kProhibit;
  ASSERT_TRUE(nl_->AddRoute(prohibit));

  Result<std::vector<Route>> v4 = nl_->ListRoutes(IpAddress::Family::kV4, 100);
  ASSERT_TRUE(v4) << v4.error().message();
  ASSERT_EQ(v4->size(), 2u);
  std::vector<std::string> texts;
  for (const Route& r : *v4) texts.push_back(r.ToString());
  EXPECT_EQ(texts, (std::vector<std::string>{"blackhole 0.0.0.0/0 table 100",
                                             "unreachable 198.51.100.0/24 table 100"}));
  Result<std::vector<Route>> v6 = nl_->ListRoutes(IpAddress::Family::kV6, 100);
  ASSERT_TRUE(v6);
  texts.clear();
  for (const Route& r : *v6) texts.push_back(r.ToString());
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"blackhole ::/0 table 100 metric 1",
                                             "prohibit fd00:99::/64 table 100 metric 1024"}));

  Result<std::vector<uint32_t>> tables = nl_->TablesInUse();
  ASSERT_TRUE(tables);
  EXPECT_EQ(*tables, (std::vector<uint32_t>{100, kTableDefault, kTableMain, 51820}));

  // Replace moves the default of table 51820 to another device.
  std::unique_ptr<netns::Namespace> peer = Peer("veth0");
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(nl_->ReplaceRoute(DevRoute("0.0.0.0/0", "veth0", 51820)));
  t = IpJson({"-4", "route", "show", "table", "51820"});
  ASSERT_EQ(t.size(), 1u) << t.dump();
  EXPECT_EQ(t[0]["dev"], "veth0");

  ASSERT_TRUE(nl_->DeleteRoute(DevRoute("0.0.0.0/0", "veth0", 51820)));
  ASSERT_TRUE(nl_->DeleteRoute(DevRoute("::/0", "wgn0", 51820)));
  ASSERT_TRUE(nl_->DeleteRoute(unreachable));
  Route any_blackhole;
  any_blackhole.dst = P("0.0.0.0/0");
  any_blackhole.type = RouteType::kBlackhole;
  any_blackhole.table = 100;
  ASSERT_TRUE(nl_->DeleteRoute(any_blackhole));  // no metric: matches whatever metric
  EXPECT_EQ(IpJson({"-4", "route", "show", "table", "51820"}).size(), 0u);
  EXPECT_EQ(IpJson({"-6", "route", "show", "table", "51820"}).size(), 0u);
  EXPECT_EQ(IpJson({"-4", "route", "show", "table", "100"}).size(), 0u);

  Status gone = nl_->DeleteRoute(unreachable);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message(),
            "RTM_DELROUTE unreachable 198.51.100.0/24 table 100: No such process");
}

TEST_F(NetlinkNetnsTest, FindsTheUplinkAndRoutesTheEndpointThroughIt) {
  std::unique_ptr<netns::Namespace> peer = Peer("eth0");
  ASSERT_NE(peer, nullptr);
  Result<Uplink> none = nl_->FindUplink();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().sys_errno(), ENETUNREACH);

  ASSERT_TRUE(nl_->SetMtu("eth0", 1450));
  ASSERT_TRUE(nl_->AddAddress("eth0", P("198.51.100.2/24")));
  ASSERT_TRUE(nl_->AddAddress("eth0", P("fd00:1::2/64")));
  Route def4 = DevRoute("0.0.0.0/0", "eth0", kTableMain);
  def4.gateway = A("198.51.100.1");
  ASSERT_TRUE(nl_->AddRoute(def4));
  Route def6 = DevRoute("::/0", "eth0", kTableMain);
  def6.gateway = A("fd00:1::1");
  ASSERT_TRUE(nl_->AddRoute(def6));
  // A worse default elsewhere must not win.
  UniqueFd tun = Tun("tun0");
  ASSERT_TRUE(nl_->SetLinkUp("tun0", true));
  Route worse = DevRoute("0.0.0.0/0", "tun0", kTableMain);
  worse.metric = 500;
  ASSERT_TRUE(nl_->AddRoute(worse));
  EXPECT_EQ(IpJson({"-4", "route", "show", "default"}).size(), 2u);

  Result<Uplink> up = nl_->FindUplink();
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(up->dev, "eth0");
  EXPECT_EQ(up->ifindex, *nl_->LinkIndex("eth0"));
  EXPECT_EQ(up->gateway4, A("198.51.100.1"));
  EXPECT_EQ(up->gateway6, A("fd00:1::1"));
  EXPECT_EQ(up->mtu, 1450u);
  EXPECT_EQ(up->ToString(), "eth0 via 198.51.100.1 via fd00:1::1 mtu 1450");

  // A route MTU overrides the link's.
  def4.mtu = 1400;
  ASSERT_TRUE(nl_->ReplaceRoute(def4));
  EXPECT_EQ(nl_->FindUplink()->mtu, 1400u);

  // The endpoint lookup, then wg-quick's policy: unmarked traffic to table 51820 via the tunnel,
  // so only the engine's marked packets still take the uplink.
  Result<RouteLookup> via = nl_->LookupRoute(A("203.0.113.5"), std::nullopt);
  ASSERT_TRUE(via) << via.error().message();
  EXPECT_EQ(via->ToString(), "203.0.113.5 via 198.51.100.1 dev eth0 src 198.51.100.2");

  ASSERT_TRUE(nl_->AddRoute(DevRoute("0.0.0.0/0", "tun0", 51820)));
  Rule tunnel;
  tunnel.invert = true;
  tunnel.fwmark = 51820;
  tunnel.table = 51820;
  ASSERT_TRUE(nl_->AddRule(tunnel));
  EXPECT_EQ(nl_->LookupRoute(A("203.0.113.5"), std::nullopt)->dev, "tun0");
  Result<RouteLookup> marked = nl_->LookupRoute(A("203.0.113.5"), 51820);
  ASSERT_TRUE(marked) << marked.error().message();
  EXPECT_EQ(marked->dev, "eth0");
  EXPECT_EQ(marked->gateway, A("198.51.100.1"));

  // The no-firewall fallback shadows the uplink's defaults without deleting them; the LAN still
  // answers.
  // A v6 blackhole with a worse metric than the real default, deleted without naming its metric:
  // the kernel alone would delete the real default instead (v6 deletes ignore the type).
  Route worse_blackhole;
  worse_blackhole.dst = P("::/0");
  worse_blackhole.type = RouteType::kBlackhole;
  worse_blackhole.metric = 2000;
  ASSERT_TRUE(nl_->AddRoute(worse_blackhole));
  worse_blackhole.metric.reset();
  ASSERT_TRUE(nl_->DeleteRoute(worse_blackhole));
  json defaults6 = IpJson({"-6", "route", "show", "default"});
  ASSERT_EQ(defaults6.size(), 1u) << defaults6.dump();
  EXPECT_EQ(defaults6[0]["gateway"], "fd00:1::1");
  EXPECT_EQ(nl_->DeleteRoute(worse_blackhole).error().message(),
            "RTM_DELROUTE blackhole ::/0: No such process");

  ASSERT_TRUE(nl_->InstallBlackholeDefaults(kTableMain));
  for (const char* dst : {"203.0.113.5", "fd00:99::5"}) {
    Result<RouteLookup> dropped = nl_->LookupRoute(A(dst), 51820);
    ASSERT_FALSE(dropped) << dropped->ToString();
    EXPECT_EQ(dropped.error().sys_errno(), EINVAL) << dropped.error().message();
  }
  EXPECT_EQ(nl_->LookupRoute(A("198.51.100.9"), 51820)->dev, "eth0");
  EXPECT_EQ(nl_->FindUplink()->dev, "eth0");
  ASSERT_TRUE(nl_->RemoveBlackholeDefaults(kTableMain));
  ASSERT_TRUE(nl_->RemoveBlackholeDefaults(kTableMain));  // idempotent
  for (const char* family : {"-4", "-6"}) {
    json defaults = IpJson({family, "route", "show", "default"});
    EXPECT_EQ(defaults.dump().find("blackhole"), std::string::npos) << defaults.dump();
    EXPECT_NE(defaults.dump().find("eth0"), std::string::npos) << defaults.dump();
  }
  EXPECT_EQ(nl_->LookupRoute(A("203.0.113.5"), 51820)->dev, "eth0");

  Result<RouteLookup> v6 = nl_->LookupRoute(A("fd00:99::5"), std::nullopt);
  ASSERT_TRUE(v6) << v6.error().message();
  EXPECT_EQ(v6->dev, "eth0");
  EXPECT_EQ(v6->gateway, A("fd00:1::1"));

  ASSERT_TRUE(nl_->DeleteRoute(def6));
  Result<RouteLookup> unreachable = nl_->LookupRoute(A("fd00:99::5"), std::nullopt);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().message(), "RTM_GETROUTE fd00:99::5: Network is unreachable");
}

TEST_F(NetlinkNetnsTest, PolicyRulesLikeWgQuickAndForPublishedPorts) {
  Rule tunnel;  // ip -4 rule add not fwmark 51820 table 51820
  tunnel.invert = true;
  tunnel.fwmark = 51820;
  tunnel.table = 51820;
  Rule suppress;  // ip -4 rule add table main suppress_prefixlength 0
  suppress.table = kTableMain;
  suppress.suppress_prefixlength = 0;
  Rule published;  // replies of published ports go back out of the uplink
  published.src = P("192.0.2.10/32");
  published.table = 100;
  published.priority = 100;
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    tunnel.family = suppress.family = family;
    ASSERT_TRUE(nl_->AddRule(tunnel));
    ASSERT_TRUE(nl_->AddRule(suppress));
  }
  ASSERT_TRUE(nl_->AddRule(published));
  Rule published6 = published;
  published6.family = IpAddress::Family::kV6;
  published6.src = P("fd00::10/128");
  ASSERT_TRUE(nl_->AddRule(published6));

  Status dup = nl_->AddRule(published);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message(),
            "RTM_NEWRULE from 192.0.2.10/32 lookup 100 pref 100: File exists");

  json rules = IpJson({"-4", "rule", "show"});
  std::vector<std::string> shown;
  for (const json& r : rules) shown.push_back(r.dump());
  ASSERT_EQ(rules.size(), 6u) << rules.dump();
  EXPECT_EQ(rules[1]["priority"], 100);
  EXPECT_EQ(rules[1]["src"], "192.0.2.10");
  EXPECT_EQ(rules[1]["table"], "100");
  EXPECT_EQ(rules[2]["priority"], 32764);
  EXPECT_EQ(rules[2]["table"], "main");
  EXPECT_EQ(rules[2]["suppress_prefixlen"], 0);
  EXPECT_EQ(rules[3]["priority"], 32765);
  EXPECT_TRUE(rules[3].contains("not")) << rules[3].dump();
  EXPECT_EQ(rules[3]["fwmark"], "0xca6c");
  EXPECT_EQ(rules[3]["table"], "51820");
  json rules6 = IpJson({"-6", "rule", "show"});
  EXPECT_EQ(rules6.size(), 5u) << rules6.dump();
  EXPECT_NE(rules6.dump().find("\"fd00::10\""), std::string::npos) << rules6.dump();

  Result<std::vector<Rule>> listed = nl_->ListRules(IpAddress::Family::kV4);
  ASSERT_TRUE(listed) << listed.error().message();
  std::vector<std::string> texts;
  for (const Rule& r : *listed) texts.push_back(r.ToString());
  EXPECT_EQ(texts, (std::vector<std::string>{
                       "from all lookup 255 pref 0",
                       "from 192.0.2.10/32 lookup 100 pref 100",
                       "from all lookup main suppress_prefixlength 0 pref 32764",
                       "not from all fwmark 0xca6c lookup 51820 pref 32765",
                       "from all lookup main pref 32766",
                       "from all lookup 253 pref 32767",
                   }));

  // Deleting by matches, without the priority the kernel chose, as wg-quick's del_if does.
  for (IpAddress::Family family : {IpAddress::Family::kV4, IpAddress::Family::kV6}) {
    tunnel.family = suppress.family = family;
    ASSERT_TRUE(nl_->DeleteRule(tunnel));
    ASSERT_TRUE(nl_->DeleteRule(suppress));
  }
  ASSERT_TRUE(nl_->DeleteRule(published));
  ASSERT_TRUE(nl_->DeleteRule(published6));
  EXPECT_EQ(IpJson({"-4", "rule", "show"}).size(), 3u);
  EXPECT_EQ(IpJson({"-6", "rule", "show"}).size(), 2u);
  Status gone = nl_->DeleteRule(tunnel);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message(),
            "RTM_DELRULE -6 not from all fwmark 0xca6c lookup 51820: No such file or directory");
}

// Polls the monitor until an event of `kind` for `name` arrives, or 5 s pass.
bool AwaitLinkEvent(LinkMonitor& monitor, LinkEvent::Kind kind, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{monitor.fd(), POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    Result<std::vector<LinkEvent>> events = monitor.ReadEvents();
    EXPECT_TRUE(events) << events.error().message();
    if (!events) return false;
    for (const LinkEvent& e : *events) {
      if (e.kind == kind && e.link.name == name) return true;
    }
  }
  return false;
}

TEST_F(NetlinkNetnsTest, MonitorReportsLinksDeletedFromOutside) {
  Result<std::unique_ptr<LinkMonitor>> monitor = nl_->WatchLinks();  // from the test's thread
  ASSERT_TRUE(monitor) << monitor.error().message();
  Result<std::vector<LinkEvent>> nothing = (*monitor)->ReadEvents();
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());

  UniqueFd tun = Tun("wgn0");
  EXPECT_TRUE(AwaitLinkEvent(**monitor, LinkEvent::Kind::kNew, "wgn0"));
  tun.reset();  // the engine died: its TUN goes with its fd
  EXPECT_TRUE(AwaitLinkEvent(**monitor, LinkEvent::Kind::kDeleted, "wgn0"));

  tun = Tun("wgn1");
  ASSERT_TRUE(AwaitLinkEvent(**monitor, LinkEvent::Kind::kNew, "wgn1"));
  Ip({"link", "del", "wgn1"});
  EXPECT_TRUE(AwaitLinkEvent(**monitor, LinkEvent::Kind::kDeleted, "wgn1"));
  EXPECT_FALSE(*nl_->LinkExists("wgn1"));
}

TEST_F(NetlinkNetnsTest, MonitorReportsDroppedNotifications) {
  Result<std::unique_ptr<LinkMonitor>> monitor = nl_->WatchLinks();
  ASSERT_TRUE(monitor) << monitor.error().message();
  const int tiny = 1;  // the kernel rounds it up to its minimum, a few notifications
  ASSERT_EQ(setsockopt((*monitor)->fd(), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
  UniqueFd tun = Tun("wgn0");
  for (uint32_t mtu = 1300; mtu < 1400; ++mtu) ASSERT_TRUE(nl_->SetMtu("wgn0", mtu));

  Result<std::vector<LinkEvent>> events = (*monitor)->ReadEvents();
  ASSERT_TRUE(events) << events.error().message();
  bool overrun = false;
  for (const LinkEvent& e : *events) overrun |= e.kind == LinkEvent::Kind::kOverrun;
  EXPECT_TRUE(overrun) << events->size() << " events and no overrun";
  // After an overrun the monitor keeps working.
  tun.reset();
  EXPECT_TRUE(AwaitLinkEvent(**monitor, LinkEvent::Kind::kDeleted, "wgn0"));
}

}  // namespace
}  // namespace wgate::netlink
