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
// The owned twin (FirewallOptions::owned_twin, for `wgate run`): every ruleset goes in twice, in
// the same transaction: table inet wgate as always (no owner: it outlives the process, so a
// crash leaves the namespace locked), and table inet wgate_owned, the same chains and rules in a
// table created with `flags owner`. The kernel lets only the netlink socket that created an
// owned table change or delete it (another process's `nft delete table`, `flags dormant` get
// EPERM; `nft flush ruleset` skips it) and deletes it when that socket closes. A packet must
// pass both tables, so deleting, flushing or unhooking inet wgate from outside leaves the twin
// blocking exactly the same until the daemon re-applies; a crash removes only the twin. This
// needs every transaction to come from one socket: one NftBackend for the Firewall's life. On a
// kernel without table ownership (before Linux 5.12) the first Apply finds out and the
// Firewall goes on with the single table (ownership_summary() says so).
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

// The owned twin of kTable (see above).
inline constexpr std::string_view kOwnedTable = "inet wgate_owned";

struct FirewallOptions {
  // Install the owned twin too. Not for the namespace holder: its owned lockdown would stay
  // under a gateway's ruleset and block the gateway's handshake.
  bool owned_twin = false;
};

class Firewall {
 public:
  explicit Firewall(NftBackend& backend, FirewallOptions options = {})
      : backend_(backend), options_(options) {}

  // Validates and builds the ruleset for `spec`, replaces table inet wgate (and the owned twin)
  // with it in one transaction, then reads the table(s) back: the base chains must hold their
  // policy drop and every chain the number of rules applied. That listing becomes the reference
  // for Verify(). If the transaction with the twin fails (no ownership in this kernel, or a
  // table of that name owned by another process), the single table is applied instead, and the
  // twin of an earlier ruleset removed with it.
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
  // With the owned twin in force, the twin is checked the same way.
  Verification Verify();

  // Lists the table and checks only that it has the shape of a wgate table that fails closed
  // (CheckFailClosedShape), whoever applied it. For the namespace holder, whose own lockdown a
  // gateway's ruleset legitimately replaces.
  // `listing` (optional) receives the parsed table when there is one.
  Verification CheckFailClosed(TableListing* listing = nullptr);

  // Deletes table inet wgate (and this process's owned twin), opening the namespace: only for
  // `wgate down --unblock` / `wgate unblock`. Idempotent: succeeds when the table is already
  // gone. Forgets the reference. Without the twin option, an owned twin that another (running)
  // wgate holds cannot be removed from here: the error says so, inet wgate is removed anyway.
  Status RemoveAll();

  // The spec of the ruleset in force after the last Apply() that reached the kernel, if any.
  const std::optional<RulesetSpec>& applied_spec() const { return spec_; }
  // The kernel's listing right after the last successful Apply(), as text.
  std::string reference_listing() const;

  // Whether the owned twin is in force (after the last Apply()).
  bool owned_twin_active() const { return twin_ == Twin::kActive; }
  // One line for `wgate status`: "table ownership: on (...)", "... unavailable on this kernel
  // (...)", "... off (...)"; "" when the option is not set.
  std::string ownership_summary() const;

 private:
  enum class Twin { kNotYet, kActive, kUnsupported, kFailed };

  Status ApplyRuleset(const RulesetSpec& spec, const Ruleset& ruleset);
  // Runs the ruleset's script with its twin; falls back to the single table. *with_twin says
  // which went in.
  Status RunScript(const Ruleset& ruleset, bool* with_twin);
  // Reads `table` back after an apply; `problems` gets what disagrees with `ruleset`.
  Result<TableListing> ReadBack(std::string_view table, const Ruleset& ruleset,
                                std::vector<std::string>* problems);
  void VerifyTable(std::string_view table, const TableListing& want, Verification* v);

  NftBackend& backend_;
  FirewallOptions options_;
  Twin twin_ = Twin::kNotYet;
  std::string twin_problem_;  // why the twin is not in force (kUnsupported, kFailed)
  std::optional<RulesetSpec> spec_;
  std::optional<TableListing> reference_;
  std::optional<TableListing> twin_reference_;
  // table netdev wgate (RulesetSpec::egress) as read back after the last apply that had one.
  std::optional<TableListing> netdev_reference_;
};

// The script that installs the table block of `script` (a Ruleset's) a second time as the owned
// twin: replace-table preamble, `flags owner`, the same objects. Pure; exposed for tests.
std::string OwnedTwinScript(std::string_view script);

}  // namespace wgate::firewall
