// The kernel probes for real: the netdev egress hook on a veth, and wgate's own cgroup v2 found
// by the level probe. The cgroup cases run in a forked child with a private mount namespace that
// mounts cgroup2 at /sys/fs/cgroup (this machine's hybrid layout does not), and move only that
// child into cgroups the test makes and removes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "base/strings.h"
#include "firewall/kernel_probe.h"
#include "firewall/nftables_backend.h"
#include "netns_harness.h"

namespace wgate::firewall {
namespace {

class KernelProbeNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = netns::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    auto gw = netns::Namespace::Create("probe");
    ASSERT_TRUE(gw.ok()) << gw.error().message();
    gw_ = std::move(*gw);
    auto far = netns::Namespace::Create("pfar");
    ASSERT_TRUE(far.ok()) << far.error().message();
    far_ = std::move(*far);
    ASSERT_TRUE(netns::AddVeth(*gw_, "up0", *far_, "far0").ok());
  }

  // Runs `fn` in a forked child that joined the gateway namespace, with cgroup2 mounted at
  // /sys/fs/cgroup in a private mount namespace, after moving the child into `cgroup` (relative
  // to the hierarchy's root; "" stays in the root). Returns what fn returned, or the failure.
  // With `cgroupns`, the child then enters a cgroup namespace of its own and mounts cgroup2 again,
  // as a container sees it: its cgroup as "/" at an unknown depth.
  std::string InChild(const std::string& cgroup, const std::function<std::string(NftBackend&)>& fn,
                      bool cgroupns = false) {
    int p[2];
    if (pipe(p) != 0) return "pipe failed";
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      auto reply = [&](const std::string& s) {
        (void)!write(p[1], s.data(), s.size());
        _exit(0);
      };
      if (unshare(CLONE_NEWNS) != 0) reply("unshare failed");
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) reply("mount private");
      if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0) reply("mount cgroup2");
      std::string made;
      for (std::string_view part : SplitTrimmed(cgroup, '/')) {
        if (part.empty()) continue;
        made += "/" + std::string(part);
        mkdir(("/sys/fs/cgroup" + made).c_str(), 0755);
        created_.push_back(made);
      }
      if (!made.empty()) {
        std::ofstream procs("/sys/fs/cgroup" + made + "/cgroup.procs");
        procs << getpid() << "\n";
        procs.close();
        if (!procs) reply("cannot join " + made);
      }
      if (cgroupns) {
        if (unshare(CLONE_NEWCGROUP) != 0) reply("unshare(CLONE_NEWCGROUP) failed");
        if (umount2("/sys/fs/cgroup", MNT_DETACH) != 0) reply("umount failed");
        if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr) != 0) reply("remount cgroup2");
      }
      int ns = open(("/run/netns/" + gw_->name()).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) reply("setns failed");
      auto nft = NftablesBackend::Create();
      if (!nft.ok()) reply(nft.error().message());
      std::string out = fn(**nft);
      // Back to the root, so that the test can remove the cgroups.
      if (cgroupns) {
        umount2("/sys/fs/cgroup", MNT_DETACH);
        mount("none", "/sys/fs/cgroup", "cgroup2", 0, nullptr);  // still this namespace's root
      }
      std::ofstream root("/sys/fs/cgroup/cgroup.procs");
      root << getpid() << "\n";
      root.close();
      for (auto it = created_.rbegin(); it != created_.rend(); ++it)
        rmdir(("/sys/fs/cgroup" + *it).c_str());
      reply(out);
    }
    close(p[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return out;
  }

  std::unique_ptr<netns::Namespace> gw_, far_;
  std::vector<std::string> created_;
};

std::string Describe(const Result<OwnCgroup>& r) {
  if (!r.ok()) return "error: " + r.error().message();
  return StrCat("level ", r->level, " path ", r->path);
}

TEST_F(KernelProbeNetnsTest, EgressHookIsAvailableOnARealDeviceAndLeavesNothingBehind) {
  Status probed = Error("not run");
  std::optional<std::string> tables;
  ASSERT_TRUE(gw_->Run([&] {
                   auto nft = NftablesBackend::Create();
                   ASSERT_TRUE(nft.ok());
                   probed = ProbeEgressHook(**nft, "up0");
                   auto listed = (*nft)->ListTable("netdev wgate_probe");
                   ASSERT_TRUE(listed.ok());
                   tables = *listed;
                 })
                  .ok());
  EXPECT_TRUE(probed.ok()) << probed.error().message();
  EXPECT_FALSE(tables.has_value()) << "the probe table stayed: " << *tables;
}

TEST_F(KernelProbeNetnsTest, FindsItsOwnCgroupAndItsLevel) {
  const std::string base = netns::RunPrefix() + "cg";
  EXPECT_EQ(InChild(base, [](NftBackend& nft) { return Describe(ProbeOwnCgroup(nft)); }),
            "level 1 path " + base);
  EXPECT_EQ(
      InChild(base + "/engine", [](NftBackend& nft) { return Describe(ProbeOwnCgroup(nft)); }),
      "level 2 path " + base + "/engine");
}

TEST_F(KernelProbeNetnsTest, FindsTheLevelInsideACgroupNamespaceWhereThePathIsTheRoot) {
  const std::string base = netns::RunPrefix() + "cg";
  EXPECT_EQ(InChild(
                base + "/engine", [](NftBackend& nft) { return Describe(ProbeOwnCgroup(nft)); },
                /*cgroupns=*/true),
            "level 0 path /");  // Linux 6.12+: relative to the namespace's root (6.18 here)
}

TEST_F(KernelProbeNetnsTest, RefusesTheRootCgroupEveryProcessShares) {
  std::string got = InChild("", [](NftBackend& nft) { return Describe(ProbeOwnCgroup(nft)); });
  EXPECT_NE(got.find("error: wgate runs in the root of the cgroup v2 hierarchy"), std::string::npos)
      << got;
}

TEST_F(KernelProbeNetnsTest, TheProbeTableIsGoneAfterwards) {
  const std::string base = netns::RunPrefix() + "cg";
  std::string got = InChild(base, [](NftBackend& nft) {
    (void)ProbeOwnCgroup(nft);
    auto listed = nft.ListTable("inet wgate_probe");
    if (!listed.ok()) return "list failed: " + listed.error().message();
    return std::string(listed->has_value() ? "table stayed" : "gone");
  });
  EXPECT_EQ(got, "gone");
}

}  // namespace
}  // namespace wgate::firewall
