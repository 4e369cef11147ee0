// Short literals for netlink tests: P("192.0.2.0/24"), A("fd00::1"), DevRoute("0.0.0.0/0", "wg0").
// Test-only; a bad literal aborts.
#pragma once

#include <optional>
#include <string_view>

#include "base/error.h"
#include "base/ip.h"
#include "netlink/types.h"

namespace wgate::netlink::test_values {

inline IpPrefix P(std::string_view text) {
  std::optional<IpPrefix> p = IpPrefix::Parse(text);
  WGATE_CHECK(p.has_value());
  return *p;
}

inline IpAddress A(std::string_view text) { return P(text).addr; }

// A unicast route to `dst` out of `dev`.
inline Route DevRoute(std::string_view dst, std::string_view dev, uint32_t table = kTableMain) {
  Route r;
  r.dst = P(dst);
  r.dev = dev;
  r.table = table;
  return r;
}

}  // namespace wgate::netlink::test_values
