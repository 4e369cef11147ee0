// The protections against consumers with CAP_NET_RAW (Docker's default) that this kernel and
// this container allow (firewall/kernel_probe.h), probed once behind the lockdown, and how
// `wgate status` reports each: active, or unavailable and why. Nothing is pretended: a protection
// the kernel lacks is listed as missing.
//
// Thread-safety: none; the daemon's main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firewall/nft_backend.h"
#include "firewall/ruleset.h"

namespace wgate::daemon {

// One line of `wgate status`: "engine socket cgroup: active (level 2 \"system.slice/x\")".
struct Protection {
  std::string name;
  bool active = false;
  std::string detail;  // what is in force, or why it is not
  std::string ToString() const;
};

inline constexpr char kCgroupProtection[] = "engine socket cgroup";
inline constexpr char kEgressProtection[] = "uplink egress filter";

class NetRawProtections {
 public:
  // Probes both in the calling thread's namespace; `uplink` is the device the egress hook is
  // tried on ("" when none was found: the filter is then unavailable). The egress stamp is drawn
  // from the CSPRNG here, once per process.
  static NetRawProtections Probe(firewall::NftBackend& nft, const std::string& uplink);
  // For tests: what a probe would have found ("" reasons: available).
  NetRawProtections(std::optional<firewall::OwnCgroup> cgroup, std::string cgroup_why,
                    bool egress_supported, std::string egress_why, uint32_t stamp);

  // Fills the spec's optional protections (RulesetSpec::engine_cgroup, ::egress on `uplink`;
  // no egress filter when `uplink` is empty).
  void AddTo(firewall::RulesetSpec* spec, const std::string& uplink);
  // Drops the egress filter (e.g. the kernel refused it on a new uplink), keeping the reason.
  void DisableEgress(const std::string& why);

  std::vector<Protection> Describe() const;

 private:
  std::optional<firewall::OwnCgroup> cgroup_;
  std::string cgroup_why_;
  bool egress_supported_ = false;
  std::string egress_device_;  // of the last AddTo
  std::string egress_why_;
  uint32_t stamp_ = 0;
};

}  // namespace wgate::daemon
