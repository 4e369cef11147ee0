#include "firewall/ruleset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wgate::firewall {
namespace {

IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s); }
IpPrefix Prefix(std::string_view s) { return *IpPrefix::Parse(s); }

RulesetSpec Connected() {
  RulesetSpec s;
  s.mode = Mode::kConnected;
  s.fwmark = 0xca6c;
  s.uplink = "eth0";
  s.tunnel = "wg0";
  s.endpoint = *SocketAddress::Parse("203.0.113.10:51820");
  s.engine_port = 43210;
  return s;
}

std::string Script(const RulesetSpec& spec) {
  Result<Ruleset> r = BuildRuleset(spec);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? r->script : "";
}

std::string ErrorOf(const RulesetSpec& spec) {
  Result<Ruleset> r = BuildRuleset(spec);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message();
}

constexpr std::string_view kRefuseChain = R"nft(
	chain refuse {
		meta l4proto tcp reject with tcp reset
		meta nfproto ipv4 reject with icmp type admin-prohibited
		meta nfproto ipv6 reject with icmpv6 type admin-prohibited
	}
}
)nft";

TEST(RulesetTest, LockdownGolden) {
  EXPECT_EQ(Script(RulesetSpec{}),
            std::string(
                R"nft(# wgate kill switch (lockdown): replaces table inet wgate in one transaction.
add table inet wgate
delete table inet wgate
table inet wgate {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		ip daddr 127.0.0.11 meta l4proto { tcp, udp } goto refuse
		oifname "lo" accept
		goto refuse comment "wgate kill switch (lockdown)"
	}

	chain postrouting {
		type filter hook postrouting priority 300; policy drop;
		oifname "lo" accept
	}
)nft") + std::string(kRefuseChain));
}

TEST(RulesetTest, LockdownWithDockerDnsAllowedHasNoRefusalOfIt) {
  RulesetSpec spec;
  spec.allow_docker_dns = true;
  const std::string script = Script(spec);
  EXPECT_EQ(script.find("127.0.0.11"), std::string::npos) << script;
  EXPECT_NE(script.find("oifname \"lo\" accept"), std::string::npos);
}

TEST(RulesetTest, LockdownWithResolverHoleGolden) {
  RulesetSpec spec;
  spec.fwmark = 0x1234;
  spec.dns_hole_resolvers = {Ip("192.0.2.53"), Ip("127.0.0.11"), Ip("192.0.2.53"), Ip("fd00::53")};
  EXPECT_EQ(Script(spec),
            std::string(
                R"nft(# wgate kill switch (lockdown): replaces table inet wgate in one transaction.
add table inet wgate
delete table inet wgate
table inet wgate {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		ct state established,related ct mark 0x00001234 accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		meta mark 0x00001234 ip daddr 127.0.0.11 meta l4proto { tcp, udp } accept
		meta mark 0x00001234 ip daddr 192.0.2.53 meta l4proto { tcp, udp } th dport 53 ct mark set meta mark accept
		meta mark 0x00001234 ip6 daddr fd00::53 meta l4proto { tcp, udp } th dport 53 ct mark set meta mark accept
		ip daddr 127.0.0.11 meta l4proto { tcp, udp } goto refuse
		oifname "lo" accept
		ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		fib saddr type local icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		goto refuse comment "wgate kill switch (lockdown)"
	}

	chain postrouting {
		type filter hook postrouting priority 300; policy drop;
		oifname "lo" accept
		meta mark 0x00001234 ip daddr 192.0.2.53 meta l4proto { tcp, udp } th dport 53 accept
		meta mark 0x00001234 ip6 daddr fd00::53 meta l4proto { tcp, udp } th dport 53 accept
		ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		fib saddr type local icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
	}
)nft") + std::string(kRefuseChain));
}

TEST(RulesetTest, ConnectedGolden) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {Prefix("192.168.1.7/24"), Prefix("10.0.0.0/8"), Prefix("192.168.1.0/24")};
  spec.input_ports = {9090, 8080, 9090};
  spec.vpn_input_ports = {6881};
  EXPECT_EQ(Script(spec),
            std::string(
                R"nft(# wgate kill switch (connected): replaces table inet wgate in one transaction.
add table inet wgate
delete table inet wgate
table inet wgate {
	set published_udp4 {
		type ipv4_addr . inet_service . inet_service
		size 65535
		flags dynamic,timeout
		timeout 30s
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" udp dport 43210 drop
		iifname "lo" fib saddr type local accept
		iifname "eth0" udp dport { 8080, 9090 } update @published_udp4 { ip saddr . udp sport . udp dport }
		ct state established,related accept
		iifname "eth0" ip saddr 203.0.113.10 udp sport 51820 udp dport 43210 accept
		iifname "eth0" meta nfproto ipv4 meta l4proto { tcp, udp } th dport { 8080, 9090 } ct mark set ct mark | 0x80000000 accept
		iifname "wg0" meta nfproto ipv4 meta l4proto { tcp, udp } th dport 6881 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		ip daddr 127.0.0.11 meta l4proto { tcp, udp } goto refuse
		oifname "lo" accept
		oifname "eth0" meta mark 0x0000ca6c ip daddr 203.0.113.10 udp sport 43210 udp dport 51820 accept
		oifname "wg0" meta nfproto ipv4 accept
		oifname "eth0" ip daddr 10.0.0.0/8 accept
		oifname "eth0" ip daddr 192.168.1.0/24 accept
		oifname "eth0" meta nfproto ipv4 tcp sport { 8080, 9090 } ct direction reply ct mark 0x80000000/1 accept
		oifname "eth0" udp sport { 8080, 9090 } ct direction reply ct mark 0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept
		goto refuse comment "wgate kill switch (connected)"
	}

	chain postrouting {
		type filter hook postrouting priority 300; policy drop;
		oifname "lo" accept
		oifname "eth0" meta mark 0x0000ca6c ip daddr 203.0.113.10 udp sport 43210 udp dport 51820 accept
		oifname "wg0" meta nfproto ipv4 accept
		oifname "eth0" ip daddr 10.0.0.0/8 accept
		oifname "eth0" ip daddr 192.168.1.0/24 accept
		oifname "eth0" meta nfproto ipv4 tcp sport { 8080, 9090 } ct direction reply ct mark 0x80000000/1 accept
		oifname "eth0" udp sport { 8080, 9090 } ct direction reply ct mark 0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept
	}

	chain reroute {
		type route hook output priority mangle; policy accept;
		ct direction reply ct mark 0x80000000/1 meta mark set 0x0000ca6c
	}
)nft") + std::string(kRefuseChain));
}

TEST(RulesetTest, ConnectedIpv6TunnelledGolden) {
  RulesetSpec spec = Connected();
  spec.endpoint = *SocketAddress::Parse("[fd00:1::10]:443");
  spec.fwmark = 0x51820;
  spec.tunnel = "wgate0";
  spec.ipv6_tunnelled = true;
  spec.allow_docker_dns = true;
  spec.input_ports = {8080};
  EXPECT_EQ(Script(spec),
            std::string(
                R"nft(# wgate kill switch (connected): replaces table inet wgate in one transaction.
add table inet wgate
delete table inet wgate
table inet wgate {
	set published_udp4 {
		type ipv4_addr . inet_service . inet_service
		size 65535
		flags dynamic,timeout
		timeout 30s
	}

	set published_udp6 {
		type ipv6_addr . inet_service . inet_service
		size 65535
		flags dynamic,timeout
		timeout 30s
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" udp dport 43210 drop
		iifname "lo" fib saddr type local accept
		iifname "eth0" udp dport 8080 update @published_udp4 { ip saddr . udp sport . udp dport }
		iifname "eth0" udp dport 8080 update @published_udp6 { ip6 saddr . udp sport . udp dport }
		ct state established,related accept
		iifname "eth0" ip6 saddr fd00:1::10 udp sport 443 udp dport 43210 accept
		iifname "eth0" meta l4proto { tcp, udp } th dport 8080 ct mark set ct mark | 0x80000000 accept
		iifname "eth0" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oifname "lo" accept
		oifname "eth0" meta mark 0x00051820 ip6 daddr fd00:1::10 udp sport 43210 udp dport 443 accept
		oifname "wgate0" accept
		oifname "eth0" tcp sport 8080 ct direction reply ct mark 0x80000000/1 accept
		oifname "eth0" udp sport 8080 ct direction reply ct mark 0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept
		oifname "eth0" udp sport 8080 ct direction reply ct mark 0x80000000/1 ip6 daddr . udp dport . udp sport @published_udp6 accept
		oifname "eth0" ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		oifname "eth0" fib saddr type local icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		goto refuse comment "wgate kill switch (connected)"
	}

	chain postrouting {
		type filter hook postrouting priority 300; policy drop;
		oifname "lo" accept
		oifname "eth0" meta mark 0x00051820 ip6 daddr fd00:1::10 udp sport 43210 udp dport 443 accept
		oifname "wgate0" accept
		oifname "eth0" tcp sport 8080 ct direction reply ct mark 0x80000000/1 accept
		oifname "eth0" udp sport 8080 ct direction reply ct mark 0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept
		oifname "eth0" udp sport 8080 ct direction reply ct mark 0x80000000/1 ip6 daddr . udp dport . udp sport @published_udp6 accept
		oifname "eth0" ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
		oifname "eth0" fib saddr type local icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
	}

	chain reroute {
		type route hook output priority mangle; policy accept;
		ct direction reply ct mark 0x80000000/1 meta mark set 0x00051820
	}
)nft") + std::string(kRefuseChain));
}

TEST(RulesetTest, FwmarkIsTheSpecsNeverAConstant) {
  RulesetSpec spec = Connected();
  spec.fwmark = 0xdeadbeef;
  const std::string script = Script(spec);
  EXPECT_NE(
      script.find("meta mark 0xdeadbeef ip daddr 203.0.113.10 udp sport 43210 udp dport 51820"),
      std::string::npos);
  EXPECT_EQ(script.find("0x0000ca6c"), std::string::npos);
}

TEST(RulesetTest, ShapeMatchesScript) {
  Result<Ruleset> r = BuildRuleset(Connected());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->chains.size(), 5u);
  EXPECT_EQ(r->chains[0].name, "input");
  EXPECT_EQ(r->chains[2].name, "output");
  EXPECT_EQ(r->chains[2].header, "type filter hook output priority filter; policy drop;");
  EXPECT_EQ(r->chains[3].name, "postrouting");
  EXPECT_EQ(r->chains[4].name, "refuse");
  EXPECT_EQ(r->chains[4].header, "");
  for (const Chain& c : r->chains) {
    for (const std::string& rule : c.rules) {
      EXPECT_NE(r->script.find("\t\t" + rule + "\n"), std::string::npos) << rule;
    }
  }
}

TEST(RulesetTest, LockdownIgnoresConnectedOnlyFields) {
  // Principle 1: nothing in the config can stand in the way of the lockdown.
  RulesetSpec spec;
  spec.uplink = "bad;name";
  spec.input_ports = {0};
  spec.lan_subnets = {Prefix("0.0.0.0/0")};
  EXPECT_EQ(Script(spec), Script(RulesetSpec{}));
}

TEST(RulesetTest, InterfaceNameErrorsQuoteTheName) {
  RulesetSpec spec = Connected();
  spec.uplink = "eth0\" accept";
  EXPECT_EQ(ErrorOf(spec),
            "firewall: uplink interface name \"eth0\\\" accept\" contains \"\\\"\"; only letters, "
            "digits and _=+.- are allowed");
  spec.uplink = "eth0;";
  EXPECT_EQ(ErrorOf(spec),
            "firewall: uplink interface name \"eth0;\" contains \";\"; only letters, digits and "
            "_=+.- are allowed");
  spec.uplink = "eth*";
  EXPECT_EQ(ErrorOf(spec),
            "firewall: uplink interface name \"eth*\" contains \"*\"; only letters, digits and "
            "_=+.- are allowed");
  spec.uplink = "eth\n0";
  EXPECT_EQ(ErrorOf(spec),
            "firewall: uplink interface name \"eth\\x0a0\" contains \"\\x0a\"; only letters, "
            "digits and _=+.- are allowed");
  spec.uplink = "";
  EXPECT_EQ(ErrorOf(spec), "firewall: uplink interface name is empty");
  spec.uplink = "abcdefghijklmnop";
  EXPECT_EQ(ErrorOf(spec),
            "firewall: uplink interface name \"abcdefghijklmnop\" is 16 characters long; the limit "
            "is 15 (IFNAMSIZ - 1)");
  spec.uplink = "..";
  EXPECT_EQ(ErrorOf(spec), "firewall: uplink interface name \"..\" is reserved");
  spec.uplink = "eth0";
  spec.tunnel = "lo";
  EXPECT_EQ(ErrorOf(spec), "firewall: tunnel interface name \"lo\" is the loopback interface");
  spec.tunnel = "eth0";
  EXPECT_EQ(ErrorOf(spec), "firewall: uplink and tunnel are both \"eth0\"");
  spec.tunnel = "abcdefghijklmno";  // 15: the longest allowed
  EXPECT_TRUE(BuildRuleset(spec).ok());
}

TEST(RulesetTest, FieldErrorsQuoteTheValue) {
  RulesetSpec spec = Connected();
  spec.fwmark = 0;
  EXPECT_EQ(ErrorOf(spec),
            "firewall: fwmark is 0; the endpoint and resolver holes match wgate's own socket "
            "mark, which must be non-zero");

  spec = Connected();
  spec.input_ports = {8080, 0};
  EXPECT_EQ(ErrorOf(spec), "firewall: input port 0 is out of range 1-65535");
  spec = Connected();
  spec.vpn_input_ports = {0};
  EXPECT_EQ(ErrorOf(spec), "firewall: VPN input port 0 is out of range 1-65535");

  spec = Connected();
  spec.endpoint = *SocketAddress::Parse("0.0.0.0:51820");
  EXPECT_EQ(ErrorOf(spec), "firewall: endpoint 0.0.0.0:51820 has an unspecified address");
  spec.endpoint = *SocketAddress::Parse("[::1]:51820");
  EXPECT_EQ(ErrorOf(spec),
            "firewall: endpoint [::1]:51820 is a loopback address; it must be reached through "
            "the uplink");
  spec.endpoint = *SocketAddress::Parse("203.0.113.10:0");
  EXPECT_EQ(ErrorOf(spec), "firewall: endpoint 203.0.113.10:0 has port 0; expected 1-65535");

  spec = Connected();
  spec.lan_subnets = {Prefix("192.168.0.0/16"), Prefix("::/0")};
  EXPECT_EQ(ErrorOf(spec),
            "firewall: LAN subnet ::/0 would open the whole uplink; list the local subnets "
            "instead");
  spec.lan_subnets = {IpPrefix{Ip("10.0.0.0"), 33}};
  EXPECT_EQ(ErrorOf(spec),
            "firewall: LAN subnet 10.0.0.0/33 has prefix length 33, out of range 1-32");

  spec = Connected();
  spec.dns_hole_resolvers = {Ip("::")};
  EXPECT_EQ(ErrorOf(spec), "firewall: DNS resolver :: is an unspecified address");
}

TEST(RulesetTest, ResolverHoleNeedsAMarkEvenInLockdown) {
  RulesetSpec spec;
  spec.dns_hole_resolvers = {Ip("192.0.2.53")};
  EXPECT_EQ(ErrorOf(spec),
            "firewall: fwmark is 0; the endpoint and resolver holes match wgate's own socket "
            "mark, which must be non-zero");
}

TEST(RulesetTest, Ipv4OnlyTunnelKeepsIpv6OffThePortHoles) {
  RulesetSpec spec = Connected();
  spec.input_ports = {8080};
  spec.vpn_input_ports = {6881};
  const std::string script = Script(spec);
  EXPECT_NE(script.find("oifname \"wg0\" meta nfproto ipv4 accept"), std::string::npos);
  EXPECT_EQ(script.find("oifname \"wg0\" accept"), std::string::npos);
  EXPECT_NE(script.find("iifname \"eth0\" meta nfproto ipv4 meta l4proto { tcp, udp } th dport "
                        "8080 ct mark set ct mark | 0x80000000 accept"),
            std::string::npos);
  EXPECT_EQ(script.find("nd-neighbor"), std::string::npos);  // no IPv6 on the uplink at all
}

TEST(RulesetTest, PortsOpenOnlyTheProtocolAsked) {
  RulesetSpec spec = Connected();
  spec.input_ports = {};
  spec.input_tcp_ports = {8080};
  spec.input_udp_ports = {6881};
  spec.vpn_input_tcp_ports = {51413};
  auto r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_NE(r->script.find("iifname \"eth0\" meta nfproto ipv4 tcp dport 8080 ct mark set ct mark "
                           "| 0x80000000 accept"),
            std::string::npos)
      << r->script;
  EXPECT_NE(r->script.find("iifname \"eth0\" meta nfproto ipv4 udp dport 6881 ct mark set ct mark "
                           "| 0x80000000 accept"),
            std::string::npos);
  EXPECT_NE(r->script.find("iifname \"wg0\" meta nfproto ipv4 tcp dport 51413 accept"),
            std::string::npos);
  EXPECT_NE(r->script.find("oifname \"eth0\" meta nfproto ipv4 tcp sport 8080 ct direction reply "
                           "ct mark 0x80000000/1 accept"),
            std::string::npos);
  EXPECT_EQ(r->script.find("th dport"), std::string::npos)
      << "no port is opened for both protocols";
  spec.input_tcp_ports = {0};
  EXPECT_FALSE(BuildRuleset(spec).ok());
}

// A consumer with CAP_NET_RAW can forge a far source on a packet to the gateway's own address; it
// travels over lo. It must be dropped there, and it must not make the answer to it a "reply" that
// a published port lets out of the uplink: only connections that came in through the uplink are
// marked, and only their replies go out.
TEST(RulesetTest, ForgedLoopbackSourcesAreDroppedAndPublishedRepliesNeedTheInboundMark) {
  {
    Result<Ruleset> r = BuildRuleset(Connected());
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_GE(r->chains[0].rules.size(), 3u);
    EXPECT_EQ(r->chains[0].rules[1], "iifname \"lo\" fib saddr type local accept");
    // Fast refusals still work: the reset `reject` sends over lo comes from the far address.
    EXPECT_EQ(r->chains[0].rules[2], "ct state established,related accept");
    for (const std::string& rule : r->chains[0].rules) {
      EXPECT_NE(rule, "iifname \"lo\" accept");
    }
  }
  {
    // Lockdown has no published port (and no related accept for the resets): lo stays open.
    Result<Ruleset> r = BuildRuleset(RulesetSpec{});
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->chains[0].rules, std::vector<std::string>{"iifname \"lo\" accept"});
  }

  RulesetSpec spec = Connected();
  spec.input_ports = {8081};
  spec.input_tcp_ports = {443};
  spec.vpn_input_udp_ports = {6881};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const std::vector<std::string>& input = r->chains[0].rules;
  const std::vector<std::string>& output = r->chains[2].rules;
  EXPECT_THAT(input, ::testing::Contains(
                         "iifname \"eth0\" meta nfproto ipv4 meta l4proto { tcp, udp } th dport "
                         "8081 ct mark set ct mark | 0x80000000 accept"));
  EXPECT_THAT(input, ::testing::Contains("iifname \"eth0\" meta nfproto ipv4 tcp dport 443 ct mark "
                                         "set ct mark | 0x80000000 accept"));
  EXPECT_THAT(output, ::testing::Contains("oifname \"eth0\" meta nfproto ipv4 tcp sport { 443, "
                                          "8081 } ct direction reply ct mark 0x80000000/1 accept"));
  EXPECT_THAT(output, ::testing::Contains("oifname \"eth0\" udp sport 8081 ct direction reply ct "
                                          "mark 0x80000000/1 ip daddr . udp dport . udp sport "
                                          "@published_udp4 accept"));
  // The tunnel's forwarded ports need no mark: everything may leave through the tunnel anyway.
  EXPECT_THAT(input,
              ::testing::Contains("iifname \"wg0\" meta nfproto ipv4 udp dport 6881 accept"));
  // No published-port reply rule without the mark.
  for (const std::string& rule : output) {
    if (rule.find("ct direction reply") != std::string::npos) {
      EXPECT_NE(rule.find("ct mark 0x80000000/1 "), std::string::npos) << rule;
    }
  }

  // The bit is wgate's: as the fwmark, lockdown's resolver replies would match its connections.
  spec.fwmark = 0x80000000;
  EXPECT_EQ(ErrorOf(spec),
            "firewall: fwmark 0x80000000 is reserved: wgate marks the connections of published "
            "ports with it");
  spec.fwmark = 0xdeadbeef;  // other marks with the bit set are fine
  EXPECT_TRUE(BuildRuleset(spec).ok());
  RulesetSpec lockdown;  // and lockdown is never refused for it
  lockdown.fwmark = 0x80000000;
  lockdown.dns_hole_resolvers = {Ip("192.0.2.53")};
  EXPECT_TRUE(BuildRuleset(lockdown).ok());
}

// Whoever forges the server's address reaches the engine's port, not every consumer's UDP
// service; and consumers cannot reach the engine's port over lo at all.
TEST(RulesetTest, EndpointHoleIsTheEnginesOwnPortOnTheUplinkOnly) {
  Result<Ruleset> r = BuildRuleset(Connected());
  ASSERT_TRUE(r.ok()) << r.error().message();
  const std::vector<std::string>& input = r->chains[0].rules;
  ASSERT_FALSE(input.empty());
  EXPECT_EQ(input[0], "iifname \"lo\" udp dport 43210 drop");  // before lo is accepted
  EXPECT_THAT(input, ::testing::Contains("iifname \"eth0\" ip saddr 203.0.113.10 udp sport 51820 "
                                         "udp dport 43210 accept"));
  EXPECT_THAT(r->chains[2].rules,
              ::testing::Contains("oifname \"eth0\" meta mark 0x0000ca6c ip daddr 203.0.113.10 "
                                  "udp sport 43210 udp dport 51820 accept"));
}

// A published UDP port answers a far side only while it keeps sending: only the input chain,
// before the established accept (so that every datagram counts), renews a flow's element, and
// the output chain needs it.
TEST(RulesetTest, PublishedUdpRepliesNeedALiveFlowFromOutside) {
  RulesetSpec spec = Connected();
  spec.input_ports = {8080};
  spec.input_tcp_ports = {443};
  spec.input_udp_ports = {6881};
  spec.ipv6_tunnelled = true;
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->sets.size(), 2u);
  EXPECT_EQ(r->sets[0].name, "published_udp4");
  EXPECT_THAT(r->sets[0].lines,
              ::testing::ElementsAre("type ipv4_addr . inet_service . inet_service", "size 65535",
                                     "flags dynamic,timeout", "timeout 30s"));
  EXPECT_EQ(r->sets[1].name, "published_udp6");
  EXPECT_EQ(r->sets[1].lines[0], "type ipv6_addr . inet_service . inet_service");
  const std::vector<std::string>& input = r->chains[0].rules;
  const std::string update4 =
      "iifname \"eth0\" udp dport { 6881, 8080 } update @published_udp4 { ip saddr . udp sport . "
      "udp dport }";
  const auto at = [&](const std::string& rule) {
    return std::find(input.begin(), input.end(), rule) - input.begin();
  };
  ASSERT_LT(at(update4), static_cast<long>(input.size()));
  EXPECT_LT(at(update4), at("ct state established,related accept"));
  EXPECT_THAT(input, ::testing::Contains("iifname \"eth0\" udp dport { 6881, 8080 } update "
                                         "@published_udp6 { ip6 saddr . udp sport . udp dport }"));
  for (const Chain& c : r->chains) {
    if (c.name == "input") continue;
    for (const std::string& rule : c.rules) {
      EXPECT_EQ(rule.find("update @"), std::string::npos) << c.name << ": " << rule;
    }
  }
  EXPECT_THAT(r->chains[2].rules,
              ::testing::IsSupersetOf(
                  {"oifname \"eth0\" tcp sport { 443, 8080 } ct direction reply ct mark "
                   "0x80000000/1 accept",
                   "oifname \"eth0\" udp sport { 6881, 8080 } ct direction reply ct mark "
                   "0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept",
                   "oifname \"eth0\" udp sport { 6881, 8080 } ct direction reply ct mark "
                   "0x80000000/1 ip6 daddr . udp dport . udp sport @published_udp6 accept"}));
  for (const std::string& rule : r->chains[2].rules) {
    if (rule.find("udp sport { 6881") != std::string::npos) {
      EXPECT_NE(rule.find("@published_udp"), std::string::npos) << rule;
    }
  }
  EXPECT_NE(r->script.find("\tset published_udp4 {\n\t\ttype ipv4_addr . inet_service . "
                           "inet_service\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout "
                           "30s\n\t}\n"),
            std::string::npos)
      << r->script;

  // Without a tunnelled IPv6 the v4 set only; without a published UDP port no set at all.
  spec.ipv6_tunnelled = false;
  r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->sets.size(), 1u);
  EXPECT_EQ(r->sets[0].name, "published_udp4");
  spec.input_ports = {};
  spec.input_udp_ports = {};
  r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->sets.empty());
  EXPECT_EQ(r->script.find("set published"), std::string::npos);
}

// Published replies are routed out of the uplink: the route chain gives them wgate's fwmark, so
// the kernel looks them up in main, not in the tunnel's table.
TEST(RulesetTest, PublishedRepliesAreReroutedWithTheFwmark) {
  RulesetSpec spec = Connected();
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  for (const Chain& c : r->chains) EXPECT_NE(c.name, "reroute");  // nothing published
  spec.input_tcp_ports = {443};
  r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  const auto reroute = std::find_if(r->chains.begin(), r->chains.end(),
                                    [](const Chain& c) { return c.name == "reroute"; });
  ASSERT_NE(reroute, r->chains.end());
  EXPECT_EQ(reroute->header, "type route hook output priority mangle; policy accept;");
  EXPECT_THAT(reroute->rules, ::testing::ElementsAre("ct direction reply ct mark 0x80000000/1 "
                                                     "meta mark set 0x0000ca6c"));
}

// A foreign nat chain can redirect what the output chain accepted: the postrouting chain, after
// every NAT priority, holds the same holes, with policy drop.
TEST(RulesetTest, PostroutingRepeatsTheHolesAfterNat) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {Prefix("192.168.1.0/24")};
  spec.input_udp_ports = {6881};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->chains.size(), 4u);
  const Chain& post = r->chains[3];
  EXPECT_EQ(post.name, "postrouting");
  EXPECT_EQ(post.header, "type filter hook postrouting priority 300; policy drop;");
  std::vector<std::string> output_holes;  // the output chain's rules after its head, sans refusal
  const std::vector<std::string>& output = r->chains[2].rules;
  auto lo = std::find(output.begin(), output.end(), "oifname \"lo\" accept");
  ASSERT_NE(lo, output.end());
  output_holes.assign(lo, output.end() - 1);
  EXPECT_EQ(post.rules, output_holes);
  EXPECT_EQ(post.rules.front(), "oifname \"lo\" accept");

  RulesetSpec lockdown;
  lockdown.fwmark = 0x1234;
  lockdown.dns_hole_resolvers = {Ip("192.0.2.53"), Ip("127.0.0.11")};
  r = BuildRuleset(lockdown);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chains[3].name, "postrouting");
  EXPECT_THAT(r->chains[3].rules,
              ::testing::ElementsAre("oifname \"lo\" accept",
                                     "meta mark 0x00001234 ip daddr 192.0.2.53 meta l4proto { "
                                     "tcp, udp } th dport 53 accept"));
}

TEST(RulesetTest, NeighbourDiscoveryLeavesOnlyFromOwnOrLinkLocalSources) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {Prefix("fd00:2::/64")};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok());
  const std::vector<std::string> want = {
      "oifname \"eth0\" ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-neighbor-solicit, "
      "nd-neighbor-advert } ip6 hoplimit 255 accept",
      "oifname \"eth0\" fib saddr type local icmpv6 type { nd-neighbor-solicit, "
      "nd-neighbor-advert } ip6 hoplimit 255 accept"};
  for (size_t chain : {2u, 3u}) {
    EXPECT_THAT(r->chains[chain].rules, ::testing::IsSupersetOf(want)) << r->chains[chain].name;
    for (const std::string& rule : r->chains[chain].rules) {
      if (rule.find("nd-neighbor") == std::string::npos) continue;
      EXPECT_THAT(want, ::testing::Contains(rule));
    }
  }
}

TEST(RulesetTest, EnginePortErrors) {
  RulesetSpec spec = Connected();
  spec.engine_port = 0;
  EXPECT_EQ(ErrorOf(spec),
            "firewall: engine port is 0; the endpoint hole matches the engine's bound UDP port, "
            "expected 1-65535");
  spec = Connected();
  spec.input_udp_ports = {43210};
  EXPECT_EQ(ErrorOf(spec),
            "firewall: UDP input port 43210 is the engine's own port; publishing it would let "
            "anyone reach the engine's socket");
  spec.input_udp_ports = {};
  spec.input_ports = {43210};
  EXPECT_EQ(ErrorOf(spec),
            "firewall: UDP input port 43210 is the engine's own port; publishing it would let "
            "anyone reach the engine's socket");
  spec.input_ports = {};
  spec.input_tcp_ports = {43210};  // TCP is another socket
  EXPECT_TRUE(BuildRuleset(spec).ok());
  RulesetSpec lockdown;  // lockdown has no engine
  EXPECT_TRUE(BuildRuleset(lockdown).ok());
}

TEST(RulesetTest, ModeNames) {
  EXPECT_EQ(ModeName(Mode::kLockdown), "lockdown");
  EXPECT_EQ(ModeName(Mode::kConnected), "connected");
  EXPECT_EQ(FormatMark(0xca6c), "0x0000ca6c");
}

}  // namespace
}  // namespace wgate::firewall

namespace wgate::firewall {
namespace {

TEST(RulesetNetRawTest, EngineCgroupNarrowsTheEndpointAndResolverHoles) {
  RulesetSpec spec = Connected();
  spec.dns_hole_resolvers = {Ip("192.0.2.53")};
  spec.engine_cgroup = OwnCgroup{"system.slice/docker-ab.scope", 2};
  const std::string script = Script(spec);
  EXPECT_THAT(script, ::testing::HasSubstr(
                          "oifname \"eth0\" meta mark 0x0000ca6c socket cgroupv2 level 2 "
                          "\"system.slice/docker-ab.scope\" ip daddr 203.0.113.10 udp sport 43210 "
                          "udp dport 51820 accept"));
  EXPECT_THAT(script, ::testing::HasSubstr(
                          "meta mark 0x0000ca6c socket cgroupv2 level 2 "
                          "\"system.slice/docker-ab.scope\" ip daddr 192.0.2.53 meta l4proto"));
}

TEST(RulesetNetRawTest, WithoutACgroupTheHolesRestOnTheMarkAsBefore) {
  const std::string script = Script(Connected());
  EXPECT_THAT(script, ::testing::Not(::testing::HasSubstr("cgroupv2")));
  EXPECT_THAT(script, ::testing::HasSubstr(
                          "oifname \"eth0\" meta mark 0x0000ca6c ip daddr 203.0.113.10 udp sport "
                          "43210 udp dport 51820 accept"));
}

TEST(RulesetNetRawTest, TheSocketMatchStaysInTheOutputHookWhereTheKernelAllowsIt) {
  RulesetSpec spec = Connected();
  spec.dns_hole_resolvers = {Ip("192.0.2.53")};
  spec.engine_cgroup = OwnCgroup{"x", 1};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  for (const Chain& c : r->chains) {
    for (const std::string& rule : c.rules) {
      if (c.name != "output") {
        EXPECT_THAT(rule, ::testing::Not(::testing::HasSubstr("socket")));
      }
    }
  }
}

TEST(RulesetNetRawTest, WithTheEgressFilterTheCheckAfterNatStampsWhatLeavesTheUplink) {
  RulesetSpec spec = Connected();
  spec.egress = EgressFilter{"eth0", 0x5ec12e7};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Chain* post = nullptr;
  for (const Chain& c : r->chains) post = c.name == "postrouting" ? &c : post;
  ASSERT_NE(post, nullptr);
  EXPECT_THAT(post->rules,
              ::testing::ElementsAre(
                  "oifname \"lo\" accept",
                  "oifname \"eth0\" meta mark { 0x0000ca6c, 0x05ec12e7 } ip daddr 203.0.113.10 "
                  "udp sport 43210 udp dport 51820 meta mark set 0x05ec12e7 accept",
                  "oifname \"wg0\" meta nfproto ipv4 accept"));
  RulesetSpec lockdown;
  lockdown.egress = spec.egress;
  lockdown.fwmark = 0xca6c;
  lockdown.dns_hole_resolvers = {Ip("192.0.2.53")};
  r = BuildRuleset(lockdown);
  ASSERT_TRUE(r.ok()) << r.error().message();
  for (const Chain& c : r->chains) post = c.name == "postrouting" ? &c : post;
  EXPECT_THAT(
      post->rules,
      ::testing::Contains(::testing::HasSubstr("th dport 53 meta mark set 0x05ec12e7 accept")));
}

TEST(RulesetNetRawTest, EgressFilterIsANetdevTableReplacedInTheSameScript) {
  for (Mode mode : {Mode::kLockdown, Mode::kConnected}) {
    RulesetSpec spec = mode == Mode::kConnected ? Connected() : RulesetSpec{};
    spec.egress = EgressFilter{"eth0", 0x5ec12e7};
    Result<Ruleset> r = BuildRuleset(spec);
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_EQ(r->netdev_chains.size(), 1u);
    EXPECT_EQ(r->netdev_chains[0].header,
              "type filter hook egress device \"eth0\" priority filter; policy drop;");
    const std::string tail = r->script.substr(r->script.find("add table netdev wgate"));
    EXPECT_EQ(tail, R"nft(add table netdev wgate
delete table netdev wgate
table netdev wgate {
	chain egress {
		type filter hook egress device "eth0" priority filter; policy drop;
		meta mark 0x05ec12e7 accept
		arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp operation { request, reply } accept
	}
}
)nft");
  }
}

TEST(RulesetNetRawTest, NoEgressFilterNoNetdevTable) {
  EXPECT_THAT(Script(Connected()), ::testing::Not(::testing::HasSubstr("netdev")));
}

TEST(RulesetNetRawTest, RefusesBadProtectionValuesQuotingThem) {
  RulesetSpec spec = Connected();
  spec.engine_cgroup = OwnCgroup{"a\" ; flush ruleset", 1};
  EXPECT_THAT(ErrorOf(spec), ::testing::HasSubstr("cgroup path \"a\\\" ; flush ruleset\""));
  spec.engine_cgroup = OwnCgroup{"a", 256};
  EXPECT_THAT(ErrorOf(spec), ::testing::HasSubstr("cgroup level 256 is out of range 0-255"));
  spec.engine_cgroup.reset();
  spec.egress = EgressFilter{"eth0", spec.fwmark};
  EXPECT_THAT(ErrorOf(spec), ::testing::HasSubstr("egress stamp 0x0000ca6c must be non-zero"));
  spec.egress = EgressFilter{"bad name", 7};
  EXPECT_THAT(ErrorOf(spec), ::testing::HasSubstr("egress filter interface name \"bad name\""));
}

}  // namespace
}  // namespace wgate::firewall
