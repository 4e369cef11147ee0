// Shutting and restoring the links over the fake netlink, which drops routes and IPv6 addresses
// of a link that goes down as the kernel does (pinned for real in the leak suite's
// fallback_with_broadcast_and_unicast_if).
#include "daemon/fallback_shut.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/temp_dir.h"
#include "daemon/file_util.h"
#include "netlink/fake_route_netlink.h"
#include "netlink/test_values.h"

namespace wgate::daemon {
namespace {

using netlink::test_values::A;
using netlink::test_values::DevRoute;
using netlink::test_values::P;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// The namespace's disable_ipv6, for the fakes below (never the host's /proc/sys).
std::optional<bool> ipv6_off = false;
bool ipv6_writable = true;
bool FakeSet(bool disabled) {
  if (!ipv6_writable) return false;
  ipv6_off = disabled;
  return true;
}
std::optional<bool> FakeRead() { return ipv6_off; }

class FallbackShutTest : public ::testing::Test {
 protected:
  FallbackShutTest() {
    ipv6_off = false;
    ipv6_writable = true;
    sys_.set_ipv6_disabled = &FakeSet;
    sys_.ipv6_disabled = &FakeRead;
    sys_.record_path = dir_.path() + "/fallback.json";
    // A container's uplink with both families, a LAN route in another table, a second network.
    net_.AddLink("eth0", 1500, "veth");
    (void)net_.SetLinkUp("eth0", true);
    (void)net_.AddAddress("eth0", P("192.0.2.2/24"));
    (void)net_.AddAddress("eth0", P("fd00::2/64"));
    netlink::Route def = DevRoute("0.0.0.0/0", "eth0");
    def.gateway = A("192.0.2.1");
    (void)net_.AddRoute(def);
    netlink::Route def6 = DevRoute("::/0", "eth0");
    def6.gateway = A("fd00::1");
    (void)net_.AddRoute(def6);
    netlink::Route lan = DevRoute("198.51.100.0/24", "eth0", 100);
    lan.gateway = A("192.0.2.1");
    (void)net_.AddRoute(lan);
    net_.AddLink("eth1", 1500, "veth");
    (void)net_.SetLinkUp("eth1", true);
    (void)net_.AddAddress("eth1", P("203.0.113.2/24"));
    net_.AddLink("spare", 1500, "veth");  // down: not the fallback's to record or bring up
    before_ = Routes();
    net_.ClearOperations();
  }

  std::vector<std::string> Routes() {
    std::vector<std::string> out;
    for (const netlink::Route& r : net_.routes()) out.push_back(r.ToString());
    std::sort(out.begin(), out.end());
    return out;
  }
  bool Up(const char* name) { return net_.GetLink(name)->up(); }

  TempDir dir_;
  FallbackSystem sys_;
  netlink::FakeRouteNetlink net_;
  std::vector<std::string> before_;
};

TEST_F(FallbackShutTest, TakesEveryLinkButLoopbackDownAfterRecordingIt) {
  ShutOutcome shut = ShutLinks(net_, sys_.record_path);
  EXPECT_TRUE(shut.problems.empty()) << shut.problems[0];
  EXPECT_THAT(shut.taken_down, UnorderedElementsAre("eth0", "eth1"));
  EXPECT_FALSE(Up("eth0"));
  EXPECT_FALSE(Up("eth1"));
  EXPECT_TRUE(Up("lo"));
  EXPECT_TRUE(net_.routes().empty()) << "the kernel drops the routes through a down link";

  auto record = LoadFallbackRecord(sys_.record_path);
  ASSERT_TRUE(record.ok() && record->has_value());
  ASSERT_EQ((*record)->links.size(), 2u);
  const ShutLink& eth0 = *(*record)->Find("eth0");
  EXPECT_EQ(eth0.addresses, (std::vector<IpPrefix>{P("192.0.2.2/24"), P("fd00::2/64")}));
  std::vector<std::string> routes;
  for (const netlink::Route& r : eth0.routes) routes.push_back(r.ToString());
  EXPECT_THAT(routes, UnorderedElementsAre("192.0.2.0/24 dev eth0 src 192.0.2.2",
                                           "fd00::/64 dev eth0 metric 256",
                                           "0.0.0.0/0 via 192.0.2.1 dev eth0",
                                           "::/0 via fd00::1 dev eth0 metric 1024",
                                           "198.51.100.0/24 via 192.0.2.1 dev eth0 table 100"));
  EXPECT_FALSE((*record)->Find("spare"));
  EXPECT_FALSE((*record)->ipv6_disabled_by_wgate);
}

TEST_F(FallbackShutTest, RestoreBringsBackAddressesAndOnlyTheRoutesTheKernelDoesNotRecreate) {
  ASSERT_TRUE(ShutLinks(net_, sys_.record_path).problems.empty());
  net_.ClearOperations();
  Status s = RestoreFallback(net_, sys_);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(Up("eth0"));
  EXPECT_TRUE(Up("eth1"));
  EXPECT_FALSE(Up("spare"));
  EXPECT_EQ(Routes(), before_) << "every route back, none twice";
  std::vector<std::string> addresses;
  auto listed = net_.ListAddresses("eth0");
  for (const netlink::Address& a : *listed) addresses.push_back(a.ToString());
  EXPECT_THAT(addresses, UnorderedElementsAre("192.0.2.2/24 dev eth0", "fd00::2/64 dev eth0"));
  // 192.0.2.0/24 and 203.0.113.0/24 come back with the links; fd00::/64 with its address. Adding
  // them again would fail with EEXIST.
  EXPECT_EQ(net_.operations(), (std::vector<std::string>{
                                   "RTM_NEWLINK eth0 up",
                                   "RTM_NEWADDR fd00::2/64 dev eth0",
                                   "RTM_NEWLINK eth1 up",
                                   "RTM_NEWROUTE 0.0.0.0/0 via 192.0.2.1 dev eth0",
                                   "RTM_NEWROUTE 198.51.100.0/24 via 192.0.2.1 dev eth0 table 100",
                                   "RTM_NEWROUTE ::/0 via fd00::1 dev eth0 metric 1024",
                               }));
  EXPECT_FALSE(FileExists(sys_.record_path));
  net_.ClearOperations();
  EXPECT_TRUE(RestoreFallback(net_, sys_).ok()) << "no record: nothing to do";
  EXPECT_TRUE(net_.operations().empty());
}

TEST_F(FallbackShutTest, ALinkBroughtUpAgainGoesDownAgainAndKeepsItsFirstRecord) {
  ASSERT_TRUE(ShutLinks(net_, sys_.record_path).problems.empty());
  ASSERT_TRUE(net_.SetLinkUp("eth0", true));  // another NET_ADMIN process
  bool reshut = false;
  std::vector<std::string> problems = KeepLinksShut(net_, sys_.record_path, &reshut);
  EXPECT_TRUE(reshut);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "eth0 was brought up from outside and is down again");
  EXPECT_FALSE(Up("eth0"));
  problems = KeepLinksShut(net_, sys_.record_path, &reshut);
  EXPECT_FALSE(reshut);
  EXPECT_TRUE(problems.empty());
  // The default route recorded while eth0 was up the first time survives the second shut.
  ASSERT_TRUE(RestoreFallback(net_, sys_).ok());
  EXPECT_EQ(Routes(), before_);
}

TEST_F(FallbackShutTest, IPv6IsSwitchedBackOnOnlyWhenTheFallbackSwitchedItOff) {
  std::vector<std::string> problems;
  EXPECT_TRUE(SwitchIpv6Off(sys_, &problems));
  EXPECT_EQ(ipv6_off, true);
  EXPECT_TRUE((*LoadFallbackRecord(sys_.record_path))->ipv6_disabled_by_wgate);
  EXPECT_TRUE(SwitchIpv6Off(sys_, &problems)) << "a second daemon's fallback keeps the note";
  EXPECT_TRUE((*LoadFallbackRecord(sys_.record_path))->ipv6_disabled_by_wgate);
  ASSERT_TRUE(RestoreFallback(net_, sys_).ok());
  EXPECT_EQ(ipv6_off, false);
  EXPECT_TRUE(problems.empty());

  ipv6_off = true;  // the user's choice (a compose file's sysctls)
  EXPECT_TRUE(SwitchIpv6Off(sys_, &problems));
  ASSERT_TRUE(RestoreFallback(net_, sys_).ok());
  EXPECT_EQ(ipv6_off, true) << "not the fallback's to switch on";

  ipv6_off = false;
  ipv6_writable = false;  // a container's read-only /proc/sys
  EXPECT_FALSE(SwitchIpv6Off(sys_, &problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("IPv6 stays on"));
  EXPECT_FALSE((*LoadFallbackRecord(sys_.record_path))->ipv6_disabled_by_wgate);
}

TEST_F(FallbackShutTest, ACorruptRecordOpensNothingButTheLinksGoDownAllTheSame) {
  const std::string corrupt = "{\"version\": 1, \"links\": [{\"name\": \"eth0\"";
  dir_.Write("fallback.json", corrupt, 0600);
  ShutOutcome shut = ShutLinks(net_, sys_.record_path);
  EXPECT_THAT(shut.taken_down, UnorderedElementsAre("eth0", "eth1"));
  ASSERT_EQ(shut.problems.size(), 1u);
  EXPECT_THAT(shut.problems[0], HasSubstr(sys_.record_path + ": not a wgate fallback record"));
  EXPECT_THAT(shut.problems[0], HasSubstr("an unblock cannot bring them back"));
  EXPECT_EQ(*ReadFile(sys_.record_path), corrupt) << "left for a human to read";

  net_.ClearOperations();
  Status s = RestoreFallback(net_, sys_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), HasSubstr(sys_.record_path + ": not a wgate fallback record"));
  EXPECT_THAT(s.error().message(),
              HasSubstr("nothing the blackhole fallback shut is brought back"));
  EXPECT_TRUE(net_.operations().empty());
  EXPECT_FALSE(Up("eth0"));
  EXPECT_EQ(*ReadFile(sys_.record_path), corrupt);
}

TEST_F(FallbackShutTest, AFailedRestoreKeepsTheRecordForAnotherUnblock) {
  ASSERT_TRUE(ShutLinks(net_, sys_.record_path).problems.empty());
  // Both rounds of the restore fail to add the default route.
  net_.FailNext("RTM_NEWROUTE 0.0.0.0/0", ENETUNREACH);
  net_.FailNext("RTM_NEWROUTE 0.0.0.0/0", ENETUNREACH);
  Status s = RestoreFallback(net_, sys_);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(),
              HasSubstr("RTM_NEWROUTE 0.0.0.0/0 via 192.0.2.1 dev eth0: Network is unreachable"));
  EXPECT_THAT(s.error().message(), HasSubstr("the record stays in " + sys_.record_path));
  ASSERT_TRUE(FileExists(sys_.record_path));
  ASSERT_TRUE(RestoreFallback(net_, sys_).ok());
  EXPECT_EQ(Routes(), before_);
  EXPECT_FALSE(FileExists(sys_.record_path));
}

}  // namespace
}  // namespace wgate::daemon
