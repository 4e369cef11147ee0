#include "crypto/random.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace wgate::crypto {
namespace {

TEST(RandomTest, FillsTheWholeBufferWithFreshBytes) {
  std::array<uint8_t, 64> a{}, b{};
  RandomBytes(a);
  RandomBytes(b);
  EXPECT_NE(a, b);
  // Each 16-byte quarter is all zero with probability 2^-128: the whole buffer was written.
  for (size_t i = 0; i < a.size(); i += 16) {
    EXPECT_NE(std::count(a.begin() + i, a.begin() + i + 16, 0), 16) << i;
  }
  RandomBytes({});  // an empty span is fine
}

TEST(RandomTest, U32Varies) {
  std::set<uint32_t> seen;
  for (int i = 0; i < 64; ++i) seen.insert(RandomU32());
  EXPECT_GT(seen.size(), 60u);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  std::array<int, 10> counts{};
  for (int i = 0; i < 10000; ++i) {
    uint32_t v = RandomUniform(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  // Expected 1000 each; 800 is more than 6 standard deviations away.
  for (int c : counts) EXPECT_GT(c, 800);
  EXPECT_EQ(RandomUniform(1), 0u);
  EXPECT_EQ(RandomUniform(0), 0u);
}

}  // namespace
}  // namespace wgate::crypto
