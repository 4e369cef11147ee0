// The gateway: the bring-up and rollback order of `wgate run` (issue 5), as a state machine over
// small interfaces, so that every step and every failure is unit-tested with fakes and the same
// code runs for real in network namespaces.
//
// Order (shared/DESIGN.md, principles):
//  1. Lockdown(): before anything is read, the drop-everything ruleset, atomically. If nftables
//     cannot be used at all: blackhole default routes in every table instead. Never neither.
//  2. Load(): settings and config; any error leaves the lockdown and reports "blocked: why".
//  3. A hostname endpoint is resolved through a hole only wgate's marked sockets can use, asking
//     only the resolvers snapshotted at lockdown (marked_resolver.h), and only when its text is
//     new or after a backoff (endpoint_lookups.h).
//  4. The connected ruleset replaces the lockdown in one transaction.
//  5. Engine, addresses, MTU, routes (wg-quick's policy routing), DNS.
//  6. Read-back verification (Tick() re-verifies and re-applies).
//  7. PreUp/PostUp hooks, which never decide whether the kill switch exists, and never hold up
//     bring-up: they run in the background (HookRunner), one command at a time, in the order they
//     were due. PreUp starts once the connected kill switch is in force, before the engine and
//     the interface (which may come up while it still runs); PostUp starts once the interface,
//     routes and DNS are set, and after every PreUp command has ended. A teardown (stop, reload,
//     lost tunnel, failed bring-up) kills a PreUp/PostUp command still running and drops queued
//     ones (reported), takes the tunnel down at once, then runs PreDown and PostDown, in that
//     order: unlike wg-quick, PreDown may run when the interface is already gone.
// Stop() brings the tunnel down and locks down; only Unblock() opens the namespace.
//
// Thread-safety: none; the daemon's main loop drives it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/ip.h"
#include "config/settings.h"
#include "config/wg_config.h"
#include "daemon/endpoint_lookups.h"
#include "daemon/fallback_shut.h"
#include "daemon/hooks.h"
#include "daemon/protections.h"
#include "daemon/resolv_conf.h"
#include "daemon/status.h"
#include "firewall/firewall.h"
#include "netlink/route_netlink.h"

namespace wgate::daemon {

// wg-quick's default mark and table: the engine's socket mark and the routing table of the
// tunnel's default route, unless the config's FwMark says otherwise.
inline constexpr uint32_t kDefaultFwMark = 51820;
// Policy rule priorities wgate installs (iproute2's own rules are 0, 32766 and 32767).
inline constexpr uint32_t kRulePriorityReplies = 32001;   // from uplink address: main
inline constexpr uint32_t kRulePrioritySuppress = 32002;  // main, suppress_prefixlength 0
inline constexpr uint32_t kRulePriorityTunnel = 32003;    // not fwmark M: table M
// With no MTU in the config: the uplink's minus WireGuard's worst-case overhead (IPv6 outer).
inline constexpr uint32_t kWireGuardOverhead = 80;
// A handshake older than this (REJECT_AFTER_TIME) means the session is gone.
inline constexpr auto kHandshakeFresh = std::chrono::seconds(180);
// An initiation unanswered this long means the server does not answer: a live one answers in
// milliseconds, and this covers a lost initiation and its retry (REKEY_TIMEOUT + jitter). With a
// consumer sending, a dead server shows ~15 s (KEEPALIVE + REKEY_TIMEOUT without reply) + this
// after its last packet: unhealthy well within a 45 s health check.
inline constexpr auto kHandshakeUnanswered = std::chrono::seconds(8);

// Deletes the policy rules in wgate's priority ranges and the blackhole fallback (rule, table,
// the 127.0.0.11 blackhole), e.g. those a SIGKILLed run left behind.
Status RemoveWgateRules(netlink::RouteNetlink& net);

// The fallback when nftables cannot be used: blackhole defaults in every routing table in use, a
// priority-1 rule into a table of blackholes (on-link subnets too), 127.0.0.11 blackholed in the
// local table, every link but loopback taken down and IPv6 switched off (both recorded in
// sys.record_path first, fallback_shut.h). Fails only when the routes cannot be installed; what
// else could not be done is added to *problems. Shared by `wgate run` and `wgate hold`.
Status InstallBlackholeFallback(netlink::RouteNetlink& net, const FallbackSystem& sys,
                                std::vector<std::string>* problems);
// A status line for the fallback: what shuts the namespace, and what could not be done.
std::string FallbackProblem(const std::vector<std::string>& problems);

// The engine's knobs from the settings (WGATE_ENGINE_WORKERS, WGATE_TUN_OFFLOAD), validated.
struct EngineTuning {
  std::optional<int> workers;  // crypto helper threads; unset: one per core beyond the first
  bool tun_offload = true;
};

// In the blackhole fallback, a policy rule sends every lookup but the local table's to this
// table, which holds only blackhole defaults: on-link subnets are refused too, not just the
// default route.
inline constexpr uint32_t kFallbackTable = 0x77676174;  // "wgat"
inline constexpr uint32_t kRulePriorityFallback = 1;

struct TunnelHealth {
  bool running = false;
  std::optional<WallTime> last_handshake;
  std::optional<MonoTime> handshake_pending_since;  // an initiation unanswered since
  uint64_t rx_bytes = 0, tx_bytes = 0;
};

// The WireGuard engine as the gateway sees it.
class TunnelEngine {
 public:
  virtual ~TunnelEngine() = default;
  // Creates interface `name` and runs the protocol with `config`'s keys and peers, its UDP socket
  // marked with `fwmark`; `endpoint` replaces the server peer's (possibly hostname) endpoint;
  // `mtu` is the interface's (the engine pads to it).
  virtual Status Start(const std::string& name, const config::WgConfig& config, uint32_t fwmark,
                       const SocketAddress& endpoint, uint32_t mtu, const EngineTuning& tuning) = 0;
  // Stops the protocol and removes the interface. Idempotent.
  virtual void Stop() = 0;
  virtual TunnelHealth Health() = 0;
};

// Looks up a host name's addresses by asking `resolvers` from sockets carrying `fwmark`, so that
// the lockdown's DNS hole lets exactly these queries out.
class EndpointResolver {
 public:
  virtual ~EndpointResolver() = default;
  virtual Result<std::vector<IpAddress>> Resolve(const std::string& host,
                                                 const std::vector<IpAddress>& resolvers,
                                                 uint32_t fwmark) = 0;
};

struct GatewayDeps {
  firewall::Firewall* firewall = nullptr;  // null: nftables unusable, blackhole fallback only
  netlink::RouteNetlink* net = nullptr;
  TunnelEngine* engine = nullptr;
  ResolvConf* resolv = nullptr;
  EndpointResolver* resolver = nullptr;
  const Clock* clock = nullptr;
  HookRunner* hooks = nullptr;  // PreUp/PostUp/PreDown/PostDown; never waited for
  // /proc/sys and the record of the blackhole fallback (the real ones unless a test replaces them).
  FallbackSystem fallback = {};
  // Run by Lockdown() behind the lockdown, before it snapshots the bootstrap resolvers: makes
  // `resolv`'s backup hold the namespace's original resolv.conf (EstablishResolvOrigin in `wgate
  // run`). Unset: the backup is taken as it is.
  std::function<void()> establish_resolv_origin = nullptr;
};

class Gateway {
 public:
  explicit Gateway(GatewayDeps deps);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Step 1. Must be the first thing the process does. Fails only when neither the firewall nor
  // the blackhole fallback could be installed (the daemon then exits non-zero). Behind the
  // lockdown it snapshots the resolvers a host-name Endpoint is looked up with: the nameservers
  // of the namespace's original resolv.conf (the recorded origin, the backup), kept in memory;
  // the current /etc/resolv.conf, which consumers can write, is never asked again.
  Status Lockdown();

  // Behind the lockdown (run.cc probes them right after Lockdown()): the protections against
  // consumers with CAP_NET_RAW that this kernel allows. The lockdown is re-applied with them at
  // once, every later ruleset carries them, and status lists each as active or not, and why.
  void UseNetRawProtections(NetRawProtections protections);

  // Steps 2-7: reads the settings and the config and connects, or stays blocked with the reason.
  // Called again on SIGHUP or when the config file changes: an invalid new config keeps a working
  // tunnel running (and says so in the warnings); with no working tunnel the state is blocked.
  void Load(const std::optional<std::string>& config_flag, const config::Environment& env);

  // Periodic: verifies the ruleset (re-applies it when altered), follows the tunnel's health, and
  // brings the tunnel back when its interface disappeared. In the blackhole fallback: takes down
  // again a link someone brought up, and says so in the status.
  void Tick();

  // Moves the failures of hooks that ended since the last call into the status warnings. The
  // daemon calls it whenever the hook runner made progress.
  void CollectHookFailures();

  // SIGTERM, `wgate down`: tunnel down, lockdown stays. `reason` shows in status.
  void Stop(const std::string& reason);

  // `wgate down --unblock`: tunnel down, wgate's rules and routes removed, resolv.conf restored;
  // what a blackhole fallback shut (links, routes, IPv6) is brought back from its record.
  Status Unblock();

  const GatewayStatus& status() const { return status_; }
  // True when the last Load() failed for a reason that may go away by itself (the resolver or the
  // uplink not ready yet, the engine failing): the daemon calls Load() again after a while.
  bool should_retry() const { return transient_failure_; }
  // The config file Load() read (or looked for), to watch for changes.
  const std::string& config_path() const { return status_.config_path; }

 private:
  struct Plan;  // everything Load() derived from a valid config and settings

  Result<std::unique_ptr<Plan>> MakePlan(const config::WgConfig& config,
                                         const config::GatewaySettings& settings);
  Status InstallLockdown();  // Lockdown() without the snapshot
  Status ResolveEndpoint(Plan* plan);
  Status BringUp(const Plan& plan);
  // Brings `plan` up and makes it the active tunnel; on failure rolls back to the lockdown and
  // blocks with `failure` + the error (a transient failure: the daemon retries).
  bool Activate(std::unique_ptr<Plan> plan, std::string_view failure);
  Status ConfigureRouting(const Plan& plan);
  void TearDown();  // engine stopped, wgate's rules and routes removed; firewall untouched
  void Block(const std::string& reason);
  void BlockTransient(const std::string& reason);
  Status ApplyLockdown(const std::vector<IpAddress>& dns_hole, uint32_t fwmark);
  // Applies `spec` with the NET_RAW protections added (the egress filter on `uplink`); a kernel
  // that refuses the egress filter gets the ruleset without it.
  Status ApplyWithProtections(firewall::RulesetSpec spec, const std::string& uplink);
  void VerifyRules();

  GatewayDeps deps_;
  GatewayStatus status_;
  bool allow_docker_dns_ = false;
  std::unique_ptr<Plan> active_;           // the plan of the running tunnel, if any
  std::optional<netlink::Uplink> uplink_;  // as found at start
  std::vector<netlink::Rule> installed_rules_;
  std::vector<netlink::Route> installed_routes_;  // routes not on the tunnel interface
  std::vector<std::string> config_warnings_;
  bool transient_failure_ = false;
  bool fallback_installed_ = false;  // Tick keeps the fallback's links down until Unblock
  bool resolver_hole_open_ = false;
  std::vector<IpAddress> bootstrap_resolvers_;  // snapshotted by Lockdown()
  EndpointLookups lookups_;                     // when to look the Endpoint up, the last address
  std::optional<NetRawProtections> netraw_;
  // tx bytes when the last handshake went stale while connected: unchanged means idle.
  std::optional<uint64_t>
      stale_tx_bytes_;  // closing it failed: Tick retries, rules are not verified
};

}  // namespace wgate::daemon
