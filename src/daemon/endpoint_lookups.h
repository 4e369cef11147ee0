// When the gateway may look a host-name Endpoint up, and which address it keeps (issue 9).
//
// Every lookup is a chance for whoever answers DNS to move the tunnel's endpoint, and each one
// opens the lockdown's resolver hole: so a lookup happens only when the Endpoint text is new
// (first load, or the user changed it), and after a failed one the next waits a backoff that
// doubles from 1 s to 60 s, with jitter so that many gateways do not retry in step (systemd's
// networkd resolves WireGuard endpoints this way). A reload, SIGHUP or retry with the same text
// reuses the last good address. Pure: the clock and the jitter are passed in.
//
// Thread-safety: none; the gateway's main thread owns it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/ip.h"

namespace wgate::daemon {

inline constexpr auto kLookupBackoffFirst = std::chrono::seconds(1);
inline constexpr auto kLookupBackoffMax = std::chrono::seconds(60);

class EndpointLookups {
 public:
  // `jitter` returns a number in [0, 1); a delay d becomes d * (0.9 + 0.1 * jitter()), so it
  // never exceeds the nominal delay. `clock` must outlive this object.
  explicit EndpointLookups(const Clock* clock, std::function<double()> jitter = RandomJitter);

  // The last good address of `endpoint_text` (the Endpoint as written, host:port), if that is
  // the text of the last successful lookup.
  std::optional<SocketAddress> Cached(const std::string& endpoint_text) const;
  // How long until `endpoint_text` may be looked up (zero: now). Non-zero only while a failed
  // lookup of the same text is backing off; a new text may be looked up at once.
  Duration WaitBeforeLookup(const std::string& endpoint_text) const;
  // The error of the last failed lookup of `endpoint_text` ("" when it did not fail).
  std::string LastError(const std::string& endpoint_text) const;

  void Succeeded(const std::string& endpoint_text, const SocketAddress& address);
  void Failed(const std::string& endpoint_text, const std::string& error);

  // The uniform [0, 1) source the gateway uses.
  static double RandomJitter();

 private:
  const Clock* clock_;
  std::function<double()> jitter_;
  std::string good_text_;
  std::optional<SocketAddress> good_;
  std::string failed_text_;
  std::string failed_error_;
  int failures_ = 0;  // consecutive failures of failed_text_
  MonoTime next_try_{};
};

}  // namespace wgate::daemon
