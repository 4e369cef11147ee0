// Reading back what the kernel holds: `nft list table inet wgate` text parsed into chains and
// rules, and a comparison that says precisely what differs. Pure: no I/O.
//
// The comparison never matches nft's text against the script wgate generated (nft normalises:
// sorts set elements, drops implied matches, rewrites `reject with icmp type x`). The reference is
// the kernel's own listing taken right after a successful apply; later listings of an untouched
// table print the same text, so any difference is a change made from outside.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "firewall/ruleset.h"

namespace wgate::firewall {

// One object of the table as listed: a chain, or anything else someone added (set, map,
// flowtable...), kept so that the comparison can name it.
struct ListedObject {
  std::string kind;  // "chain", "set", ...
  std::string name;
  // For a chain: the "type ... hook ... policy ...;" line, "" for a regular chain.
  std::string header;
  // For a chain: one rule per element. For another object: its body lines.
  std::vector<std::string> lines;
};

struct TableListing {
  // Table-level lines that are not objects ("comment ...", "flags ...").
  std::vector<std::string> attributes;
  std::vector<ListedObject> objects;

  const ListedObject* FindChain(std::string_view name) const;
  size_t RuleCount() const;  // over all chains
};

// Parses the text of `nft list table <table>` (tabs or spaces, blank lines, rules whose set
// spans several lines). Text before `table <table> {` (such as the replace preamble of a
// generated script) is skipped, so a built Ruleset's script parses too. A comment after the
// opening brace is ignored: nft prints `table inet wgate_owned { # progname wgate` for a table
// with an owner. Errors quote the line.
Result<TableListing> ParseTableListing(std::string_view text, std::string_view table = kTable);

// Renders in nft's listing layout (tab indents, a blank line between objects).
std::string RenderTableListing(const TableListing& listing, std::string_view table = kTable);

// What wgate needs in any version of its table, whatever was applied: the base chains input,
// forward, output and postrouting exist with their hook and policy drop. One message per broken
// invariant.
std::vector<std::string> CheckInvariants(const TableListing& got);

// What a table must look like for a holder to call it fail-closed without having applied it:
// CheckInvariants, no table attributes (wgate sets none: `flags dormant` unhooks every chain),
// no objects but wgate's chains (the base chains, refuse, reroute with its own header) and its
// published-UDP sets (a set only narrows the hole that looks it up), no rule that is a bare
// verdict (`accept`, `counter accept`), no jump or goto but to `refuse`, and `refuse` holding
// only rejects. It cannot tell a gateway's exact rules from others of the same shape: the
// gateway verifies its own exactly. One message per problem.
std::vector<std::string> CheckFailClosedShape(const TableListing& got);

// The mode the final refusal rule's comment names ("wgate kill switch (connected)"), if any.
std::optional<Mode> ListedMode(const TableListing& got);

// The interfaces the output chain names with `oifname "X"`, but "lo": for a connected ruleset,
// the uplink and the tunnel (which exists only while its gateway runs).
std::vector<std::string> OutputInterfaces(const TableListing& got);

// Compares the kernel's listing right after an apply with the ruleset that was applied: same
// chains in the same order, same headers, same number of rules per chain (rule text is nft's to
// normalise), the same sets with the same definition lines. One message per difference; empty when
// they agree.
std::vector<std::string> CompareWithRuleset(const Ruleset& applied, const TableListing& got);

// Compares a later listing with the reference; one message per difference, e.g.
//   "table inet wgate was flushed: all 9 rules are gone (chains remain, policy drop holds)"
//   "chain output is missing"
//   "chain output: policy changed: expected `type filter ... policy drop;`, found `... accept;`"
//   "chain output: rule missing: `oifname \"lo\" accept`"
//   "chain output: unexpected rule: `accept`"
//   "unexpected set leak"
// Empty when they agree.
// `table` names the table in the messages.
std::vector<std::string> CompareListings(const TableListing& want, const TableListing& got,
                                         std::string_view table = kTable);

}  // namespace wgate::firewall
