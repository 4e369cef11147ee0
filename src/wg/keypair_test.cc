#include "wg/keypair.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "wg/constants.h"

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

SessionKeys Keys(bool initiator) {
  SessionKeys k;
  k.send = crypto::SecretKey(crypto::KeyBytes{initiator ? uint8_t{1} : uint8_t{2}});
  k.recv = crypto::SecretKey(crypto::KeyBytes{initiator ? uint8_t{2} : uint8_t{1}});
  k.is_initiator = initiator;
  k.local_index = initiator ? 10 : 20;
  k.remote_index = initiator ? 20 : 10;
  return k;
}

TEST(KeypairTest, PaddingFollowsReference) {
  EXPECT_EQ(PaddedSize(0, 1420), 0u);
  EXPECT_EQ(PaddedSize(1, 1420), 16u);
  EXPECT_EQ(PaddedSize(16, 1420), 16u);
  EXPECT_EQ(PaddedSize(17, 1420), 32u);
  EXPECT_EQ(PaddedSize(1419, 1420), 1420u);  // capped at the MTU, not 1424
  EXPECT_EQ(PaddedSize(1420, 1420), 1420u);
  EXPECT_EQ(PaddedSize(1419, 0), 1424u);
}

TEST(KeypairTest, SealOpenRoundTripInPlace) {
  MonoTime t = MonoTime{} + 1h;
  Keypair a(Keys(true), t), b(Keys(false), t);
  std::vector<uint8_t> packet(100);
  for (size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<uint8_t>(i);
  size_t padded = PaddedSize(packet.size(), 1420);
  std::vector<uint8_t> buf(TransportMessageSize(padded));
  auto c = a.ReserveCounter(kRejectAfterMessages);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, 0u);
  size_t n = a.Seal(*c, packet, padded, buf);
  ASSERT_EQ(n, 16 + 112 + 16u);
  auto h = ParseTransportHeader(ConstBytes(buf.data(), n));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->receiver_index, 20u);
  EXPECT_EQ(h->counter, 0u);
  ConstBytes sealed(buf.data() + 16, n - 16);
  ASSERT_TRUE(b.Open(h->counter, sealed, buf.data() + 16));
  EXPECT_EQ(std::memcmp(buf.data() + 16, packet.data(), packet.size()), 0);
  EXPECT_EQ(buf[16 + 100], 0) << "zero padding";
  // Wrong counter or wrong direction fails.
  a.Seal(1, packet, padded, buf);
  EXPECT_FALSE(b.Open(2, ConstBytes(buf.data() + 16, n - 16), buf.data() + 16));
  a.Seal(1, packet, padded, buf);
  EXPECT_FALSE(a.Open(1, ConstBytes(buf.data() + 16, n - 16), buf.data() + 16));
}

TEST(KeypairTest, CounterStopsAtLimitForever) {
  Keypair a(Keys(true), MonoTime{});
  a.SetNextCounterForTest(kRejectAfterMessages - 1);
  auto c = a.ReserveCounter(kRejectAfterMessages);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, kRejectAfterMessages - 1);
  for (int i = 0; i < 10000; ++i) ASSERT_FALSE(a.ReserveCounter(kRejectAfterMessages));
  EXPECT_EQ(a.next_counter(), kRejectAfterMessages);
}

}  // namespace
}  // namespace wgate::wg
