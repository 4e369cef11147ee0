#include "firewall/firewall.h"

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "base/strings.h"

namespace wgate::firewall {
namespace {

// Adds the messages of `more` that `into` does not have yet (the invariant check and the
// comparison may both notice a missing chain).
void Merge(const std::vector<std::string>& more, std::vector<std::string>* into) {
  for (const std::string& m : more) {
    if (std::find(into->begin(), into->end(), m) == into->end()) into->push_back(m);
  }
}

// Removes a table whether or not it exists, in one transaction: `add` first makes the delete
// valid. `add_flags`: the flags the table is (to be) created with, which an `add` of an existing
// table must repeat (the owner flag cannot change).
std::string RemoveTableScript(std::string_view table, std::string_view add_flags = "") {
  return StrCat("add table ", table, add_flags, "\ndelete table ", table, "\n");
}

constexpr std::string_view kOwnerFlags = " { flags owner; }";

// Problems of the twin are said with its name, so that they are told from inet wgate's.
void AddTwinProblems(const std::vector<std::string>& more, std::vector<std::string>* into) {
  const std::string name = StrCat("table ", kOwnedTable);
  std::vector<std::string> named;
  for (const std::string& m : more) {
    named.push_back(m.rfind(name, 0) == 0 ? m : StrCat(name, ": ", m));
  }
  Merge(named, into);
}

// A kernel without table ownership rejects the flag (Linux 5.12 added it).
bool OwnershipUnsupported(const Error& e) {
  return e.sys_errno() == EOPNOTSUPP || e.sys_errno() == EINVAL;
}

}  // namespace

std::string OwnedTwinScript(std::string_view script) {
  const std::string opening = StrCat("table ", kTable, " {\n");
  size_t start = script.rfind(opening, 0) == 0 ? 0 : script.find(StrCat("\n", opening));
  WGATE_CHECK(start != std::string_view::npos);  // a Ruleset's script always has its table block
  if (start != 0) ++start;
  const size_t body = start + opening.size();
  const size_t end = script.find("\n}\n", body - 1);  // the table's closing brace, in column 0
  WGATE_CHECK(end != std::string_view::npos);
  return StrCat("# the same rules again in ", kOwnedTable,
                ", which only this process can change or delete\n",
                RemoveTableScript(kOwnedTable, kOwnerFlags), "table ", kOwnedTable,
                " {\n\tflags owner;\n\n", script.substr(body, end + 1 - body), "}\n");
}

std::string Verification::Summary() const {
  if (ok()) return "firewall: rules verified";
  return StrCat("firewall: rules altered: ", Join(problems, "; "));
}

Status Firewall::Apply(const RulesetSpec& spec) {
  Result<Ruleset> ruleset = BuildRuleset(spec);
  if (!ruleset) return ruleset.error();
  return ApplyRuleset(spec, *ruleset);
}

Status Firewall::Reapply() {
  if (!spec_) return Error("firewall: nothing to re-apply: no ruleset was applied yet");
  const RulesetSpec spec = *spec_;
  return Apply(spec);
}

Status Firewall::RunScript(const Ruleset& ruleset, bool* with_twin) {
  *with_twin = false;
  if (!options_.owned_twin || twin_ == Twin::kUnsupported) return backend_.Run(ruleset.script);
  Status both = backend_.Run(StrCat(ruleset.script, OwnedTwinScript(ruleset.script)));
  if (both) {
    *with_twin = true;
    return both;
  }
  // The single table then; a twin of the previous ruleset must go with it, or it would go on
  // blocking what the new ruleset allows.
  std::string single = ruleset.script;
  if (twin_ == Twin::kActive) single += RemoveTableScript(kOwnedTable, kOwnerFlags);
  Status s = backend_.Run(single);
  if (!s) return s;
  const bool unsupported = OwnershipUnsupported(both.error());
  const Twin next = unsupported ? Twin::kUnsupported : Twin::kFailed;
  if (twin_ != next || twin_problem_ != both.error().message()) {
    LogWarn(StrCat("firewall: table ", kOwnedTable, " (the twin no other process can delete) ",
                   unsupported ? "is not supported by this kernel" : "could not be installed", ": ",
                   both.error().message(), "; table ", kTable, " alone protects"));
  }
  twin_ = next;
  twin_problem_ = both.error().message();
  return s;
}

Result<TableListing> Firewall::ReadBack(std::string_view table, const Ruleset& ruleset,
                                        std::vector<std::string>* problems) {
  Result<std::optional<std::string>> text = backend_.ListTable(table);
  if (!text) return text.error();
  if (!text->has_value()) return Error(StrCat("table ", table, " is missing"));
  Result<TableListing> listing = ParseTableListing(**text, table);
  if (!listing) return listing.error();
  if (table != kNetdevTable) {
    *problems = CheckInvariants(*listing);
    Merge(CompareWithRuleset(ruleset, *listing), problems);
    return listing;
  }
  // The egress filter's table holds the ruleset's netdev chains, and none of the inet invariants.
  Ruleset netdev;
  netdev.chains = ruleset.netdev_chains;
  for (const std::string& p : CompareWithRuleset(netdev, *listing)) {
    problems->push_back(StrCat("table ", kNetdevTable, ": ", p));
  }
  return listing;
}

Status Firewall::ApplyRuleset(const RulesetSpec& spec, const Ruleset& built) {
  const std::string what = StrCat("firewall: applying the ", ModeName(built.mode), " ruleset");
  Ruleset ruleset = built;
  // An egress filter of the previous ruleset goes in the same transaction when this one has none.
  if (ruleset.netdev_chains.empty() && spec_ && spec_->egress) {
    ruleset.script += RemoveTableScript(kNetdevTable);
  }
  bool with_twin = false;
  if (Status s = RunScript(ruleset, &with_twin); !s) {
    return s.error().Wrap(StrCat(what, " (the previous ruleset stays in force)"));
  }
  // From here the new rules are in the kernel; the old references describe nothing any more.
  spec_ = spec;
  reference_.reset();
  twin_reference_.reset();
  netdev_reference_.reset();
  if (with_twin) {
    twin_ = Twin::kActive;
    twin_problem_.clear();
  } else if (twin_ == Twin::kActive) {
    twin_ = Twin::kNotYet;  // removed with the single table's script
  }
  std::vector<std::string> problems;
  Result<TableListing> listing = ReadBack(kTable, ruleset, &problems);
  if (!listing) return listing.error().Wrap(StrCat(what, ": reading the table back"));
  std::optional<TableListing> twin;
  if (with_twin) {
    std::vector<std::string> twin_problems;
    Result<TableListing> got = ReadBack(kOwnedTable, ruleset, &twin_problems);
    if (!got) return got.error().Wrap(StrCat(what, ": reading table ", kOwnedTable, " back"));
    if (std::find(got->attributes.begin(), got->attributes.end(), "flags owner") ==
        got->attributes.end()) {
      twin_problems.push_back("it is not listed with `flags owner`");
    }
    AddTwinProblems(twin_problems, &problems);
    twin = std::move(*got);
  }
  std::optional<TableListing> netdev;
  if (!ruleset.netdev_chains.empty()) {
    Result<TableListing> got = ReadBack(kNetdevTable, ruleset, &problems);
    if (!got) return got.error().Wrap(StrCat(what, ": reading table ", kNetdevTable, " back"));
    netdev = std::move(*got);
  }
  if (!problems.empty()) {
    return Error(
        StrCat(what, ": the kernel's table differs from what was applied: ", Join(problems, "; ")));
  }
  reference_ = std::move(*listing);
  twin_reference_ = std::move(twin);
  netdev_reference_ = std::move(netdev);
  return Ok();
}

void Firewall::VerifyTable(std::string_view table, const TableListing& want, Verification* v) {
  std::vector<std::string> problems;
  Result<std::optional<std::string>> text = backend_.ListTable(table);
  if (!text) {
    problems.push_back(StrCat("cannot list table ", table, ": ", text.error().message()));
  } else if (!text->has_value()) {
    problems.push_back(StrCat("table ", table, " is missing"));
  } else if (Result<TableListing> listing = ParseTableListing(**text, table); !listing) {
    problems.push_back(listing.error().message());
  } else {
    problems = CompareListings(want, *listing, table);
    if (table != kNetdevTable) Merge(CheckInvariants(*listing), &problems);
  }
  if (table == kTable) {
    Merge(problems, &v->problems);
  } else if (table == kNetdevTable) {
    for (const std::string& p : problems) {
      v->problems.push_back(p.rfind("table ", 0) == 0 ? p : StrCat("table ", table, ": ", p));
    }
  } else {
    AddTwinProblems(problems, &v->problems);
  }
}

Verification Firewall::Verify() {
  Verification v;
  if (!reference_) {
    v.problems.push_back("no ruleset applied and read back by this process");
    return v;
  }
  VerifyTable(kTable, *reference_, &v);
  if (twin_reference_) VerifyTable(kOwnedTable, *twin_reference_, &v);
  if (netdev_reference_) VerifyTable(kNetdevTable, *netdev_reference_, &v);
  return v;
}

Verification Firewall::CheckFailClosed(TableListing* listing_out) {
  Verification v;
  Result<std::optional<std::string>> text = backend_.ListTable(kTable);
  if (!text) {
    v.problems.push_back(StrCat("cannot list table ", kTable, ": ", text.error().message()));
  } else if (!text->has_value()) {
    v.problems.push_back(StrCat("table ", kTable, " is missing"));
  } else if (Result<TableListing> listing = ParseTableListing(**text); !listing) {
    v.problems.push_back(listing.error().message());
  } else {
    v.problems = CheckFailClosedShape(*listing);
    if (listing_out) *listing_out = std::move(*listing);
  }
  return v;
}

Status Firewall::RemoveAll() {
  // `add` first so that the delete succeeds when the table is already gone: idempotent, and
  // still one transaction.
  // The egress filter too, whoever left it (a gateway that died): it would go on dropping every
  // frame on the uplink. Any kernel with nf_tables has the netdev family (the egress hook is
  // what is new), so one transaction holds both.
  const std::string script = StrCat(RemoveTableScript(kTable), RemoveTableScript(kNetdevTable));
  Status removed = Error("");
  if (options_.owned_twin && twin_ != Twin::kUnsupported) {
    removed = backend_.Run(StrCat(script, RemoveTableScript(kOwnedTable, kOwnerFlags)));
  }
  // Without the twin option, or when the kernel refuses the twin's script (no ownership, a
  // table of that name owned by another process): inet wgate alone.
  if (!removed) removed = backend_.Run(script);
  if (!removed) return removed.error().Wrap(StrCat("firewall: removing table ", kTable));
  spec_.reset();
  reference_.reset();
  twin_reference_.reset();
  netdev_reference_.reset();
  if (twin_ == Twin::kActive) twin_ = Twin::kNotYet;
  // An owned twin left behind belongs to a running process, and still blocks everything.
  Result<std::optional<std::string>> twin = backend_.ListTable(kOwnedTable);
  if (twin.ok() && twin->has_value()) {
    return Error(StrCat("firewall: table ", kTable, " is removed, but table ", kOwnedTable,
                        " remains and still blocks: another running process (a `wgate run`; "
                        "`wgate down --unblock` reaches it) owns it, and only it can remove it"));
  }
  return Ok();
}

std::string Firewall::ownership_summary() const {
  if (!options_.owned_twin) return "";
  switch (twin_) {
    case Twin::kNotYet:
      return "table ownership: not in force yet";
    case Twin::kActive:
      return StrCat("table ownership: on (table ", kOwnedTable,
                    " holds the same rules; no other process can change or delete it)");
    case Twin::kUnsupported:
      return StrCat("table ownership: unavailable on this kernel (", twin_problem_, "); table ",
                    kTable, " alone");
    case Twin::kFailed:
      return StrCat("table ownership: off (table ", kOwnedTable,
                    " could not be installed: ", twin_problem_, "); table ", kTable, " alone");
  }
  return "";
}

std::string Firewall::reference_listing() const {
  return reference_ ? RenderTableListing(*reference_) : std::string();
}

}  // namespace wgate::firewall
