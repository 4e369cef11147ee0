// The kernel side of the firewall behind a small interface, so that the applier and the verifier
// are tested without root (fake_nft_backend.h) and for real in network namespaces
// (nftables_backend.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace wgate::firewall {

class NftBackend {
 public:
  virtual ~NftBackend() = default;

  // Runs an nft script (the language of `nft -f`) as ONE kernel transaction: on error nothing of
  // it is applied. The error quotes nft's own message.
  virtual Status Run(std::string_view script) = 0;

  // The text of `nft list table <table>` ("inet wgate"), counters and quotas without their
  // values, sets without their elements (both change with traffic); nullopt when the table does
  // not exist. An error only when the listing itself failed.
  virtual Result<std::optional<std::string>> ListTable(std::string_view table) = 0;
};

}  // namespace wgate::firewall
