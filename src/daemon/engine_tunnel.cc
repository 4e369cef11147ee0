#include "daemon/engine_tunnel.h"

#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "dataplane/engine.h"
#include "dataplane/tun.h"
#include "dataplane/uapi.h"

namespace wgate::daemon {

EngineTunnel::EngineTunnel(const Clock* clock, std::string uapi_dir)
    : clock_(clock), uapi_dir_(std::move(uapi_dir)) {}

EngineTunnel::~EngineTunnel() { Stop(); }

Status EngineTunnel::Start(const std::string& name, const config::WgConfig& config, uint32_t fwmark,
                           const SocketAddress& endpoint, uint32_t mtu,
                           const EngineTuning& tuning) {
  Stop();
  auto tun = dataplane::LinuxTun::Open(name, static_cast<int>(mtu), tuning.tun_offload);
  if (!tun.ok()) return tun.error();
  dataplane::EngineOptions options;
  if (tuning.workers) options.workers = *tuning.workers;
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
  // WireGuard makes no handshake until there is traffic; a gateway wants one now, so that it is
  // healthy (or says the server does not answer) before any consumer has sent anything.
  for (const config::PeerConfig& p : config.peers) {
    if (p.endpoint) (*engine)->RequestHandshake(p.public_key);
  }
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

TunnelHealth EngineTunnel::Health() {
  TunnelHealth h;
  if (!engine_ || !running_ || !running_->load()) return h;
  h.running = true;
  dataplane::uapi::DeviceState state = engine_->Get();
  if (!state.peers.empty()) {  // the first peer is the VPN server
    const dataplane::uapi::PeerState& server = state.peers.front();
    h.last_handshake = server.last_handshake;
    h.handshake_pending_since = server.handshake_pending_since;
    h.rx_bytes = server.rx_bytes;
    h.tx_bytes = server.tx_bytes;
  }
  return h;
}

}  // namespace wgate::daemon
