#include "dataplane/packet.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace wgate::dataplane {
namespace {

TEST(BufferPoolTest, SlotsAreAlignedDisjointAndWritable) {
  BufferPool pool(8, 1500);
  EXPECT_EQ(pool.slot_size() % 64, 0u);
  EXPECT_GE(pool.slot_size(), 1500u);
  for (size_t i = 0; i < pool.slots(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(pool.slot(i)) % 64, 0u);
    std::memset(pool.slot(i), static_cast<int>(i), pool.slot_size());
  }
  for (size_t i = 0; i < pool.slots(); ++i) {
    EXPECT_EQ(pool.slot(i)[0], i);
    EXPECT_EQ(pool.slot(i)[pool.slot_size() - 1], i);
  }
}

TEST(BufferPoolTest, AttachLeavesHeadroom) {
  BufferPool pool(4);
  std::array<Packet, 4> packets;
  pool.Attach(packets, kHeadroom);
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_EQ(packets[i].data, pool.slot(i) + kHeadroom);
    EXPECT_EQ(packets[i].capacity, pool.slot_size() - kHeadroom);
    EXPECT_EQ(packets[i].size, 0u);
  }
}

TEST(BufferPoolDeathTest, OutOfRangeSlotAborts) {
  BufferPool pool(2);
  EXPECT_DEATH(pool.slot(2), "i < slots_");
}

}  // namespace
}  // namespace wgate::dataplane
