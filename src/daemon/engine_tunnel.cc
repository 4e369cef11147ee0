#include "daemon/engine_tunnel.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "dataplane/engine.h"
#include "dataplane/tun.h"
#include "dataplane/uapi.h"

namespace wgate::daemon {

EngineTunnel::EngineTunnel(const Clock* clock, std::string uapi_dir)
    : clock_(clock), uapi_dir_(std::move(uapi_dir)) {}

EngineTunnel::~EngineTunnel() { Stop(); }

Status EngineTunnel::Start(const std::string& name, const config::WgConfig& config, uint32_t fwmark,
                           const SocketAddress& endpoint, uint32_t mtu) {
  Stop();
  // The engine's tuning knobs, as `wgate engine` reads them (listed in config/settings.cc).
  const char* offload = std::getenv("WGATE_TUN_OFFLOAD");
  auto tun = dataplane::LinuxTun::Open(name, static_cast<int>(mtu),
                                       !(offload && std::string_view(offload) == "0"));
  if (!tun.ok()) return tun.error();
  dataplane::EngineOptions options;
  if (const char* workers = std::getenv("WGATE_ENGINE_WORKERS"))
    options.workers = std::atoi(workers);
  options.mtu = static_cast<int>(mtu);
  options.default_fwmark = fwmark;
  options.listen_port = config.interface.listen_port.value_or(0);
  auto engine = dataplane::Engine::Create(options, std::move(*tun), clock_);
  if (!engine.ok()) return engine.error();

  // The config as `wg setconf` would send it; the server peer gets the resolved endpoint.
  dataplane::uapi::SetRequest set;
  set.private_key = config.interface.private_key;
  set.fwmark = fwmark;
  set.replace_peers = true;
  for (const config::PeerConfig& p : config.peers) {
    dataplane::uapi::PeerUpdate u;
    u.public_key = p.public_key;
    if (p.preshared_key) u.preshared_key = *p.preshared_key;
    if (p.endpoint)
      u.endpoint = p.endpoint->ip ? SocketAddress{*p.endpoint->ip, p.endpoint->port} : endpoint;
    u.persistent_keepalive_interval = p.persistent_keepalive;
    u.replace_allowed_ips = true;
    u.allowed_ips = p.allowed_ips;
    set.peers.push_back(std::move(u));
  }
  dataplane::uapi::Failure failure;
  if ((*engine)->Set(set, &failure) != 0)
    return Error("configuring the engine: " + failure.message);
  if (Status s = (*engine)->ListenUapi(uapi_dir_, name); !s.ok()) {
    LogWarn("`wg show` will not work: " + s.error().message());
  }
  engine_ = std::move(*engine);
  name_ = name;
  running_ = std::make_shared<std::atomic<bool>>(true);
  thread_ = std::thread([e = engine_.get(), running = running_, name] {
    Status s = e->Run();
    if (!s.ok()) LogError("engine " + name + " stopped: " + s.error().message());
    running->store(false);
  });
  return Ok();
}

void EngineTunnel::Stop() {
  if (!engine_) return;
  engine_->Stop();
  if (thread_.joinable()) thread_.join();
  LogInfo("engine " + name_ + " stopped; " + engine_->DropSummary());
  engine_.reset();  // closes the TUN device: the kernel removes the interface
  running_.reset();
}

TunnelHealth ParseUapiHealth(const std::string& reply) {
  TunnelHealth h;
  h.running = true;
  int peers = 0;
  int64_t sec = 0, nsec = 0;
  size_t start = 0;
  while (start < reply.size()) {
    size_t nl = reply.find('\n', start);
    std::string_view line = std::string_view(reply).substr(start, nl - start);
    start = nl == std::string::npos ? reply.size() : nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "public_key") ++peers;
    if (peers != 1) continue;  // the first peer is the VPN server
    uint64_t v = std::strtoull(std::string(value).c_str(), nullptr, 10);
    if (key == "rx_bytes") h.rx_bytes = v;
    if (key == "tx_bytes") h.tx_bytes = v;
    if (key == "last_handshake_time_sec") sec = static_cast<int64_t>(v);
    if (key == "last_handshake_time_nsec") nsec = static_cast<int64_t>(v);
  }
  if (sec || nsec) {
    h.last_handshake = WallTime{} + std::chrono::duration_cast<WallTime::duration>(
                                        std::chrono::seconds(sec) + std::chrono::nanoseconds(nsec));
  }
  return h;
}

TunnelHealth EngineTunnel::Health() {
  TunnelHealth dead;
  if (!engine_ || !running_ || !running_->load()) return dead;
  std::string path = uapi_dir_ + "/" + name_ + ".sock";
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  timeval tv{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  TunnelHealth alive;
  alive.running = true;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return alive;
  const char kGet[] = "get=1\n\n";
  if (::send(fd.get(), kGet, sizeof kGet - 1, MSG_NOSIGNAL) < 0) return alive;
  std::string reply;
  char buf[4096];
  while (reply.find("\n\n") == std::string::npos) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  return ParseUapiHealth(reply);
}

}  // namespace wgate::daemon
