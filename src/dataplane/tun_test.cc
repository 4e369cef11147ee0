// TSO segmentation of TUN super-packets (pure; the real device is in tun_netns_test.cc).
#include "dataplane/tun.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace wgate::dataplane {
namespace {

std::vector<uint8_t> SuperPacket(bool v6, size_t payload, uint8_t flags) {
  const size_t ip_len = v6 ? 40 : 20, tcp_len = 32;  // TCP with 12 bytes of options
  std::vector<uint8_t> p(ip_len + tcp_len + payload, 0);
  if (v6) {
    p[0] = 0x60;
    p[4] = static_cast<uint8_t>((tcp_len + payload) >> 8);
    p[5] = static_cast<uint8_t>(tcp_len + payload);
    p[6] = IPPROTO_TCP;
    p[7] = 64;
    inet_pton(AF_INET6, "fd00:9::1", &p[8]);
    inet_pton(AF_INET6, "fd00:9::2", &p[24]);
  } else {
    p[0] = 0x45;
    p[2] = static_cast<uint8_t>(p.size() >> 8);
    p[3] = static_cast<uint8_t>(p.size());
    p[4] = 0x12;
    p[5] = 0x34;
    p[6] = 0x40;  // DF
    p[8] = 64;
    p[9] = IPPROTO_TCP;
    inet_pton(AF_INET, "10.9.0.1", &p[12]);
    inet_pton(AF_INET, "10.9.0.2", &p[16]);
  }
  uint8_t* tcp = &p[ip_len];
  tcp[0] = 0x9c;  // ports
  tcp[2] = 0x1b;
  tcp[3] = 0x58;
  const uint32_t seq = htonl(0xfffff000u);  // wraps during the packet
  std::memcpy(tcp + 4, &seq, 4);
  tcp[12] = (tcp_len / 4) << 4;
  tcp[13] = flags;
  for (size_t i = 0; i < 12; ++i) tcp[20 + i] = static_cast<uint8_t>(i == 0 ? 1 : 1);  // NOPs
  for (size_t i = 0; i < payload; ++i) p[ip_len + tcp_len + i] = static_cast<uint8_t>(i * 7);
  return p;
}

void CheckSegments(bool v6) {
  const size_t ip_len = v6 ? 40 : 20, header_len = ip_len + 32;
  const size_t payload = 5000, mss = 1388;
  const std::vector<uint8_t> super =
      SuperPacket(v6, payload, 0x80 | 0x18 | 0x01);  // CWR PSH ACK FIN
  std::vector<std::vector<uint8_t>> segs;
  ASSERT_TRUE(SegmentTcpForTest(super.data(), super.size(), mss, &segs));
  ASSERT_EQ(segs.size(), 4u);
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::vector<uint8_t>& s = segs[i];
    const size_t size = i < 3 ? mss : payload - 3 * mss;
    ASSERT_EQ(s.size(), header_len + size);
    if (v6) {
      EXPECT_EQ((s[4] << 8 | s[5]), static_cast<int>(32 + size));
    } else {
      EXPECT_EQ((s[2] << 8 | s[3]), static_cast<int>(s.size()));
      EXPECT_EQ((s[4] << 8 | s[5]), static_cast<int>(0x1234 + i));
      EXPECT_EQ(ChecksumFold(ChecksumAdd(0, s.data(), 20)), 0) << "IPv4 header checksum";
    }
    const uint8_t* tcp = &s[ip_len];
    uint32_t seq;
    std::memcpy(&seq, tcp + 4, 4);
    EXPECT_EQ(ntohl(seq), 0xfffff000u + static_cast<uint32_t>(i * mss));
    const bool last = i == segs.size() - 1;
    EXPECT_EQ((tcp[13] & 0x01) != 0, last) << "FIN";
    EXPECT_EQ((tcp[13] & 0x08) != 0, last) << "PSH";
    EXPECT_EQ((tcp[13] & 0x80) != 0, i == 0) << "CWR";
    EXPECT_TRUE(tcp[13] & 0x10) << "ACK";
    // The TCP checksum verifies: pseudo-header + segment sums to 0xffff.
    const size_t tcp_len = s.size() - ip_len;
    uint32_t sum = v6 ? ChecksumAdd(0, &s[8], 32) : ChecksumAdd(0, &s[12], 8);
    sum += IPPROTO_TCP + static_cast<uint32_t>(tcp_len);
    EXPECT_EQ(ChecksumFold(ChecksumAdd(sum, tcp, tcp_len)), 0) << "TCP checksum of " << i;
    joined.insert(joined.end(), s.begin() + header_len, s.end());
  }
  EXPECT_EQ(joined, std::vector<uint8_t>(super.begin() + header_len, super.end()));
}

TEST(TunSegmentationTest, Tcp4SuperPacketBecomesValidSegments) { CheckSegments(false); }
TEST(TunSegmentationTest, Tcp6SuperPacketBecomesValidSegments) { CheckSegments(true); }

TEST(TunSegmentationTest, RefusesWhatIsNotTcp) {
  std::vector<uint8_t> udp = SuperPacket(false, 100, 0);
  udp[9] = IPPROTO_UDP;
  std::vector<std::vector<uint8_t>> segs;
  EXPECT_FALSE(SegmentTcpForTest(udp.data(), udp.size(), 1000, &segs));
  std::vector<uint8_t> truncated = SuperPacket(true, 100, 0);
  truncated.resize(50);
  EXPECT_FALSE(SegmentTcpForTest(truncated.data(), truncated.size(), 1000, &segs));
  EXPECT_TRUE(segs.empty());
}

TEST(ChecksumTest, MatchesRfc1071Example) {
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumFold(ChecksumAdd(0, data, sizeof(data))), static_cast<uint16_t>(~0xddf2));
  const uint8_t odd[] = {0x01};
  EXPECT_EQ(ChecksumFold(ChecksumAdd(0, odd, 1)), static_cast<uint16_t>(~0x0100));
}

}  // namespace
}  // namespace wgate::dataplane
