// NftBackend over libnftables (the library the `nft` command is built on): one nft_ctx, output
// and errors captured in memory.
//
// Network namespace: libnftables opens its netfilter socket in nft_ctx_new(), so an
// NftablesBackend acts on the network namespace the creating thread was in, for its whole life,
// whichever thread calls it later.
//
// Thread-safety: none. libnftables keeps process-wide state (its one-time init, an interface
// cache), so use one NftablesBackend from one thread at a time.
//
// Failure modes, the signal for the caller's fallback (blackhole routes): Create() fails when
// the kernel has no netfilter netlink at all (probed first, because libnftables 1.0.x would call
// exit()); Run() fails without permission (no CAP_NET_ADMIN) or without nf_tables support. The
// lockdown script is fixed and valid, so a failure to apply it means nftables is unusable here.
#pragma once

#include <memory>

#include "firewall/nft_backend.h"

struct nft_ctx;

namespace wgate::firewall {

class NftablesBackend final : public NftBackend {
 public:
  static Result<std::unique_ptr<NftablesBackend>> Create();
  ~NftablesBackend() override;
  NftablesBackend(const NftablesBackend&) = delete;
  NftablesBackend& operator=(const NftablesBackend&) = delete;

  Status Run(std::string_view script) override;
  Result<std::optional<std::string>> ListTable(std::string_view table) override;

 private:
  explicit NftablesBackend(nft_ctx* ctx) : ctx_(ctx) {}
  // Runs one buffer; fills *output with what nft printed. The error is nft's message, with the
  // caret lines dropped and lines joined by " | " so it fits on one log line.
  Status Execute(std::string_view commands, std::string* output);

  nft_ctx* ctx_;
};

}  // namespace wgate::firewall
