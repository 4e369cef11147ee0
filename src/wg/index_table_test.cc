#include "wg/index_table.h"

#include <gtest/gtest.h>

#include <set>

namespace wgate::wg {
namespace {

Peer* FakePeer(uintptr_t n) { return reinterpret_cast<Peer*>(n * 64); }

TEST(IndexTableTest, AllocatesUniqueIndicesAndMapsThem) {
  IndexTable table;
  std::set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seen.insert(table.Allocate(FakePeer(1))).second);
  EXPECT_EQ(table.size(), 1000u);
  uint32_t idx = table.Allocate(FakePeer(2));
  auto e = table.Lookup(idx);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->peer, FakePeer(2));
  EXPECT_EQ(e->keypair, nullptr);
}

TEST(IndexTableTest, SetKeypairRemoveAndRemovePeer) {
  IndexTable table;
  uint32_t a = table.Allocate(FakePeer(1));
  uint32_t b = table.Allocate(FakePeer(2));
  auto kp = std::make_shared<Keypair>(SessionKeys{}, MonoTime{});
  table.SetKeypair(a, kp);
  EXPECT_EQ(table.Lookup(a)->keypair, kp);
  table.Remove(a);
  EXPECT_FALSE(table.Lookup(a));
  table.SetKeypair(a, kp);  // gone: stays gone
  EXPECT_FALSE(table.Lookup(a));
  table.RemovePeer(FakePeer(2));
  EXPECT_FALSE(table.Lookup(b));
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace wgate::wg
