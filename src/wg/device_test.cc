#include "wg/device.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "base/fake_clock.h"

// Counts heap allocations made by the current thread while t_count_allocations is set, to check
// that the packet path never allocates.
namespace {
thread_local bool t_count_allocations = false;
thread_local int t_allocations = 0;
}  // namespace
// Out of line: inlined into the standard library's deallocations, GCC 12 sees `free` on memory
// from `operator new` and warns (-Wmismatched-new-delete), though both ends are these functions.
[[gnu::noinline]] void* operator new(size_t n) {
  if (t_count_allocations) ++t_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](size_t n) { return operator new(n); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;
using Buffer = std::vector<uint8_t>;

// An IPv4 packet from `src` to `dst` with `payload` bytes of a recognizable pattern.
Buffer Ipv4Packet(const char* src, const char* dst, size_t payload, uint8_t fill = 0x5a) {
  Buffer p(20 + payload, fill);
  p[0] = 0x45;
  p[1] = 0;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  std::memcpy(&p[12], IpAddress::Parse(src)->data(), 4);
  std::memcpy(&p[16], IpAddress::Parse(dst)->data(), 4);
  return p;
}

// One side of the in-memory tunnel: a Device with the other side as its only peer.
struct Node {
  crypto::PrivateKey key = crypto::PrivateKey::Generate();
  std::unique_ptr<Device> dev;
  Peer* peer = nullptr;  // the other side
  SocketAddress addr;
  std::deque<Buffer> staged;
  std::vector<Buffer> tunnel;  // packets written to this node's tunnel
  std::vector<Inbound> results;
  int dropped_staged = 0;
};

struct Datagram {
  int to;
  SocketAddress from;
  Buffer bytes;
};

// Two devices ("client" 0 initiates with a configured endpoint; "server" 1 learns the client's
// endpoint from authenticated packets) joined by an in-memory network with a fake clock.
class TwoPeersTest : public ::testing::Test, public TickSink {
 protected:
  void SetUp() override { Build(Timings{}); }

  void Build(const Timings& timings, Duration client_keepalive = 0s) {
    timings_ = timings;
    nodes_[0].addr = *SocketAddress::Parse("192.0.2.1:51820");
    nodes_[1].addr = *SocketAddress::Parse("203.0.113.1:51820");
    for (int i = 0; i < 2; ++i) {
      nodes_[i].dev = std::make_unique<Device>(DeviceConfig{nodes_[i].key, timings_, 1420});
    }
    PeerConfig to_server;
    to_server.public_key = nodes_[1].key.DerivePublic();
    to_server.preshared_key = psk_;
    to_server.endpoint = nodes_[1].addr;
    to_server.persistent_keepalive = client_keepalive;
    to_server.allowed_ips = {*IpPrefix::Parse("10.0.0.2/32"), *IpPrefix::Parse("0.0.0.0/0")};
    nodes_[0].peer = *nodes_[0].dev->AddPeer(to_server, clock_.Now());
    PeerConfig to_client;
    to_client.public_key = nodes_[0].key.DerivePublic();
    to_client.preshared_key = psk_;
    to_client.allowed_ips = {*IpPrefix::Parse("10.0.0.1/32")};
    nodes_[1].peer = *nodes_[1].dev->AddPeer(to_client, clock_.Now());
  }

  Now now() const { return Now::From(clock_); }

  // A fresh device with the client's static key and the server as its peer: the client process
  // restarted (new ephemeral keys, no sessions, no memory of its last timestamp).
  std::unique_ptr<Device> RestartedClient(Peer** peer) {
    auto dev = std::make_unique<Device>(DeviceConfig{client().key, timings_, 1420});
    PeerConfig pc;
    pc.public_key = server().key.DerivePublic();
    pc.preshared_key = psk_;
    pc.endpoint = server().addr;
    pc.allowed_ips = {*IpPrefix::Parse("10.0.0.2/32")};
    *peer = *dev->AddPeer(pc, clock_.Now());
    return dev;
  }
  Node& client() { return nodes_[0]; }
  Node& server() { return nodes_[1]; }

  void Put(int to, const SocketAddress& from, ConstBytes bytes) {
    wire_.push_back(Datagram{to, from, Buffer(bytes.begin(), bytes.end())});
  }

  // Encapsulates a tunnel packet at node `i`, as an engine would.
  Outbound Send(int i, const Buffer& packet) {
    Node& n = nodes_[i];
    Buffer out(n.dev->MaxEncapsulatedSize(packet.size()));
    Outbound r = n.dev->Encapsulate(packet, out, now());
    if (!r.handshake.empty()) Put(1 - i, n.addr, r.handshake.view());
    if (r.size > 0) Put(1 - i, n.addr, ConstBytes(out.data(), r.size));
    if (r.queued) n.staged.push_back(packet);
    return r;
  }

  // Delivers one datagram to its node, as an engine would.
  Inbound Receive(const Datagram& d) {
    Node& n = nodes_[d.to];
    Buffer out(d.bytes.size());
    Inbound r = n.dev->Decapsulate(d.bytes, d.from, out, now());
    if (!r.reply.empty()) {
      EXPECT_EQ(r.reply_to, d.from);
      Put(1 - d.to, n.addr, r.reply.view());
    }
    if (r.packet_size > 0) n.tunnel.emplace_back(out.begin(), out.begin() + r.packet_size);
    if (r.session_ready) {
      std::deque<Buffer> staged;
      staged.swap(n.staged);
      for (const Buffer& p : staged) Send(d.to, p);
    }
    n.results.push_back(r);
    return r;
  }

  // Delivers everything in flight (and what it triggers); `lose` drops matching datagrams.
  int Pump(const std::function<bool(const Datagram&)>& lose = nullptr) {
    int delivered = 0;
    while (!wire_.empty()) {
      Datagram d = std::move(wire_.front());
      wire_.pop_front();
      if (lose && lose(d)) continue;
      Receive(d);
      ++delivered;
    }
    return delivered;
  }

  void Tick(int i) {
    ticking_ = i;
    nodes_[i].dev->Tick(now(), *this);
  }
  void Send(Peer& peer, const SocketAddress& endpoint, ConstBytes datagram) override {
    EXPECT_EQ(&peer, nodes_[ticking_].peer);
    EXPECT_EQ(endpoint, nodes_[1 - ticking_].addr);
    Put(1 - ticking_, nodes_[ticking_].addr, datagram);
  }
  void DropStaged(Peer& /*peer*/) override {
    nodes_[ticking_].staged.clear();
    ++nodes_[ticking_].dropped_staged;
  }

  // Client-to-server packet, and back.
  Buffer Up(size_t n = 100) { return Ipv4Packet("10.0.0.1", "10.0.0.2", n); }
  Buffer Down(size_t n = 100) { return Ipv4Packet("10.0.0.2", "10.0.0.1", n, 0xa5); }

  // Brings a session up by sending one packet from the client; returns with both sides current.
  void Connect() {
    Outbound r = Send(0, Up());
    ASSERT_TRUE(r.queued);
    ASSERT_FALSE(r.handshake.empty());
    Pump();
    ASSERT_TRUE(client().peer->KeypairsForTest().current);
    ASSERT_TRUE(server().peer->KeypairsForTest().current);
  }

  // Asserts that node `i` sends exactly one keepalive `after` from now, not a moment earlier.
  void ExpectKeepaliveAfter(int i, Duration after) {
    clock_.Advance(after - 1ms);
    Tick(i);
    EXPECT_TRUE(wire_.empty());
    clock_.Advance(1ms);
    Tick(i);
    ASSERT_EQ(wire_.size(), 1u);
    EXPECT_EQ(wire_[0].bytes.size(), kTransportOverhead);
  }

  static int CountType(const std::deque<Datagram>& w, MessageType t) {
    return static_cast<int>(std::count_if(
        w.begin(), w.end(), [t](const Datagram& d) { return ClassifyMessage(d.bytes) == t; }));
  }

  FakeClock clock_;
  Timings timings_;
  crypto::PresharedKey psk_{crypto::KeyBytes{7, 7, 7}};
  Node nodes_[2];
  std::deque<Datagram> wire_;
  int ticking_ = 0;
};

TEST_F(TwoPeersTest, HandshakeThenDataBothWays) {
  Outbound first = Send(0, Up(100));
  EXPECT_TRUE(first.queued);
  EXPECT_EQ(first.peer, client().peer);
  ASSERT_EQ(first.handshake.size, kInitiationSize);
  // Initiation -> response -> keepalive + the staged packet.
  EXPECT_EQ(Pump(), 4);
  ASSERT_EQ(server().tunnel.size(), 1u);
  EXPECT_EQ(server().tunnel[0], Up(100));
  // The server learned where the client is from the authenticated initiation.
  EXPECT_EQ(server().peer->endpoint(), client().addr);
  EXPECT_TRUE(server().results[0].endpoint_changed);

  Outbound down = Send(1, Down(1000));
  EXPECT_FALSE(down.queued);
  EXPECT_EQ(down.size, kTransportOverhead + 1024);  // padded to 16
  Send(0, Up(1));
  Pump();
  ASSERT_EQ(client().tunnel.size(), 1u);
  EXPECT_EQ(client().tunnel[0], Down(1000));
  ASSERT_EQ(server().tunnel.size(), 2u);
  EXPECT_EQ(server().tunnel[1], Up(1));

  PeerStats cs = client().peer->stats(), ss = server().peer->stats();
  EXPECT_TRUE(cs.last_handshake);
  EXPECT_TRUE(ss.last_handshake);
  EXPECT_EQ(cs.tx_bytes, ss.rx_bytes);
  EXPECT_EQ(ss.tx_bytes, cs.rx_bytes);
  EXPECT_GT(cs.tx_bytes, kInitiationSize + 100u);
  // Datagrams are counted too: every one sent is received once (nothing was lost here).
  EXPECT_EQ(cs.tx_packets, ss.rx_packets);
  EXPECT_EQ(ss.tx_packets, cs.rx_packets);
  EXPECT_GE(cs.tx_packets, 3u);  // initiation and two data packets at least
  EXPECT_GE(ss.tx_packets, 2u);  // response and the data packet
}

TEST_F(TwoPeersTest, ResponderWaitsForKeyConfirmation) {
  Send(0, Up());
  ASSERT_EQ(wire_.size(), 1u);
  Datagram init = wire_.front();
  wire_.clear();
  Receive(init);  // the response stays on the wire, undelivered
  Keypairs kp = server().peer->KeypairsForTest();
  EXPECT_TRUE(kp.next);
  EXPECT_FALSE(kp.current);
  // Without confirmation the server must not send with the new session.
  Outbound r = Send(1, Down());
  EXPECT_TRUE(r.queued);
  EXPECT_EQ(r.size, 0u);
  wire_.erase(std::remove_if(wire_.begin(), wire_.end(),
                             [](const Datagram& d) {
                               return d.to == 0 &&
                                      ClassifyMessage(d.bytes) == MessageType::kInitiation;
                             }),
              wire_.end());
  Pump();
  kp = server().peer->KeypairsForTest();
  EXPECT_FALSE(kp.next);
  ASSERT_TRUE(kp.current);
  EXPECT_TRUE(std::any_of(server().results.begin(), server().results.end(),
                          [](const Inbound& r) { return r.session_ready; }));
  // ... and now the staged packet went out.
  EXPECT_EQ(client().tunnel.size(), 1u);
}

TEST_F(TwoPeersTest, RekeyAfterRekeyAfterTime) {
  Connect();
  auto old = client().peer->KeypairsForTest().current;
  clock_.Advance(kRekeyAfterTime - 1s);
  EXPECT_TRUE(Send(0, Up()).handshake.empty());
  Pump();
  clock_.Advance(1s);
  Outbound r = Send(0, Up());
  EXPECT_FALSE(r.queued) << "the old session still carries the packet";
  EXPECT_EQ(r.handshake.size, kInitiationSize);
  Pump();
  Keypairs kp = client().peer->KeypairsForTest();
  EXPECT_NE(kp.current, old);
  EXPECT_EQ(kp.previous, old);
  EXPECT_EQ(server().tunnel.size(), 3u);
}

TEST_F(TwoPeersTest, ResponderDoesNotRekeyOnTime) {
  Connect();
  clock_.Advance(kRekeyAfterTime + 1s);
  EXPECT_TRUE(Send(1, Down()).handshake.empty());
}

TEST_F(TwoPeersTest, RejectAfterRejectAfterTime) {
  Connect();
  Send(0, Up());
  Datagram late = wire_.back();
  wire_.clear();
  clock_.Advance(kRejectAfterTime);
  // The packet sealed before the deadline is refused after it.
  Inbound in = Receive(late);
  EXPECT_EQ(in.drop, DropReason::kKeypairExpired);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kKeypairExpired), 1u);
  // Sending needs a new session.
  Outbound r = Send(0, Up());
  EXPECT_TRUE(r.queued);
  EXPECT_FALSE(r.handshake.empty());
  Pump();
  EXPECT_EQ(server().tunnel.size(), 2u);
}

TEST_F(TwoPeersTest, InitiatorRekeysOnReceiveBeforeReject) {
  Connect();
  clock_.Advance(kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout - 1s);
  Send(1, Down());
  EXPECT_TRUE(Receive(wire_.back()).reply.empty());
  wire_.clear();
  clock_.Advance(1s);
  Send(1, Down());
  Inbound r = Receive(wire_.back());
  EXPECT_EQ(r.reply.size, kInitiationSize);
  EXPECT_EQ(ClassifyMessage(r.reply.view()), MessageType::kInitiation);
  wire_.pop_front();  // the data packet just received
  // Only once per session.
  clock_.Advance(kRekeyTimeout + 1s);
  Send(1, Down());
  EXPECT_TRUE(Receive(wire_.back()).reply.empty());
}

TEST_F(TwoPeersTest, KeepaliveAfterKeepaliveTimeout) {
  Connect();
  Tick(0);
  Tick(1);
  Pump();
  Send(0, Up());  // server receives data, sends nothing back
  Pump();
  ExpectKeepaliveAfter(1, kKeepaliveTimeout);
  Inbound r = Receive(wire_[0]);
  wire_.clear();
  EXPECT_FALSE(r.dropped());
  EXPECT_EQ(r.packet_size, 0u);
  EXPECT_EQ(client().tunnel.size(), 0u) << "keepalives are not written to the tunnel";
  // Traffic answered in time needs no keepalive.
  Send(0, Up());
  Pump();
  clock_.Advance(1s);
  Send(1, Down());
  Pump();
  clock_.Advance(kKeepaliveTimeout);
  Tick(1);
  EXPECT_EQ(CountType(wire_, MessageType::kTransport), 0);
}

TEST_F(TwoPeersTest, PersistentKeepalive) {
  Build(Timings{}, 25s);
  Connect();
  // The server answers the client's data with a keepalive; the client last heard from it then.
  clock_.Advance(kKeepaliveTimeout);
  Tick(1);
  ASSERT_EQ(Pump(), 1);
  ExpectKeepaliveAfter(0, 25s);
  Pump();
  clock_.Advance(25s);
  Tick(0);
  ASSERT_EQ(wire_.size(), 1u) << "and again every interval";
  EXPECT_EQ(wire_[0].bytes.size(), kTransportOverhead);
}

TEST_F(TwoPeersTest, PersistentKeepaliveConnectsAtOnce) {
  Build(Timings{}, 25s);
  Tick(0);
  ASSERT_EQ(CountType(wire_, MessageType::kInitiation), 1) << "no traffic needed to connect";
  Pump();
  EXPECT_TRUE(client().peer->KeypairsForTest().current);
  EXPECT_TRUE(server().peer->KeypairsForTest().current);
  EXPECT_EQ(server().peer->endpoint(), client().addr);
}

TEST_F(TwoPeersTest, AnUnansweredInitiationIsPendingUntilAHandshakeCompletes) {
  EXPECT_FALSE(client().peer->stats().handshake_pending_since);
  MonoTime sent = clock_.Now();
  Send(0, Up());
  ASSERT_EQ(CountType(wire_, MessageType::kInitiation), 1);
  EXPECT_EQ(client().peer->stats().handshake_pending_since, sent);
  wire_.clear();  // lost
  clock_.Advance(6s);
  Tick(0);  // the retry
  ASSERT_EQ(CountType(wire_, MessageType::kInitiation), 1);
  EXPECT_EQ(client().peer->stats().handshake_pending_since, sent) << "since the first one";
  Pump();
  EXPECT_FALSE(client().peer->stats().handshake_pending_since);
}

TEST_F(TwoPeersTest, RequestedHandshakeConnectsWithoutTraffic) {
  Build(Timings{});
  Tick(0);
  EXPECT_EQ(CountType(wire_, MessageType::kInitiation), 0) << "nothing to send, no handshake";
  client().dev->RequestHandshake(client().peer, clock_.Now());
  Tick(0);
  ASSERT_EQ(CountType(wire_, MessageType::kInitiation), 1);
  Pump();
  EXPECT_TRUE(client().peer->KeypairsForTest().current);
  EXPECT_TRUE(server().peer->KeypairsForTest().current);
}

TEST_F(TwoPeersTest, NoPersistentKeepaliveWhenOff) {
  Connect();
  clock_.Advance(kKeepaliveTimeout);
  Tick(1);
  Pump();
  clock_.Advance(100s);
  Tick(0);
  EXPECT_EQ(CountType(wire_, MessageType::kTransport), 0);
}

TEST_F(TwoPeersTest, LostResponseRetriedAfterRekeyTimeout) {
  Send(0, Up());
  Pump([](const Datagram& d) { return ClassifyMessage(d.bytes) == MessageType::kResponse; });
  EXPECT_FALSE(client().peer->KeypairsForTest().current);
  clock_.Advance(kRekeyTimeout - 1ms);
  Tick(0);
  EXPECT_TRUE(wire_.empty());
  clock_.Advance(kRekeyTimeoutJitterMax + 1ms);
  Tick(0);
  ASSERT_EQ(CountType(wire_, MessageType::kInitiation), 1);
  Pump();
  EXPECT_TRUE(client().peer->KeypairsForTest().current);
  EXPECT_EQ(server().tunnel.size(), 1u) << "the staged packet survived the retry";
  // Completed: no more retries.
  clock_.Advance(kRekeyTimeout + kRekeyTimeoutJitterMax);
  Tick(0);
  EXPECT_EQ(CountType(wire_, MessageType::kInitiation), 0);
}

TEST_F(TwoPeersTest, GivesUpAfterRekeyAttemptTime) {
  Send(0, Up());
  int initiations = CountType(wire_, MessageType::kInitiation);
  wire_.clear();
  MonoTime start = clock_.Now();
  while (client().dropped_staged == 0 && clock_.Now() - start < 200s) {
    clock_.Advance(100ms);
    Tick(0);
    initiations += CountType(wire_, MessageType::kInitiation);
    wire_.clear();
  }
  EXPECT_EQ(client().dropped_staged, 1);
  EXPECT_TRUE(client().staged.empty());
  // 1 + REKEY_ATTEMPT_TIME / REKEY_TIMEOUT + 1 initiations, as the reference implementations.
  EXPECT_EQ(initiations, 20);
  EXPECT_GE(clock_.Now() - start, 20 * kRekeyTimeout);
  EXPECT_LE(clock_.Now() - start, 20 * (kRekeyTimeout + kRekeyTimeoutJitterMax));
  clock_.Advance(100s);
  Tick(0);
  EXPECT_TRUE(wire_.empty()) << "silence after giving up";
}

TEST_F(TwoPeersTest, InitiationsRateLimitedToOnePerRekeyTimeout) {
  EXPECT_FALSE(Send(0, Up()).handshake.empty());
  clock_.Advance(kRekeyTimeout - 1ms);
  EXPECT_TRUE(Send(0, Up()).handshake.empty());
  clock_.Advance(1ms);
  EXPECT_FALSE(Send(0, Up()).handshake.empty());
}

TEST_F(TwoPeersTest, ReplayedInitiationRefused) {
  Send(0, Up());
  Datagram init = wire_.front();
  Pump();
  ASSERT_TRUE(server().peer->KeypairsForTest().current);
  auto session = server().peer->KeypairsForTest().current;
  clock_.Advance(1s);
  Inbound r = Receive(init);
  EXPECT_EQ(r.drop, DropReason::kReplayedInitiation);
  EXPECT_TRUE(r.reply.empty()) << "no response to a replay";
  EXPECT_EQ(server().peer->stats().drop(DropReason::kReplayedInitiation), 1u);
  EXPECT_EQ(server().peer->KeypairsForTest().current, session);
  EXPECT_FALSE(server().peer->KeypairsForTest().next);
}

TEST_F(TwoPeersTest, InitiationFloodRefused) {
  // Two fresh initiations from the client 10 ms apart (timestamps both newer): the second
  // exceeds INITIATIONS_PER_SECOND for this peer.
  Peer* p;
  Buffer out(2000);
  auto first = RestartedClient(&p);
  Outbound a = first->Encapsulate(Up(), out, now());
  ASSERT_FALSE(a.handshake.empty());
  EXPECT_FALSE(Receive(Datagram{1, client().addr,
                                Buffer(a.handshake.view().begin(), a.handshake.view().end())})
                   .dropped());
  clock_.Advance(10ms);
  auto second = RestartedClient(&p);
  // Wall time must move past the TAI64N whitening step so that the timestamp itself is fresh.
  Outbound b = second->Encapsulate(Up(), out, Now{clock_.Now(), clock_.WallNow() + 1s});
  ASSERT_FALSE(b.handshake.empty());
  Inbound r = Receive(
      Datagram{1, client().addr, Buffer(b.handshake.view().begin(), b.handshake.view().end())});
  EXPECT_EQ(r.drop, DropReason::kInitiationFlood);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kInitiationFlood), 1u);
}

TEST_F(TwoPeersTest, CookieRoundTripUnderLoad) {
  server().dev->SetUnderLoad(true);
  Send(0, Up());
  ASSERT_EQ(wire_.size(), 1u);
  Inbound r = Receive(wire_.front());
  wire_.pop_front();
  EXPECT_EQ(r.drop, DropReason::kCookieRequired);
  EXPECT_EQ(server().dev->device_drops(DropReason::kCookieRequired), 1u);
  ASSERT_EQ(r.reply.size, kCookieReplySize);
  EXPECT_FALSE(server().peer->KeypairsForTest().next) << "no DH work without a cookie";
  ASSERT_EQ(wire_.size(), 1u);
  Inbound c = Receive(wire_.front());  // the client takes the cookie
  wire_.pop_front();
  EXPECT_FALSE(c.dropped());
  // The retransmission carries mac2 and is accepted.
  clock_.Advance(kRekeyTimeout + kRekeyTimeoutJitterMax);
  Tick(0);
  ASSERT_EQ(wire_.size(), 1u);
  ConstBytes mac2 = ConstBytes(wire_.front().bytes).last(16);
  EXPECT_TRUE(std::any_of(mac2.begin(), mac2.end(), [](uint8_t b) { return b != 0; }));
  Pump();
  EXPECT_EQ(server().dev->device_drops(DropReason::kCookieRequired), 1u);
  EXPECT_TRUE(client().peer->KeypairsForTest().current);
  EXPECT_EQ(server().tunnel.size(), 1u);
}

TEST_F(TwoPeersTest, UnderLoadEachSourceIsRateLimited) {
  // A client retrying every 21 ms (just under the per-peer flood limit), with a valid cookie.
  Timings fast;
  fast.rekey_timeout = 10ms;
  fast.rekey_timeout_jitter_max = 0ms;
  Build(fast);
  server().dev->SetUnderLoad(true);
  Send(0, Up());
  Receive(wire_.front());  // initiation -> cookie reply
  wire_.pop_front();
  ASSERT_FALSE(Receive(wire_.front()).dropped());  // the client takes the cookie
  wire_.clear();
  int accepted = 0, limited = 0;
  for (int i = 0; i < 48; ++i) {  // about one second
    clock_.Advance(21ms);
    Tick(0);
    ASSERT_EQ(wire_.size(), 1u);
    Inbound r = Receive(wire_.front());
    wire_.clear();  // responses are lost: the client keeps retrying
    if (r.drop == DropReason::kRateLimited) ++limited;
    if (!r.dropped()) ++accepted;
  }
  // The burst, then 20 per second.
  EXPECT_NEAR(accepted, HandshakeRateLimiter::kPacketsBurstable + 20, 2);
  EXPECT_EQ(accepted + limited, 48);
  EXPECT_EQ(server().dev->device_drops(DropReason::kRateLimited), static_cast<uint64_t>(limited));
}

TEST_F(TwoPeersTest, CookieFromAnotherAddressDoesNotValidate) {
  server().dev->SetUnderLoad(true);
  Send(0, Up());
  Receive(wire_.front());
  wire_.pop_front();
  Receive(wire_.front());
  wire_.pop_front();
  clock_.Advance(kRekeyTimeout + kRekeyTimeoutJitterMax);
  Tick(0);
  ASSERT_EQ(wire_.size(), 1u);
  Datagram moved = wire_.front();
  wire_.clear();
  moved.from = *SocketAddress::Parse("192.0.2.99:51820");
  EXPECT_EQ(Receive(moved).drop, DropReason::kCookieRequired);
}

TEST_F(TwoPeersTest, RestartedPeerWithNewEphemeralReplacesSession) {
  Connect();
  Pump();
  auto old_server_session = server().peer->KeypairsForTest().current;
  // The client restarts: same static key, new process state, new source port.
  clock_.Advance(3s);
  client().dev.reset();
  client().addr = *SocketAddress::Parse("192.0.2.1:40000");
  client().staged.clear();
  client().dev = RestartedClient(&client().peer);
  Outbound r = Send(0, Up());
  EXPECT_TRUE(r.queued);
  Pump();
  Keypairs kp = server().peer->KeypairsForTest();
  ASSERT_TRUE(kp.current);
  EXPECT_NE(kp.current, old_server_session);
  EXPECT_EQ(server().peer->endpoint(), client().addr) << "roamed to the new port";
  Send(1, Down());
  Pump();
  EXPECT_EQ(client().tunnel.size(), 1u);
  // One more handshake later the old session is gone from the server entirely.
  clock_.Advance(kRekeyAfterTime);
  Send(0, Up());
  Pump();
  kp = server().peer->KeypairsForTest();
  EXPECT_NE(kp.current, old_server_session);
  EXPECT_NE(kp.previous, old_server_session);
  EXPECT_EQ(old_server_session.use_count(), 1) << "only this test still holds it";
}

TEST_F(TwoPeersTest, CounterExhaustion) {
  Connect();
  clock_.Advance(kRekeyTimeout);
  client().peer->SetSendCounterForTest(kRejectAfterMessages - 1);
  Outbound last = Send(0, Up());
  EXPECT_FALSE(last.queued);
  EXPECT_GT(last.size, 0u);
  EXPECT_FALSE(last.handshake.empty()) << "past REKEY_AFTER_MESSAGES: rekey";
  Datagram d = wire_.back();
  ASSERT_EQ(ParseTransportHeader(d.bytes)->counter, kRejectAfterMessages - 1);
  wire_.clear();
  EXPECT_FALSE(Receive(d).dropped()) << "the last valid counter is accepted";
  Outbound after = Send(0, Up());
  EXPECT_TRUE(after.queued) << "no counter left: no packet";
  EXPECT_EQ(after.size, 0u);
  EXPECT_EQ(client().peer->KeypairsForTest().current->next_counter(), kRejectAfterMessages);
}

TEST_F(TwoPeersTest, RekeyAfterMessagesEvenAsResponder) {
  Connect();
  Pump();
  clock_.Advance(kRekeyTimeout);
  server().peer->SetSendCounterForTest(kRekeyAfterMessages);
  EXPECT_TRUE(Send(1, Down()).handshake.empty()) << "REKEY_AFTER_MESSAGES not yet exceeded";
  Outbound r = Send(1, Down());
  EXPECT_FALSE(r.queued);
  EXPECT_EQ(r.handshake.size, kInitiationSize);
  Pump();
  EXPECT_EQ(client().tunnel.size(), 2u);
  EXPECT_LT(server().peer->KeypairsForTest().current->next_counter(), 10u) << "new session";
}

TEST_F(TwoPeersTest, ReceiverRefusesCounterAtLimit) {
  Connect();
  Send(0, Up());
  Datagram d = wire_.back();
  wire_.clear();
  StoreLe64(d.bytes.data() + 8, kRejectAfterMessages);
  EXPECT_EQ(Receive(d).drop, DropReason::kKeypairExpired);
}

TEST_F(TwoPeersTest, KeyMaterialZeroedAfterThreeRejectAfterTime) {
  Connect();
  std::weak_ptr<Keypair> c = client().peer->KeypairsForTest().current;
  std::weak_ptr<Keypair> s = server().peer->KeypairsForTest().current;
  wire_.clear();
  clock_.Advance(3 * kRejectAfterTime - 1s);
  Tick(0);
  Tick(1);
  EXPECT_FALSE(c.expired());
  EXPECT_FALSE(s.expired());
  clock_.Advance(1s);
  Tick(0);
  Tick(1);
  EXPECT_TRUE(c.expired()) << "client keys erased";
  EXPECT_TRUE(s.expired()) << "server keys erased";
  Keypairs kp = client().peer->KeypairsForTest();
  EXPECT_FALSE(kp.current || kp.previous || kp.next);
}

TEST_F(TwoPeersTest, InnerSourceOutsideAllowedIpsDropped) {
  Connect();
  // The server's tunnel emits a packet from an address the client does not allow for it... the
  // client allows 0.0.0.0/0 for the server, so test the other direction: the client claims a
  // source the server does not allow.
  Send(0, Ipv4Packet("10.0.0.99", "10.0.0.2", 50));
  Inbound r = Receive(wire_.back());
  EXPECT_EQ(r.drop, DropReason::kDisallowedSource);
  EXPECT_EQ(r.packet_size, 0u);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kDisallowedSource), 1u);
  EXPECT_EQ(server().tunnel.size(), 1u);  // only Connect()'s packet
}

TEST_F(TwoPeersTest, EndpointFollowsAuthenticatedPacketsOnly) {
  Connect();
  Pump();
  const SocketAddress moved = *SocketAddress::Parse("198.51.100.9:1234");
  // A forged (unauthenticated) packet from elsewhere does not move the endpoint.
  Send(0, Up());
  Datagram forged = wire_.back();
  wire_.clear();
  forged.from = moved;
  forged.bytes[30] ^= 1;
  EXPECT_EQ(Receive(forged).drop, DropReason::kDecryptFailed);
  EXPECT_EQ(server().peer->endpoint(), client().addr);
  // An authenticated one does, and the result says so.
  Send(0, Up());
  Datagram real = wire_.back();
  wire_.clear();
  real.from = moved;
  Inbound r = Receive(real);
  EXPECT_FALSE(r.dropped());
  EXPECT_TRUE(r.endpoint_changed);
  EXPECT_EQ(server().peer->endpoint(), moved);
  EXPECT_EQ(Send(1, Down()).endpoint, moved);
}

TEST_F(TwoPeersTest, Ipv6InnerPackets) {
  client().dev->AddAllowedIp(client().peer, *IpPrefix::Parse("fd00::/64"));
  server().dev->AddAllowedIp(server().peer, *IpPrefix::Parse("fd00::1/128"));
  Connect();
  Buffer p(40 + 30, 0x33);
  p[0] = 0x60;
  p[4] = 0;
  p[5] = 30;  // payload length
  std::memcpy(&p[8], IpAddress::Parse("fd00::1")->data(), 16);
  std::memcpy(&p[24], IpAddress::Parse("fd00::2")->data(), 16);
  EXPECT_EQ(Send(0, p).peer, client().peer);
  Pump();
  ASSERT_EQ(server().tunnel.size(), 2u);
  EXPECT_EQ(server().tunnel[1], p) << "padding removed by the IPv6 payload length";
  std::memcpy(&p[8], IpAddress::Parse("fd00::3")->data(), 16);
  Send(0, p);
  EXPECT_EQ(Receive(wire_.back()).drop, DropReason::kDisallowedSource);
}

TEST_F(TwoPeersTest, NewPrivateKeyForgetsSessions) {
  Connect();
  server().dev->SetPrivateKey(crypto::PrivateKey::Generate());
  Keypairs kp = server().peer->KeypairsForTest();
  EXPECT_FALSE(kp.current || kp.previous || kp.next);
  // The client still addresses the old key: its initiation fails mac1.
  clock_.Advance(kRejectAfterTime);
  Send(0, Up());
  EXPECT_EQ(Receive(wire_.back()).drop, DropReason::kInvalidMac1);
}

TEST_F(TwoPeersTest, NextDeadlineTracksTimers) {
  EXPECT_FALSE(client().dev->NextDeadline());
  Send(0, Up());
  std::optional<MonoTime> d = client().dev->NextDeadline();
  ASSERT_TRUE(d);
  EXPECT_GE(*d, clock_.Now() + kRekeyTimeout);
  EXPECT_LT(*d, clock_.Now() + kRekeyTimeout + kRekeyTimeoutJitterMax);
}

TEST_F(TwoPeersTest, DuplicateAndTamperedTransportDropped) {
  Connect();
  Send(0, Up());
  Datagram d = wire_.back();
  wire_.clear();
  EXPECT_FALSE(Receive(d).dropped());
  EXPECT_EQ(Receive(d).drop, DropReason::kReplayed);
  Send(0, Up());
  Datagram t = wire_.back();
  wire_.clear();
  t.bytes[20] ^= 1;
  EXPECT_EQ(Receive(t).drop, DropReason::kDecryptFailed);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kReplayed), 1u);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kDecryptFailed), 1u);
}

TEST_F(TwoPeersTest, DeviceLevelDrops) {
  Buffer out(200);
  Buffer junk(10, 1);
  EXPECT_EQ(server().dev->Decapsulate(junk, client().addr, out, now()).drop,
            DropReason::kMalformed);
  Buffer unknown(48, 0);
  unknown[0] = 4;
  EXPECT_EQ(server().dev->Decapsulate(unknown, client().addr, out, now()).drop,
            DropReason::kUnknownIndex);
  Buffer bad_mac(kInitiationSize, 0);
  bad_mac[0] = 1;
  EXPECT_EQ(server().dev->Decapsulate(bad_mac, client().addr, out, now()).drop,
            DropReason::kInvalidMac1);
  EXPECT_EQ(server().dev->device_drops(DropReason::kMalformed), 1u);
  EXPECT_EQ(server().dev->device_drops(DropReason::kUnknownIndex), 1u);
  EXPECT_EQ(server().dev->device_drops(DropReason::kInvalidMac1), 1u);
}

TEST_F(TwoPeersTest, UnknownPeerAndNoRouteAndNoEndpoint) {
  Device stranger(DeviceConfig{crypto::PrivateKey::Generate(), timings_, 1420});
  PeerConfig pc;
  pc.public_key = server().key.DerivePublic();
  pc.endpoint = server().addr;
  pc.allowed_ips = {*IpPrefix::Parse("10.0.0.2/32")};
  ASSERT_TRUE(stranger.AddPeer(pc, clock_.Now()).ok());
  Buffer out(2000);
  Outbound o = stranger.Encapsulate(Up(), out, now());
  ASSERT_FALSE(o.handshake.empty());
  Inbound r = Receive(
      Datagram{1, client().addr, Buffer(o.handshake.view().begin(), o.handshake.view().end())});
  EXPECT_EQ(r.drop, DropReason::kHandshakeFailed);

  EXPECT_EQ(Send(1, Ipv4Packet("10.0.0.2", "10.9.9.9", 10)).drop, DropReason::kNoRoute);
  EXPECT_EQ(Send(1, Down()).drop, DropReason::kNoEndpoint);
  EXPECT_EQ(Send(0, Buffer{1, 2, 3}).drop, DropReason::kInvalidPacket);
}

TEST_F(TwoPeersTest, SplitPathOutOfOrderCompletion) {
  Connect();
  Pump();
  // Reserve counters in order, seal in reverse, finish in a scrambled order: all delivered once.
  constexpr int kN = 16;
  std::vector<Outbound> plans;
  std::vector<Buffer> packets, sealed(kN);
  for (int i = 0; i < kN; ++i) {
    packets.push_back(Ipv4Packet("10.0.0.1", "10.0.0.2", 40 + i, static_cast<uint8_t>(i)));
    plans.push_back(client().dev->PrepareEncapsulate(packets.back(), now()));
    ASSERT_EQ(plans.back().job.counter, plans.front().job.counter + i);
  }
  for (int i = kN - 1; i >= 0; --i) {
    sealed[i].resize(plans[i].size);
    ASSERT_EQ(Device::Seal(plans[i].job, packets[i], sealed[i]), plans[i].size);
  }
  std::vector<int> order = {5, 0, 15, 3, 2, 1, 4, 14, 6, 7, 13, 12, 8, 9, 11, 10};
  std::vector<Inbound> prepared(kN);
  for (int i : order) {
    prepared[i] = server().dev->PrepareDecapsulate(sealed[i], client().addr, now());
    ASSERT_TRUE(prepared[i].needs_open);
  }
  std::vector<Buffer> plain(kN);
  for (int i = 0; i < kN; ++i) {
    plain[i].resize(sealed[i].size() - kTransportOverhead);
    bool ok = Device::Open(prepared[i].job, sealed[i], plain[i].data());
    Inbound r = server().dev->FinishDecapsulate(prepared[order[i] == i ? i : i], ok, plain[i],
                                                sealed[i].size(), client().addr, now());
    ASSERT_FALSE(r.dropped()) << i;
    ASSERT_EQ(r.packet_size, packets[i].size());
    EXPECT_TRUE(std::equal(packets[i].begin(), packets[i].end(), plain[i].begin()));
  }
}

TEST_F(TwoPeersTest, PacketPathDoesNotAllocate) {
  Connect();
  Pump();
  Buffer packet = Up(1000);
  Buffer out(2000), plain(2000);
  t_count_allocations = true;
  Outbound o = client().dev->Encapsulate(packet, out, now());
  Inbound i =
      server().dev->Decapsulate(ConstBytes(out.data(), o.size), client().addr, plain, now());
  t_count_allocations = false;
  EXPECT_EQ(t_allocations, 0);
  EXPECT_EQ(i.packet_size, packet.size());
}

TEST_F(TwoPeersTest, EncapsulateAndDecapsulateInPlace) {
  Connect();
  Pump();
  Buffer packet = Up(333);
  // The engine reads the tunnel packet straight after room for the header, then seals in place.
  Buffer buf(client().dev->MaxEncapsulatedSize(packet.size()));
  std::copy(packet.begin(), packet.end(), buf.begin() + kTransportHeaderSize);
  Outbound o = client().dev->Encapsulate(
      ConstBytes(buf.data() + kTransportHeaderSize, packet.size()), buf, now());
  ASSERT_EQ(o.size, buf.size());
  // ... and the receiver opens in place: the packet lands right after the header.
  Inbound i = server().dev->Decapsulate(
      buf, client().addr, Bytes(buf.data() + kTransportHeaderSize, buf.size() - 16), now());
  ASSERT_EQ(i.packet_size, packet.size());
  EXPECT_TRUE(std::equal(packet.begin(), packet.end(), buf.begin() + kTransportHeaderSize));
}

TEST_F(TwoPeersTest, ConcurrentEncapsulateUsesDistinctCounters) {
  Connect();
  Pump();
  constexpr int kThreads = 4, kPerThread = 500;
  std::vector<std::vector<Buffer>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Buffer p = Up(64);
      for (int i = 0; i < kPerThread; ++i) {
        Buffer o(200);
        Outbound r = client().dev->Encapsulate(p, o, now());
        o.resize(r.size);
        out[t].push_back(std::move(o));
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t delivered = server().tunnel.size();
  for (auto& v : out) {
    for (Buffer& d : v) {
      Inbound r = Receive(Datagram{1, client().addr, d});
      ASSERT_FALSE(r.dropped()) << DropReasonName(r.drop);
    }
  }
  EXPECT_EQ(server().tunnel.size() - delivered, size_t{kThreads * kPerThread});
}

TEST_F(TwoPeersTest, ConcurrentSplitDecapsulate) {
  Connect();
  Pump();
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<Buffer> datagrams;
  Buffer packet = Up(200);
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    Buffer o(300);
    o.resize(client().dev->Encapsulate(packet, o, now()).size);
    datagrams.push_back(std::move(o));
  }
  std::atomic<int> delivered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Buffer plain(300);
      for (int i = t; i < kThreads * kPerThread; i += kThreads) {
        const Buffer& d = datagrams[i];
        Inbound r = server().dev->PrepareDecapsulate(d, client().addr, now());
        bool ok = Device::Open(r.job, d, plain.data());
        r = server().dev->FinishDecapsulate(std::move(r), ok,
                                            ConstBytes(plain.data(), d.size() - 32), d.size(),
                                            client().addr, now());
        if (r.packet_size == packet.size()) ++delivered;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(delivered.load(), kThreads * kPerThread);
  EXPECT_EQ(server().peer->stats().drop(DropReason::kReplayed), 0u);
}

TEST_F(TwoPeersTest, PeerExposesConfigForUapi) {
  EXPECT_EQ(client().peer->preshared_key(), psk_);
  EXPECT_EQ(client().dev->private_key(), client().key);
  EXPECT_EQ(client().dev->AllowedIpsOf(client().peer).size(), 2u);
}

TEST_F(TwoPeersTest, ShortenedTimingsAreHonoured) {
  Timings fast;
  fast.rekey_after_time = 2s;
  fast.reject_after_time = 3s;
  fast.rekey_timeout = 500ms;
  fast.keepalive_timeout = 1s;
  fast.rekey_attempt_time = 2s;
  Build(fast);
  Connect();
  auto first = client().peer->KeypairsForTest().current;
  clock_.Advance(2s);
  Send(0, Up());
  Pump();
  EXPECT_NE(client().peer->KeypairsForTest().current, first);
}

}  // namespace
}  // namespace wgate::wg
