#include "daemon/protections.h"

#include <gtest/gtest.h>

namespace wgate::daemon {
namespace {

firewall::RulesetSpec Connected() {
  firewall::RulesetSpec spec;
  spec.mode = firewall::Mode::kConnected;
  spec.fwmark = 51820;
  return spec;
}

TEST(NetRawProtections, ActiveOnesGoIntoTheSpecAndShowWhatIsInForce) {
  NetRawProtections p(firewall::OwnCgroup{"system.slice/docker-1.scope", 2}, "", true, "",
                      0x5ec12e7);
  firewall::RulesetSpec spec = Connected();
  p.AddTo(&spec, "eth0");
  ASSERT_TRUE(spec.engine_cgroup);
  EXPECT_EQ(spec.engine_cgroup->level, 2);
  ASSERT_TRUE(spec.egress);
  EXPECT_EQ(spec.egress->device, "eth0");
  EXPECT_EQ(spec.egress->stamp, 0x5ec12e7u);
  std::vector<Protection> d = p.Describe();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].ToString(),
            "engine socket cgroup: active (level 2 \"system.slice/docker-1.scope\")");
  EXPECT_EQ(d[1].ToString(), "uplink egress filter: active (on eth0)");
}

TEST(NetRawProtections, MissingOnesAreReportedWithTheirReasonAndLeaveTheSpecAlone) {
  NetRawProtections p(std::nullopt, "cgroup v2 is not mounted at /sys/fs/cgroup", false,
                      "no uplink found at start", 0x5ec12e7);
  firewall::RulesetSpec spec = Connected();
  spec.egress = firewall::EgressFilter{"stale0", 1};
  p.AddTo(&spec, "eth0");
  EXPECT_FALSE(spec.engine_cgroup);
  EXPECT_FALSE(spec.egress) << "a filter the probe did not find is not applied";
  std::vector<Protection> d = p.Describe();
  EXPECT_EQ(d[0].ToString(),
            "engine socket cgroup: unavailable (cgroup v2 is not mounted at /sys/fs/cgroup)");
  EXPECT_EQ(d[1].ToString(), "uplink egress filter: unavailable (no uplink found at start)");
}

TEST(NetRawProtections, DisablingTheEgressFilterSaysWhy) {
  NetRawProtections p(std::nullopt, "x", true, "", 0x5ec12e7);
  p.DisableEgress("the kernel refused it: Operation not supported");
  firewall::RulesetSpec spec = Connected();
  p.AddTo(&spec, "eth0");
  EXPECT_FALSE(spec.egress);
  EXPECT_EQ(p.Describe()[1].ToString(),
            "uplink egress filter: unavailable (the kernel refused it: Operation not supported)");
}

TEST(NetRawProtections, TheFilterFollowsTheUplinkItIsGiven) {
  NetRawProtections p(std::nullopt, "x", true, "", 0x5ec12e7);
  firewall::RulesetSpec spec = Connected();
  p.AddTo(&spec, "eth1");
  ASSERT_TRUE(spec.egress);
  EXPECT_EQ(spec.egress->device, "eth1");
  p.AddTo(&spec, "");
  EXPECT_FALSE(spec.egress);
  EXPECT_EQ(p.Describe()[1].ToString(), "uplink egress filter: unavailable (no uplink found)");
}

}  // namespace
}  // namespace wgate::daemon
