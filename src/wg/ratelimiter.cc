#include "wg/ratelimiter.h"

#include <cstring>
#include <string_view>

namespace wgate::wg {
namespace {

constexpr Duration kPacketCost =
    Duration(std::chrono::seconds(1)) / HandshakeRateLimiter::kPacketsPerSecond;
constexpr Duration kMaxTokens = kPacketCost * HandshakeRateLimiter::kPacketsBurstable;

// Family byte, then the IPv4 address or the IPv6 /64.
std::array<uint8_t, 9> KeyOf(const IpAddress& ip) {
  std::array<uint8_t, 9> key{};
  key[0] = static_cast<uint8_t>(ip.family());
  std::memcpy(key.data() + 1, ip.data(), ip.is_v4() ? 4 : 8);
  return key;
}

}  // namespace

size_t HandshakeRateLimiter::KeyHash::operator()(const std::array<uint8_t, 9>& k) const {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
}

bool HandshakeRateLimiter::Allow(const IpAddress& source, MonoTime now) {
  std::lock_guard lock(mu_);
  if (now - last_gc_ >= std::chrono::seconds(1)) CollectGarbageLocked(now);
  auto key = KeyOf(source);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxEntries) return false;
    buckets_.emplace(key, Bucket{now, kMaxTokens - kPacketCost});
    return true;
  }
  Bucket& b = it->second;
  b.tokens = std::min(kMaxTokens, b.tokens + (now - b.last));
  b.last = now;
  if (b.tokens < kPacketCost) return false;
  b.tokens -= kPacketCost;
  return true;
}

size_t HandshakeRateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void HandshakeRateLimiter::CollectGarbageLocked(MonoTime now) {
  last_gc_ = now;
  std::erase_if(buckets_,
                [now](const auto& kv) { return now - kv.second.last > std::chrono::seconds(1); });
}

}  // namespace wgate::wg
