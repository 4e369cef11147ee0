// A WireGuard peer: its configuration, handshake, sessions, timers and statistics.
//
// Peers are created, configured and destroyed only through Device (device.h), which also routes
// packets to them; this header is what the engine reads (endpoint, stats) and what Device drives.
//
// Thread-safety: every public method is thread-safe. Each peer has one internal mutex held only
// for short bookkeeping steps (picking a keypair, moving timers, handshake messages); the
// per-packet crypto runs outside it. A Peer* stays valid until Device::RemovePeer or the Device's
// destruction, which the caller must not overlap with any other call.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/ip.h"
#include "crypto/keys.h"
#include "wg/constants.h"
#include "wg/cookie.h"
#include "wg/drop_reason.h"
#include "wg/index_table.h"
#include "wg/keypair.h"
#include "wg/messages.h"
#include "wg/noise.h"
#include "wg/timers.h"

namespace wgate::wg {

struct PeerConfig {
  crypto::PublicKey public_key;
  crypto::PresharedKey preshared_key;  // all zero: none (the protocol then uses zeros)
  std::optional<SocketAddress> endpoint;
  Duration persistent_keepalive{0};  // zero: off
  std::vector<IpPrefix> allowed_ips;
};

struct PeerStats {
  uint64_t rx_bytes = 0;    // every authenticated datagram received, as on the wire
  uint64_t tx_bytes = 0;    // every datagram sent, as on the wire
  uint64_t rx_packets = 0;  // those datagrams, counted
  uint64_t tx_packets = 0;
  std::optional<WallTime> last_handshake;
  // Since when an initiation has gone unanswered (the first one after the last completed
  // handshake); nullopt when none is pending. A server that died shows here: data sent without
  // reply starts a handshake after 15 s, and it never completes.
  std::optional<MonoTime> handshake_pending_since;
  std::array<uint64_t, kDropReasonCount> drops{};
  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
};

// A handshake message, cookie reply or keepalive, built in place (no allocation).
struct ControlMessage {
  std::array<uint8_t, kMaxControlMessageSize> bytes;
  size_t size = 0;
  bool empty() const { return size == 0; }
  ConstBytes view() const { return ConstBytes(bytes.data(), size); }
};

// What a worker needs to seal one outbound packet: the keypair and the counter reserved for it.
struct SealJob {
  std::shared_ptr<Keypair> keypair;
  uint64_t counter = 0;
  size_t padded_len = 0;
  size_t message_size() const { return TransportMessageSize(padded_len); }
};

// What a worker needs to open one inbound transport message.
struct OpenJob {
  std::shared_ptr<Keypair> keypair;
  uint64_t counter = 0;
};

// State shared by a device and its peers. The identity and timings change only under the
// caller's exclusive access (Device::SetPrivateKey); the index table locks itself.
struct DeviceContext {
  StaticIdentity identity;
  Timings timings;
  size_t mtu = 1420;
  IndexTable indices;
};

class Peer {
 public:
  Peer(DeviceContext* ctx, const PeerConfig& config);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const crypto::PublicKey& public_key() const { return public_key_; }
  std::optional<SocketAddress> endpoint() const;
  Duration persistent_keepalive() const;
  // For the UAPI's get=1; never log it.
  crypto::PresharedKey preshared_key() const;
  PeerStats stats() const;
  // The earliest timer deadline of this peer (for an engine that sleeps between ticks).
  std::optional<MonoTime> NextDeadline() const;

  // Test hooks: the live keypairs, and a way to set the current send counter.
  Keypairs KeypairsForTest() const;
  void SetSendCounterForTest(uint64_t counter);

 private:
  friend class Device;

  // Results of the internal steps Device combines into its public results.
  struct SendPlan {
    DropReason drop = DropReason::kNone;
    bool queued = false;
    SealJob job;
    SocketAddress endpoint;
  };
  struct TickPlan {
    ControlMessage messages[2];
    int count = 0;
    SocketAddress endpoint;
    bool staged_expired = false;
  };
  struct ReceivePlan {
    DropReason drop = DropReason::kNone;
    bool session_ready = false;
    bool endpoint_changed = false;
    bool is_keepalive = false;
    ControlMessage reply;
    SocketAddress reply_to;
  };

  void SetEndpoint(const SocketAddress& endpoint);
  void SetPresharedKey(const crypto::PresharedKey& psk);
  void SetPersistentKeepalive(Duration interval, MonoTime now);
  // Starts a handshake at the next Tick, with no traffic to send (see PeerTimers).
  void RequestHandshake(MonoTime now);
  // After Device::SetPrivateKey: recompute the static DH, forget every session.
  void Rekeyed();

  SendPlan PrepareSend(size_t packet_len, const Now& now, ControlMessage* handshake);
  void HandleInitiation(const InitiationStatic& partial, const Initiation& msg,
                        const SocketAddress& source, const Now& now, ReceivePlan* out);
  void HandleResponse(const Response& msg, const SocketAddress& source, const Now& now,
                      ReceivePlan* out);
  void HandleCookieReply(const CookieReply& msg, const Now& now, ReceivePlan* out);
  // After a transport message authenticated: replay window, key confirmation, timers, roaming.
  void FinishReceive(const OpenJob& job, size_t datagram_size, bool is_keepalive,
                     const SocketAddress& source, const Now& now, ReceivePlan* out);
  TickPlan Tick(const Now& now);

  void CountDrop(DropReason r) { drops_[static_cast<size_t>(r)].fetch_add(1); }
  // Counts `r` (if any) into `out`; true when it was a drop.
  bool Dropped(DropReason r, ReceivePlan* out) {
    if (r == DropReason::kNone) return false;
    out->drop = r;
    CountDrop(r);
    return true;
  }

  // All *Locked methods require mu_.
  bool CreateInitiationLocked(const Now& now, bool retry, ControlMessage* out);
  bool CreateKeepaliveLocked(const Now& now, ControlMessage* out);
  void InstallSessionLocked(const SessionKeys& keys, const Now& now);
  void DropKeypairLocked(std::shared_ptr<Keypair>* slot);
  void ForgetHandshakeIndexLocked();
  void ZeroKeyMaterialLocked();
  // Bookkeeping of every authenticated datagram received (returns whether the endpoint moved)
  // and of every datagram sent.
  bool AuthenticatedReceiveLocked(size_t bytes, const SocketAddress& source, MonoTime now);
  void AuthenticatedSendLocked(size_t bytes, MonoTime now);
  std::shared_ptr<Keypair> UsableCurrentLocked(MonoTime now) const;
  Duration JitterLocked() const;

  DeviceContext* const ctx_;
  const crypto::PublicKey public_key_;

  mutable std::mutex mu_;
  std::optional<SocketAddress> endpoint_;
  Duration persistent_keepalive_{0};
  Handshake handshake_;
  std::optional<uint32_t> handshake_index_;  // index table entry of the handshake in flight
  CookieGenerator cookies_;
  Keypairs keypairs_;
  PeerTimers timers_;
  std::optional<MonoTime> last_sent_handshake_;
  std::optional<MonoTime> handshake_pending_since_;  // see PeerStats
  std::optional<WallTime> last_handshake_;

  std::atomic<uint64_t> rx_bytes_{0};
  std::atomic<uint64_t> tx_bytes_{0};
  std::atomic<uint64_t> rx_packets_{0};
  std::atomic<uint64_t> tx_packets_{0};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops_{};
};

}  // namespace wgate::wg
