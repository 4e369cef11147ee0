#include "firewall/firewall.h"

#include <algorithm>

#include "base/strings.h"

namespace wgate::firewall {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// Adds the messages of `more` that `into` does not have yet (the invariant check and the
// comparison may both notice a missing chain).
void Merge(const std::vector<std::string>& more, std::vector<std::string>* into) {
  for (const std::string& m : more) {
    if (std::find(into->begin(), into->end(), m) == into->end()) into->push_back(m);
  }
}

}  // namespace

std::string Verification::Summary() const {
  if (ok()) return "firewall: rules verified";
  return StrCat("firewall: rules altered: ", Join(problems));
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

Status Firewall::ApplyRuleset(const RulesetSpec& spec, const Ruleset& ruleset) {
  const std::string what = StrCat("firewall: applying the ", ModeName(ruleset.mode), " ruleset");
  if (Status s = backend_.Run(ruleset.script); !s) {
    return s.error().Wrap(StrCat(what, " (the previous ruleset stays in force)"));
  }
  // From here the new rules are in the kernel; the old reference describes nothing any more.
  spec_ = spec;
  reference_.reset();
  Result<std::optional<std::string>> text = backend_.ListTable(kTable);
  if (!text) return text.error().Wrap(StrCat(what, ": reading the table back"));
  if (!text->has_value()) {
    return Error(StrCat(what, ": reading the table back: table ", kTable, " is missing"));
  }
  Result<TableListing> listing = ParseTableListing(**text);
  if (!listing) return listing.error().Wrap(StrCat(what, ": reading the table back"));
  std::vector<std::string> problems = CheckInvariants(*listing);
  Merge(CompareWithRuleset(ruleset, *listing), &problems);
  if (!problems.empty()) {
    return Error(
        StrCat(what, ": the kernel's table differs from what was applied: ", Join(problems)));
  }
  reference_ = std::move(*listing);
  return Ok();
}

Verification Firewall::Verify() {
  Verification v;
  if (!reference_) {
    v.problems.push_back("no ruleset applied and read back by this process");
    return v;
  }
  Result<std::optional<std::string>> text = backend_.ListTable(kTable);
  if (!text) {
    v.problems.push_back(StrCat("cannot list table ", kTable, ": ", text.error().message()));
    return v;
  }
  if (!text->has_value()) {
    v.problems.push_back(StrCat("table ", kTable, " is missing"));
    return v;
  }
  Result<TableListing> listing = ParseTableListing(**text);
  if (!listing) {
    v.problems.push_back(listing.error().message());
    return v;
  }
  v.problems = CompareListings(*reference_, *listing);
  Merge(CheckInvariants(*listing), &v.problems);
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
  const std::string script = StrCat("add table ", kTable, "\ndelete table ", kTable, "\n");
  if (Status s = backend_.Run(script); !s) {
    return s.error().Wrap(StrCat("firewall: removing table ", kTable));
  }
  spec_.reset();
  reference_.reset();
  return Ok();
}

std::string Firewall::reference_listing() const {
  return reference_ ? RenderTableListing(*reference_) : std::string();
}

}  // namespace wgate::firewall
