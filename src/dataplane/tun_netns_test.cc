// LinuxTun against the real kernel. Each test body runs on a thread that unshare()d a private
// network namespace of its own: the TUN device and its address exist only there and vanish with
// the thread's namespace, so nothing touches the machine's network even if the test fails.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "dataplane/tun.h"

namespace wgate::dataplane {
namespace {

// Runs fn on a new thread inside a fresh network namespace; false if that could not be made.
bool RunInPrivateNetns(const std::function<void()>& fn) {
  bool ok = false;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;
    ok = true;
    fn();
  });
  t.join();
  return ok;
}

void BringUp(int sock, const char* ifname, const char* addr) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  sin->sin_family = AF_INET;
  ::inet_pton(AF_INET, addr, &sin->sin_addr);
  ASSERT_EQ(::ioctl(sock, SIOCSIFADDR, &ifr), 0) << std::strerror(errno);
  ::inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
  ASSERT_EQ(::ioctl(sock, SIOCSIFNETMASK, &ifr), 0) << std::strerror(errno);
  ASSERT_EQ(::ioctl(sock, SIOCGIFFLAGS, &ifr), 0);
  ifr.ifr_flags |= IFF_UP;
  ASSERT_EQ(::ioctl(sock, SIOCSIFFLAGS, &ifr), 0) << std::strerror(errno);
}

uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

class TunNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/net/tun";
  }
};

TEST_F(TunNetnsTest, PacketsFlowBothWays) {
  const std::string name = StrCat("wgt", ::getpid(), "t");
  ASSERT_TRUE(RunInPrivateNetns([&] {
    auto tun = LinuxTun::Open(name, 1420);
    ASSERT_TRUE(tun.ok()) << tun.error().message();
    EXPECT_EQ((*tun)->name(), name);
    int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(sock, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ASSERT_EQ(::ioctl(sock, SIOCGIFMTU, &ifr), 0);
    EXPECT_EQ(ifr.ifr_mtu, 1420);
    BringUp(sock, name.c_str(), "192.0.2.1");

    // Out of the tunnel: a datagram to 192.0.2.2 is routed into the device.
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, "192.0.2.1", &local.sin_addr);
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
    socklen_t len = sizeof(local);
    ::getsockname(sock, reinterpret_cast<sockaddr*>(&local), &len);
    sockaddr_in far{};
    far.sin_family = AF_INET;
    far.sin_port = htons(9);
    ::inet_pton(AF_INET, "192.0.2.2", &far.sin_addr);
    const char payload[] = "into the tunnel";
    ASSERT_GT(
        ::sendto(sock, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&far), sizeof(far)),
        0);
    BufferPool pool(8);
    std::array<Packet, 8> batch;
    bool seen = false;
    for (int i = 0; i < 40 && !seen; ++i) {
      pool.Attach(batch, kHeadroom);
      pollfd pfd{(*tun)->fd(), POLLIN, 0};
      ::poll(&pfd, 1, 50);
      auto n = (*tun)->ReadBatch(batch);
      ASSERT_TRUE(n.ok()) << n.error().message();
      for (size_t k = 0; k < *n; ++k) {
        const Packet& p = batch[k];
        // Skip IPv6 housekeeping the kernel may send when the link comes up.
        if (p.size < 28 || (p.data[0] >> 4) != 4 || p.data[9] != IPPROTO_UDP) continue;
        EXPECT_EQ(std::memcmp(p.data + 16, &far.sin_addr, 4), 0);
        EXPECT_EQ(std::memcmp(p.data + 28, payload, sizeof(payload)), 0);
        seen = true;
      }
    }
    EXPECT_TRUE(seen);

    // Into the host: a hand-made IPv4/UDP packet from 192.0.2.2:9 written to the device arrives
    // at the socket.
    pool.Attach(batch, kHeadroom);
    uint8_t* p = batch[0].data;
    const size_t total = 20 + 8 + sizeof(payload);
    std::memset(p, 0, 28);
    p[0] = 0x45;
    p[2] = total >> 8;
    p[3] = total & 0xff;
    p[8] = 64;
    p[9] = IPPROTO_UDP;
    std::memcpy(p + 12, &far.sin_addr, 4);
    std::memcpy(p + 16, &local.sin_addr, 4);
    const uint16_t csum = Checksum(p, 20);
    p[10] = csum >> 8;
    p[11] = csum & 0xff;
    std::memcpy(p + 20, &far.sin_port, 2);
    std::memcpy(p + 22, &local.sin_port, 2);
    p[24] = (8 + sizeof(payload)) >> 8;
    p[25] = (8 + sizeof(payload)) & 0xff;  // UDP checksum 0: none (allowed over IPv4)
    std::memcpy(p + 28, payload, sizeof(payload));
    batch[0].size = total;
    size_t refused = 0;
    ASSERT_TRUE((*tun)->WriteBatch(std::span<const Packet>(batch.data(), 1), &refused).ok());
    EXPECT_EQ(refused, 0u);
    pollfd pfd{sock, POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1);
    char buf[64];
    ASSERT_EQ(::recv(sock, buf, sizeof(buf), 0), static_cast<ssize_t>(sizeof(payload)));
    EXPECT_STREQ(buf, payload);
    ::close(sock);
  }));
}

// A hand-made TCP/IPv4 packet from 192.0.2.2:9 to `to` with a valid checksum.
std::vector<uint8_t> TcpPacket(const sockaddr_in& to, uint32_t seq, uint32_t ack, uint8_t flags,
                               const std::vector<uint8_t>& payload, bool mss_option = false) {
  const size_t tcp_len = (mss_option ? 24 : 20) + payload.size();
  std::vector<uint8_t> p(20 + tcp_len, 0);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  p[6] = 0x40;
  p[8] = 64;
  p[9] = IPPROTO_TCP;
  inet_pton(AF_INET, "192.0.2.2", &p[12]);
  std::memcpy(&p[16], &to.sin_addr, 4);
  const uint16_t csum = Checksum(p.data(), 20);
  p[10] = csum >> 8;
  p[11] = csum & 0xff;
  uint8_t* t = &p[20];
  t[1] = 9;
  std::memcpy(t + 2, &to.sin_port, 2);
  const uint32_t nseq = htonl(seq), nack = htonl(ack);
  std::memcpy(t + 4, &nseq, 4);
  std::memcpy(t + 8, &nack, 4);
  t[12] = static_cast<uint8_t>(((mss_option ? 24 : 20) / 4) << 4);
  t[13] = flags;
  t[14] = 0xff;  // window
  t[15] = 0xff;
  if (mss_option) {
    t[20] = 2;
    t[21] = 4;
    t[22] = 1380 >> 8;
    t[23] = 1380 & 0xff;
  }
  if (!payload.empty()) std::memcpy(t + tcp_len - payload.size(), payload.data(), payload.size());
  std::vector<uint8_t> pseudo(12 + tcp_len, 0);
  std::memcpy(&pseudo[0], &p[12], 8);
  pseudo[9] = IPPROTO_TCP;
  pseudo[10] = static_cast<uint8_t>(tcp_len >> 8);
  pseudo[11] = static_cast<uint8_t>(tcp_len);
  std::memcpy(&pseudo[12], t, tcp_len);
  const uint16_t tcsum = Checksum(pseudo.data(), pseudo.size());
  t[16] = tcsum >> 8;
  t[17] = tcsum & 0xff;
  return p;
}

bool TcpChecksumValid(const uint8_t* p, size_t len) {
  const size_t ihl = (p[0] & 0x0f) * 4u, tcp_len = len - ihl;
  std::vector<uint8_t> pseudo(12 + tcp_len + 1, 0);
  std::memcpy(&pseudo[0], p + 12, 8);
  pseudo[9] = IPPROTO_TCP;
  pseudo[10] = static_cast<uint8_t>(tcp_len >> 8);
  pseudo[11] = static_cast<uint8_t>(tcp_len);
  std::memcpy(&pseudo[12], p + ihl, tcp_len);
  return Checksum(pseudo.data(), 12 + tcp_len + (tcp_len & 1)) == 0;
}

// With offloads the kernel hands the device TCP super-packets (ReadBatch must return valid
// MTU-sized segments carrying the stream in order) and accepts a run of segments written as one
// super-packet (WriteBatch's coalescing must deliver the stream intact to the socket).
TEST_F(TunNetnsTest, TcpSegmentationAndCoalescingAgainstTheKernelStack) {
  const std::string name = StrCat("wgt", ::getpid(), "o");
  ASSERT_TRUE(RunInPrivateNetns([&] {
    auto tun = LinuxTun::Open(name, 1420, true);
    ASSERT_TRUE(tun.ok()) << tun.error().message();
    ASSERT_TRUE((*tun)->offload());
    int ctl = ::socket(AF_INET, SOCK_DGRAM, 0);
    BringUp(ctl, name.c_str(), "192.0.2.1");
    ::close(ctl);
    BufferPool pool(64);
    std::array<Packet, 64> batch;
    auto read_tcp = [&](std::vector<std::vector<uint8_t>>* out) {
      for (int i = 0; i < 40; ++i) {
        pool.Attach(batch, kHeadroom);
        pollfd pfd{(*tun)->fd(), POLLIN, 0};
        ::poll(&pfd, 1, 50);
        auto n = (*tun)->ReadBatch(batch);
        ASSERT_TRUE(n.ok());
        for (size_t k = 0; k < *n; ++k) {
          if (batch[k].size >= 40 && (batch[k].data[0] >> 4) == 4 &&
              batch[k].data[9] == IPPROTO_TCP) {
            out->emplace_back(batch[k].data, batch[k].data + batch[k].size);
          }
        }
        if (!out->empty() && *n == 0) return;
      }
    };

    // Handshake by hand: SYN out, SYN-ACK in, ACK out.
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in far{};
    far.sin_family = AF_INET;
    far.sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.2", &far.sin_addr);
    ::connect(s, reinterpret_cast<sockaddr*>(&far), sizeof(far));
    std::vector<std::vector<uint8_t>> got;
    read_tcp(&got);
    ASSERT_FALSE(got.empty());
    const std::vector<uint8_t> syn = got[0];
    ASSERT_EQ(syn[33] & 0x02, 0x02);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    std::memcpy(&local.sin_addr, &syn[12], 4);
    std::memcpy(&local.sin_port, &syn[20], 2);
    uint32_t client_seq;
    std::memcpy(&client_seq, &syn[24], 4);
    client_seq = ntohl(client_seq) + 1;
    uint32_t our_seq = 1000;
    std::vector<uint8_t> synack = TcpPacket(local, our_seq, client_seq, 0x12, {}, true);
    ++our_seq;
    Packet p{synack.data(), synack.size(), synack.size(), {}};
    size_t refused = 0;
    ASSERT_TRUE((*tun)->WriteBatch(std::span<const Packet>(&p, 1), &refused).ok());
    pollfd wfd{s, POLLOUT, 0};
    ASSERT_EQ(::poll(&wfd, 1, 2000), 1);

    // Out: 20000 bytes in one send; the device yields valid segments carrying them in order.
    std::vector<uint8_t> data(20000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13);
    ASSERT_EQ(::send(s, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
    std::vector<uint8_t> stream;
    for (int round = 0; round < 20 && stream.size() < data.size(); ++round) {
      got.clear();
      read_tcp(&got);
      for (const auto& seg : got) {
        EXPECT_LE(seg.size(), 1420u);
        EXPECT_TRUE(TcpChecksumValid(seg.data(), seg.size()));
        EXPECT_EQ(Checksum(seg.data(), 20), 0) << "IPv4 header checksum";
        uint32_t seq;
        std::memcpy(&seq, &seg[24], 4);
        const size_t header = 20 + (seg[32] >> 4) * 4u;
        if (ntohl(seq) != client_seq + stream.size()) continue;  // retransmission
        stream.insert(stream.end(), seg.begin() + header, seg.end());
      }
      // Acknowledge what arrived so that the sender goes on.
      std::vector<uint8_t> ack =
          TcpPacket(local, our_seq, client_seq + static_cast<uint32_t>(stream.size()), 0x10, {});
      Packet a{ack.data(), ack.size(), ack.size(), {}};
      ASSERT_TRUE((*tun)->WriteBatch(std::span<const Packet>(&a, 1), &refused).ok());
    }
    EXPECT_EQ(stream, data);

    // In: 12 segments of one flow in one batch, coalesced by WriteBatch into one write.
    const uint32_t ack_no = client_seq + static_cast<uint32_t>(stream.size());
    std::vector<std::vector<uint8_t>> segments;
    std::vector<uint8_t> sent;
    for (int i = 0; i < 12; ++i) {
      std::vector<uint8_t> chunk(i == 11 ? 700 : 1300);
      for (size_t k = 0; k < chunk.size(); ++k) chunk[k] = static_cast<uint8_t>(k + i);
      segments.push_back(TcpPacket(local, our_seq + static_cast<uint32_t>(sent.size()), ack_no,
                                   i == 11 ? 0x18 : 0x10, chunk));
      sent.insert(sent.end(), chunk.begin(), chunk.end());
    }
    std::vector<Packet> run;
    for (auto& seg : segments) run.push_back(Packet{seg.data(), seg.size(), seg.size(), {}});
    const uint64_t coalesced = (*tun)->coalesced_writes();
    ASSERT_TRUE((*tun)->WriteBatch(run, &refused).ok());
    EXPECT_EQ(refused, 0u);
    EXPECT_EQ((*tun)->coalesced_writes(), coalesced + 1);
    std::vector<uint8_t> received;
    for (int i = 0; i < 40 && received.size() < sent.size(); ++i) {
      pollfd rfd{s, POLLIN, 0};
      ::poll(&rfd, 1, 50);
      uint8_t buf[65536];
      ssize_t n = ::recv(s, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) received.insert(received.end(), buf, buf + n);
    }
    EXPECT_EQ(received, sent);
    ::close(s);
  }));
}

TEST_F(TunNetnsTest, RejectsOverlongName) {
  auto tun = LinuxTun::Open("a-name-longer-than-15", 1420);
  ASSERT_FALSE(tun.ok());
  EXPECT_NE(tun.error().message().find("1 to 15 bytes"), std::string::npos);
}

}  // namespace
}  // namespace wgate::dataplane
