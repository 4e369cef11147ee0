// Protocol constants of the WireGuard whitepaper (section 6 and the reference implementations),
// under their spec names, and Timings: the same values as a struct so that a test (or the engine's
// test-only flag) can shorten them. Production code always uses Timings{} (the spec values).
#pragma once

#include <chrono>
#include <cstdint>

#include "base/clock.h"

namespace wgate::wg {

using namespace std::chrono_literals;

// Message counts. REJECT_AFTER_MESSAGES is 2^64 - 2^13 - 1 so that a counter never wraps and
// the replay window (8128 < 2^13) never needs to look past the limit.
inline constexpr uint64_t kRekeyAfterMessages = uint64_t{1} << 60;
inline constexpr uint64_t kRejectAfterMessages = ~uint64_t{0} - (uint64_t{1} << 13);

inline constexpr Duration kRekeyAfterTime = 120s;
inline constexpr Duration kRejectAfterTime = 180s;
inline constexpr Duration kRekeyAttemptTime = 90s;
inline constexpr Duration kRekeyTimeout = 5s;
// Retransmissions and rekeys are delayed by a random 0..333 ms so that peers do not lock step.
inline constexpr Duration kRekeyTimeoutJitterMax = 334ms;  // exclusive bound: 0..333 ms
inline constexpr Duration kKeepaliveTimeout = 10s;
inline constexpr Duration kCookieRefreshTime = 120s;
// Responder-side flood limit per peer: at most this many initiations consumed per second.
inline constexpr int kInitiationsPerSecond = 50;
inline constexpr Duration kHandshakeInitiationRate =
    Duration(std::chrono::seconds(1)) / kInitiationsPerSecond;
// Queue bound the engine should use for packets staged while a handshake is in flight.
inline constexpr int kMaxStagedPackets = 128;
// Transport plaintexts are zero-padded to a multiple of this (paper section 5.4.6).
inline constexpr size_t kPaddingMultiple = 16;

// All timer and limit values, spec defaults. Derived values follow the paper's definitions.
struct Timings {
  Duration rekey_after_time = kRekeyAfterTime;
  Duration reject_after_time = kRejectAfterTime;
  Duration rekey_attempt_time = kRekeyAttemptTime;
  Duration rekey_timeout = kRekeyTimeout;
  Duration rekey_timeout_jitter_max = kRekeyTimeoutJitterMax;
  Duration keepalive_timeout = kKeepaliveTimeout;
  Duration cookie_refresh_time = kCookieRefreshTime;
  Duration handshake_initiation_rate = kHandshakeInitiationRate;
  uint64_t rekey_after_messages = kRekeyAfterMessages;
  uint64_t reject_after_messages = kRejectAfterMessages;

  // Every duration divided by `divisor` (message limits unchanged): what a test-only engine
  // flag uses to cross rekey and reject times in seconds instead of minutes.
  Timings ScaledDown(int divisor) const {
    Timings t = *this;
    for (Duration* d : {&t.rekey_after_time, &t.reject_after_time, &t.rekey_attempt_time,
                        &t.rekey_timeout, &t.rekey_timeout_jitter_max, &t.keepalive_timeout,
                        &t.cookie_refresh_time, &t.handshake_initiation_rate}) {
      *d /= divisor;
    }
    return t;
  }

  // Retransmissions allowed before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (18 by default).
  int64_t max_timer_handshakes() const { return rekey_attempt_time / rekey_timeout; }
  // Key material is erased after this long without a new handshake (3 x REJECT_AFTER_TIME).
  Duration zero_key_material_after() const { return reject_after_time * 3; }
  // The initiator rekeys on receive when its current keypair is this old, so that a new session
  // exists before the old one is rejected.
  Duration rekey_after_time_on_receive() const {
    return reject_after_time - keepalive_timeout - rekey_timeout;
  }
  // Data sent without any authenticated reply for this long means the peer may be gone.
  Duration new_handshake_after_silence() const { return keepalive_timeout + rekey_timeout; }
};

// The caller's reading of both clocks: monotonic time drives every timer, wall time only feeds
// TAI64N timestamps and the "last handshake" statistic.
struct Now {
  MonoTime mono;
  WallTime wall;
  static Now From(const Clock& clock) { return Now{clock.Now(), clock.WallNow()}; }
};

}  // namespace wgate::wg
