// The daemons' handles on the kernel of their network namespace: nftables and rtnetlink, opened
// the same way by `wgate run` and `wgate hold` before anything else happens.
#pragma once

#include <memory>
#include <optional>

#include "firewall/firewall.h"
#include "firewall/nftables_backend.h"
#include "netlink/kernel_route_netlink.h"

namespace wgate::daemon {

struct KernelHandles {
  std::unique_ptr<firewall::NftablesBackend> nft;  // null: nftables unusable
  std::optional<firewall::Firewall> firewall;      // over *nft, when there is one
  std::unique_ptr<netlink::KernelRouteNetlink> net;

  firewall::Firewall* firewall_or_null() { return firewall ? &*firewall : nullptr; }
};

// Opens both (nftables only if !without_nftables: a test of the blackhole fallback). Without
// rtnetlink there is no gateway or holder, but the lockdown still goes in before the error is
// returned (the daemon then exits 3).
Result<std::unique_ptr<KernelHandles>> OpenKernel(bool without_nftables);

}  // namespace wgate::daemon
