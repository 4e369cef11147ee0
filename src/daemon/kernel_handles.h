// The daemons' handles on the kernel of their network namespace: nftables and rtnetlink, opened
// the same way by `wgate run` and `wgate hold` before anything else happens.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/status.h"
#include "firewall/firewall.h"
#include "firewall/nft_monitor.h"
#include "firewall/nftables_backend.h"
#include "netlink/kernel_route_netlink.h"

namespace wgate::daemon {

struct KernelHandles {
  std::unique_ptr<firewall::NftablesBackend> nft;  // null: nftables unusable
  std::optional<firewall::Firewall> firewall;      // over *nft, when there is one
  std::unique_ptr<netlink::KernelRouteNetlink> net;
  // Change events of wgate's tables made by other processes (the firewall's own transactions
  // are filtered out), for the daemon's loop: null when they cannot be watched.
  std::unique_ptr<firewall::NftMonitor> nft_events;
  std::string nft_events_problem;  // why nft_events is null

  firewall::Firewall* firewall_or_null() { return firewall ? &*firewall : nullptr; }
  // For GatewayStatus::protections: table ownership and the event watch, as in force now.
  std::vector<std::string> Protections() const;
};

// For the daemons' loops: the monitor's fd (-1 without one, which poll() ignores), and whether
// what it has queued says wgate's tables changed (logged with what changed).
int NftEventsFd(const KernelHandles& k);
bool NftTablesChanged(KernelHandles& k);
// `status` with k.Protections() filled in.
GatewayStatus WithProtections(GatewayStatus status, const KernelHandles& k);

// Opens both (nftables only if !without_nftables: a test of the blackhole fallback), the
// firewall with `firewall_options`, and the nftables event monitor. Without rtnetlink there is
// no gateway or holder, but the lockdown still goes in before the error is returned (the daemon
// then exits 3).
Result<std::unique_ptr<KernelHandles>> OpenKernel(bool without_nftables,
                                                  firewall::FirewallOptions firewall_options = {});

}  // namespace wgate::daemon
