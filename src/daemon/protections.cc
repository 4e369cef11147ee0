#include "daemon/protections.h"

#include "base/strings.h"
#include "crypto/random.h"
#include "firewall/kernel_probe.h"

namespace wgate::daemon {

std::string Protection::ToString() const {
  return StrCat(name, ": ", active ? "active" : "unavailable", detail.empty() ? "" : " (", detail,
                detail.empty() ? "" : ")");
}

NetRawProtections::NetRawProtections(std::optional<firewall::OwnCgroup> cgroup,
                                     std::string cgroup_why, bool egress_supported,
                                     std::string egress_why, uint32_t stamp)
    : cgroup_(std::move(cgroup)),
      cgroup_why_(std::move(cgroup_why)),
      egress_supported_(egress_supported),
      egress_why_(std::move(egress_why)),
      stamp_(stamp) {}

NetRawProtections NetRawProtections::Probe(firewall::NftBackend& nft, const std::string& uplink) {
  std::optional<firewall::OwnCgroup> cgroup;
  std::string cgroup_why;
  if (auto found = firewall::ProbeOwnCgroup(nft); found.ok()) {
    cgroup = *found;
  } else {
    cgroup_why = found.error().message();
  }
  std::string egress_why;
  if (uplink.empty()) {
    egress_why = "no uplink found at start";
  } else if (Status s = firewall::ProbeEgressHook(nft, uplink); !s.ok()) {
    egress_why = "the kernel has no netdev egress hook (Linux 5.16+): " + s.error().message();
  }
  // Unguessable, non-zero, and never a mark wgate gives its sockets or connections.
  uint32_t stamp = 0;
  while (stamp == 0 || (stamp & 0x80000000u) || stamp <= 0xffff) stamp = crypto::RandomU32();
  const bool supported = egress_why.empty();
  return NetRawProtections(std::move(cgroup), std::move(cgroup_why), supported,
                           std::move(egress_why), stamp);
}

void NetRawProtections::AddTo(firewall::RulesetSpec* spec, const std::string& uplink) {
  spec->engine_cgroup = cgroup_;
  spec->egress.reset();
  egress_device_.clear();
  if (!egress_supported_) return;
  if (uplink.empty()) {
    egress_why_ = "no uplink found";
    return;
  }
  egress_why_.clear();
  egress_device_ = uplink;
  spec->egress = firewall::EgressFilter{uplink, stamp_};
}

void NetRawProtections::DisableEgress(const std::string& why) {
  egress_supported_ = false;
  egress_device_.clear();
  egress_why_ = why;
}

std::vector<Protection> NetRawProtections::Describe() const {
  std::vector<Protection> out;
  out.push_back(cgroup_ ? Protection{kCgroupProtection, true,
                                     StrCat("level ", cgroup_->level, " \"", cgroup_->path, "\"")}
                        : Protection{kCgroupProtection, false, cgroup_why_});
  out.push_back(!egress_device_.empty()
                    ? Protection{kEgressProtection, true, "on " + egress_device_}
                    : Protection{kEgressProtection, false, egress_why_});
  return out;
}

}  // namespace wgate::daemon
