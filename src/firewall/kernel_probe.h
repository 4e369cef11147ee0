// What this kernel, and this process's place in it, let wgate enforce beyond its inet ruleset:
// the protections against consumers that keep CAP_NET_RAW (Docker's default). With NET_RAW a
// consumer can set any socket mark (so the engine's hole cannot rest on the mark alone) and write
// raw frames that no IP hook sees. Two kernel features close those:
//  - `socket cgroupv2`: the engine's hole also requires the packet's socket to belong to wgate's
//    own cgroup v2 (a consumer in another container cannot move into it: the cgroup filesystem is
//    read-only in containers). Needs the cgroup v2 hierarchy at /sys/fs/cgroup and wgate in a
//    cgroup of its own (not the hierarchy's root, which every process shares).
//  - a netdev `egress` chain on the uplink (Linux 5.16+): frames leave the device only if wgate's
//    inet postrouting check passed them (it stamps them with a secret mark), ARP aside; raw frames
//    from packet sockets, PACKET_QDISC_BYPASS included, never passed it.
// Each probe says why a protection is unavailable, for `wgate status`.
//
// Thread-safety: none; call from the thread that owns the backend, in the gateway's namespace.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "firewall/nft_backend.h"
#include "firewall/ruleset.h"  // OwnCgroup

namespace wgate::firewall {

// Where the cgroup v2 hierarchy is expected (nft resolves the path under it).
inline constexpr char kCgroupMount[] = "/sys/fs/cgroup";

// The cgroup path of the calling process from /proc/self/cgroup text ("0::/system.slice/x\n"
// among v1 lines): the "0::" line's path, or an error quoting the text when there is none.
Result<std::string> ParseCgroupV2Path(std::string_view proc_self_cgroup);

// Finds wgate's own cgroup and its level. The level is probed for real: a throwaway table in
// `nft` drops this process's marked datagram to 127.0.0.1:9 only when `socket cgroupv2 level L`
// matches, for L = 0..kMaxCgroupLevel (since Linux 6.12 the level counts from the root of the
// rule installer's cgroup namespace, where a container's own cgroup is "/" at level 0; before, from
// the hierarchy's root). Fails (saying why) when cgroup v2 is not mounted at
// `mount`, when the process sits in the hierarchy's root, or when no level matched.
inline constexpr int kMaxCgroupLevel = 12;
Result<OwnCgroup> ProbeOwnCgroup(NftBackend& nft, const std::string& mount = kCgroupMount,
                                 const std::string& proc_self_cgroup = "/proc/self/cgroup");

// Whether a netdev egress chain can be hooked on `device`: one transaction adds a throwaway
// netdev table with such a chain and deletes it again, so nothing stays. The error is the
// kernel's (an old kernel: "Operation not supported").
Status ProbeEgressHook(NftBackend& nft, std::string_view device);

}  // namespace wgate::firewall
