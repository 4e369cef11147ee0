// libFuzzer target: a Device with one peer and a live session takes arbitrary datagrams without
// crashing; every datagram is either handled or dropped with a reason, and no result exceeds the
// buffers it was given.
//
// The input is one or more datagrams, each prefixed by a 16-bit little-endian length. To get past
// the index lookup, the receiver index of a response, cookie reply or transport message is
// replaced by one the device really has (chosen by the fuzzed index modulo the live ones).
//
// Seeds: run the binary with WG_FUZZ_WRITE_SEEDS=<dir> to write a few valid messages there.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "wg/device.h"

using namespace wgate;
using namespace wgate::wg;
using namespace std::chrono_literals;

namespace {

crypto::PrivateKey Key(uint8_t seed) {
  crypto::KeyBytes b;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed * 31 + i);
  return crypto::PrivateKey(b);
}

const SocketAddress kTargetAddr = *SocketAddress::Parse("192.0.2.1:51820");
const SocketAddress kPeerAddr = *SocketAddress::Parse("203.0.113.1:51820");
const Now kNow{MonoTime{} + 1000h, WallTime{} + std::chrono::seconds(1'700'000'000)};

std::vector<uint8_t> Ipv4(size_t payload) {
  std::vector<uint8_t> p(20 + payload, 0x42);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  const uint8_t src[4] = {10, 0, 0, 2}, dst[4] = {10, 0, 0, 1};
  std::memcpy(&p[12], src, 4);
  std::memcpy(&p[16], dst, 4);
  return p;
}

// The target device (responder) and its peer (initiator), with a confirmed session.
struct World {
  std::unique_ptr<Device> target, peer;
  Peer* target_peer = nullptr;
  Peer* peer_peer = nullptr;
  std::vector<std::vector<uint8_t>> seeds;  // valid datagrams seen on the way

  // `wall` stamps the initiation: the fuzzing world uses an older time than the seeds so that a
  // seed initiation is fresh for it.
  explicit World(WallTime wall) {
    const Now now{kNow.mono, wall};
    target = std::make_unique<Device>(DeviceConfig{Key(1), Timings{}, 1420});
    peer = std::make_unique<Device>(DeviceConfig{Key(2), Timings{}, 1420});
    PeerConfig a;
    a.public_key = Key(2).DerivePublic();
    a.allowed_ips = {*IpPrefix::Parse("10.0.0.2/32")};
    target_peer = *target->AddPeer(a, now.mono);
    PeerConfig b;
    b.public_key = Key(1).DerivePublic();
    b.endpoint = kTargetAddr;
    b.allowed_ips = {*IpPrefix::Parse("10.0.0.0/8")};
    peer_peer = *peer->AddPeer(b, now.mono);

    std::vector<uint8_t> buf(2000), out(2000);
    Outbound o = peer->Encapsulate(Ipv4(10), buf, now);
    Keep(o.handshake.view());
    Inbound r = target->Decapsulate(o.handshake.view(), kPeerAddr, out, now);
    Keep(r.reply.view());
    Inbound k = peer->Decapsulate(r.reply.view(), kTargetAddr, out, now);
    Keep(k.reply.view());
    target->Decapsulate(k.reply.view(), kPeerAddr, out, now);
    Outbound d = peer->Encapsulate(Ipv4(100), buf, now);
    Keep(ConstBytes(buf.data(), d.size));
    // A cookie reply, from the target under load.
    target->SetUnderLoad(true);
    Inbound c = target->Decapsulate(seeds[0], kPeerAddr, out, now);
    Keep(c.reply.view());
    target->SetUnderLoad(false);
  }
  void Keep(ConstBytes b) {
    if (!b.empty()) seeds.emplace_back(b.begin(), b.end());
  }
};

void WriteSeeds(const char* dir) {
  World w(kNow.wall);
  int n = 0;
  for (const auto& s : w.seeds) {
    std::string path = std::string(dir) + "/seed" + std::to_string(n++);
    std::ofstream f(path, std::ios::binary);
    uint8_t len[2] = {static_cast<uint8_t>(s.size()), static_cast<uint8_t>(s.size() >> 8)};
    f.write(reinterpret_cast<const char*>(len), 2);
    f.write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size()));
  }
  std::printf("wrote %d seeds to %s\n", n, dir);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WG_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh world per input keeps runs reproducible.
  auto world = std::make_unique<World>(kNow.wall - 1h);
  Device& dev = *world->target;
  std::vector<uint8_t> datagram, out;
  Now now{kNow.mono + 1s, kNow.wall};
  while (size >= 2) {
    size_t len = data[0] | size_t{data[1]} << 8;
    data += 2;
    size -= 2;
    if (len > size) len = size;
    datagram.assign(data, data + len);
    data += len;
    size -= len;
    std::optional<MessageType> type = ClassifyMessage(datagram);
    if (type && *type != MessageType::kInitiation) {
      // Aim at a live index: the target's current session.
      Keypairs kp = world->target_peer->KeypairsForTest();
      if (kp.current) StoreLe32(datagram.data() + 4, kp.current->local_index());
    }
    out.assign(datagram.size(), 0);
    now.mono += 1ms;
    Inbound r = dev.Decapsulate(datagram, kPeerAddr, out, now);
    WGATE_CHECK(r.packet_size <= out.size());
    WGATE_CHECK(r.reply.size <= r.reply.bytes.size());
    WGATE_CHECK(!r.needs_open);
    if (r.packet_size > 0) WGATE_CHECK(!r.dropped() && r.peer == world->target_peer);
  }
  return 0;
}
