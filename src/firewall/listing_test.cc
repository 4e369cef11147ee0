#include "firewall/listing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wgate::firewall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// What `nft list table inet wgate` printed for the lockdown ruleset (nftables 1.0.6).
constexpr std::string_view kKernelLockdown = R"nft(table inet wgate {
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

	chain refuse {
		meta l4proto tcp reject with tcp reset
		reject with icmp admin-prohibited
		reject with icmpv6 admin-prohibited
	}
}
)nft";

TableListing Parse(std::string_view text) {
  Result<TableListing> t = ParseTableListing(text);
  EXPECT_TRUE(t.ok()) << t.error().message();
  return t.ok() ? *t : TableListing{};
}

TableListing Lockdown() { return Parse(kKernelLockdown); }

TEST(ListingTest, ParsesKernelListing) {
  TableListing t = Lockdown();
  ASSERT_EQ(t.objects.size(), 5u);
  EXPECT_EQ(t.objects[0].kind, "chain");
  EXPECT_EQ(t.objects[0].name, "input");
  EXPECT_EQ(t.objects[0].header, "type filter hook input priority filter; policy drop;");
  EXPECT_THAT(t.objects[0].lines, ElementsAre("iifname \"lo\" accept"));
  EXPECT_THAT(t.objects[1].lines, IsEmpty());
  EXPECT_EQ(t.objects[2].lines.size(), 3u);
  EXPECT_EQ(t.objects[3].header, "type filter hook postrouting priority 300; policy drop;");
  EXPECT_EQ(t.objects[4].header, "");
  EXPECT_EQ(t.RuleCount(), 8u);
  EXPECT_THAT(t.attributes, IsEmpty());
  EXPECT_THAT(CheckInvariants(t), IsEmpty());
}

TEST(ListingTest, RenderRoundTrips) { EXPECT_EQ(RenderTableListing(Lockdown()), kKernelLockdown); }

TEST(ListingTest, ParsesAGeneratedScript) {
  Result<Ruleset> r = BuildRuleset(RulesetSpec{});
  ASSERT_TRUE(r.ok());
  TableListing t = Parse(r->script);
  EXPECT_EQ(t.objects.size(), 5u);
  EXPECT_THAT(CompareWithRuleset(*r, t), IsEmpty());
}

TEST(ListingTest, JoinsASetSpanningLinesAndKeepsOtherObjects) {
  TableListing t = Parse(R"nft(table inet wgate {
	comment "x"
	set leak {
		type ipv4_addr
		elements = { 192.0.2.1, 192.0.2.2,
			     192.0.2.3 }
	}

	chain output {
		type filter hook output priority filter; policy drop;
		ip daddr { 192.0.2.1,
			   192.0.2.2 } accept comment "braces } in { a comment"
		accept
	}
}
)nft");
  EXPECT_THAT(t.attributes, ElementsAre("comment \"x\""));
  ASSERT_EQ(t.objects.size(), 2u);
  EXPECT_EQ(t.objects[0].kind, "set");
  EXPECT_THAT(t.objects[0].lines,
              ElementsAre("type ipv4_addr", "elements = { 192.0.2.1, 192.0.2.2, 192.0.2.3 }"));
  EXPECT_THAT(t.objects[1].lines,
              ElementsAre("ip daddr { 192.0.2.1, 192.0.2.2 } accept comment \"braces } in { a "
                          "comment\"",
                          "accept"));
}

TEST(ListingTest, ParseErrorsSayWhat) {
  EXPECT_EQ(ParseTableListing("table ip other {\n}\n").error().message(),
            "firewall: nft listing has no `table inet wgate {` line");
  EXPECT_EQ(ParseTableListing("table inet wgate {\n\tchain output {\n").error().message(),
            "firewall: nft listing of table inet wgate ends before its closing `}`");
  EXPECT_EQ(ParseTableListing("table inet wgate {\n\tchain {\n\t}\n}\n").error().message(),
            "firewall: nft listing line 2: cannot parse `chain {`");
}

TEST(ListingTest, IdenticalListingsAgree) {
  EXPECT_THAT(CompareListings(Lockdown(), Lockdown()), IsEmpty());
}

TEST(ListingTest, FlushedTable) {
  TableListing got = Lockdown();
  for (ListedObject& o : got.objects) o.lines.clear();
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("table inet wgate was flushed: all 8 rules are gone (the chains that "
                          "remain keep policy drop)"));
  EXPECT_THAT(CheckInvariants(got), IsEmpty());  // policy drop still holds
}

TEST(ListingTest, MissingChain) {
  TableListing got = Lockdown();
  got.objects.erase(got.objects.begin() + 1);
  EXPECT_THAT(CompareListings(Lockdown(), got), ElementsAre("chain forward is missing"));
  EXPECT_THAT(CheckInvariants(got), ElementsAre("chain forward is missing"));
}

TEST(ListingTest, PolicyChanged) {
  TableListing got = Lockdown();
  got.objects[2].header = "type filter hook output priority filter; policy accept;";
  const std::string expected =
      "chain output: header changed: expected `type filter hook output priority filter; policy "
      "drop;`, found `type filter hook output priority filter; policy accept;`";
  EXPECT_THAT(CompareListings(Lockdown(), got), ElementsAre(expected));
  EXPECT_THAT(CheckInvariants(got), ElementsAre(expected));
}

TEST(ListingTest, AlteredRule) {
  TableListing got = Lockdown();
  got.objects[2].lines[2] = "accept";
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("chain output: rule 3 of 3 missing: `goto refuse comment \"wgate kill "
                          "switch (lockdown)\"`",
                          "chain output: unexpected rule at position 3: `accept`"));
}

TEST(ListingTest, InsertedRule) {
  TableListing got = Lockdown();
  got.objects[2].lines.insert(got.objects[2].lines.begin(), "oifname \"eth0\" accept");
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("chain output: unexpected rule at position 1: `oifname \"eth0\" "
                          "accept`"));
}

TEST(ListingTest, DeletedRule) {
  TableListing got = Lockdown();
  got.objects[2].lines.erase(got.objects[2].lines.begin());
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("chain output: rule 1 of 3 missing: `ip daddr 127.0.0.11 meta l4proto "
                          "{ tcp, udp } goto refuse`"));
}

TEST(ListingTest, ReorderedRules) {
  TableListing got = Lockdown();
  std::swap(got.objects[2].lines[0], got.objects[2].lines[1]);
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("chain output: rule 1 of 3 moved: `ip daddr 127.0.0.11 meta l4proto { "
                          "tcp, udp } goto refuse`"));
}

TEST(ListingTest, ExtraObjectsAndAttributes) {
  TableListing got = Lockdown();
  got.objects.push_back(ListedObject{"chain", "sneaky", "", {"accept"}});
  got.objects.push_back(ListedObject{"set", "leak", "", {"type ipv4_addr"}});
  got.attributes.push_back("flags dormant");
  EXPECT_THAT(CompareListings(Lockdown(), got),
              ElementsAre("table inet wgate: unexpected attribute at position 1: `flags dormant`",
                          "unexpected chain sneaky", "unexpected set leak"));
}

TEST(ListingTest, CompareWithRulesetCountsRules) {
  Result<Ruleset> r = BuildRuleset(RulesetSpec{});
  ASSERT_TRUE(r.ok());
  // The kernel rewrites rule text; only the shape is compared.
  EXPECT_THAT(CompareWithRuleset(*r, Lockdown()), IsEmpty());
  TableListing got = Lockdown();
  got.objects[2].lines.pop_back();
  got.objects.push_back(ListedObject{"set", "leak", "", {}});
  EXPECT_THAT(
      CompareWithRuleset(*r, got),
      ElementsAre("chain output: applied 3 rules, the kernel lists 2", "unexpected set leak"));
  got.objects.erase(got.objects.begin());
  EXPECT_THAT(CompareWithRuleset(*r, got), ElementsAre("chain input is missing",
                                                       "chain output: applied 3 rules, the kernel "
                                                       "lists 2",
                                                       "unexpected set leak"));
}

// A connected ruleset with a published port, shortened, as nft 1.0.6 lists it (terse: no set
// elements; the rules as the kernel prints them).
constexpr std::string_view kKernelConnectedPublished = R"nft(table inet wgate {
	set published_udp4 {
		type ipv4_addr . inet_service . inet_service
		size 65535
		flags dynamic,timeout
		timeout 30s
	}

	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" udp dport 43210 drop
		iifname "eth0" udp dport 8080 update @published_udp4 { ip saddr . udp sport . udp dport }
		ct state established,related accept
		iifname "eth0" meta nfproto ipv4 meta l4proto { tcp, udp } th dport 8080 ct mark set ct mark | 0x80000000 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oifname "lo" accept
		oifname "eth0" udp sport 8080 ct direction reply ct mark 0x80000000/1 ip daddr . udp dport . udp sport @published_udp4 accept
		goto refuse comment "wgate kill switch (connected)"
	}

	chain postrouting {
		type filter hook postrouting priority 300; policy drop;
		oifname "lo" accept
	}

	chain reroute {
		type route hook output priority mangle; policy accept;
		ct direction reply ct mark 0x80000000/1 meta mark set 0x0000ca6c
	}

	chain refuse {
		meta l4proto tcp reject with tcp reset
	}
}
)nft";

// A holder vouches for a gateway's table by its shape: wgate's own sets and route chain are
// part of it, nothing else is.
TEST(ListingTest, FailClosedShapeKnowsWgatesSetsAndRouteChainOnly) {
  TableListing t = Parse(kKernelConnectedPublished);
  EXPECT_THAT(CheckFailClosedShape(t), IsEmpty());
  EXPECT_THAT(CheckFailClosedShape(Lockdown()), IsEmpty());

  TableListing other_set = t;
  other_set.objects.push_back(ListedObject{"set", "allowed", "", {"type ipv4_addr"}});
  EXPECT_THAT(CheckFailClosedShape(other_set), ElementsAre("unexpected set allowed"));
  TableListing chain_named_like_a_set = t;
  chain_named_like_a_set.objects.push_back(ListedObject{"chain", "published_udp6", "", {}});
  EXPECT_THAT(CheckFailClosedShape(chain_named_like_a_set),
              ElementsAre("unexpected chain published_udp6"));
  TableListing rehooked = t;
  rehooked.objects[5].header = "type filter hook output priority mangle; policy accept;";
  EXPECT_THAT(CheckFailClosedShape(rehooked),
              ElementsAre("chain reroute: header changed: expected `type route hook output "
                          "priority mangle; policy accept;`, found `type filter hook output "
                          "priority mangle; policy accept;`"));
  TableListing no_postrouting = t;
  no_postrouting.objects.erase(no_postrouting.objects.begin() + 4);
  EXPECT_THAT(CheckFailClosedShape(no_postrouting), ElementsAre("chain postrouting is missing"));
  TableListing open_after_nat = t;
  open_after_nat.objects[4].lines.push_back("accept");
  EXPECT_THAT(CheckFailClosedShape(open_after_nat),
              ElementsAre("chain postrouting: a rule that matches everything: `accept`"));
}

TEST(ListingTest, CompareWithRulesetComparesSets) {
  RulesetSpec spec;
  spec.mode = Mode::kConnected;
  spec.fwmark = 0xca6c;
  spec.uplink = "eth0";
  spec.tunnel = "wg0";
  spec.endpoint = *SocketAddress::Parse("203.0.113.10:51820");
  spec.engine_port = 43210;
  spec.input_udp_ports = {8080};
  Result<Ruleset> r = BuildRuleset(spec);
  ASSERT_TRUE(r.ok()) << r.error().message();
  TableListing got = Parse(r->script);
  EXPECT_THAT(CompareWithRuleset(*r, got), IsEmpty());
  got.objects[0].lines.push_back("elements = { 192.0.2.2 . 4000 . 8080 }");
  EXPECT_THAT(CompareWithRuleset(*r, got),
              ElementsAre("set published_udp4: applied `type ipv4_addr . inet_service . "
                          "inet_service; size 65535; flags dynamic,timeout; timeout 30s`, the "
                          "kernel lists `type ipv4_addr . inet_service . inet_service; size 65535; "
                          "flags dynamic,timeout; timeout 30s; elements = { 192.0.2.2 . 4000 . "
                          "8080 }`"));
  got.objects.erase(got.objects.begin());
  EXPECT_THAT(CompareWithRuleset(*r, got), ElementsAre("set published_udp4 is missing"));
}

}  // namespace
}  // namespace wgate::firewall
