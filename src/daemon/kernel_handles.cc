#include "daemon/kernel_handles.h"

#include "base/log.h"
#include "base/strings.h"

namespace wgate::daemon {

Result<std::unique_ptr<KernelHandles>> OpenKernel(bool without_nftables,
                                                  firewall::FirewallOptions firewall_options) {
  auto handles = std::make_unique<KernelHandles>();
  auto backend =
      without_nftables
          ? Result<std::unique_ptr<firewall::NftablesBackend>>(Error("disabled for a test"))
          : firewall::NftablesBackend::Create();
  if (backend.ok()) {
    handles->nft = std::move(*backend);
    handles->firewall.emplace(*handles->nft, firewall_options);
    auto events = firewall::NftMonitor::Open(
        {std::string(firewall::kTable), std::string(firewall::kOwnedTable)},
        handles->nft->portid());
    if (events.ok()) {
      handles->nft_events = std::move(*events);
    } else {
      handles->nft_events_problem = events.error().message();
      LogWarn("cannot watch nftables events (changes are found by the periodic check only): " +
              handles->nft_events_problem);
    }
  } else {
    LogError("nftables unavailable: " + backend.error().message());
  }
  auto net = netlink::KernelRouteNetlink::Create();
  if (!net.ok()) {
    Error e("netlink: " + net.error().message());
    if (!handles->firewall) return e;
    Status s = handles->firewall->Apply(firewall::RulesetSpec{});
    return s.ok() ? e.Wrap("locked down; cannot go further") : s.error();
  }
  handles->net = std::move(*net);
  return handles;
}

std::vector<std::string> KernelHandles::Protections() const {
  std::vector<std::string> out;
  if (!firewall) return out;
  if (std::string s = firewall->ownership_summary(); !s.empty()) out.push_back(std::move(s));
  out.push_back(nft_events ? "nftables events: watched (a change to wgate's tables is checked "
                             "and undone at once)"
                           : StrCat("nftables events: not watched (", nft_events_problem,
                                    "); changes are found by the periodic check"));
  return out;
}

int NftEventsFd(const KernelHandles& k) { return k.nft_events ? k.nft_events->fd() : -1; }

bool NftTablesChanged(KernelHandles& k) {
  if (!k.nft_events) return false;
  Result<firewall::NftChanges> changes = k.nft_events->Read();
  if (!changes.ok()) {
    LogError(changes.error().message() + "; changes are found by the periodic check only");
    k.nft_events_problem = changes.error().message();
    k.nft_events.reset();
    return true;  // look once more, to be sure
  }
  if (!changes->changed) return false;
  LogInfo(StrCat("nftables: another process changed wgate's tables (",
                 Join(changes->descriptions, ", "), "); checking now"));
  return true;
}

GatewayStatus WithProtections(GatewayStatus status, const KernelHandles& k) {
  std::vector<std::string> all = k.Protections();
  all.insert(all.end(), status.protections.begin(), status.protections.end());
  status.protections = std::move(all);
  return status;
}

}  // namespace wgate::daemon
