// A session's transport keys (a "keypair" in the reference implementations) and the per-packet
// seal/open of transport data messages (whitepaper section 5.4.6).
//
// Keypairs are shared (std::shared_ptr) between the peer that owns them and the worker threads
// sealing or opening packets with them: dropping a keypair from its peer never invalidates a
// packet in flight, and the last owner's destructor zeroes the keys.
//
// Thread-safety: ReserveCounter, Seal and Open are safe from any number of threads at once (the
// send counter is atomic, keys are immutable). replay() is not: the owning Peer serializes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/bytes.h"
#include "base/clock.h"
#include "crypto/keys.h"
#include "wg/constants.h"
#include "wg/messages.h"
#include "wg/noise.h"
#include "wg/replay_window.h"

namespace wgate::wg {

// Size of a transport message carrying `packet_len` plaintext bytes padded to a multiple of 16,
// but not beyond `mtu` (when mtu > 0), as the reference implementations pad.
size_t PaddedSize(size_t packet_len, size_t mtu);
inline size_t TransportMessageSize(size_t padded_len) { return kTransportOverhead + padded_len; }

class Keypair {
 public:
  Keypair(const SessionKeys& keys, MonoTime created)
      : send_key_(keys.send),
        recv_key_(keys.recv),
        is_initiator_(keys.is_initiator),
        local_index_(keys.local_index),
        remote_index_(keys.remote_index),
        created_(created) {}
  Keypair(const Keypair&) = delete;
  Keypair& operator=(const Keypair&) = delete;

  bool is_initiator() const { return is_initiator_; }
  uint32_t local_index() const { return local_index_; }
  uint32_t remote_index() const { return remote_index_; }
  MonoTime created() const { return created_; }

  // Takes the next send counter; nullopt once `limit` (REJECT_AFTER_MESSAGES) is reached, and
  // from then on forever (the counter never wraps).
  std::optional<uint64_t> ReserveCounter(uint64_t limit);
  // The counter the next ReserveCounter would hand out.
  uint64_t next_counter() const { return send_counter_.load(std::memory_order_relaxed); }
  // Test hook: jump the send counter (e.g. near REJECT_AFTER_MESSAGES).
  void SetNextCounterForTest(uint64_t c) { send_counter_.store(c); }

  // Writes a transport message to `out`: header, then `packet` zero-padded to `padded_len`
  // (>= packet.size()), sealed, then the tag. `out.size()` must be at least
  // TransportMessageSize(padded_len). `packet` may already sit at out.data() + 16 (zero copy) or
  // anywhere that does not overlap `out`. Returns the message size.
  size_t Seal(uint64_t counter, ConstBytes packet, size_t padded_len, Bytes out) const;
  // Opens the ciphertext||tag of a transport message (datagram minus its 16-byte header) into
  // `out` (sealed.size() - 16 bytes); `out` may be sealed.data() itself. False if the tag fails.
  [[nodiscard]] bool Open(uint64_t counter, ConstBytes sealed, uint8_t* out) const;

  ReplayWindow& replay() { return replay_; }

 private:
  const crypto::SecretKey send_key_;
  const crypto::SecretKey recv_key_;
  const bool is_initiator_;
  const uint32_t local_index_;
  const uint32_t remote_index_;
  const MonoTime created_;
  std::atomic<uint64_t> send_counter_{0};
  ReplayWindow replay_;
};

// The three keypair slots of a peer (whitepaper section 6.2 and the reference implementations):
// `current` sends and receives; `previous` still receives packets in flight after a rotation;
// `next` is the responder's new session, usable only once the initiator proves it has it (its
// first transport message: key confirmation). Guarded by the owning Peer.
struct Keypairs {
  std::shared_ptr<Keypair> previous;
  std::shared_ptr<Keypair> current;
  std::shared_ptr<Keypair> next;
};

}  // namespace wgate::wg
