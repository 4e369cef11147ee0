#include "wg/tai64n.h"

#include <gtest/gtest.h>

namespace wgate::wg {
namespace {

TEST(Tai64nTest, EncodesSecondsAndWhitenedNanos) {
  WallTime t =
      WallTime{} + std::chrono::seconds(1'700'000'000) + std::chrono::nanoseconds(123'456'789);
  Tai64n ts = Tai64nFromWallTime(t);
  uint64_t secs = 0;
  for (int i = 0; i < 8; ++i) secs = secs << 8 | ts[i];
  uint32_t nanos = 0;
  for (int i = 8; i < 12; ++i) nanos = nanos << 8 | ts[i];
  EXPECT_EQ(secs, (uint64_t{1} << 62) + 10 + 1'700'000'000);
  EXPECT_EQ(nanos, 123'456'789u & ~((1u << 24) - 1));
}

TEST(Tai64nTest, OrdersByTime) {
  WallTime t = WallTime{} + std::chrono::seconds(1'700'000'000);
  Tai64n a = Tai64nFromWallTime(t);
  Tai64n b = Tai64nFromWallTime(t + std::chrono::milliseconds(20));
  Tai64n c = Tai64nFromWallTime(t + std::chrono::seconds(1));
  EXPECT_TRUE(Tai64nAfter(b, a));
  EXPECT_TRUE(Tai64nAfter(c, b));
  EXPECT_FALSE(Tai64nAfter(a, a));
  EXPECT_FALSE(Tai64nAfter(a, c));
  // Within one whitening step the timestamp does not move: a replay guard, not a clock.
  EXPECT_EQ(Tai64nFromWallTime(t + std::chrono::milliseconds(1)), a);
}

}  // namespace
}  // namespace wgate::wg
