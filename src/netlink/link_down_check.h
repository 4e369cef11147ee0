// A behaviour of the kernel that the blackhole fallback's restore depends on
// (daemon/fallback_record.h), checked against both the fake (fake_route_netlink_test.cc) and the
// kernel (netlink_netns_test.cc) so the two cannot drift apart: a link that goes down loses every
// route through it and its IPv6 addresses, keeps its IPv4 ones, and coming up re-creates only the
// on-link routes of those. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "netlink/route_netlink.h"
#include "netlink/test_values.h"

namespace wgate::netlink::test_values {

// `dev` must be up, with no addresses, in a namespace with no other route to 0.0.0.0/0 metric 10.
inline void CheckLinkDownDropsRoutesAndIpv6Addresses(RouteNetlink& nl, const std::string& dev) {
  ASSERT_TRUE(nl.AddAddress(dev, P("192.0.2.2/24")));
  ASSERT_TRUE(nl.AddAddress(dev, P("fd00:1::2/64")));
  Route def = DevRoute("0.0.0.0/0", dev);
  def.gateway = A("192.0.2.1");
  def.metric = 10;
  ASSERT_TRUE(nl.AddRoute(def));
  ASSERT_TRUE(nl.AddRoute(DevRoute("198.51.100.0/24", dev, 100)));
  const IpPrefix link_local = P("fe80::/10");  // the kernel's own, not modelled by the fake
  auto through = [&](IpAddress::Family family) {
    std::vector<std::string> out;
    Result<std::vector<Route>> routes = nl.ListRoutes(family, 0);
    EXPECT_TRUE(routes);
    for (const Route& r : *routes) {
      if (r.dev == dev && r.table != kTableLocal && r.type == RouteType::kUnicast &&
          !link_local.Contains(r.dst.addr)) {
        out.push_back(r.ToString());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto addresses = [&] {
    std::vector<std::string> out;
    Result<std::vector<Address>> listed = nl.ListAddresses(dev);
    EXPECT_TRUE(listed);
    for (const Address& a : *listed) {
      if (!link_local.Contains(a.prefix.addr)) out.push_back(a.prefix.ToString());
    }
    return out;
  };
  ASSERT_TRUE(nl.SetLinkUp(dev, false));
  EXPECT_TRUE(through(IpAddress::Family::kV4).empty());
  EXPECT_TRUE(through(IpAddress::Family::kV6).empty());
  EXPECT_EQ(addresses(), std::vector<std::string>{"192.0.2.2/24"})
      << "a down link keeps its IPv4 addresses and loses its IPv6 ones";
  ASSERT_TRUE(nl.SetLinkUp(dev, true));
  EXPECT_EQ(through(IpAddress::Family::kV4),
            std::vector<std::string>{"192.0.2.0/24 dev " + dev + " src 192.0.2.2"})
      << "coming up re-creates only the on-link routes of the addresses it kept";
  EXPECT_TRUE(through(IpAddress::Family::kV6).empty());
}

}  // namespace wgate::netlink::test_values
