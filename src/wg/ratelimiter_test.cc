#include "wg/ratelimiter.h"

#include <gtest/gtest.h>

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

const IpAddress kA = *IpAddress::Parse("192.0.2.1");
const IpAddress kB = *IpAddress::Parse("192.0.2.2");

TEST(RateLimiterTest, BurstThenTwentyPerSecond) {
  HandshakeRateLimiter rl;
  MonoTime t = MonoTime{} + 1000h;
  for (int i = 0; i < HandshakeRateLimiter::kPacketsBurstable; ++i) {
    EXPECT_TRUE(rl.Allow(kA, t)) << i;
  }
  EXPECT_FALSE(rl.Allow(kA, t));
  EXPECT_TRUE(rl.Allow(kB, t)) << "other sources have their own bucket";
  // One token every 50 ms.
  EXPECT_FALSE(rl.Allow(kA, t + 49ms));
  EXPECT_TRUE(rl.Allow(kA, t + 50ms));
  EXPECT_FALSE(rl.Allow(kA, t + 60ms));
  // A source hammering every 10 ms gets its refilled burst, then 20 per second.
  int first_second = 0, second_second = 0;
  for (MonoTime u = t + 1s; u < t + 2s; u += 10ms) first_second += rl.Allow(kA, u);
  for (MonoTime u = t + 2s; u < t + 3s; u += 10ms) second_second += rl.Allow(kA, u);
  EXPECT_NEAR(first_second, 20 + HandshakeRateLimiter::kPacketsBurstable - 1, 1);
  EXPECT_EQ(second_second, 20);
}

TEST(RateLimiterTest, Ipv6CountsPerSlash64) {
  HandshakeRateLimiter rl;
  MonoTime t = MonoTime{} + 1000h;
  for (int i = 0; i < HandshakeRateLimiter::kPacketsBurstable; ++i) {
    EXPECT_TRUE(rl.Allow(*IpAddress::Parse("fd00::" + std::to_string(i + 1)), t));
  }
  EXPECT_FALSE(rl.Allow(*IpAddress::Parse("fd00::99"), t));
  EXPECT_TRUE(rl.Allow(*IpAddress::Parse("fd00:0:0:1::1"), t));
}

TEST(RateLimiterTest, IdleSourcesAreForgotten) {
  HandshakeRateLimiter rl;
  MonoTime t = MonoTime{} + 1000h;
  EXPECT_TRUE(rl.Allow(kA, t));
  EXPECT_EQ(rl.size(), 1u);
  EXPECT_TRUE(rl.Allow(kB, t + 3s));
  EXPECT_EQ(rl.size(), 1u);
}

}  // namespace
}  // namespace wgate::wg
