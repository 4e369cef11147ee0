// Device: a WireGuard interface's protocol state, sans-IO. Bytes in, actions out, time passed
// in; no sockets, no threads, no clock reads, no allocation on the packet path.
//
// How an engine drives it:
//   tunnel packet  -> Encapsulate(packet, out, now)
//                     send: out[0, r.size) to r.endpoint (and r.handshake first if non-empty);
//                     queued: keep the packet staged for r.peer (at most kMaxStagedPackets),
//                       send r.handshake if non-empty; encapsulate the staged packets again when
//                       a later result for that peer says session_ready;
//                     drop: counted under r.drop.
//   UDP datagram   -> Decapsulate(datagram, source, out, now)
//                     r.packet_size > 0: write out[0, r.packet_size) to the tunnel;
//                     r.reply non-empty: send it to r.reply_to (handshake response, cookie
//                       reply, keepalive, initiation);
//                     r.session_ready: flush r.peer's staged packets (Encapsulate them);
//                     r.endpoint_changed: r.peer roamed to `source`;
//                     drop: counted under r.drop.
//   timer          -> Tick(now, sink) at least every 100 ms, or at NextDeadline(): handshake
//                     retries, keepalives, rekeys, key erasure; the sink gets the datagrams and
//                     "drop the staged packets of this peer" after REKEY_ATTEMPT_TIME.
//
// Parallel data path. Encapsulate = PrepareEncapsulate + Seal, Decapsulate =
// PrepareDecapsulate + Open + FinishDecapsulate, for an engine that encrypts on many threads:
//   (a) Prepare*: cheap bookkeeping (route, keypair choice, atomic nonce reservation, timers).
//   (b) Seal / Open: the AEAD over the caller's buffer; static, lock-free, any thread, any order.
//   (c) FinishDecapsulate: replay window, key confirmation, roaming, allowed-IPs check.
// The engine delivers results in the order it chose per peer; the replay window accepts any
// order within 8128 packets, so (c) may run in any order too, but running it in arrival order
// per peer is what keeps TCP streams unreordered.
//
// Thread-safety: every data-path and timer method (Encapsulate, Decapsulate, the split steps,
// Tick, NextDeadline, SetUnderLoad, stats) may be called from any number of threads at once;
// Device and Peer lock internally for the short bookkeeping steps. Configuration methods
// (AddPeer, RemovePeer, SetPrivateKey, SetPeer*, *AllowedIp*) need exclusive access: the caller
// guarantees no other call on this Device runs meanwhile (e.g. a reader/writer lock held shared
// by the data path). Returned Peer* stay valid until RemovePeer of that peer.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "base/ip.h"
#include "crypto/keys.h"
#include "wg/allowed_ips.h"
#include "wg/constants.h"
#include "wg/cookie.h"
#include "wg/drop_reason.h"
#include "wg/peer.h"
#include "wg/ratelimiter.h"

namespace wgate::wg {

struct DeviceConfig {
  crypto::PrivateKey private_key;
  Timings timings;    // spec values unless a test shortens them
  size_t mtu = 1420;  // transport plaintexts are padded up to a multiple of 16, at most this
};

// The outcome of encapsulating one tunnel packet.
struct Outbound {
  DropReason drop = DropReason::kNone;
  Peer* peer = nullptr;      // the peer the destination routes to (null for kNoRoute etc.)
  SocketAddress endpoint;    // where to send the datagram and the handshake
  size_t size = 0;           // > 0: a transport datagram of this size is (to be) in `out`
  bool queued = false;       // no usable session: the caller stages the packet
  ControlMessage handshake;  // non-empty: a handshake initiation to send to `endpoint` too
  SealJob job;               // PrepareEncapsulate: what Seal needs

  bool dropped() const { return drop != DropReason::kNone; }
};

// The outcome of decapsulating one UDP datagram.
struct Inbound {
  DropReason drop = DropReason::kNone;
  Peer* peer = nullptr;    // the authenticated peer (or the one the index names)
  size_t packet_size = 0;  // > 0: write out[0, packet_size) to the tunnel
  ControlMessage reply;    // non-empty: send to reply_to
  SocketAddress reply_to;
  bool session_ready = false;     // a new session is usable: flush peer's staged packets
  bool endpoint_changed = false;  // peer's endpoint is now the datagram's source
  bool needs_open = false;        // PrepareDecapsulate: a transport message; run Open, then Finish
  OpenJob job;

  bool dropped() const { return drop != DropReason::kNone; }
};

// Receives what Tick produces.
class TickSink {
 public:
  virtual ~TickSink() = default;
  virtual void Send(Peer& peer, const SocketAddress& endpoint, ConstBytes datagram) = 0;
  // The handshake was given up: drop the packets staged for `peer`.
  virtual void DropStaged(Peer& /*peer*/) {}
};

class Device {
 public:
  explicit Device(const DeviceConfig& config);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // ---- Configuration: exclusive access required. ----
  // Fails for our own public key or a duplicate. `now` starts persistent keepalives.
  Result<Peer*> AddPeer(const PeerConfig& config, MonoTime now);
  bool RemovePeer(const crypto::PublicKey& key);
  Peer* FindPeer(const crypto::PublicKey& key) const;
  std::vector<Peer*> peers() const;
  // Replaces the static key: every session and handshake is forgotten, a peer with the new
  // public key is removed (a peer cannot be ourselves).
  void SetPrivateKey(const crypto::PrivateKey& key);
  const crypto::PublicKey& public_key() const { return ctx_.identity.public_key; }
  // For the UAPI's get=1; never log it.
  const crypto::PrivateKey& private_key() const { return ctx_.identity.private_key; }
  void SetPeerEndpoint(Peer* peer, const SocketAddress& endpoint);
  void SetPeerPresharedKey(Peer* peer, const crypto::PresharedKey& psk);
  void SetPeerPersistentKeepalive(Peer* peer, Duration interval, MonoTime now);
  // The next Tick sends `peer` an initiation, traffic or not.
  void RequestHandshake(Peer* peer, MonoTime now) { peer->RequestHandshake(now); }
  // Inserting a prefix owned by another peer moves it (as `wg set` does).
  void AddAllowedIp(Peer* peer, const IpPrefix& prefix);
  bool RemoveAllowedIp(Peer* peer, const IpPrefix& prefix);
  void ClearAllowedIps(Peer* peer);
  std::vector<IpPrefix> AllowedIpsOf(Peer* peer) const;

  // ---- Thread-safe. ----
  // Set by the caller when it sees more handshake messages than it can process: initiations
  // and responses then need a valid mac2 (cookie), and each source address is held to 20
  // handshake messages per second, to be processed.
  void SetUnderLoad(bool under_load) { under_load_.store(under_load); }
  // Datagrams dropped before any peer was known (malformed, unknown index, bad mac1...).
  uint64_t device_drops(DropReason r) const { return drops_[static_cast<size_t>(r)].load(); }

  // Encapsulates an IPv4/IPv6 packet read from the tunnel. `out` needs MaxEncapsulatedSize()
  // bytes; `packet` may sit at out.data() + kTransportHeaderSize (no copy) or not overlap `out`.
  Outbound Encapsulate(ConstBytes packet, Bytes out, const Now& now);
  size_t MaxEncapsulatedSize(size_t packet_len) const {
    return TransportMessageSize(PaddedSize(packet_len, ctx_.mtu));
  }
  // Step (a): decides, reserves the counter, moves timers. r.size is the datagram size.
  Outbound PrepareEncapsulate(ConstBytes packet, const Now& now);
  // Step (b): seals into `out` (>= job.message_size() bytes; `packet` placement as above).
  static size_t Seal(const SealJob& job, ConstBytes packet, Bytes out);

  // Decapsulates a datagram received from `source`. The plaintext goes to out[0, ...): `out`
  // needs datagram.size() - kTransportOverhead bytes. For decryption in place pass the
  // datagram's own (mutable) buffer from offset kTransportHeaderSize; otherwise `out` must not
  // overlap `datagram`.
  Inbound Decapsulate(ConstBytes datagram, const SocketAddress& source, Bytes out, const Now& now);
  // Step (a): handshake messages and cookie replies are handled completely here (r.needs_open
  // false); for a transport message r.needs_open and r.job are set.
  Inbound PrepareDecapsulate(ConstBytes datagram, const SocketAddress& source, const Now& now);
  // Step (b): opens the transport message into `out` (datagram.size() - 32 bytes needed; may be
  // datagram.data() + 16). False if it does not authenticate.
  static bool Open(const OpenJob& job, ConstBytes datagram, uint8_t* out);
  // Step (c): `plaintext` is what Open wrote (datagram.size() - 32 bytes), `opened` its result.
  Inbound FinishDecapsulate(Inbound prepared, bool opened, ConstBytes plaintext,
                            size_t datagram_size, const SocketAddress& source, const Now& now);

  // Runs every peer's due timers.
  void Tick(const Now& now, TickSink& sink);
  std::optional<MonoTime> NextDeadline() const;

 private:
  void HandleHandshake(MessageType type, ConstBytes datagram, const SocketAddress& source,
                       const Now& now, Inbound* out);
  void CountDrop(DropReason r) { drops_[static_cast<size_t>(r)].fetch_add(1); }
  Inbound DeviceDrop(DropReason r);

  DeviceContext ctx_;
  std::unique_ptr<CookieChecker> cookie_checker_;
  std::map<crypto::KeyBytes, std::unique_ptr<Peer>> peers_;
  AllowedIps<Peer*> allowed_ips_;
  HandshakeRateLimiter rate_limiter_;
  std::atomic<bool> under_load_{false};
  std::array<std::atomic<uint64_t>, kDropReasonCount> drops_{};
};

}  // namespace wgate::wg
