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

TEST_F(TunNetnsTest, RejectsOverlongName) {
  auto tun = LinuxTun::Open("a-name-longer-than-15", 1420);
  ASSERT_FALSE(tun.ok());
  EXPECT_NE(tun.error().message().find("1 to 15 bytes"), std::string::npos);
}

}  // namespace
}  // namespace wgate::dataplane
