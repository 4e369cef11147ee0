// TAI64N timestamps as WireGuard puts them in handshake initiations (whitepaper 5.4.2): 8 bytes
// big-endian seconds since 1970 TAI (offset 2^62 + 10) then 4 bytes big-endian nanoseconds.
//
// The responder refuses an initiation whose timestamp is not strictly greater than the last one
// it accepted from the same peer, which defeats replays of captured initiations. Like the
// reference implementations we round nanoseconds down to 2^24 ns (~16.8 ms, under the 20 ms
// responder rate limit) so that the timestamp does not leak a precise clock reading.
#pragma once

#include <array>
#include <cstdint>

#include "base/clock.h"

namespace wgate::wg {

inline constexpr size_t kTai64nSize = 12;
using Tai64n = std::array<uint8_t, kTai64nSize>;

// The whitened timestamp of `t`. Pure.
Tai64n Tai64nFromWallTime(WallTime t);

// True if `a` is strictly later than `b` (big-endian byte order makes this lexicographic).
inline bool Tai64nAfter(const Tai64n& a, const Tai64n& b) { return a > b; }

}  // namespace wgate::wg
