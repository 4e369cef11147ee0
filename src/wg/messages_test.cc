#include "wg/messages.h"

#include <gtest/gtest.h>

#include <vector>

namespace wgate::wg {
namespace {

template <size_t N>
std::array<uint8_t, N> Filled(uint8_t seed) {
  std::array<uint8_t, N> a;
  for (size_t i = 0; i < N; ++i) a[i] = static_cast<uint8_t>(seed + i);
  return a;
}

TEST(MessagesTest, SizesMatchTheWhitepaper) {
  EXPECT_EQ(kInitiationSize, 148u);
  EXPECT_EQ(kResponseSize, 92u);
  EXPECT_EQ(kCookieReplySize, 64u);
  EXPECT_EQ(kTransportOverhead, 32u);
}

TEST(MessagesTest, InitiationRoundTripAndLayout) {
  Initiation m;
  m.sender_index = 0x04030201;
  m.ephemeral = Filled<32>(10);
  m.encrypted_static = Filled<48>(50);
  m.encrypted_timestamp = Filled<28>(100);
  m.mac1 = Filled<16>(150);
  m.mac2 = Filled<16>(200);
  uint8_t buf[kInitiationSize];
  Serialize(m, buf);
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(buf[1] | buf[2] | buf[3], 0);
  EXPECT_EQ(buf[4], 1);  // little-endian index
  EXPECT_EQ(buf[7], 4);
  EXPECT_EQ(buf[8], 10);     // ephemeral at 8
  EXPECT_EQ(buf[40], 50);    // static at 40
  EXPECT_EQ(buf[88], 100);   // timestamp at 88
  EXPECT_EQ(buf[116], 150);  // mac1 at 116
  EXPECT_EQ(buf[132], 200);  // mac2 at 132
  auto p = ParseInitiation(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sender_index, m.sender_index);
  EXPECT_EQ(p->ephemeral, m.ephemeral);
  EXPECT_EQ(p->encrypted_static, m.encrypted_static);
  EXPECT_EQ(p->encrypted_timestamp, m.encrypted_timestamp);
  EXPECT_EQ(p->mac1, m.mac1);
  EXPECT_EQ(p->mac2, m.mac2);
}

TEST(MessagesTest, ResponseRoundTripAndLayout) {
  Response m;
  m.sender_index = 7;
  m.receiver_index = 0xdeadbeef;
  m.ephemeral = Filled<32>(1);
  m.encrypted_nothing = Filled<16>(60);
  m.mac1 = Filled<16>(90);
  m.mac2 = Filled<16>(120);
  uint8_t buf[kResponseSize];
  Serialize(m, buf);
  EXPECT_EQ(buf[0], 2);
  EXPECT_EQ(buf[8], 0xef);
  EXPECT_EQ(buf[12], 1);    // ephemeral at 12
  EXPECT_EQ(buf[44], 60);   // empty at 44
  EXPECT_EQ(buf[60], 90);   // mac1 at 60
  EXPECT_EQ(buf[76], 120);  // mac2 at 76
  auto p = ParseResponse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sender_index, 7u);
  EXPECT_EQ(p->receiver_index, 0xdeadbeefu);
  EXPECT_EQ(p->ephemeral, m.ephemeral);
  EXPECT_EQ(p->encrypted_nothing, m.encrypted_nothing);
  EXPECT_EQ(p->mac1, m.mac1);
  EXPECT_EQ(p->mac2, m.mac2);
}

TEST(MessagesTest, CookieReplyRoundTrip) {
  CookieReply m;
  m.receiver_index = 99;
  m.nonce = Filled<24>(3);
  m.encrypted_cookie = Filled<32>(77);
  uint8_t buf[kCookieReplySize];
  Serialize(m, buf);
  EXPECT_EQ(buf[0], 3);
  EXPECT_EQ(buf[8], 3);    // nonce at 8
  EXPECT_EQ(buf[32], 77);  // cookie at 32
  auto p = ParseCookieReply(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->receiver_index, 99u);
  EXPECT_EQ(p->nonce, m.nonce);
  EXPECT_EQ(p->encrypted_cookie, m.encrypted_cookie);
}

TEST(MessagesTest, TransportHeaderRoundTrip) {
  std::vector<uint8_t> buf(kTransportOverhead + 16);
  Serialize(TransportHeader{0x11223344, 0x0102030405060708}, buf.data());
  EXPECT_EQ(buf[0], 4);
  EXPECT_EQ(buf[8], 0x08);  // counter little-endian at 8
  auto h = ParseTransportHeader(buf);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->receiver_index, 0x11223344u);
  EXPECT_EQ(h->counter, 0x0102030405060708u);
}

TEST(MessagesTest, RefusesEveryWrongSize) {
  std::vector<uint8_t> buf(400, 0);
  for (uint8_t type = 1; type <= 4; ++type) {
    buf[0] = type;
    for (size_t n = 0; n < buf.size(); ++n) {
      ConstBytes d(buf.data(), n);
      bool valid = (type == 1 && n == 148) || (type == 2 && n == 92) || (type == 3 && n == 64) ||
                   (type == 4 && n >= 32);
      EXPECT_EQ(ClassifyMessage(d).has_value(), valid) << int(type) << " " << n;
      EXPECT_EQ(ParseInitiation(d).has_value(), valid && type == 1);
      EXPECT_EQ(ParseResponse(d).has_value(), valid && type == 2);
      EXPECT_EQ(ParseCookieReply(d).has_value(), valid && type == 3);
      EXPECT_EQ(ParseTransportHeader(d).has_value(), valid && type == 4);
    }
  }
}

TEST(MessagesTest, RefusesUnknownTypesAndReservedBytes) {
  std::vector<uint8_t> buf(148, 0);
  for (int type : {0, 5, 255}) {
    buf[0] = static_cast<uint8_t>(type);
    EXPECT_FALSE(ClassifyMessage(buf)) << type;
  }
  for (int i = 1; i < 4; ++i) {
    buf.assign(148, 0);
    buf[0] = 1;
    buf[i] = 1;
    EXPECT_FALSE(ParseInitiation(buf)) << i;
  }
}

}  // namespace
}  // namespace wgate::wg
