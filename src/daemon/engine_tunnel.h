// TunnelEngine over the built-in userspace engine (src/dataplane): a TUN device, the engine's
// threads, and its UAPI socket so that the stock `wg show` works inside the gateway.
//
// Health comes from the engine object itself (its Get is safe from any thread), never from a
// socket path that another namespace's engine could own.
//
// Thread-safety: none; the daemon's main loop drives it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "daemon/gateway.h"

namespace wgate::dataplane {
class Engine;
}

namespace wgate::daemon {

inline constexpr char kUapiDir[] = "/var/run/wireguard";

class EngineTunnel final : public TunnelEngine {
 public:
  explicit EngineTunnel(const Clock* clock, std::string uapi_dir = kUapiDir);
  ~EngineTunnel() override;

  Status Start(const std::string& name, const config::WgConfig& config, uint32_t fwmark,
               const SocketAddress& endpoint, uint32_t mtu, const EngineTuning& tuning) override;
  void Stop() override;
  TunnelHealth Health() override;

 private:
  const Clock* clock_;
  std::string uapi_dir_;
  std::string name_;
  std::unique_ptr<dataplane::Engine> engine_;
  std::thread thread_;
  std::shared_ptr<std::atomic<bool>> running_;
};

}  // namespace wgate::daemon
