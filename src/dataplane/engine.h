// Engine: a WireGuard interface in userspace. It drives the protocol core (wg::Device) with a TUN
// device, a pair of UDP sockets and the real clock, and answers the UAPI (it is the UapiHandler).
//
// Threads and ordering:
//   - tx thread: reads batches from the TUN device; for each packet, in order, PrepareEncapsulate
//     (routing, counter reservation); seals the batch on the worker pool (all cores); sends the
//     batch with sendmmsg in the order it was read. One peer's packets thus leave in TUN order.
//   - rx thread: receives batches from both sockets; PrepareDecapsulate in order; opens the batch
//     on the worker pool; FinishDecapsulate (replay window, roaming) in arrival order; writes the
//     batch to the TUN device in that order. No reordering of a TCP stream.
//   - control thread (Run's caller): an epoll loop with a timerfd for Device::Tick (handshake
//     retries, keepalives, rekeys), the UAPI socket, and wake-ups.
//   - worker pool: helpers for the per-batch crypto (worker_pool.h).
// The data path holds the configuration lock shared for one batch at a time; UAPI `set` takes it
// exclusively (writer-preferring, so a busy data path cannot starve it), as device.h requires.
// Packets waiting for a handshake are staged per peer (at most kMaxStagedPackets, oldest dropped)
// in preallocated slots and flushed when the session is ready.
//
// Nothing on the packet path allocates or logs; drops are counted (per peer in wg::PeerStats, per
// device in wg::Device, and the engine's own I/O counters in EngineCounters).
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/clock.h"
#include "base/error.h"
#include "dataplane/event_loop.h"
#include "dataplane/packet.h"
#include "dataplane/tun.h"
#include "dataplane/uapi.h"
#include "dataplane/uapi_server.h"
#include "dataplane/udp.h"
#include "dataplane/worker_pool.h"
#include "wg/constants.h"
#include "wg/device.h"

namespace wgate::dataplane {

struct EngineOptions {
  int mtu = 1420;
  // SO_MARK of the UDP sockets while the UAPI fwmark is 0 (0: unmarked). The daemon passes the
  // mark its kill switch allows; `wgate engine` leaves it 0 like wireguard-go.
  uint32_t default_fwmark = 0;
  uint16_t listen_port = 0;  // 0: random, as wireguard-go starts
  // Spec values; only tests shorten them (WGATE_TEST_TIMINGS).
  wg::Timings timings;
  // Crypto helper threads besides the tx and rx threads; -1: one per core beyond the first.
  int workers = -1;
};

// The engine's own I/O counters (the protocol's drops are in wg::PeerStats / Device).
struct EngineCounters {
  std::atomic<uint64_t> tun_packets_read{0};
  std::atomic<uint64_t> tun_packets_written{0};
  std::atomic<uint64_t> tun_write_refused{0};
  std::atomic<uint64_t> udp_datagrams_received{0};
  std::atomic<uint64_t> udp_datagrams_sent{0};
  std::atomic<uint64_t> udp_send_dropped{0};
  std::atomic<uint64_t> udp_truncated{0};
  std::atomic<uint64_t> staged_overflow{0};  // staged packets dropped to make room
  std::atomic<uint64_t> staged_expired{0};   // staged packets dropped when a handshake gave up
};

// A reader/writer lock that prefers writers (std::shared_mutex on glibc prefers readers, and the
// data path is a reader that never stops).
class ConfigLock {
 public:
  ConfigLock();
  ~ConfigLock();
  void lock() { pthread_rwlock_wrlock(&rw_); }
  void unlock() { pthread_rwlock_unlock(&rw_); }
  void lock_shared() { pthread_rwlock_rdlock(&rw_); }
  void unlock_shared() { pthread_rwlock_unlock(&rw_); }

 private:
  pthread_rwlock_t rw_;
};

class Engine final : public UapiHandler {
 public:
  // Binds the sockets; starts nothing yet. `clock` must outlive the engine.
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options,
                                                std::unique_ptr<TunDevice> tun, const Clock* clock);
  ~Engine() override;

  // Serves the UAPI on dir/IFACE.sock from the control loop. Call before Run.
  Status ListenUapi(std::string_view dir, std::string_view iface);
  // Starts the tx, rx and helper threads and runs the control loop until Stop(). Returns the
  // error that stopped it, if any.
  Status Run();
  // Makes Run return. Any thread, also a signal-watching one.
  void Stop();

  // UapiHandler. Called on the control thread by the UAPI server; both take the configuration
  // lock, so they are also safe from any other thread (the daemon's status API).
  uapi::DeviceState Get() override;
  int Set(const uapi::SetRequest& request, uapi::Failure* failure) override;

  // The peer with `key` sends an initiation at the next timer tick (within 100 ms), with no
  // traffic to carry: a gateway knows at start whether its server answers. False: no such peer.
  bool RequestHandshake(const crypto::PublicKey& key);

  uint16_t port() const { return port_.load(); }
  const EngineCounters& counters() const { return counters_; }
  // One line: every non-zero drop counter by reason, device and peers summed. For the log at
  // shutdown and for tests; never per packet.
  std::string DropSummary();

 private:
  struct Staged;
  struct TxBatch;
  struct RxBatch;
  class TickSender;

  Engine(const EngineOptions& options, std::unique_ptr<TunDevice> tun, const Clock* clock);
  Status Bind(uint16_t port, uint32_t mark);
  uint32_t EffectiveMark() const { return fwmark_ != 0 ? fwmark_ : options_.default_fwmark; }

  void TxLoop();
  void RxLoop();
  void ProcessTx(TxBatch& b, size_t n);
  void ProcessRx(RxBatch& b, size_t n);
  void OnTimer();
  void ArmTimer();

  // Sends datagrams (any family mix) on the matching sockets. Config lock held (shared or
  // exclusive).
  void Send(std::span<Packet> datagrams);
  void SendOne(ConstBytes datagram, const SocketAddress& to);
  void Stage(wg::Peer* peer, ConstBytes packet);
  void FlushStaged(wg::Peer* peer, const wg::Now& now);
  Staged* StagedFor(wg::Peer* peer);
  void RemovePeerLocked(wg::Peer* peer);

  const EngineOptions options_;
  const Clock* const clock_;
  std::unique_ptr<TunDevice> tun_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<TimerFd> timer_;
  std::unique_ptr<EventFd> wake_;  // never consumed: once signalled, tx and rx threads exit
  std::unique_ptr<UapiServer> uapi_;
  std::unique_ptr<WorkerPool> pool_;
  std::atomic<bool> stopping_{false};

  // Guarded by config_: the device's configuration, the sockets, the staging map.
  ConfigLock config_;
  wg::Device device_;
  uint32_t fwmark_ = 0;
  SocketPair sockets_;
  std::unordered_map<wg::Peer*, std::unique_ptr<Staged>> staged_;
  // Sockets replaced by a rebind; freed once the rx thread has moved to the new ones.
  std::vector<std::unique_ptr<DatagramSocket>> retired_;
  std::atomic<uint64_t> socket_generation_{0};
  std::atomic<uint64_t> rx_generation_{0};
  std::atomic<uint16_t> port_{0};

  EngineCounters counters_;
  std::atomic<int64_t> under_load_until_ns_{0};
};

}  // namespace wgate::dataplane
