// Clock: the one way code below the daemon learns the time, so tests can drive it.
//
// Monotonic time drives timers; wall time only feeds TAI64N handshake timestamps. The protocol
// core (src/wg) never reads a clock: callers pass `now` in.
#pragma once

#include <chrono>

namespace wgate {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

// The real clocks. Thread-safe.
class SystemClock final : public Clock {
 public:
  MonoTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

}  // namespace wgate
