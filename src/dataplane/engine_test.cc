// Two engines in one process, each with a FakeTun, talking over real UDP sockets on this
// namespace's loopback: the whole pipeline (staging, handshake, batches, parallel crypto, in-order
// delivery, UAPI set/get) without root and without sleeping on protocol timers.
#include "dataplane/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>
#include <thread>

#include "dataplane/fake_tun.h"

namespace wgate::dataplane {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<uint8_t> Ipv4Packet(const char* src, const char* dst, uint32_t seq, size_t size) {
  std::vector<uint8_t> p(size, 0);
  p[0] = 0x45;
  p[2] = size >> 8;
  p[3] = size & 0xff;
  p[8] = 64;
  p[9] = 17;
  std::memcpy(&p[12], IpAddress::Parse(src)->data(), 4);
  std::memcpy(&p[16], IpAddress::Parse(dst)->data(), 4);
  std::memcpy(&p[28], &seq, 4);
  for (size_t i = 32; i < size; ++i) p[i] = static_cast<uint8_t>(seq + i);
  return p;
}

uint32_t SeqOf(const std::vector<uint8_t>& p) {
  uint32_t seq;
  std::memcpy(&seq, &p[28], 4);
  return seq;
}

struct Node {
  crypto::PrivateKey key = crypto::PrivateKey::Generate();
  FakeTun* tun = nullptr;
  std::unique_ptr<Engine> engine;
  std::thread thread;

  void Start(int workers) {
    auto tun_owned = std::make_unique<FakeTun>();
    tun = tun_owned.get();
    EngineOptions options;
    options.workers = workers;
    auto e = Engine::Create(options, std::move(tun_owned), &clock);
    ASSERT_TRUE(e.ok()) << e.error().message();
    engine = std::move(*e);
    thread = std::thread([this] { EXPECT_TRUE(engine->Run().ok()); });
  }
  ~Node() {
    if (engine) engine->Stop();
    if (thread.joinable()) thread.join();
  }
  SystemClock clock;
};

void Configure(Node& self, Node& peer, const char* allowed, bool with_endpoint) {
  uapi::SetRequest r;
  r.private_key = self.key;
  uapi::PeerUpdate u;
  u.public_key = peer.key.DerivePublic();
  if (with_endpoint) {
    u.endpoint = SocketAddress{*IpAddress::Parse("127.0.0.1"), peer.engine->port()};
  }
  u.allowed_ips.push_back(*IpPrefix::Parse(allowed));
  r.peers.push_back(u);
  uapi::Failure f;
  ASSERT_EQ(self.engine->Set(r, &f), 0) << f.message;
}

class EngineTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    a_.Start(GetParam());
    b_.Start(GetParam());
    Configure(a_, b_, "10.0.0.2/32", true);
    Configure(b_, a_, "10.0.0.1/32", false);
  }
  Node a_, b_;
};

TEST_P(EngineTest, HandshakeThenManyPacketsArriveInOrder) {
  // The first packet waits for the handshake (staged), then a burst far larger than the staging
  // queue goes over the session.
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", 0, 100));
  ASSERT_EQ(b_.tun->WaitWritten(1, 5s).size(), 1u);
  constexpr uint32_t kCount = 3000;
  for (uint32_t i = 1; i < kCount; ++i) {
    a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", i, 60 + (i * 37) % 1360));
  }
  auto got = b_.tun->WaitWritten(kCount, 20s);
  ASSERT_EQ(got.size(), kCount) << a_.engine->DropSummary() << " / " << b_.engine->DropSummary();
  for (uint32_t i = 1; i < kCount; ++i) {
    ASSERT_EQ(got[i], Ipv4Packet("10.0.0.1", "10.0.0.2", i, 60 + (i * 37) % 1360)) << i;
  }
  // And back: B learnt A's endpoint from the handshake.
  b_.tun->Inject(Ipv4Packet("10.0.0.2", "10.0.0.1", 7, 100));
  auto back = a_.tun->WaitWritten(1, 5s);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(SeqOf(back[0]), 7u);

  uapi::DeviceState sa = a_.engine->Get();
  EXPECT_EQ(sa.listen_port, a_.engine->port());
  ASSERT_EQ(sa.peers.size(), 1u);
  EXPECT_TRUE(sa.peers[0].last_handshake.has_value());
  EXPECT_GT(sa.peers[0].tx_bytes, kCount * 60);
  EXPECT_GT(sa.peers[0].rx_bytes, 0u);
  EXPECT_EQ(sa.peers[0].allowed_ips, std::vector<IpPrefix>{*IpPrefix::Parse("10.0.0.2/32")});
  uapi::DeviceState sb = b_.engine->Get();
  ASSERT_TRUE(sb.peers[0].endpoint.has_value());
  EXPECT_EQ(sb.peers[0].endpoint->port, a_.engine->port());
}

TEST_P(EngineTest, PacketsWithoutARouteAreDroppedAndCounted) {
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.9.9.9", 1, 100));
  a_.tun->Inject({0x00, 0x01});  // not IP
  for (int i = 0; i < 100 && a_.engine->DropSummary() == "none"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_THAT(a_.engine->DropSummary(), HasSubstr("no_route=1"));
}

TEST_P(EngineTest, HostileDatagramsAreDroppedAndTheTunnelStillWorks) {
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", 1, 100));
  ASSERT_EQ(b_.tun->WaitWritten(1, 5s).size(), 1u);
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage to;
  socklen_t len = SocketAddress{*IpAddress::Parse("127.0.0.1"), b_.engine->port()}.ToSockaddr(&to);
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    uint8_t buf[256];
    size_t n = rng() % sizeof(buf);
    for (size_t k = 0; k < n; ++k) buf[k] = static_cast<uint8_t>(rng());
    if (i % 4 == 0 && n >= 4) {  // make it look like a real message type
      buf[0] = static_cast<uint8_t>(1 + i % 4);
      buf[1] = buf[2] = buf[3] = 0;
    }
    ::sendto(s, buf, n, 0, reinterpret_cast<sockaddr*>(&to), len);
  }
  ::close(s);
  for (uint32_t i = 2; i < 50; ++i) a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", i, 200));
  auto got = b_.tun->WaitWritten(49, 10s);
  ASSERT_EQ(got.size(), 49u);
  EXPECT_EQ(SeqOf(got.back()), 49u);
  EXPECT_THAT(b_.engine->DropSummary(), Not("none"));
}

TEST_P(EngineTest, UapiSetChangesAPeerLive) {
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", 1, 100));
  ASSERT_EQ(b_.tun->WaitWritten(1, 5s).size(), 1u);
  // Move 10.0.0.2 away from B's peer on A: packets to it now have no route.
  uapi::SetRequest r;
  uapi::PeerUpdate u;
  u.public_key = b_.key.DerivePublic();
  u.replace_allowed_ips = true;
  u.allowed_ips.push_back(*IpPrefix::Parse("10.0.0.3/32"));
  u.persistent_keepalive_interval = 25;
  r.peers.push_back(u);
  uapi::Failure f;
  ASSERT_EQ(a_.engine->Set(r, &f), 0);
  uapi::DeviceState s = a_.engine->Get();
  EXPECT_EQ(s.peers[0].allowed_ips, std::vector<IpPrefix>{*IpPrefix::Parse("10.0.0.3/32")});
  EXPECT_EQ(s.peers[0].persistent_keepalive_interval, 25);
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.3", 2, 100));
  auto got = b_.tun->WaitWritten(2, 5s);
  ASSERT_EQ(got.size(), 2u);
  // B only accepts 10.0.0.1 as A's source; 10.0.0.3 as destination is fine for it.
  EXPECT_EQ(SeqOf(got[1]), 2u);

  uapi::SetRequest remove;
  uapi::PeerUpdate gone;
  gone.public_key = b_.key.DerivePublic();
  gone.remove = true;
  remove.peers.push_back(gone);
  ASSERT_EQ(a_.engine->Set(remove, &f), 0);
  EXPECT_TRUE(a_.engine->Get().peers.empty());
}

TEST_P(EngineTest, ListenPortChangeRebinds) {
  uapi::SetRequest r;
  r.listen_port = 0;
  auto probe = UdpSocket::Bind(IpAddress::Family::kV4, 0, 0);
  ASSERT_TRUE(probe.ok());
  const uint16_t taken = (*probe)->port();
  r.listen_port = taken;
  uapi::Failure f;
  EXPECT_EQ(b_.engine->Set(r, &f), uapi::kErrorPortInUse);
  EXPECT_THAT(f.message, HasSubstr("bind"));
  probe->reset();
  ASSERT_EQ(b_.engine->Set(r, &f), 0) << f.message;
  EXPECT_EQ(b_.engine->port(), taken);
  EXPECT_EQ(b_.engine->Get().listen_port, taken);
  // A still has B's old endpoint: point it at the new port and traffic flows.
  uapi::SetRequest ep;
  uapi::PeerUpdate u;
  u.public_key = b_.key.DerivePublic();
  u.endpoint = SocketAddress{*IpAddress::Parse("127.0.0.1"), taken};
  ep.peers.push_back(u);
  ASSERT_EQ(a_.engine->Set(ep, &f), 0);
  a_.tun->Inject(Ipv4Packet("10.0.0.1", "10.0.0.2", 5, 100));
  auto got = b_.tun->WaitWritten(1, 5s);
  ASSERT_EQ(got.size(), 1u) << a_.engine->DropSummary() << " / " << b_.engine->DropSummary();
}

INSTANTIATE_TEST_SUITE_P(Workers, EngineTest, ::testing::Values(0, 2),
                         [](const auto& info) { return "helpers" + std::to_string(info.param); });

}  // namespace
}  // namespace wgate::dataplane
