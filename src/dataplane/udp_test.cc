// Batched UDP against the loopback interface of this process's namespace: nothing leaves the host.
#include "dataplane/udp.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

namespace wgate::dataplane {
namespace {

std::vector<std::unique_ptr<uint8_t[]>> kept_;

// Receives until `want` datagrams arrived into `out`, with buffers of `buffer_size`.
size_t RecvAll(DatagramSocket& s, std::span<Packet> out, size_t want,
               size_t buffer_size = kGroBufferSize) {
  BufferPool pool(16, buffer_size);
  std::array<Packet, 16> buffers;
  size_t got = 0;
  for (int i = 0; i < 100 && got < want; ++i) {
    pollfd pfd{s.fd(), POLLIN, 0};
    ::poll(&pfd, 1, 50);
    pool.Attach(buffers, 0);
    size_t overflow = 0;
    auto r = s.RecvBatch(buffers, out.subspan(got), &overflow);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(overflow, 0u);
    if (!r.ok()) break;
    // Keep what arrived: copy out of the reused buffers.
    for (size_t k = got; k < got + *r; ++k) {
      auto* copy = new uint8_t[std::max<size_t>(out[k].size, 1)];
      std::memcpy(copy, out[k].data, std::min(out[k].size, out[k].capacity));
      out[k].data = copy;
      kept_.emplace_back(copy);
    }
    got += *r;
  }
  return got;
}

void ExchangeBatch(const char* loopback, IpAddress::Family family, bool offloads) {
  auto a = UdpSocket::Bind(family, 0, 0);
  auto b = UdpSocket::Bind(family, 0, 0);
  ASSERT_TRUE(a.ok()) << a.error().message();
  ASSERT_TRUE(b.ok()) << b.error().message();
  if (!offloads) {
    (*a)->DisableOffloads();
    (*b)->DisableOffloads();
  }
  EXPECT_NE((*a)->port(), 0);
  BufferPool pool(64);
  std::array<Packet, 64> tx;
  pool.Attach(tx, 0);
  const IpAddress lo = *IpAddress::Parse(loopback);
  for (size_t i = 0; i < tx.size(); ++i) {
    // Runs of equal sizes (GSO groups them), shorter ones ending runs, and singles.
    tx[i].size = i < 20 ? 1000 : i < 21 ? 500 : i < 40 ? 800 : 100 + i;
    std::memset(tx[i].data, static_cast<int>(i), tx[i].size);
    tx[i].addr = SocketAddress{lo, (*b)->port()};
  }
  size_t dropped = 0;
  ASSERT_TRUE((*a)->SendBatch(tx, &dropped).ok());
  EXPECT_EQ(dropped, 0u);

  std::array<Packet, 64> rx;
  ASSERT_EQ(RecvAll(**b, rx, rx.size()), rx.size());
  for (size_t i = 0; i < rx.size(); ++i) {
    EXPECT_EQ(rx[i].size, tx[i].size);
    EXPECT_EQ(rx[i].data[0], i);
    EXPECT_EQ(rx[i].addr, (SocketAddress{lo, (*a)->port()}));
  }
}

TEST(UdpSocketTest, BatchRoundTripV4) { ExchangeBatch("127.0.0.1", IpAddress::Family::kV4, true); }

TEST(UdpSocketTest, BatchRoundTripV4WithoutOffloads) {
  ExchangeBatch("127.0.0.1", IpAddress::Family::kV4, false);
}

TEST(UdpSocketTest, BatchRoundTripV6) {
  auto probe = UdpSocket::Bind(IpAddress::Family::kV6, 0, 0);
  if (!probe.ok()) GTEST_SKIP() << "no IPv6: " << probe.error().message();
  ExchangeBatch("::1", IpAddress::Family::kV6, true);
  ExchangeBatch("::1", IpAddress::Family::kV6, false);
}

TEST(UdpSocketTest, OffloadsAreOnWhereTheKernelHasThem) {
  auto s = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0);
  ASSERT_TRUE(s.ok());
  // This project targets kernels >= 5.0; both are expected here.
  EXPECT_TRUE((*s)->gso());
  EXPECT_TRUE((*s)->gro());
}

TEST(UdpSocketTest, EmptySocketReturnsZeroWithoutBlocking) {
  auto s = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0);
  ASSERT_TRUE(s.ok());
  BufferPool pool(2);
  std::array<Packet, 2> buffers, rx;
  pool.Attach(buffers, 0);
  size_t overflow = 0;
  auto r = (*s)->RecvBatch(buffers, rx, &overflow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
}

TEST(UdpSocketTest, OversizedDatagramIsReportedTruncated) {
  auto a = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0);
  auto b = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<uint8_t> big(3000, 7);
  BufferPool pool(1, 4096);
  std::array<Packet, 1> tx;
  pool.Attach(tx, 0);
  std::memcpy(tx[0].data, big.data(), big.size());
  tx[0].size = big.size();
  tx[0].addr = SocketAddress{*IpAddress::Parse("127.0.0.1"), (*b)->port()};
  size_t dropped = 0;
  ASSERT_TRUE((*a)->SendBatch(tx, &dropped).ok());
  std::array<Packet, 1> rx;
  ASSERT_EQ(RecvAll(**b, rx, 1, 1024), 1u);
  EXPECT_GT(rx[0].size, rx[0].capacity);
}

TEST(UdpSocketTest, PairSharesOnePortAndHonoursAFixedOne) {
  auto pair = BindPair(0, 0);
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  ASSERT_NE(pair->v4, nullptr);
  EXPECT_EQ(pair->v4->port(), pair->port);
  if (pair->v6) {
    EXPECT_EQ(pair->v6->port(), pair->port);
  }
  const uint16_t port = pair->port;
  pair->v4.reset();
  pair->v6.reset();
  auto fixed = BindPair(port, 0);
  ASSERT_TRUE(fixed.ok()) << fixed.error().message();
  EXPECT_EQ(fixed->port, port);
  auto clash = BindPair(port, 0);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().sys_errno(), EADDRINUSE);
  EXPECT_NE(clash.error().message().find("bind udp"), std::string::npos);
}

TEST(UdpSocketTest, MarkIsSetWhenPrivileged) {
  if (::geteuid() != 0) GTEST_SKIP() << "SO_MARK needs CAP_NET_ADMIN";
  auto s = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0xca6c);
  ASSERT_TRUE(s.ok()) << s.error().message();
  uint32_t mark = 0;
  socklen_t len = sizeof(mark);
  ASSERT_EQ(::getsockopt((*s)->fd(), SOL_SOCKET, SO_MARK, &mark, &len), 0);
  EXPECT_EQ(mark, 0xca6cu);
  ASSERT_TRUE((*s)->SetMark(0x1234).ok());
  ASSERT_EQ(::getsockopt((*s)->fd(), SOL_SOCKET, SO_MARK, &mark, &len), 0);
  EXPECT_EQ(mark, 0x1234u);
}

}  // namespace
}  // namespace wgate::dataplane
