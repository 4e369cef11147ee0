// Per-source token bucket for handshake messages while the device is under load, as the
// reference implementations keep it (wireguard-go ratelimiter.go, the kernel's ratelimiter.c):
// 20 messages per second per source address with a burst of 5; IPv6 sources count per /64 so that
// one host cannot dodge the limit by rotating addresses.
//
// Only consulted for handshake messages that already carry a valid mac2 (the source proved it
// owns its address). Thread-safe (one mutex; handshakes are rare next to data). The table is
// bounded: when full, new sources are refused until old ones expire.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "base/clock.h"
#include "base/ip.h"

namespace wgate::wg {

class HandshakeRateLimiter {
 public:
  static constexpr int kPacketsPerSecond = 20;
  static constexpr int kPacketsBurstable = 5;
  static constexpr size_t kMaxEntries = 1 << 16;

  bool Allow(const IpAddress& source, MonoTime now);
  size_t size() const;

 private:
  struct Bucket {
    MonoTime last;
    Duration tokens;
  };
  struct KeyHash {
    size_t operator()(const std::array<uint8_t, 9>& k) const;
  };
  // Drops buckets idle for a second (they would be full again anyway).
  void CollectGarbageLocked(MonoTime now);

  mutable std::mutex mu_;
  std::unordered_map<std::array<uint8_t, 9>, Bucket, KeyHash> buckets_;
  MonoTime last_gc_{};
};

}  // namespace wgate::wg
