// EndpointResolver over c-ares, whose sockets carry wgate's firewall mark (SO_MARK), so that the
// lockdown's DNS hole lets exactly these queries out and nothing else.
#pragma once

#include <chrono>

#include "daemon/gateway.h"

namespace wgate::daemon {

class MarkedResolver final : public EndpointResolver {
 public:
  // `port` is 53 except in tests (a stub server on loopback).
  explicit MarkedResolver(uint16_t port = 53,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : port_(port), timeout_(timeout) {}

  // A and AAAA addresses of `host`. Errors quote the host and c-ares' reason.
  Result<std::vector<IpAddress>> Resolve(const std::string& host,
                                         const std::vector<IpAddress>& resolvers,
                                         uint32_t fwmark) override;

 private:
  uint16_t port_;
  std::chrono::milliseconds timeout_;
};

}  // namespace wgate::daemon
