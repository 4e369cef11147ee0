// Firewall: applies the kill-switch ruleset atomically, reads it back, verifies it later and
// removes it on explicit request. The daemon's only handle on nftables.
//
// Typical use by the daemon:
//
//   auto backend = firewall::NftablesBackend::Create();     // in the gateway's namespace
//   firewall::Firewall fw(**backend);
//   fw.Apply(firewall::RulesetSpec{});                      // lockdown, before reading anything
//   ...config read, endpoint resolved...
//   fw.Apply(connected_spec);                               // one transaction, no gap
//   every few seconds:
//     firewall::Verification v = fw.Verify();
//     if (!v.ok()) { LogError(v.Summary()); health.rules_verified = false; fw.Reapply(); }
//   `wgate down --unblock`:  fw.RemoveAll();
//
// Thread-safety: none; one thread drives a Firewall. The backend must outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "firewall/listing.h"
#include "firewall/nft_backend.h"
#include "firewall/ruleset.h"

namespace wgate::firewall {

// The outcome of a check: empty problems means the kernel holds exactly what was applied.
struct Verification {
  std::vector<std::string> problems;

  bool ok() const { return problems.empty(); }
  // "firewall: rules altered: chain output is missing; ..." or "firewall: rules verified".
  std::string Summary() const;
};

class Firewall {
 public:
  explicit Firewall(NftBackend& backend) : backend_(backend) {}

  // Validates and builds the ruleset for `spec`, replaces table inet wgate with it in one
  // transaction, then reads the table back: the base chains must hold their policy drop and
  // every chain the number of rules applied. That listing becomes the reference for Verify().
  //
  // On a validation or nft error nothing changed in the kernel: whatever ruleset was there (an
  // earlier lockdown, say) stays in force, and the error says which. If the read-back disagrees
  // the new rules are in place but the error describes the disagreement and Verify() will fail.
  Status Apply(const RulesetSpec& spec);

  // Applies the last spec that Apply() accepted again, e.g. after Verify() found tampering.
  Status Reapply();

  // Lists the table and compares it with the reference (precise differences: missing table,
  // missing chain, changed policy, missing/moved/unexpected rule, flushed table, extra objects),
  // plus the invariants every wgate table must satisfy. A failure to list is a problem too.
  Verification Verify();

  // Lists the table and checks only that it has the shape of a wgate table that fails closed
  // (CheckFailClosedShape), whoever applied it. For the namespace holder, whose own lockdown a
  // gateway's ruleset legitimately replaces.
  // `listing` (optional) receives the parsed table when there is one.
  Verification CheckFailClosed(TableListing* listing = nullptr);

  // Deletes table inet wgate, opening the namespace: only for `wgate down --unblock` /
  // `wgate unblock`. Idempotent: succeeds when the table is already gone. Forgets the reference.
  Status RemoveAll();

  // The spec of the ruleset in force after the last Apply() that reached the kernel, if any.
  const std::optional<RulesetSpec>& applied_spec() const { return spec_; }
  // The kernel's listing right after the last successful Apply(), as text.
  std::string reference_listing() const;

 private:
  Status ApplyRuleset(const RulesetSpec& spec, const Ruleset& ruleset);

  NftBackend& backend_;
  std::optional<RulesetSpec> spec_;
  std::optional<TableListing> reference_;
};

}  // namespace wgate::firewall
