#include "daemon/hold.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "base/log.h"
#include "base/strings.h"
#include "daemon/control.h"
#include "daemon/kernel_handles.h"
#include "daemon/loop_fds.h"
#include "daemon/resolv_origin.h"

namespace wgate::daemon {

namespace {

constexpr char kHoldingOwn[] = "lockdown verified; no gateway has taken over";
constexpr char kHoldingGateway[] = "a gateway's ruleset is in force and fails closed";

}  // namespace

Holder::Holder(firewall::Firewall* firewall, netlink::RouteNetlink* net, const Clock* clock,
               bool (*set_ipv6_disabled)(bool))
    : Holder(firewall, net, clock, FallbackSystem{.set_ipv6_disabled = set_ipv6_disabled}) {}

Holder::Holder(firewall::Firewall* firewall, netlink::RouteNetlink* net, const Clock* clock,
               FallbackSystem fallback)
    : firewall_(firewall), net_(net), fallback_(std::move(fallback)), clock_(clock) {
  WGATE_CHECK(net_ != nullptr && clock_ != nullptr);
  status_.role = "hold";
  status_.pid = static_cast<int>(::getpid());
}

Status Holder::ApplyLockdown() {
  Status s = firewall_->Apply(firewall::RulesetSpec{});
  status_.state = GatewayState::kHolding;
  if (s.ok()) {
    status_.firewall = "lockdown";
    status_.rules_verified = true;
    status_.rules_problem.clear();
    status_.reason = kHoldingOwn;
  } else {
    status_.rules_verified = false;
    status_.rules_problem = s.error().message();
  }
  return s;
}

Status Holder::Lockdown() {
  if (firewall_) {
    // A holder restarted beside a live gateway must not knock its tunnel over: a wgate table
    // that already fails closed is kept (it is kernel state only NET_ADMIN can write).
    if (firewall_->CheckFailClosed().ok()) {
      LogInfo("wgate's table is already in place and fails closed; keeping it");
      status_.state = GatewayState::kHolding;
      status_.firewall = "a gateway's ruleset";
      status_.rules_verified = true;
      status_.reason = kHoldingGateway;
      return Ok();
    }
    Status s = ApplyLockdown();
    if (s.ok()) return s;
    LogError("firewall: cannot install the lockdown ruleset: " + s.error().message());
    // Rules that reached the kernel (a read-back disagreement) mean nftables works: keep it and
    // let the next tick sort the table out. Only an nftables that refused them is given up.
    if (firewall_->applied_spec()) return Ok();
    firewall_ = nullptr;
  }
  std::vector<std::string> problems;
  if (Status s = InstallBlackholeFallback(*net_, fallback_, &problems); !s.ok()) return s;
  status_.state = GatewayState::kHolding;
  status_.firewall = "blackhole fallback (nftables unavailable)";
  status_.rules_verified = false;
  status_.rules_problem = FallbackProblem(problems);
  status_.reason = "nftables is unavailable: the namespace is shut by blackhole routes";
  return Ok();
}

void Holder::Accept(const char* firewall, const char* reason, bool verified) {
  status_.firewall = firewall;
  status_.rules_verified = verified;
  status_.rules_problem = verified ? "" : reason;
  status_.reason = reason;
}

void Holder::Relock(const std::string& why) {
  LogError(why + "; re-applying the lockdown");
  ++status_.rules_reapplied;
  suspect_since_.reset();
  if (Status s = ApplyLockdown(); !s.ok()) {
    LogError("firewall: re-applying the lockdown failed: " + s.error().message());
  }
}

void Holder::Tick() {
  if (unblocked_) return;
  if (!firewall_) {
    // The fallback is all there is: put it back if someone (a gateway's unblock, its stale-rule
    // clean-up) removed its policy rule.
    bool present = false;
    if (auto rules = net_->ListRules(IpAddress::Family::kV4); rules.ok()) {
      for (const netlink::Rule& r : *rules) present |= r.table == kFallbackTable;
    }
    std::vector<std::string> problems;
    if (!present) {
      LogError("the blackhole fallback's policy rule is gone; installing the fallback again");
      ++status_.rules_reapplied;
      (void)InstallBlackholeFallback(*net_, fallback_, &problems);
      status_.rules_problem = FallbackProblem(problems);
      return;
    }
    bool reshut = false;
    problems = KeepLinksShut(*net_, fallback_.record_path, &reshut);
    status_.rules_reapplied += reshut;
    if (!problems.empty()) status_.rules_problem = FallbackProblem(problems);
    return;
  }
  if (firewall_->applied_spec() && firewall_->Verify().ok()) {
    suspect_since_.reset();
    Accept("lockdown", kHoldingOwn, true);
    return;
  }
  firewall::TableListing listing;
  firewall::Verification shape = firewall_->CheckFailClosed(&listing);
  if (!shape.ok()) return Relock(shape.Summary());
  bool gateway_alive = false;
  if (firewall::ListedMode(listing) == firewall::Mode::kConnected) {
    gateway_alive = true;  // its tunnel interface exists only while the gateway's engine runs
    for (const std::string& name : firewall::OutputInterfaces(listing)) {
      auto exists = net_->LinkExists(name);
      gateway_alive &= exists.ok() && *exists;
    }
  }
  if (gateway_alive) {
    suspect_since_.reset();
    Accept("a gateway's ruleset", kHoldingGateway, true);
    return;
  }
  MonoTime now = clock_->Now();
  if (!suspect_since_) suspect_since_ = now;
  if (now - *suspect_since_ >= kGatewayGrace) {
    return Relock(StrCat("firewall: table ", firewall::kTable,
                         " is neither this holder's lockdown nor a running gateway's rules"));
  }
  Accept("a ruleset with no running gateway",
         "wgate's table fails closed but no running gateway vouches for it; the lockdown "
         "replaces it unless a gateway takes over",
         false);
}

Status Holder::Unblock(ResolvConf* resolv) {
  Status result = Ok();
  auto keep_first = [&](Status s) {
    if (!s.ok() && result.ok()) result = s;
  };
  if (firewall_) keep_first(firewall_->RemoveAll());
  keep_first(RemoveWgateRules(*net_));
  // After the blackholes: a restored default route would collide with theirs.
  keep_first(RestoreFallback(*net_, fallback_));
  if (resolv) keep_first(resolv->Restore());
  unblocked_ = true;
  status_.firewall = "none (unblocked: traffic is NOT protected)";
  status_.rules_verified = false;
  status_.rules_problem.clear();
  status_.reason = "unblocked by request: the holder no longer locks the namespace";
  LogWarn("unblocked: wgate's rules are removed; traffic now leaves without the tunnel");
  return result;
}

int RunHold(const HoldOptions& options) {
  auto control_path = HoldSocketPath(options.control_dir);
  if (control_path.ok() &&
      ControlRequest(*control_path, "ping", std::chrono::milliseconds(500)).ok()) {
    LogError("another `wgate hold` is already running in this network namespace");
    return 3;
  }
  // 1. Lockdown, before anything else.
  auto kernel = OpenKernel(options.test_without_nftables);
  if (!kernel.ok()) {
    LogError(kernel.error().message());
    return 3;
  }
  SystemClock clock;
  Holder holder((*kernel)->firewall_or_null(), (*kernel)->net.get(), &clock);
  if (Status s = holder.Lockdown(); !s.ok()) {
    LogError(s.error().message());
    return 3;
  }
  // The first to lock the namespace records its original resolv.conf for the gateways to come.
  ResolvConf resolv(options.resolv_conf, options.resolv_backup);
  if ((*kernel)->nft) EstablishResolvOrigin(*(*kernel)->nft, resolv);
  LogInfo(
      "holding the namespace: nothing leaves it except through a gateway's tunnel; start "
      "`wgate run` in it (network_mode: service:hold)");

  UniqueFd sigfd = BlockSignalsToFd({SIGTERM, SIGINT, SIGHUP, SIGCHLD});
  auto control = ListenAt(control_path);
  if (!control.ok()) {
    LogError(control.error().message());
    return 3;
  }
  UniqueFd ticker = MakeTimer(options.tick, options.tick);
  bool running = true;
  while (running) {
    pollfd fds[] = {{sigfd.get(), POLLIN, 0},
                    {control->fd(), POLLIN, 0},
                    {ticker.get(), POLLIN, 0},
                    {NftEventsFd(**kernel), POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      LogError(StrCat("poll: ", std::strerror(errno)));
      return 3;
    }
    if (fds[0].revents) {
      signalfd_siginfo si;
      while (running && ::read(sigfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          while (::waitpid(-1, nullptr, WNOHANG) > 0) {  // PID 1 of the holder's container
          }
        } else if (si.ssi_signo != SIGHUP) {  // there is nothing to reload
          LogInfo(StrCat("stopped by ", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT",
                         "; the lockdown stays"));
          running = false;
        }
      }
    }
    if (running && fds[1].revents) {
      control->ServeOne([&](std::string_view request) -> std::string {
        if (request == "status") {
          return StatusToJson(WithProtections(holder.status(), **kernel)).dump();
        }
        if (request == "ping") return "{}";
        if (request == "down") {
          running = false;
          return ControlReply(true, "holder stopped; the namespace stays locked");
        }
        if (request == "down --unblock") {
          if ((*kernel)->nft) EstablishResolvOrigin(*(*kernel)->nft, resolv);
          Status s = holder.Unblock(&resolv);
          return ControlReply(s.ok(), s.ok() ? "the namespace is UNBLOCKED: traffic now leaves "
                                               "without the tunnel, and the holder no longer "
                                               "locks it"
                                             : s.error().message());
        }
        return UnknownControlRequest(request);
      });
    }
    bool tick = false;
    if (running && fds[2].revents) {
      Drain(ticker.get());
      tick = true;
    }
    // Another process changed wgate's table: alone, the holder re-locks at once.
    if (running && fds[3].revents) tick |= NftTablesChanged(**kernel);
    if (tick) holder.Tick();
  }
  return 0;
}

}  // namespace wgate::daemon
