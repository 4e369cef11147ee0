// EndpointResolver over c-ares, whose sockets carry wgate's firewall mark (SO_MARK), so that the
// lockdown's DNS hole lets exactly these queries out and nothing else.
//
// Hermetic (issue 9): consumers share the gateway's /etc/hosts and /etc/resolv.conf and may write
// them, so nothing a consumer controls steers the lookup. It asks DNS only, never the hosts file;
// it queries the absolute name as written, with no search list, domain or ndots; it reads no
// resolv.conf (c-ares is pointed at /dev/null), no sortlist, no LOCALDOMAIN, RES_OPTIONS or
// HOSTALIASES; the servers are only the `resolvers` passed in (the gateway's snapshot taken at
// lockdown). The answer is checked: only A and AAAA records count, an address that cannot be a
// VPN server (unspecified, loopback, link-local, multicast, broadcast, IPv4-mapped) refuses the
// whole answer, and at most kMaxEndpointAddresses addresses are kept.
//
// Thread-safety: Resolve() may run on any one thread at a time.
#pragma once

#include <chrono>
#include <string_view>

#include "daemon/gateway.h"

namespace wgate::daemon {

inline constexpr size_t kMaxEndpointAddresses = 8;

// Ok when `host` is a DNS host name (letters, digits, hyphens; labels of 1-63 characters that
// neither start nor end with a hyphen; at most 253 characters; one trailing dot allowed). The
// error quotes the name and says what is wrong with it.
Status ValidateHostName(std::string_view host);

// Ok when `address` may be the endpoint `host` resolved to; the error quotes both.
Status CheckEndpointAddress(std::string_view host, const IpAddress& address);

class MarkedResolver final : public EndpointResolver {
 public:
  // `port` is 53 except in tests (a stub server on loopback).
  explicit MarkedResolver(uint16_t port = 53,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : port_(port), timeout_(timeout) {}

  // A and AAAA addresses of `host` (at most kMaxEndpointAddresses, in the answer's order).
  // Errors quote the host and c-ares' reason or the refused address.
  Result<std::vector<IpAddress>> Resolve(const std::string& host,
                                         const std::vector<IpAddress>& resolvers,
                                         uint32_t fwmark) override;

 private:
  uint16_t port_;
  std::chrono::milliseconds timeout_;
};

}  // namespace wgate::daemon
