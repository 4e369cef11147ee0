// `wgate hold`: the namespace holder, the Kubernetes pause container's role brought to Compose.
//
// In the hold layout the holder container owns the network namespace; the gateway (`wgate run`)
// and every consumer join it (`network_mode: "service:hold"`). So the gateway container can be
// recreated (an image update, an edited compose file, a crash) while the consumers keep their
// namespace, their listening sockets and their connections' state, blocked in the meantime.
//
// The holder installs the same lockdown as `wgate run`, first thing, and from then on only keeps
// the namespace from ever being open. Every tick (a second) it reads wgate's table:
//   - exactly its own lockdown: "lockdown verified", healthy;
//   - another ruleset of wgate's fail-closed shape (firewall::CheckFailClosedShape) whose gateway
//     is visibly alive, i.e. a connected ruleset whose tunnel interface exists: a gateway runs
//     and verifies its own rules exactly, so the holder leaves them alone; healthy;
//   - such a ruleset with no live gateway behind it (a SIGKILLed gateway's rules, a gateway's
//     lockdown variant, or the holder's own lockdown altered): tolerated for kGatewayGrace (a
//     gateway's bring-up runs PreUp before its tunnel exists; a host-name lookup briefly opens a
//     resolver hole), reported unverified, then replaced by the exact lockdown;
//   - wgate's table gone, or not of that shape (e.g. `flags dormant`, a bare `accept`): the
//     lockdown goes back in at once; a live gateway then re-applies its own.
// It reads no config and no file a consumer can write, opens nothing, and never needs updating.
// Only an explicit unblock (`wgate unblock` in the holder's container) opens the namespace; an
// unblock from the gateway's container is undone by the holder, which cannot tell it from a
// process deleting the table.
//
// Thread-safety: none; RunHold's loop drives it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "daemon/gateway.h"
#include "daemon/resolv_conf.h"
#include "daemon/status.h"
#include "firewall/firewall.h"
#include "netlink/route_netlink.h"

namespace wgate::daemon {

class Holder {
 public:
  // How long a fail-closed ruleset that is neither the holder's lockdown nor a live gateway's is
  // left in place before the exact lockdown replaces it.
  static constexpr std::chrono::seconds kGatewayGrace{10};

  // `firewall` null: nftables is unusable; the holder installs the blackhole fallback.
  Holder(firewall::Firewall* firewall, netlink::RouteNetlink* net, const Clock* clock,
         bool (*set_ipv6_disabled)(bool) = &SetIpv6Disabled);
  // `fallback`: /proc/sys and the blackhole fallback's record (fallback_shut.h).
  Holder(firewall::Firewall* firewall, netlink::RouteNetlink* net, const Clock* clock,
         FallbackSystem fallback);

  // The lockdown, as `wgate run` installs it (stale policy rules of a killed gateway removed
  // behind it). Fails only when neither the firewall nor the fallback could be installed.
  Status Lockdown();

  // Periodic: checks wgate's table and re-applies the lockdown when it is missing or open. In the
  // blackhole fallback: puts the fallback back when its rule is gone, and takes down again a link
  // someone brought up.
  void Tick();

  // Opens the namespace: removes wgate's table, policy rules and fallback (bringing back the
  // links, routes and IPv6 it shut), restores resolv.conf, and stops re-locking until the holder
  // is restarted.
  Status Unblock(ResolvConf* resolv);

  const GatewayStatus& status() const { return status_; }

 private:
  Status ApplyLockdown();
  void Relock(const std::string& why);
  void Accept(const char* firewall, const char* reason, bool verified);

  firewall::Firewall* firewall_;
  netlink::RouteNetlink* net_;
  FallbackSystem fallback_;
  bool unblocked_ = false;
  const Clock* clock_;
  std::optional<MonoTime> suspect_since_;  // a ruleset with no live gateway behind it, since
  GatewayStatus status_;
};

struct HoldOptions {
  std::chrono::milliseconds tick{1000};
  std::string control_dir = "/run/wgate";
  std::string resolv_conf = kResolvConfPath;
  std::string resolv_backup = kResolvConfBackupPath;
  // Test only: behave as if nftables were unusable (the blackhole fallback).
  bool test_without_nftables = false;
};

// Runs `wgate hold` until SIGTERM/SIGINT or `down` on its control socket (the lockdown stays).
// Returns the exit code: 0 after an orderly stop, 3 when nothing could lock the namespace or
// another holder runs in it.
int RunHold(const HoldOptions& options);

}  // namespace wgate::daemon
