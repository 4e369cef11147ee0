#include "firewall/kernel_probe.h"

#include <gtest/gtest.h>

#include "base/temp_dir.h"
#include "firewall/fake_nft_backend.h"

namespace wgate::firewall {
namespace {

TEST(ParseCgroupV2Path, TakesTheUnifiedLineAmongV1Lines) {
  auto p = ParseCgroupV2Path("4:memory:/docker/abc\n0::/system.slice/docker-abc.scope\n");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(*p, "/system.slice/docker-abc.scope");
}

TEST(ParseCgroupV2Path, InsideACgroupNamespaceThePathIsTheRoot) {
  auto p = ParseCgroupV2Path("0::/\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "/");
}

TEST(ParseCgroupV2Path, QuotesTheTextWithoutAUnifiedLine) {
  auto p = ParseCgroupV2Path("9:name=systemd:/\n4:memory:/x\n");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("\"9:name=systemd:/ 4:memory:/x \""), std::string::npos)
      << p.error().message();
}

TEST(ValidateCgroupPath, AcceptsWhatContainerEnginesName) {
  for (const char* ok : {"/", "/system.slice/docker-0123abcd.scope",
                         "/kubepods.slice/kubepods-burstable-pod1_2.slice/cri-containerd:x",
                         "/user.slice/user-0.slice/session-3.scope", "/machine.slice/libpod@x"}) {
    EXPECT_TRUE(ValidateCgroupPath(ok).ok()) << ok;
  }
}

TEST(ValidateCgroupPath, RefusesWhatCouldBreakOutOfTheNftString) {
  for (const char* bad : {"", "/a\"b", "/a b", "/a\nb", "/a;b", "/../etc", "/a/$(x)"}) {
    Status s = ValidateCgroupPath(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
}

TEST(ProbeOwnCgroup, SaysWhenCgroupV2IsNotMounted) {
  TempDir dir;
  FakeNftBackend nft;
  auto r = ProbeOwnCgroup(nft, dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("cgroup v2 is not mounted at " + dir.path()),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(nft.scripts().empty()) << "nothing may reach nft without cgroup v2";
}

TEST(ProbeEgressHook, RefusesABadDeviceNameBeforeNft) {
  FakeNftBackend nft;
  Status s = ProbeEgressHook(nft, "eth0\"; flush ruleset");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(nft.scripts().empty());
}

TEST(ProbeEgressHook, AddsAndDeletesTheThrowawayTableInOneTransaction) {
  FakeNftBackend nft;
  (void)ProbeEgressHook(nft, "eth0");  // the fake does not run netdev scripts; the text counts
  ASSERT_EQ(nft.scripts().size(), 1u);
  const std::string& script = nft.scripts()[0];
  EXPECT_NE(script.find("type filter hook egress device \"eth0\""), std::string::npos) << script;
  EXPECT_EQ(script.substr(script.rfind("delete table")), "delete table netdev wgate_probe\n");
}

}  // namespace
}  // namespace wgate::firewall
