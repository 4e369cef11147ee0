#include "firewall/firewall.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "firewall/fake_nft_backend.h"

namespace wgate::firewall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

RulesetSpec Connected() {
  RulesetSpec s;
  s.mode = Mode::kConnected;
  s.fwmark = 0xca6c;
  s.uplink = "eth0";
  s.tunnel = "wg0";
  s.endpoint = *SocketAddress::Parse("203.0.113.10:51820");
  s.engine_port = 43210;
  s.input_ports = {8080};
  return s;
}

class FirewallTest : public ::testing::Test {
 protected:
  FakeNftBackend kernel_;
  Firewall fw_{kernel_};
};

TEST_F(FirewallTest, ApplyRunsOneScriptAndVerifies) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  ASSERT_EQ(kernel_.scripts().size(), 1u);
  EXPECT_THAT(kernel_.scripts()[0], HasSubstr("add table inet wgate\ndelete table inet wgate\n"
                                              "table inet wgate {\n"));
  ASSERT_TRUE(kernel_.table().has_value());
  EXPECT_EQ(kernel_.list_calls(), 1);  // read back right away
  Verification v = fw_.Verify();
  EXPECT_TRUE(v.ok()) << v.Summary();
  EXPECT_EQ(v.Summary(), "firewall: rules verified");
  EXPECT_EQ(fw_.applied_spec()->mode, Mode::kLockdown);
  EXPECT_THAT(fw_.reference_listing(), StartsWith("table inet wgate {\n\tchain input {\n"));
}

TEST_F(FirewallTest, EveryTransitionIsOneTransaction) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  EXPECT_TRUE(fw_.Verify().ok());
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  EXPECT_TRUE(fw_.Verify().ok());
  ASSERT_EQ(kernel_.scripts().size(), 3u);
  for (const std::string& s : kernel_.scripts()) {
    EXPECT_THAT(s, HasSubstr("add table inet wgate\ndelete table inet wgate\ntable inet wgate {"));
  }
  EXPECT_THAT(kernel_.scripts()[1], HasSubstr("udp dport 51820 accept"));
  EXPECT_EQ(kernel_.table()->FindChain("output")->lines.size(), 3u);  // lockdown again
}

TEST_F(FirewallTest, InvalidSpecNeverReachesTheKernel) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  RulesetSpec bad = Connected();
  bad.uplink = "eth0;";
  Status s = fw_.Apply(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(), StartsWith("firewall: uplink interface name \"eth0;\""));
  EXPECT_EQ(kernel_.scripts().size(), 1u);
  EXPECT_EQ(fw_.applied_spec()->mode, Mode::kLockdown);
  EXPECT_TRUE(fw_.Verify().ok());  // the lockdown is still what was applied
}

TEST_F(FirewallTest, NftErrorLeavesThePreviousRulesetInForce) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  kernel_.FailNextRun(Error("nft: Error: Could not process rule: Operation not permitted"));
  Status s = fw_.Apply(Connected());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "firewall: applying the connected ruleset (the previous ruleset stays in force): "
            "nft: Error: Could not process rule: Operation not permitted");
  EXPECT_EQ(fw_.applied_spec()->mode, Mode::kLockdown);
  EXPECT_TRUE(fw_.Verify().ok());
}

TEST_F(FirewallTest, ReadBackFailureIsAnError) {
  kernel_.FailNextList(Error("nft: Error: Could not receive: Interrupted"));
  Status s = fw_.Apply(RulesetSpec{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "firewall: applying the lockdown ruleset: reading the table back: nft: Error: Could "
            "not receive: Interrupted");
  EXPECT_THAT(fw_.Verify().problems,
              ElementsAre("no ruleset applied and read back by this process"));
  ASSERT_TRUE(fw_.Reapply().ok());  // the rules are in: re-applying gets a reference
  EXPECT_TRUE(fw_.Verify().ok());
}

// A kernel that lists fewer rules than were applied (or an nft that merged two) must not pass
// unnoticed: the shape check right after the apply catches it.
class RuleEatingBackend final : public NftBackend {
 public:
  Status Run(std::string_view script) override {
    Status s = inner_.Run(script);
    if (s && inner_.table()) inner_.table()->objects[2].lines.pop_back();
    return s;
  }
  Result<std::optional<std::string>> ListTable(std::string_view table) override {
    return inner_.ListTable(table);
  }

 private:
  FakeNftBackend inner_;
};

TEST(FirewallReadBackTest, ShapeMismatchIsAnError) {
  RuleEatingBackend kernel;
  Firewall fw(kernel);
  Status s = fw.Apply(RulesetSpec{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "firewall: applying the lockdown ruleset: the kernel's table differs from what was "
            "applied: chain output: applied 3 rules, the kernel lists 2");
  EXPECT_FALSE(fw.Verify().ok());
}

TEST_F(FirewallTest, VerifyIsRobustToNftNormalisation) {
  // nft lists `meta nfproto ipv4 reject with icmp type x` as `reject with icmp x`.
  kernel_.SetNormaliser([](const std::string& rule) {
    if (rule == "meta nfproto ipv4 reject with icmp type admin-prohibited") {
      return std::string("reject with icmp admin-prohibited");
    }
    return rule;
  });
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  EXPECT_TRUE(fw_.Verify().ok());
  EXPECT_THAT(fw_.reference_listing(), HasSubstr("\t\treject with icmp admin-prohibited\n"));
}

TEST_F(FirewallTest, DetectsDeletedTable) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  kernel_.table().reset();
  Verification v = fw_.Verify();
  EXPECT_THAT(v.problems, ElementsAre("table inet wgate is missing"));
  EXPECT_EQ(v.Summary(), "firewall: rules altered: table inet wgate is missing");
  ASSERT_TRUE(fw_.Reapply().ok());
  EXPECT_TRUE(fw_.Verify().ok());
  EXPECT_EQ(fw_.applied_spec()->mode, Mode::kConnected);
}

TEST_F(FirewallTest, DetectsFlushedTable) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  ASSERT_TRUE(kernel_.Run("flush table inet wgate").ok());
  EXPECT_THAT(fw_.Verify().problems,
              ElementsAre("table inet wgate was flushed: all 22 rules are gone (the chains that "
                          "remain keep policy drop)"));
}

TEST_F(FirewallTest, DetectsMissingChain) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  auto& objects = kernel_.table()->objects;
  objects.erase(objects.begin() + 1);  // forward
  EXPECT_THAT(fw_.Verify().problems, ElementsAre("chain forward is missing"));
}

TEST_F(FirewallTest, DetectsAlteredRuleAndPolicy) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  ListedObject* output = &kernel_.table()->objects[2];
  output->lines[1] = "accept";
  output->header = "type filter hook output priority filter; policy accept;";
  EXPECT_THAT(
      fw_.Verify().problems,
      ElementsAre("chain output: header changed: expected `type filter hook output priority "
                  "filter; policy drop;`, found `type filter hook output priority filter; policy "
                  "accept;`",
                  "chain output: rule 2 of 3 missing: `oifname \"lo\" accept`",
                  "chain output: unexpected rule at position 2: `accept`"));
}

// The holder's check: whoever applied the table, it must exist and drop by default.
TEST_F(FirewallTest, CheckFailClosedAcceptsAnyWgateRulesetAndNothingOpen) {
  Firewall holder(kernel_);
  EXPECT_THAT(holder.CheckFailClosed().problems, ElementsAre("table inet wgate is missing"));
  ASSERT_TRUE(holder.Apply(RulesetSpec{}).ok());
  EXPECT_TRUE(holder.CheckFailClosed().ok());
  ASSERT_TRUE(fw_.Apply(Connected()).ok());  // a gateway replaced the holder's lockdown
  EXPECT_FALSE(holder.Verify().ok());
  EXPECT_TRUE(holder.CheckFailClosed().ok());
  for (ListedObject& o : kernel_.table()->objects) {
    if (o.name == "output") o.header = "type filter hook output priority filter; policy accept;";
  }
  EXPECT_THAT(holder.CheckFailClosed().problems, ElementsAre(HasSubstr("chain output")));
  kernel_.FailNextList(Error("nft: Error: Could not receive: No buffer space available"));
  EXPECT_THAT(holder.CheckFailClosed().problems,
              ElementsAre("cannot list table inet wgate: nft: Error: Could not receive: No buffer "
                          "space available"));
}

TEST_F(FirewallTest, ListingFailureIsAProblem) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  kernel_.FailNextList(Error("nft: Error: Could not receive: No buffer space available"));
  EXPECT_THAT(fw_.Verify().problems,
              ElementsAre("cannot list table inet wgate: nft: Error: Could not receive: No buffer "
                          "space available"));
}

TEST_F(FirewallTest, VerifyBeforeApply) {
  EXPECT_THAT(fw_.Verify().problems,
              ElementsAre("no ruleset applied and read back by this process"));
  EXPECT_EQ(fw_.Reapply().error().message(),
            "firewall: nothing to re-apply: no ruleset was applied yet");
}

TEST_F(FirewallTest, RemoveAllIsIdempotent) {
  ASSERT_TRUE(fw_.RemoveAll().ok());  // nothing there yet
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  ASSERT_TRUE(fw_.RemoveAll().ok());
  EXPECT_FALSE(kernel_.table().has_value());
  ASSERT_TRUE(fw_.RemoveAll().ok());
  EXPECT_FALSE(kernel_.table().has_value());
  EXPECT_EQ(kernel_.scripts().back(),
            "add table inet wgate\ndelete table inet wgate\nadd table netdev wgate\ndelete table "
            "netdev wgate\n");
  EXPECT_FALSE(fw_.applied_spec().has_value());
}

TEST_F(FirewallTest, RemoveAllErrorQuotesNft) {
  kernel_.FailNextRun(Error("nft: Error: Could not process rule: Operation not permitted"));
  EXPECT_EQ(fw_.RemoveAll().error().message(),
            "firewall: removing table inet wgate: nft: Error: Could not process rule: Operation "
            "not permitted");
}

// ---- The owned twin (FirewallOptions::owned_twin).

class OwnedTwinTest : public ::testing::Test {
 protected:
  FakeNftBackend kernel_;
  Firewall fw_{kernel_, FirewallOptions{.owned_twin = true}};
};

TEST(OwnedTwinScriptTest, RepeatsTheTableBlockWithTheOwnerFlag) {
  Result<Ruleset> r = BuildRuleset(RulesetSpec{});
  ASSERT_TRUE(r.ok());
  const std::string twin = OwnedTwinScript(r->script);
  EXPECT_THAT(twin, HasSubstr("add table inet wgate_owned { flags owner; }\n"
                              "delete table inet wgate_owned\n"
                              "table inet wgate_owned {\n\tflags owner;\n\n\tchain input {\n"));
  // The same chains and rules: the block after the opening lines is inet wgate's, verbatim.
  const std::string plain_block = r->script.substr(r->script.find("table inet wgate {\n") + 19);
  EXPECT_EQ(twin.substr(twin.find("\tflags owner;\n\n") + 15), plain_block);
}

TEST_F(OwnedTwinTest, OneTransactionInstallsBothTables) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  ASSERT_EQ(kernel_.scripts().size(), 1u);
  const std::string& script = kernel_.scripts()[0];
  EXPECT_THAT(script, HasSubstr("delete table inet wgate\ntable inet wgate {\n"));
  EXPECT_THAT(script, HasSubstr("delete table inet wgate_owned\ntable inet wgate_owned {\n"));
  ASSERT_TRUE(kernel_.table().has_value());
  ASSERT_TRUE(kernel_.table(kOwnedTable).has_value());
  EXPECT_THAT(kernel_.table(kOwnedTable)->attributes, ElementsAre("flags owner"));
  EXPECT_EQ(kernel_.table(kOwnedTable)->objects.size(), kernel_.table()->objects.size());
  EXPECT_EQ(kernel_.table(kOwnedTable)->RuleCount(), kernel_.table()->RuleCount());
  EXPECT_TRUE(fw_.owned_twin_active());
  EXPECT_THAT(fw_.ownership_summary(), StartsWith("table ownership: on (table inet wgate_owned"));
  EXPECT_TRUE(fw_.Verify().ok()) << fw_.Verify().Summary();
  // A transition replaces both, still in one script.
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  ASSERT_EQ(kernel_.scripts().size(), 2u);
  EXPECT_EQ(kernel_.table(kOwnedTable)->FindChain("output")->lines.size(), 3u);
  EXPECT_TRUE(fw_.Verify().ok());
}

TEST_F(OwnedTwinTest, VerifyChecksTheTwinToo) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  for (ListedObject& o : kernel_.table(kOwnedTable)->objects) {
    if (o.kind == "chain" && o.name == "output") o.lines.pop_back();
  }
  EXPECT_THAT(fw_.Verify().problems,
              ElementsAre(StartsWith("table inet wgate_owned: chain output: rule ")));
  ASSERT_TRUE(fw_.Reapply().ok());
  EXPECT_TRUE(fw_.Verify().ok());
  kernel_.table(kOwnedTable).reset();  // e.g. the socket that owned it was closed
  EXPECT_THAT(fw_.Verify().problems, ElementsAre("table inet wgate_owned is missing"));
  ASSERT_TRUE(kernel_.Run("flush table inet wgate").ok());
  EXPECT_THAT(fw_.Verify().problems, ElementsAre(StartsWith("table inet wgate was flushed"),
                                                 "table inet wgate_owned is missing"));
}

TEST_F(OwnedTwinTest, TheTwinMustBeListedAsOwned) {
  class OwnerFlagDropping final : public NftBackend {
   public:
    Status Run(std::string_view script) override {
      Status s = inner.Run(script);
      if (s && inner.table(kOwnedTable)) inner.table(kOwnedTable)->attributes.clear();
      return s;
    }
    Result<std::optional<std::string>> ListTable(std::string_view t) override {
      return inner.ListTable(t);
    }
    FakeNftBackend inner;
  } kernel;
  Firewall fw(kernel, FirewallOptions{.owned_twin = true});
  Status s = fw.Apply(RulesetSpec{});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(),
              HasSubstr("table inet wgate_owned: it is not listed with `flags owner`"));
}

TEST_F(OwnedTwinTest, KernelWithoutOwnershipFallsBackToTheSingleTable) {
  kernel_.FailOwnerFlag(
      Error("nft: Error: Could not process rule: Operation not supported", EOPNOTSUPP));
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());
  ASSERT_EQ(kernel_.scripts().size(), 2u);  // the probe, then the single table
  EXPECT_THAT(kernel_.scripts()[1], Not(HasSubstr("wgate_owned")));
  EXPECT_FALSE(fw_.owned_twin_active());
  EXPECT_THAT(fw_.ownership_summary(),
              StartsWith("table ownership: unavailable on this kernel (nft: Error: Could not "
                         "process rule: Operation not supported)"));
  EXPECT_TRUE(fw_.Verify().ok());
  // Known unsupported: later applies do not try again.
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  EXPECT_EQ(kernel_.scripts().size(), 3u);
  ASSERT_TRUE(fw_.RemoveAll().ok());
  EXPECT_EQ(kernel_.scripts().back(),
            "add table inet wgate\ndelete table inet wgate\nadd table netdev wgate\ndelete table "
            "netdev wgate\n");
}

TEST_F(OwnedTwinTest, ATwinHeldByAnotherProcessDoesNotStopTheRuleset) {
  ASSERT_TRUE(kernel_.Run("add table inet wgate_owned { flags owner; }").ok());
  kernel_.OwnedByOther(std::string(kOwnedTable));
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  EXPECT_FALSE(fw_.owned_twin_active());
  EXPECT_THAT(fw_.ownership_summary(),
              StartsWith("table ownership: off (table inet wgate_owned could not be installed: "
                         "nft: Error: Could not process rule: Operation not permitted)"));
  EXPECT_TRUE(fw_.Verify().ok());
  Result<Ruleset> built = BuildRuleset(Connected());
  ASSERT_TRUE(built.ok());
  size_t output_rules = 0;
  for (const Chain& c : built->chains) output_rules += c.name == "output" ? c.rules.size() : 0;
  EXPECT_EQ(kernel_.table()->FindChain("output")->lines.size(), output_rules);
}

TEST_F(OwnedTwinTest, FallingBackRemovesTheTwinOfThePreviousRuleset) {
  ASSERT_TRUE(fw_.Apply(RulesetSpec{}).ok());  // lockdown in both tables
  ASSERT_TRUE(fw_.owned_twin_active());
  // The connected script with its twin fails (once): the single table goes in, and the
  // lockdown twin must not stay behind blocking the tunnel.
  kernel_.FailNextRun(Error("nft: Error: Could not process rule: Cannot allocate memory", ENOMEM));
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  EXPECT_FALSE(kernel_.table(kOwnedTable).has_value());
  EXPECT_FALSE(fw_.owned_twin_active());
  EXPECT_TRUE(fw_.Verify().ok());
  ASSERT_TRUE(fw_.Reapply().ok());  // not known unsupported: the next apply tries again
  EXPECT_TRUE(fw_.owned_twin_active());
}

TEST_F(OwnedTwinTest, RemoveAllRemovesBothInOneTransaction) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  ASSERT_TRUE(fw_.RemoveAll().ok());
  EXPECT_EQ(kernel_.scripts().back(),
            "add table inet wgate\ndelete table inet wgate\nadd table netdev wgate\ndelete table "
            "netdev wgate\n"
            "add table inet wgate_owned { flags owner; }\ndelete table inet wgate_owned\n");
  EXPECT_FALSE(kernel_.table().has_value());
  EXPECT_FALSE(kernel_.table(kOwnedTable).has_value());
  ASSERT_TRUE(fw_.RemoveAll().ok());  // idempotent
}

TEST_F(OwnedTwinTest, RemoveAllWithoutTheTwinSaysWhatStillBlocks) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());  // a running gateway's two tables
  Firewall other(kernel_);                   // `wgate unblock` in another process
  kernel_.OwnedByOther(std::string(kOwnedTable));
  Status s = other.RemoveAll();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message(),
              StartsWith("firewall: table inet wgate is removed, but table inet wgate_owned "
                         "remains and still blocks"));
  EXPECT_FALSE(kernel_.table().has_value());
}

TEST_F(FirewallTest, WithoutTheOptionThereIsNoTwin) {
  ASSERT_TRUE(fw_.Apply(Connected()).ok());
  EXPECT_THAT(kernel_.scripts()[0], Not(HasSubstr("wgate_owned")));
  EXPECT_FALSE(fw_.owned_twin_active());
  EXPECT_EQ(fw_.ownership_summary(), "");
}

}  // namespace
}  // namespace wgate::firewall

namespace wgate::firewall {
namespace {

RulesetSpec WithEgress(RulesetSpec spec) {
  spec.egress = EgressFilter{"eth0", 0x5ec12e7};
  return spec;
}

TEST(FirewallEgressTest, TheNetdevTableIsReadBackAndVerified) {
  FakeNftBackend kernel;
  Firewall fw(kernel);
  ASSERT_TRUE(fw.Apply(WithEgress(RulesetSpec{})).ok());
  ASSERT_TRUE(kernel.table(kNetdevTable).has_value());
  EXPECT_TRUE(fw.Verify().ok()) << fw.Verify().Summary();
  kernel.table(kNetdevTable)->objects[0].lines.pop_back();  // someone drops the ARP rule
  Verification v = fw.Verify();
  EXPECT_FALSE(v.ok());
  EXPECT_THAT(v.Summary(), HasSubstr("table netdev wgate"));
  kernel.table(kNetdevTable).reset();
  EXPECT_THAT(fw.Verify().Summary(), HasSubstr("table netdev wgate is missing"));
}

TEST(FirewallEgressTest, AFilterThatIsNoLongerWantedGoesInTheSameTransaction) {
  FakeNftBackend kernel;
  Firewall fw(kernel);
  ASSERT_TRUE(fw.Apply(WithEgress(RulesetSpec{})).ok());
  ASSERT_TRUE(fw.Apply(RulesetSpec{}).ok());
  EXPECT_THAT(kernel.scripts().back(),
              HasSubstr("add table netdev wgate\ndelete table netdev wgate\n"));
  EXPECT_FALSE(kernel.table(kNetdevTable).has_value());
  EXPECT_TRUE(fw.Verify().ok()) << fw.Verify().Summary();
}

}  // namespace
}  // namespace wgate::firewall
