#include "daemon/run.h"

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "config/env_config.h"
#include "daemon/control.h"
#include "daemon/hooks.h"
#include "daemon/kernel_handles.h"
#include "daemon/loop_fds.h"
#include "daemon/marked_resolver.h"
#include "daemon/resolv_origin.h"
#include "firewall/nftables_backend.h"

namespace wgate::daemon {

namespace {

// Reloads wait for the config file to be quiet this long (editors write in several steps).
constexpr auto kReloadDebounce = std::chrono::milliseconds(300);

// Watches the directory of the config file (the file may not exist yet, or be replaced).
class ConfigWatch {
 public:
  // The environment form has no file to watch (its settings change only with a new container).
  void Watch(const std::string& path) {
    if (path == path_) return;
    if (path == config::kEnvironmentSource) {
      path_ = path;
      fd_.reset();
      return;
    }
    path_ = path;
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    name_ = slash == std::string::npos ? path : path.substr(slash + 1);
    if (::inotify_add_watch(fd_.get(), dir.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB) < 0) {
      LogWarn(StrCat("cannot watch ", dir, " for config changes (", std::strerror(errno),
                     "); send SIGHUP to reload"));
    }
  }
  int fd() const { return fd_.get(); }
  // True when an event concerned the config file.
  bool Changed() {
    alignas(inotify_event) char buf[4096];
    bool hit = false;
    ssize_t n;
    while ((n = ::read(fd_.get(), buf, sizeof buf)) > 0) {
      for (char* p = buf; p < buf + n;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        if (e->len && name_ == e->name) hit = true;
        p += sizeof(inotify_event) + e->len;
      }
    }
    return hit;
  }

 private:
  UniqueFd fd_;
  std::string path_, name_;
};

// Milliseconds since this process started, by the kernel's clock (CLOCK_BOOTTIME ticks in
// /proc/self/stat), so that time spent before main() counts too.
double MillisSinceProcessStart() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return -1;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (!p) return -1;
  // Field 22 (starttime) is the 20th after the ")" that ends field 2.
  unsigned long long start = 0;
  int field = 2;
  for (const char* c = p + 1; *c && field < 22; ++c) {
    if (*c == ' ') {
      ++field;
      if (field == 22) start = std::strtoull(c + 1, nullptr, 10);
    }
  }
  timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (now.tv_sec + now.tv_nsec / 1e9 - start / ticks) * 1000.0;
}

}  // namespace

int RunDaemon(const RunOptions& options) {
  // A live daemon already holds this namespace: its rules are in force; touch nothing.
  auto control_path = ControlSocketPath(options.control_dir);
  if (control_path.ok() &&
      ControlRequest(*control_path, "ping", std::chrono::milliseconds(500)).ok()) {
    LogError(
        "another wgate daemon is already running in this network namespace; leaving its rules "
        "alone");
    return 3;
  }
  // 1. Lockdown, before the environment or any file is read.
  // The owned twin: a table other processes cannot delete while this one runs.
  auto kernel = OpenKernel(options.test_without_nftables, {.owned_twin = true});
  if (!kernel.ok()) {
    LogError(kernel.error().message());
    return 3;
  }
  std::unique_ptr<TunnelEngine> engine = options.make_engine();
  ResolvConf resolv(options.resolv_conf, options.resolv_backup);
  MarkedResolver resolver;
  SystemClock clock;
  ShellHookRunner hooks;  // its hooks run beside the loop; the loop polls hooks.fd()
  netlink::KernelRouteNetlink* net = (*kernel)->net.get();
  GatewayDeps deps{
      (*kernel)->firewall_or_null(), net, engine.get(), &resolv, &resolver, &clock, &hooks};
  // Behind the lockdown: which resolv.conf is the namespace's original (a recreated gateway
  // finds its predecessor's rewrite in the file it shares with the holder). Lockdown() runs it
  // before it snapshots the resolvers for the endpoint lookup.
  if ((*kernel)->nft)
    deps.establish_resolv_origin = [&] { EstablishResolvOrigin(*(*kernel)->nft, resolv); };
  Gateway gw(deps);
  if (Status s = gw.Lockdown(); !s.ok()) {
    LogError(s.error().message());
    return 3;
  }
  LogInfo(StrCat("lockdown in place ", static_cast<int>(MillisSinceProcessStart()),
                 " ms after start: nothing leaves this namespace except through the tunnel"));
  // Behind the lockdown: the protections against NET_RAW consumers this kernel allows.
  if ((*kernel)->nft && (*kernel)->firewall_or_null()) {
    auto uplink = net->FindUplink();
    gw.UseNetRawProtections(
        NetRawProtections::Probe(*(*kernel)->nft, uplink.ok() ? uplink->dev : ""));
  }

  // Signals become events; the default actions would skip the orderly stop.
  // SIGCHLD: as PID 1, orphans of hooks (`PostUp = daemon &`) are ours to reap (through the hook
  // runner, which must see its own hooks' statuses).
  UniqueFd sigfd = BlockSignalsToFd({SIGTERM, SIGINT, SIGHUP, SIGCHLD});

  auto control = ListenAt(control_path);
  if (!control.ok()) {
    LogError(control.error().message());
    return 3;
  }

  // 2-7. Read the environment and the config, connect or stay blocked.
  config::Environment env = config::WgateEnvironment(options.envp);
  gw.Load(options.config_flag, env);

  ConfigWatch watch;
  watch.Watch(gw.config_path());
  // While connecting, look often: the first handshake should be noticed (and reported) promptly.
  constexpr std::chrono::milliseconds kFastTick{100};
  UniqueFd ticker = MakeTimer(kFastTick, kFastTick);
  bool fast_ticks = true;
  // Fast ticks for at most 30 s after a (re)load: an unreachable server must not cost 10 Hz
  // forever.
  auto fast_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto pace = [&] {
    bool want_fast = gw.status().state == GatewayState::kConnecting &&
                     std::chrono::steady_clock::now() < fast_until;
    if (want_fast == fast_ticks) return;
    fast_ticks = want_fast;
    ticker = MakeTimer(want_fast ? kFastTick : options.tick, want_fast ? kFastTick : options.tick);
  };
  UniqueFd reload_timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  auto monitor = net->WatchLinks();
  if (!monitor.ok()) LogWarn("cannot watch links: " + monitor.error().message());

  bool running = true;
  bool announced_handshake = false;
  constexpr auto kRetryInterval = std::chrono::seconds(5);
  auto next_retry = std::chrono::steady_clock::now() + kRetryInterval;
  int exit_code = 0;
  auto reload = [&](const char* why) {
    LogInfo(StrCat("reloading the config (", why, ")"));
    fast_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    gw.Load(options.config_flag, config::WgateEnvironment(options.envp));
    watch.Watch(gw.config_path());
  };
  while (running) {
    std::vector<pollfd> fds = {
        {sigfd.get(), POLLIN, 0},        {control->fd(), POLLIN, 0},
        {watch.fd(), POLLIN, 0},         {ticker.get(), POLLIN, 0},
        {reload_timer.get(), POLLIN, 0}, {monitor.ok() ? (*monitor)->fd() : -1, POLLIN, 0}};
    const size_t nft_events = fds.size();
    fds.push_back({NftEventsFd(**kernel), POLLIN, 0});
    const size_t hooks_at = fds.size();
    fds.push_back({hooks.fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      LogError(StrCat("poll: ", std::strerror(errno)));
      break;
    }
    if (fds[0].revents) {
      signalfd_siginfo si;
      while (running && ::read(sigfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          hooks.ReapChildren();
          gw.CollectHookFailures();
        } else if (si.ssi_signo == SIGHUP) {
          reload("SIGHUP");
        } else {
          std::string name = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
          gw.Stop("stopped by " + name + "; the lockdown stays");
          running = false;
        }
      }
    }
    if (fds[hooks_at].revents) {
      hooks.Process();
      gw.CollectHookFailures();
    }
    if (running && fds[1].revents) {
      control->ServeOne([&](std::string_view request) -> std::string {
        if (request == "status") return StatusToJson(WithProtections(gw.status(), **kernel)).dump();
        if (request == "ping") return "{}";
        if (request == "down") {
          gw.Stop("stopped by `wgate down`; the lockdown stays");
          running = false;
          return ControlReply(true, "tunnel down; the namespace stays locked");
        }
        if (request == "down --unblock") {
          Status s = gw.Unblock();
          running = false;
          return ControlReply(s.ok(), s.ok() ? "tunnel down and the namespace UNBLOCKED: traffic "
                                               "now leaves without the tunnel"
                                             : s.error().message());
        }
        return UnknownControlRequest(request);
      });
    }
    if (running && fds[2].revents && watch.Changed()) {
      itimerspec once{};
      once.it_value.tv_nsec =
          std::chrono::duration_cast<std::chrono::nanoseconds>(kReloadDebounce).count();
      ::timerfd_settime(reload_timer.get(), 0, &once, nullptr);
    }
    if (running && fds[4].revents) {
      Drain(reload_timer.get());
      reload("the config file changed");
    }
    bool tick = fds[3].revents != 0;
    if (fds[3].revents) Drain(ticker.get());
    if (running && monitor.ok() && fds[5].revents) {
      auto events = (*monitor)->ReadEvents();
      if (events.ok()) {
        for (const netlink::LinkEvent& e : *events) {
          tick |= e.kind != netlink::LinkEvent::Kind::kNew || e.link.name == gw.status().interface;
        }
      }
    }
    // Another process changed wgate's tables: verify (and re-apply) now, not at the next tick.
    if (running && fds[nft_events].revents) tick |= NftTablesChanged(**kernel);
    if (running && tick) {
      bool was_connected = gw.status().state == GatewayState::kConnected;
      gw.Tick();
      if (!was_connected && gw.status().state == GatewayState::kConnected && !announced_handshake) {
        announced_handshake = true;
        LogInfo(StrCat("connected: first handshake ", static_cast<int>(MillisSinceProcessStart()),
                       " ms after start"));
      }
    }
    pace();
    if (running && tick && gw.should_retry() && std::chrono::steady_clock::now() >= next_retry) {
      next_retry = std::chrono::steady_clock::now() + kRetryInterval;
      reload("retrying after a transient failure");
    }
  }
  // The loop is over and the lockdown in force: the last teardown's PreDown/PostDown may finish.
  hooks.Finish();
  LogInfo("stopped");
  return exit_code;
}

Status UnblockNamespace(const std::string& resolv_conf, const std::string& resolv_backup) {
  Status result = Ok();
  auto keep_first = [&](Status s) {
    if (!s.ok() && result.ok()) result = s;
  };
  ResolvConf resolv(resolv_conf, resolv_backup);
  if (auto backend = firewall::NftablesBackend::Create(); backend.ok()) {
    firewall::Firewall fw(**backend);
    keep_first(fw.RemoveAll());
    EstablishResolvOrigin(**backend, resolv);  // a recreated gateway's container has no backup
  }
  if (auto net = netlink::KernelRouteNetlink::Create(); net.ok()) {
    keep_first(RemoveWgateRules(**net));  // policy rules, blackhole fallback, 127.0.0.11 blackhole
    // Then what the fallback shut, from its record: a dead daemon's links, routes and IPv6.
    keep_first(RestoreFallback(**net, FallbackSystem{}));
  }
  keep_first(resolv.Restore());
  return result;
}

}  // namespace wgate::daemon
