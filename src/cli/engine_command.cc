#include "cli/engine_command.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "base/clock.h"
#include "base/log.h"
#include "base/strings.h"
#include "cli/exit_codes.h"
#include "dataplane/engine.h"
#include "dataplane/tun.h"
#include "dataplane/uapi_server.h"

namespace wgate::cli {

const char kEngineHelp[] =
    "usage: wgate engine [-f|--foreground] INTERFACE\n"
    "\n"
    "Runs only the userspace WireGuard engine: creates the TUN interface INTERFACE (MTU 1420, "
    "left\n"
    "down) and serves the WireGuard UAPI on /var/run/wireguard/INTERFACE.sock, so that `wg`,\n"
    "`wg setconf` and `wg show` configure and inspect it, exactly as with `wireguard-go`.\n"
    "Addresses, routes and bringing the link up are the caller's job (`ip`).\n"
    "\n"
    "  -f, --foreground   stay in the foreground; without it the engine detaches once the\n"
    "                     interface and the UAPI socket exist, and the command returns\n"
    "\n"
    "Stops on SIGINT or SIGTERM and removes the interface and the socket. Needs CAP_NET_ADMIN.\n"
    "WGATE_ENGINE_WORKERS=N sets the crypto helper threads (default: one per core beyond the\n"
    "first); WGATE_TUN_OFFLOAD=0 turns TUN segmentation offload off. WGATE_TEST_TIMINGS (tests "
    "only, never in production) shortens the protocol timers.\n";

namespace {

constexpr int kMtu = 1420;

// The stop signals, plus SIGUSR2 to wake the watcher. Blocked in every thread: call before any
// thread starts, so that only the watcher receives them.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

// Stops the engine when a stop signal arrives. Destroy before the engine.
class SignalWatcher {
 public:
  explicit SignalWatcher(dataplane::Engine* engine) {
    thread_ = std::thread([engine] {
      const sigset_t set = StopSignals();
      int sig = 0;
      sigwait(&set, &sig);
      if (sig == SIGUSR2) return;  // the engine stopped by itself
      LogInfo(StrCat("engine: signal ", sig, ", stopping"));
      engine->Stop();
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace

std::optional<wg::Timings> ParseTestTimings(std::string_view text, std::string* why) {
  wg::Timings t;
  for (std::string_view item : SplitTrimmed(text, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      *why = StrCat("\"", item, "\" is not key=value");
      return std::nullopt;
    }
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
      *why = StrCat("\"", value, "\" is not a number");
      return std::nullopt;
    }
    const Duration ms = std::chrono::milliseconds(n);
    if (key == "rekey_after_time") {
      t.rekey_after_time = ms;
    } else if (key == "reject_after_time") {
      t.reject_after_time = ms;
    } else if (key == "rekey_attempt_time") {
      t.rekey_attempt_time = ms;
    } else if (key == "rekey_timeout") {
      t.rekey_timeout = ms;
    } else if (key == "rekey_timeout_jitter_max") {
      t.rekey_timeout_jitter_max = ms;
    } else if (key == "keepalive_timeout") {
      t.keepalive_timeout = ms;
    } else if (key == "cookie_refresh_time") {
      t.cookie_refresh_time = ms;
    } else if (key == "handshake_initiation_rate") {
      t.handshake_initiation_rate = ms;
    } else if (key == "rekey_after_messages") {
      t.rekey_after_messages = n;
    } else if (key == "reject_after_messages") {
      t.reject_after_messages = n;
    } else {
      *why = StrCat("unknown timing \"", key, "\"");
      return std::nullopt;
    }
  }
  return t;
}

int RunEngine(const std::vector<std::string_view>& args, Io io) {
  bool foreground = false;
  std::string iface;
  for (std::string_view a : args) {
    if (a == "-f" || a == "--foreground") {
      foreground = true;
    } else if (a == "-h" || a == "--help") {
      io.out << kEngineHelp;
      return kExitOk;
    } else if (!a.empty() && a[0] == '-') {
      io.err << "wgate engine: unknown option \"" << a << "\"\n" << kEngineHelp;
      return kExitUsage;
    } else if (iface.empty()) {
      iface = std::string(a);
    } else {
      io.err << "wgate engine: one interface only\n" << kEngineHelp;
      return kExitUsage;
    }
  }
  if (iface.empty()) {
    io.err << kEngineHelp;
    return kExitUsage;
  }

  dataplane::EngineOptions options;
  options.mtu = kMtu;
  if (const char* w = std::getenv("WGATE_ENGINE_WORKERS")) options.workers = std::atoi(w);
  if (const char* t = std::getenv("WGATE_TEST_TIMINGS"); t && *t) {
    std::string why;
    auto timings = ParseTestTimings(t, &why);
    if (!timings) {
      io.err << "wgate engine: WGATE_TEST_TIMINGS: " << why << "\n";
      return kExitInvalid;
    }
    options.timings = *timings;
    LogWarn("engine: WGATE_TEST_TIMINGS is set: protocol timers are shortened (tests only)");
  }

  // Detach before any thread exists. The parent returns once the child reports that the
  // interface and the socket are up (or why they are not).
  int ready_fd = -1;
  if (!foreground) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
      io.err << "wgate engine: pipe: " << std::strerror(errno) << "\n";
      return kExitFailure;
    }
    io.out.flush();
    io.err.flush();
    const pid_t pid = ::fork();
    if (pid < 0) {
      io.err << "wgate engine: fork: " << std::strerror(errno) << "\n";
      return kExitFailure;
    }
    if (pid > 0) {
      ::close(fds[1]);
      char status = kExitFailure;
      if (::read(fds[0], &status, 1) != 1) status = kExitFailure;
      ::close(fds[0]);
      return status;
    }
    ::close(fds[0]);
    ready_fd = fds[1];
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::close(null);
    }
  }
  auto report = [&](int status) {
    if (ready_fd < 0) return;
    const char c = static_cast<char>(status);
    (void)!::write(ready_fd, &c, 1);
    ::close(ready_fd);
    ready_fd = -1;
  };

  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  SystemClock clock;
  const char* offload = std::getenv("WGATE_TUN_OFFLOAD");
  auto tun = dataplane::LinuxTun::Open(iface, kMtu, !(offload && std::string_view(offload) == "0"));
  if (!tun.ok()) {
    io.err << "wgate engine: " << tun.error().message() << "\n";
    report(kExitFailure);
    return kExitFailure;
  }
  auto engine = dataplane::Engine::Create(options, std::move(*tun), &clock);
  if (!engine.ok()) {
    io.err << "wgate engine: " << engine.error().message() << "\n";
    report(kExitFailure);
    return kExitFailure;
  }
  Status uapi = (*engine)->ListenUapi(dataplane::UapiServer::kDefaultDir, iface);
  if (!uapi.ok()) {
    io.err << "wgate engine: " << uapi.error().message() << "\n";
    report(kExitFailure);
    return kExitFailure;
  }
  LogInfo(StrCat("engine: interface ", iface, " ready, UDP port ", (*engine)->port(), ", UAPI ",
                 dataplane::UapiServer::kDefaultDir, "/", iface, ".sock"));
  report(kExitOk);
  Status run = Ok();
  {
    SignalWatcher signals(engine->get());
    run = (*engine)->Run();
  }
  LogInfo(StrCat("engine: stopped; drops: ", (*engine)->DropSummary()));
  if (!run.ok()) {
    io.err << "wgate engine: " << run.error().message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace wgate::cli
