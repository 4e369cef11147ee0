#include "daemon/kernel_handles.h"

#include "base/log.h"

namespace wgate::daemon {

Result<std::unique_ptr<KernelHandles>> OpenKernel(bool without_nftables) {
  auto handles = std::make_unique<KernelHandles>();
  auto backend =
      without_nftables
          ? Result<std::unique_ptr<firewall::NftablesBackend>>(Error("disabled for a test"))
          : firewall::NftablesBackend::Create();
  if (backend.ok()) {
    handles->nft = std::move(*backend);
    handles->firewall.emplace(*handles->nft);
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

}  // namespace wgate::daemon
