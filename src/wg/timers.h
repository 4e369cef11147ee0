// The per-peer timer state machine of the whitepaper section 6, as the reference
// implementations realize it (wireguard-go timers.go, the kernel's timers.c), kept as deadlines
// instead of armed OS timers: events move deadlines, Expire(now) reports which ones passed.
//
//   retransmit handshake  armed when an initiation is sent (REKEY_TIMEOUT + jitter), cleared when
//                         a handshake completes; on expiry resend, or give up after
//                         REKEY_ATTEMPT_TIME / REKEY_TIMEOUT retries.
//   send keepalive        armed on receiving data (KEEPALIVE_TIMEOUT) unless armed; cleared by
//                         any authenticated packet sent. Answers one-way traffic.
//   new handshake         armed on sending data (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter)
//                         unless armed; cleared by any authenticated packet received. Data sent
//                         without reply means the session may be dead.
//   zero key material     armed (3 x REJECT_AFTER_TIME) when a session is derived and on giving
//                         up; erases all keys.
//   persistent keepalive  re-armed on every authenticated packet sent or received.
//
// Not thread-safe: Peer guards it with its lock. Jitter values are passed in (the caller draws
// them) so the state machine is deterministic.
#pragma once

#include <optional>

#include "base/clock.h"
#include "wg/constants.h"

namespace wgate::wg {

class PeerTimers {
 public:
  explicit PeerTimers(const Timings* timings) : t_(timings) {}

  // What Expire found due. give_up and retransmit_handshake exclude each other.
  struct Due {
    bool retransmit_handshake = false;  // send a new initiation (a retry)
    bool give_up = false;               // stop retrying: drop staged packets
    bool send_keepalive = false;
    bool new_handshake = false;  // send a new initiation (not a retry)
    bool zero_key_material = false;
    bool persistent_keepalive = false;
    bool any() const {
      return retransmit_handshake || give_up || send_keepalive || new_handshake ||
             zero_key_material || persistent_keepalive;
    }
  };

  void HandshakeInitiated(MonoTime now, Duration jitter);
  void HandshakeComplete();
  void SessionDerived(MonoTime now);
  void DataSent(MonoTime now, Duration jitter);
  void DataReceived(MonoTime now);
  void AnyAuthenticatedPacketSent();
  void AnyAuthenticatedPacketReceived();
  // Any authenticated packet sent or received.
  void AnyAuthenticatedPacketTraversal(MonoTime now, Duration persistent_keepalive);
  // Makes the new-handshake deadline `now` (sooner if it was armed later): a handshake without
  // waiting for traffic, as a gateway wants at start so that its health is known at once.
  void RequestHandshake(MonoTime now);
  // A new initiation that is not a retry starts a new attempt count.
  void ResetAttempts() { handshake_attempts_ = 0; }
  // Disarms everything (peer removed or keys erased by the caller).
  void StopAll();

  // Pops every deadline <= now and reports it; re-arms the keepalive timer when a second
  // keepalive was requested while the first was pending.
  Due Expire(MonoTime now);
  // The earliest armed deadline, for an engine that sleeps until the next timer.
  std::optional<MonoTime> NextDeadline() const;

  int64_t handshake_attempts() const { return handshake_attempts_; }
  bool sent_last_minute_handshake() const { return sent_last_minute_handshake_; }
  void set_sent_last_minute_handshake() { sent_last_minute_handshake_ = true; }
  bool retransmit_armed() const { return retransmit_handshake_.has_value(); }
  bool new_handshake_armed() const { return new_handshake_.has_value(); }

 private:
  const Timings* t_;
  std::optional<MonoTime> retransmit_handshake_;
  std::optional<MonoTime> send_keepalive_;
  std::optional<MonoTime> new_handshake_;
  std::optional<MonoTime> zero_key_material_;
  std::optional<MonoTime> persistent_keepalive_;
  int64_t handshake_attempts_ = 0;
  bool need_another_keepalive_ = false;
  bool sent_last_minute_handshake_ = false;
};

}  // namespace wgate::wg
