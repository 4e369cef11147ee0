// Configs in the shapes the big providers hand out parse into the right values. The expected
// public keys were derived from the private keys by `wg pubkey` (wireguard-tools).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/wg_quick_parser.h"

namespace wgate::config {
namespace {

WgConfig Load(const std::string& name) {
  std::ifstream in(std::string(WGATE_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ParseResult r = ParseWgQuick(ss.str(), name);
  for (const Diagnostic& d : r.diagnostics.all()) ADD_FAILURE() << d.ToString();
  EXPECT_TRUE(r.config.has_value()) << name;
  return r.config ? *r.config : WgConfig{};
}

std::string Join(const std::vector<IpPrefix>& v) {
  std::string out;
  for (const auto& p : v) {
    if (!out.empty()) out += ',';  // not `("" or ",") + str`: GCC 12 -Wrestrict false positive
    out += p.ToString();
  }
  return out;
}

TEST(ProviderConfigsTest, Mullvad) {
  WgConfig c = Load("mullvad.conf");
  EXPECT_EQ(c.interface.private_key.DerivePublic().ToBase64(),
            "94rehC6DqxbyU+X8msmySDYWy3w8w5AUz8goj+jfnwQ=");
  EXPECT_EQ(Join(c.interface.addresses), "10.64.114.74/32");
  ASSERT_EQ(c.interface.dns_servers.size(), 1u);
  EXPECT_EQ(c.interface.dns_servers[0].ToString(), "10.64.0.1");
  EXPECT_FALSE(c.interface.mtu);
  EXPECT_FALSE(c.interface.listen_port);
  EXPECT_EQ(c.interface.fwmark, 0u);
  EXPECT_EQ(c.interface.table.kind, RoutingTable::Kind::kAuto);
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].public_key.ToBase64(), "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=");
  EXPECT_EQ(Join(c.peers[0].allowed_ips), "0.0.0.0/0");
  EXPECT_EQ(c.peers[0].endpoint->ToString(), "198.51.100.178:51820");
  EXPECT_EQ(c.peers[0].persistent_keepalive, 0);
  EXPECT_FALSE(c.peers[0].preshared_key);
  EXPECT_EQ(c.peers[0].line, 6);
}

TEST(ProviderConfigsTest, MullvadWithKillSwitchHooks) {
  WgConfig c = Load("mullvad_killswitch.conf");
  EXPECT_EQ(Join(c.interface.addresses), "10.64.23.84/32,fc00:bbbb:bbbb:bb01::1:1753/128");
  ASSERT_EQ(c.interface.post_up.size(), 1u);
  ASSERT_EQ(c.interface.pre_down.size(), 1u);
  EXPECT_EQ(c.interface.post_up[0].substr(0, 40), "iptables -I OUTPUT ! -o %i -m mark ! --m");
  EXPECT_NE(c.interface.post_up[0].find("&& ip6tables -I OUTPUT"), std::string::npos);
  EXPECT_EQ(c.interface.pre_down[0].substr(0, 18), "iptables -D OUTPUT");
  EXPECT_TRUE(c.interface.pre_up.empty());
  EXPECT_EQ(Join(c.peers[0].allowed_ips), "0.0.0.0/0,::/0");
}

TEST(ProviderConfigsTest, ProtonWithCommentHeader) {
  WgConfig c = Load("proton.conf");
  EXPECT_EQ(c.interface.private_key.DerivePublic().ToBase64(),
            "rZ5Gz4VYFO0LGC7+LIONKkSMDnTAxfFkjz7BDYaXhHw=");
  EXPECT_EQ(Join(c.interface.addresses), "10.2.0.2/32");
  EXPECT_EQ(c.interface.line, 1);
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].public_key.ToBase64(), "Yrmndu4FlJqndtckLvCGZT5KvhOwgTnGPUHgVKVDViU=");
  EXPECT_EQ(c.peers[0].endpoint->ToString(), "198.51.100.10:51820");
}

TEST(ProviderConfigsTest, IvpnHostnameEndpointAndKeepalive) {
  WgConfig c = Load("ivpn.conf");
  ASSERT_EQ(c.peers.size(), 1u);
  const Endpoint& ep = *c.peers[0].endpoint;
  EXPECT_EQ(ep.host, "nl1.wg.ivpn.example");
  EXPECT_FALSE(ep.ip);
  EXPECT_EQ(ep.port, 2049);
  EXPECT_EQ(c.peers[0].persistent_keepalive, 25);
}

TEST(ProviderConfigsTest, AzireVpnPresharedKeyAndIpv6Endpoint) {
  WgConfig c = Load("azirevpn.conf");
  EXPECT_EQ(Join(c.interface.addresses), "10.0.22.15/32,fd00:1c80:1337:1:10:0:22:15/128");
  ASSERT_EQ(c.interface.dns_servers.size(), 2u);
  EXPECT_EQ(c.interface.dns_servers[1].ToString(), "fd00:1c80::2");
  ASSERT_EQ(c.peers.size(), 1u);
  ASSERT_TRUE(c.peers[0].preshared_key);
  EXPECT_EQ(crypto::EncodeKeyBase64(c.peers[0].preshared_key->bytes()),
            "aVP1kcMZl60dEMUoyR4lkLGrzx9f/qlelGEYb1ChxEs=");
  const Endpoint& ep = *c.peers[0].endpoint;
  ASSERT_TRUE(ep.ip);
  EXPECT_TRUE(ep.ip->is_v6());
  EXPECT_EQ(ep.ToString(), "[fd00:db8:1::5]:51820");
  EXPECT_EQ(Join(c.peers[0].allowed_ips), "0.0.0.0/0,::/0");
}

TEST(ProviderConfigsTest, WindowsExportWithBomAndCrlf) {
  WgConfig c = Load("windows_crlf.conf");
  EXPECT_EQ(c.interface.private_key.DerivePublic().ToBase64(),
            "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=");
  EXPECT_EQ(Join(c.interface.addresses), "10.66.66.2/32,fd42:42:42::2/128");
  EXPECT_EQ(c.peers[0].endpoint->ToString(), "203.0.113.44:51820");
  EXPECT_EQ(c.peers[0].public_key.ToBase64(), "94rehC6DqxbyU+X8msmySDYWy3w8w5AUz8goj+jfnwQ=");
}

TEST(ProviderConfigsTest, MultiPeerWithTableFwMarkAndMixedCase) {
  WgConfig c = Load("multipeer.conf");
  EXPECT_EQ(c.interface.listen_port, 51821);
  EXPECT_EQ(c.interface.fwmark, 0x1234u);
  EXPECT_EQ(c.interface.table.kind, RoutingTable::Kind::kId);
  EXPECT_EQ(c.interface.table.id, 1234u);
  EXPECT_EQ(c.interface.mtu, 1380);
  EXPECT_EQ(Join(c.interface.addresses), "10.10.0.2/24");
  ASSERT_EQ(c.interface.dns_search.size(), 1u);
  EXPECT_EQ(c.interface.dns_search[0], "corp.example");
  ASSERT_EQ(c.peers.size(), 2u);
  // Host bits of AllowedIPs are cleared, as `wg` does.
  EXPECT_EQ(Join(c.peers[0].allowed_ips), "10.10.0.0/24,192.168.50.0/24");
  EXPECT_EQ(Join(c.peers[1].allowed_ips), "10.20.0.0/16,10.30.0.0/16");
  EXPECT_EQ(c.peers[1].persistent_keepalive, 0);
  EXPECT_EQ(c.peers[1].line, 16);
}

}  // namespace
}  // namespace wgate::config
