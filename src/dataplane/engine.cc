#include "dataplane/engine.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <shared_mutex>

#include "base/log.h"
#include "base/strings.h"

namespace wgate::dataplane {

namespace {

// Control-loop tick: device.h asks for Tick at least every 100 ms.
constexpr auto kTickInterval = std::chrono::milliseconds(100);
// Batches read per wake-up before checking the other fds again (fairness).
constexpr int kRoundsPerWake = 8;
// Handshake messages in one received batch that put the device under load (cookies required).
constexpr size_t kUnderLoadHandshakes = 16;
constexpr auto kUnderLoadHold = std::chrono::seconds(1);

bool IsHandshake(const Packet& p) {
  return p.size >= 4 && p.data[0] >= 1 && p.data[0] <= 2 && p.data[1] == 0 && p.data[2] == 0 &&
         p.data[3] == 0;
}

}  // namespace

// Packets of one peer that wait for a session, in preallocated slots (packet at kHeadroom, so
// they are sealed in place when flushed).
struct Engine::Staged {
  std::mutex mu;
  BufferPool slots{wg::kMaxStagedPackets};
  std::array<size_t, wg::kMaxStagedPackets> sizes{};
  size_t head = 0;  // oldest
  size_t count = 0;
};

struct Engine::TxBatch {
  BufferPool pool{kMaxBatch};
  std::array<Packet, kMaxBatch> packets;
  std::array<wg::Outbound, kMaxBatch> out;
  std::array<Packet, kMaxBatch> sends;
};

struct Engine::RxBatch {
  // With UDP GRO one buffer holds a train of datagrams; without it, one datagram.
  static constexpr size_t kBuffers = 64;
  static constexpr size_t kDatagrams = 1024;
  BufferPool pool{kBuffers, kGroBufferSize};
  std::array<Packet, kBuffers> buffers;
  std::array<Packet, kDatagrams> packets;
  std::array<wg::Inbound, kDatagrams> in;
  std::array<bool, kDatagrams> opened{};
  std::array<Packet, kDatagrams> tun_writes;
  std::array<Packet, kDatagrams> replies;
  std::array<wg::Peer*, kDatagrams> ready;
};

class Engine::TickSender final : public wg::TickSink {
 public:
  explicit TickSender(Engine* e) : e_(e) {}
  void Send(wg::Peer& /*peer*/, const SocketAddress& endpoint, ConstBytes datagram) override {
    e_->SendOne(datagram, endpoint);
  }
  void DropStaged(wg::Peer& peer) override {
    Staged* s = e_->StagedFor(&peer);
    if (!s) return;
    std::lock_guard lock(s->mu);
    e_->counters_.staged_expired.fetch_add(s->count, std::memory_order_relaxed);
    s->count = 0;
    s->head = 0;
  }

 private:
  Engine* e_;
};

ConfigLock::ConfigLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&rw_, &attr);
  pthread_rwlockattr_destroy(&attr);
}

ConfigLock::~ConfigLock() { pthread_rwlock_destroy(&rw_); }

Engine::Engine(const EngineOptions& options, std::unique_ptr<TunDevice> tun, const Clock* clock)
    : options_(options),
      clock_(clock),
      tun_(std::move(tun)),
      device_(wg::DeviceConfig{crypto::PrivateKey(), options.timings,
                               static_cast<size_t>(options.mtu)}) {}

Engine::~Engine() {
  uapi_.reset();  // before the loop it is registered with
}

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options,
                                               std::unique_ptr<TunDevice> tun, const Clock* clock) {
  std::unique_ptr<Engine> e(new Engine(options, std::move(tun), clock));
  auto loop = EventLoop::Create();
  if (!loop.ok()) return std::move(loop).error();
  e->loop_ = std::move(*loop);
  auto timer = TimerFd::Create();
  if (!timer.ok()) return std::move(timer).error();
  e->timer_ = std::make_unique<TimerFd>(std::move(*timer));
  auto wake = EventFd::Create();
  if (!wake.ok()) return std::move(wake).error();
  e->wake_ = std::make_unique<EventFd>(std::move(*wake));
  Status bound = e->Bind(options.listen_port, options.default_fwmark);
  if (!bound.ok()) return bound.error();
  size_t workers = options.workers >= 0
                       ? static_cast<size_t>(options.workers)
                       : std::max<size_t>(std::thread::hardware_concurrency(), 1) - 1;
  e->pool_ = std::make_unique<WorkerPool>(workers);
  Engine* raw = e.get();
  Status added = e->loop_->Add(e->timer_->fd(), [raw](uint32_t) { raw->OnTimer(); });
  if (!added.ok()) return added.error();
  return e;
}

Status Engine::Bind(uint16_t port, uint32_t mark) {
  auto pair = BindPair(port, mark);
  if (!pair.ok()) return std::move(pair).error();
  if (sockets_.v4) retired_.push_back(std::move(sockets_.v4));
  if (sockets_.v6) retired_.push_back(std::move(sockets_.v6));
  sockets_ = std::move(*pair);
  port_.store(sockets_.port);
  // The rx thread notices within one poll timeout and moves to the new sockets.
  socket_generation_.fetch_add(1);
  return Ok();
}

Status Engine::ListenUapi(std::string_view dir, std::string_view iface) {
  auto server = UapiServer::Listen(dir, iface, loop_.get(), this);
  if (!server.ok()) return std::move(server).error();
  uapi_ = std::move(*server);
  return Ok();
}

void Engine::Stop() {
  stopping_.store(true);
  wake_->Signal();
  loop_->Stop();
}

Status Engine::Run() {
  std::thread tx([this] { TxLoop(); });
  std::thread rx([this] { RxLoop(); });
  ArmTimer();
  Status result = loop_->Run();
  Stop();
  tx.join();
  rx.join();
  return result;
}

bool Engine::RequestHandshake(const crypto::PublicKey& key) {
  std::shared_lock lock(config_);
  wg::Peer* peer = device_.FindPeer(key);
  if (peer == nullptr) return false;
  device_.RequestHandshake(peer, clock_->Now());
  return true;
}

// ---- Control thread ----

void Engine::ArmTimer() { timer_->ArmAt(clock_->Now() + kTickInterval); }

void Engine::OnTimer() {
  timer_->Consume();
  {
    std::shared_lock lock(config_);
    TickSender sink(this);
    device_.Tick(wg::Now::From(*clock_), sink);
    if (under_load_until_ns_.load(std::memory_order_relaxed) != 0 &&
        clock_->Now().time_since_epoch().count() > under_load_until_ns_.load()) {
      under_load_until_ns_.store(0);
      device_.SetUnderLoad(false);
    }
  }
  if (!retired_.empty() && rx_generation_.load() == socket_generation_.load()) {
    std::lock_guard lock(config_);
    retired_.clear();
  }
  ArmTimer();
}

// ---- Sending ----

void Engine::Send(std::span<Packet> datagrams) {
  // Split by family, keeping order within each (one peer's endpoint has one family).
  std::array<Packet, kMaxBatch> v6;
  size_t n4 = 0, n6 = 0;
  size_t dropped = 0;
  for (size_t start = 0; start < datagrams.size(); start += kMaxBatch) {
    const size_t end = std::min(datagrams.size(), start + kMaxBatch);
    n4 = n6 = 0;
    for (size_t i = start; i < end; ++i) {
      if (datagrams[i].addr.ip.is_v4()) {
        datagrams[start + n4++] = datagrams[i];
      } else {
        v6[n6++] = datagrams[i];
      }
    }
    if (n4 > 0) {
      if (sockets_.v4) {
        (void)sockets_.v4->SendBatch(datagrams.subspan(start, n4), &dropped);
      } else {
        dropped += n4;
      }
    }
    if (n6 > 0) {
      if (sockets_.v6) {
        (void)sockets_.v6->SendBatch(std::span<Packet>(v6.data(), n6), &dropped);
      } else {
        dropped += n6;
      }
    }
    counters_.udp_datagrams_sent.fetch_add(end - start, std::memory_order_relaxed);
  }
  if (dropped) {
    counters_.udp_send_dropped.fetch_add(dropped, std::memory_order_relaxed);
    counters_.udp_datagrams_sent.fetch_sub(dropped, std::memory_order_relaxed);
  }
}

void Engine::SendOne(ConstBytes datagram, const SocketAddress& to) {
  Packet p;
  p.data = const_cast<uint8_t*>(datagram.data());  // sendmmsg only reads it
  p.size = datagram.size();
  p.capacity = datagram.size();
  p.addr = to;
  Send(std::span<Packet>(&p, 1));
}

// ---- Staging ----

Engine::Staged* Engine::StagedFor(wg::Peer* peer) {
  auto it = staged_.find(peer);
  return it == staged_.end() ? nullptr : it->second.get();
}

void Engine::Stage(wg::Peer* peer, ConstBytes packet) {
  Staged* s = StagedFor(peer);
  if (!s || packet.size() > s->slots.slot_size() - kHeadroom - kTailroom) return;
  std::lock_guard lock(s->mu);
  if (s->count == wg::kMaxStagedPackets) {
    s->head = (s->head + 1) % wg::kMaxStagedPackets;  // drop the oldest
    --s->count;
    counters_.staged_overflow.fetch_add(1, std::memory_order_relaxed);
  }
  const size_t slot = (s->head + s->count) % wg::kMaxStagedPackets;
  std::memcpy(s->slots.slot(slot) + kHeadroom, packet.data(), packet.size());
  s->sizes[slot] = packet.size();
  ++s->count;
}

void Engine::FlushStaged(wg::Peer* peer, const wg::Now& now) {
  Staged* s = StagedFor(peer);
  if (!s) return;
  std::lock_guard lock(s->mu);
  std::array<Packet, wg::kMaxStagedPackets> sends;
  size_t n = 0;
  while (s->count > 0) {
    const size_t slot = s->head;
    uint8_t* base = s->slots.slot(slot);
    ConstBytes packet(base + kHeadroom, s->sizes[slot]);
    wg::Outbound r = device_.Encapsulate(packet, Bytes(base, s->slots.slot_size()), now);
    if (!r.handshake.empty()) SendOne(r.handshake.view(), r.endpoint);
    if (r.queued) break;  // still no session: keep the rest for the next one
    s->head = (s->head + 1) % wg::kMaxStagedPackets;
    --s->count;
    if (r.size > 0 && !r.dropped()) sends[n++] = Packet{base, r.size, r.size, r.endpoint};
  }
  if (n > 0) Send(std::span<Packet>(sends.data(), n));
  if (s->count == 0) s->head = 0;
}

// ---- tx: TUN -> encrypt -> UDP ----

void Engine::TxLoop() {
  auto batch = std::make_unique<TxBatch>();
  while (!stopping_.load()) {
    pollfd fds[2] = {{tun_->fd(), POLLIN, 0}, {wake_->fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      LogError(StrCat("engine: poll tun: ", std::strerror(errno)));
      break;
    }
    if (stopping_.load()) break;
    for (int round = 0; round < kRoundsPerWake; ++round) {
      batch->pool.Attach(batch->packets, kHeadroom);
      // Room for the tag behind the packet: sealing is in place.
      for (Packet& p : batch->packets) p.capacity -= kTailroom;
      auto n = tun_->ReadBatch(batch->packets);
      if (!n.ok()) {
        LogError(StrCat("engine: ", n.error().message()));
        Stop();
        return;
      }
      if (*n == 0) break;
      counters_.tun_packets_read.fetch_add(*n, std::memory_order_relaxed);
      ProcessTx(*batch, *n);
      if (*n < batch->packets.size()) break;
    }
  }
}

void Engine::ProcessTx(TxBatch& b, size_t n) {
  std::shared_lock lock(config_);
  const wg::Now now = wg::Now::From(*clock_);
  for (size_t i = 0; i < n; ++i) {
    const Packet& p = b.packets[i];
    wg::Outbound& r = b.out[i];
    r = device_.PrepareEncapsulate(ConstBytes(p.data, p.size), now);
    if (r.queued) {
      // Stage before the handshake leaves, so that the answer's flush finds the packet. Without
      // a new handshake, one is in flight or may just have completed on the rx thread (whose
      // flush then ran before this packet was staged): try a flush now.
      Stage(r.peer, ConstBytes(p.data, p.size));
      if (r.handshake.empty()) FlushStaged(r.peer, now);
    }
    if (!r.handshake.empty()) SendOne(r.handshake.view(), r.endpoint);
    if (r.dropped() || r.queued) r.size = 0;
  }
  auto seal = [&](size_t i) {
    wg::Outbound& r = b.out[i];
    if (r.size == 0) return;
    const Packet& p = b.packets[i];
    wg::Device::Seal(r.job, ConstBytes(p.data, p.size),
                     Bytes(p.data - kHeadroom, b.pool.slot_size()));
  };
  pool_->Run(n, seal);
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    wg::Outbound& r = b.out[i];
    if (r.size > 0) {
      b.sends[m++] = Packet{b.packets[i].data - kHeadroom, r.size, r.size, r.endpoint};
    }
    r.job = wg::SealJob{};  // do not keep the keypair alive past the batch
  }
  if (m > 0) Send(std::span<Packet>(b.sends.data(), m));
}

// ---- rx: UDP -> decrypt -> TUN ----

void Engine::RxLoop() {
  auto batch = std::make_unique<RxBatch>();
  while (!stopping_.load()) {
    DatagramSocket* socks[2];
    {
      std::shared_lock lock(config_);
      socks[0] = sockets_.v4.get();
      socks[1] = sockets_.v6.get();
      rx_generation_.store(socket_generation_.load());
    }
    pollfd fds[3];
    int nfds = 0;
    DatagramSocket* by_index[3] = {nullptr, nullptr, nullptr};
    for (DatagramSocket* s : socks) {
      if (!s) continue;
      by_index[nfds] = s;
      fds[nfds++] = {s->fd(), POLLIN, 0};
    }
    fds[nfds++] = {wake_->fd(), POLLIN, 0};
    // A rebind shows only in the generation counter: poll with a timeout so the rx thread moves
    // to new sockets within 100 ms.
    if (::poll(fds, nfds, 100) < 0 && errno != EINTR) {
      LogError(StrCat("engine: poll udp: ", std::strerror(errno)));
      break;
    }
    if (stopping_.load()) break;
    for (int i = 0; i < nfds - 1; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLERR))) continue;
      for (int round = 0; round < kRoundsPerWake; ++round) {
        std::shared_lock lock(config_);
        if (rx_generation_.load() != socket_generation_.load()) break;  // rebound meanwhile
        batch->pool.Attach(batch->buffers, 0);
        size_t overflow = 0;
        auto n = by_index[i]->RecvBatch(batch->buffers, batch->packets, &overflow);
        if (!n.ok()) {
          LogError(StrCat("engine: ", n.error().message()));
          break;
        }
        if (overflow) counters_.udp_truncated.fetch_add(overflow, std::memory_order_relaxed);
        if (*n == 0) break;
        counters_.udp_datagrams_received.fetch_add(*n, std::memory_order_relaxed);
        lock.unlock();  // ProcessRx takes it again; never held recursively
        ProcessRx(*batch, *n);
      }
    }
  }
}

void Engine::ProcessRx(RxBatch& b, size_t n) {
  std::shared_lock lock(config_);
  const wg::Now now = wg::Now::From(*clock_);
  size_t handshakes = 0;
  for (size_t i = 0; i < n; ++i) {
    Packet& p = b.packets[i];
    wg::Inbound& r = b.in[i];
    if (p.size > p.capacity) {
      counters_.udp_truncated.fetch_add(1, std::memory_order_relaxed);
      r = wg::Inbound{};
      r.drop = wg::DropReason::kMalformed;
      continue;
    }
    if (IsHandshake(p)) ++handshakes;
    r = device_.PrepareDecapsulate(ConstBytes(p.data, p.size), p.addr, now);
  }
  if (handshakes >= kUnderLoadHandshakes) {
    device_.SetUnderLoad(true);
    under_load_until_ns_.store((clock_->Now() + kUnderLoadHold).time_since_epoch().count());
  }
  auto open = [&](size_t i) {
    wg::Inbound& r = b.in[i];
    if (!r.needs_open) return;
    const Packet& p = b.packets[i];
    b.opened[i] = wg::Device::Open(r.job, ConstBytes(p.data, p.size), p.data + kHeadroom);
  };
  pool_->Run(n, open);
  size_t writes = 0, replies = 0, ready = 0;
  for (size_t i = 0; i < n; ++i) {
    wg::Inbound& r = b.in[i];
    const Packet& p = b.packets[i];
    if (r.needs_open) {
      r = device_.FinishDecapsulate(std::move(r), b.opened[i],
                                    ConstBytes(p.data + kHeadroom, p.size - wg::kTransportOverhead),
                                    p.size, p.addr, now);
    }
    if (!r.reply.empty()) {
      b.replies[replies++] = Packet{r.reply.bytes.data(), r.reply.size, r.reply.size, r.reply_to};
    }
    if (r.session_ready && r.peer) b.ready[ready++] = r.peer;
    if (r.packet_size > 0 && !r.dropped()) {
      b.tun_writes[writes++] = Packet{p.data + kHeadroom, r.packet_size, r.packet_size, {}};
    }
  }
  if (replies > 0) Send(std::span<Packet>(b.replies.data(), replies));
  if (writes > 0) {
    size_t refused = 0;
    Status s = tun_->WriteBatch(std::span<const Packet>(b.tun_writes.data(), writes), &refused);
    if (!s.ok()) {
      LogError(StrCat("engine: ", s.error().message()));
      Stop();
    }
    counters_.tun_packets_written.fetch_add(writes - refused, std::memory_order_relaxed);
    if (refused) counters_.tun_write_refused.fetch_add(refused, std::memory_order_relaxed);
  }
  for (size_t i = 0; i < ready; ++i) {
    if (std::find(b.ready.begin(), b.ready.begin() + i, b.ready[i]) != b.ready.begin() + i)
      continue;
    FlushStaged(b.ready[i], now);
  }
}

// ---- UAPI ----

uapi::DeviceState Engine::Get() {
  std::lock_guard lock(config_);
  uapi::DeviceState s;
  s.private_key = device_.private_key();
  s.listen_port = sockets_.port;
  s.fwmark = fwmark_;
  for (wg::Peer* peer : device_.peers()) {
    uapi::PeerState p;
    p.public_key = peer->public_key();
    p.preshared_key = peer->preshared_key();
    p.endpoint = peer->endpoint();
    wg::PeerStats stats = peer->stats();
    p.last_handshake = stats.last_handshake;
    p.handshake_pending_since = stats.handshake_pending_since;
    p.rx_bytes = stats.rx_bytes;
    p.tx_bytes = stats.tx_bytes;
    p.persistent_keepalive_interval = static_cast<uint16_t>(
        std::chrono::duration_cast<std::chrono::seconds>(peer->persistent_keepalive()).count());
    p.allowed_ips = device_.AllowedIpsOf(peer);
    s.peers.push_back(std::move(p));
  }
  return s;
}

void Engine::RemovePeerLocked(wg::Peer* peer) {
  const crypto::PublicKey key = peer->public_key();
  staged_.erase(peer);
  device_.RemovePeer(key);
}

int Engine::Set(const uapi::SetRequest& request, uapi::Failure* failure) {
  bool flush = false;
  {
    std::lock_guard lock(config_);
    const MonoTime mono = clock_->Now();
    if (request.private_key) {
      device_.SetPrivateKey(*request.private_key);
      // SetPrivateKey drops a peer that has the new public key: forget its engine state too.
      for (auto it = staged_.begin(); it != staged_.end();) {
        bool alive = false;
        for (wg::Peer* p : device_.peers()) alive |= p == it->first;
        if (alive) {
          ++it;
        } else {
          it = staged_.erase(it);
        }
      }
    }
    if (request.listen_port && *request.listen_port != sockets_.port) {
      Status s = Bind(*request.listen_port, EffectiveMark());
      if (!s.ok()) {
        failure->message = s.error().message();
        return uapi::kErrorPortInUse;
      }
    }
    if (request.fwmark && *request.fwmark != fwmark_) {
      fwmark_ = *request.fwmark;
      for (DatagramSocket* sock : {sockets_.v4.get(), sockets_.v6.get()}) {
        auto* udp = dynamic_cast<UdpSocket*>(sock);
        if (!udp) continue;
        Status s = udp->SetMark(EffectiveMark());
        if (!s.ok()) {
          failure->message = s.error().message();
          return uapi::kErrorPortInUse;  // what wireguard-go answers for a failed fwmark
        }
      }
    }
    if (request.replace_peers) {
      for (wg::Peer* p : device_.peers()) RemovePeerLocked(p);
    }
    for (const uapi::PeerUpdate& u : request.peers) {
      if (u.public_key == device_.public_key()) continue;  // ourselves, as wireguard-go ignores
      wg::Peer* peer = device_.FindPeer(u.public_key);
      if (u.remove) {
        if (peer) RemovePeerLocked(peer);
        continue;
      }
      if (!peer) {
        if (u.update_only) continue;
        wg::PeerConfig config;
        config.public_key = u.public_key;
        auto added = device_.AddPeer(config, mono);
        if (!added.ok()) {
          failure->message = added.error().message();
          return uapi::kErrorInvalid;
        }
        peer = *added;
        staged_[peer] = std::make_unique<Staged>();
      }
      if (u.preshared_key) device_.SetPeerPresharedKey(peer, *u.preshared_key);
      if (u.endpoint) device_.SetPeerEndpoint(peer, *u.endpoint);
      if (u.persistent_keepalive_interval) {
        device_.SetPeerPersistentKeepalive(
            peer, std::chrono::seconds(*u.persistent_keepalive_interval), mono);
      }
      if (u.replace_allowed_ips) device_.ClearAllowedIps(peer);
      for (const IpPrefix& prefix : u.allowed_ips) device_.AddAllowedIp(peer, prefix);
      flush = true;
    }
  }
  if (flush) {
    // A new endpoint or keepalive may have timers due now; staged packets may have a route.
    std::shared_lock lock(config_);
    TickSender sink(this);
    device_.Tick(wg::Now::From(*clock_), sink);
  }
  return 0;
}

std::string Engine::DropSummary() {
  std::shared_lock lock(config_);
  std::array<uint64_t, wg::kDropReasonCount> total{};
  for (size_t r = 1; r < wg::kDropReasonCount; ++r) {
    total[r] = device_.device_drops(static_cast<wg::DropReason>(r));
  }
  for (wg::Peer* peer : device_.peers()) {
    wg::PeerStats s = peer->stats();
    for (size_t r = 1; r < wg::kDropReasonCount; ++r) total[r] += s.drops[r];
  }
  std::string out;
  for (size_t r = 1; r < wg::kDropReasonCount; ++r) {
    if (total[r] == 0) continue;
    if (!out.empty()) out += " ";
    out += StrCat(wg::DropReasonName(static_cast<wg::DropReason>(r)), "=", total[r]);
  }
  auto add = [&](const char* name, const std::atomic<uint64_t>& v) {
    if (v.load() == 0) return;
    if (!out.empty()) out += " ";
    out += StrCat(name, "=", v.load());
  };
  add("udp_truncated", counters_.udp_truncated);
  add("udp_send_dropped", counters_.udp_send_dropped);
  add("tun_write_refused", counters_.tun_write_refused);
  add("staged_overflow", counters_.staged_overflow);
  add("staged_expired", counters_.staged_expired);
  return out.empty() ? "none" : out;
}

}  // namespace wgate::dataplane
