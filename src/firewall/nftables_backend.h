// NftBackend over libnftables (the library the `nft` command is built on): one nft_ctx, output
// and errors captured in memory.
//
// Network namespace: libnftables opens its netfilter socket in nft_ctx_new(), so an
// NftablesBackend acts on the network namespace the creating thread was in, for its whole life,
// whichever thread calls it later.
//
// One socket for the backend's whole life (libnftables 1.0.6 opens it in nft_ctx_new() and
// closes it only in nft_ctx_free()): every transaction comes from the same netlink port, which
// is what lets a table created with `flags owner` be replaced by later Run()s, and the kernel
// deletes such a table when the backend (or the process) goes away. The socket is made
// close-on-exec here (libnftables does not): a hook or any other child must never inherit it,
// since whoever holds it may rewrite or delete the owned table.
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

  // The netlink port id of libnftables' socket: the kernel stamps it on the change events of
  // every transaction this backend commits (NftMonitor ignores them) and records it as the
  // owner of a table created with `flags owner`. 0 if the socket was not found.
  uint32_t portid() const { return portid_; }

 private:
  NftablesBackend(nft_ctx* ctx, uint32_t portid) : ctx_(ctx), portid_(portid) {}
  // Runs one buffer; fills *output with what nft printed. The error is nft's message, with the
  // caret lines dropped and lines joined by " | " so it fits on one log line.
  Status Execute(std::string_view commands, std::string* output);

  nft_ctx* ctx_;
  uint32_t portid_;
};

}  // namespace wgate::firewall
