// Protocol-core costs per packet and per handshake, as the engine pays them.
//
//   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DWGATE_BENCH=ON
//   ninja -C build/rel wg_bench
//   build/rel/bench/wg_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <vector>

#include "base/error.h"
#include "wg/cookie.h"
#include "wg/device.h"
#include "wg/noise.h"

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

constexpr size_t kPacketSize = 1420;
const SocketAddress kClientAddr = *SocketAddress::Parse("192.0.2.1:51820");
const SocketAddress kServerAddr = *SocketAddress::Parse("203.0.113.1:51820");

std::vector<uint8_t> Ipv4(const char* src, const char* dst, size_t total) {
  std::vector<uint8_t> p(total, 0x42);
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(total >> 8);
  p[3] = static_cast<uint8_t>(total);
  std::memcpy(&p[12], IpAddress::Parse(src)->data(), 4);
  std::memcpy(&p[16], IpAddress::Parse(dst)->data(), 4);
  return p;
}

// Two devices with a confirmed session.
struct Tunnel {
  std::unique_ptr<Device> client, server;
  Now now{MonoTime{} + 1000h, WallTime{} + std::chrono::seconds(1'700'000'000)};

  Tunnel() {
    crypto::PrivateKey ck = crypto::PrivateKey::Generate(), sk = crypto::PrivateKey::Generate();
    client = std::make_unique<Device>(DeviceConfig{ck, Timings{}, 1420});
    server = std::make_unique<Device>(DeviceConfig{sk, Timings{}, 1420});
    PeerConfig to_server;
    to_server.public_key = sk.DerivePublic();
    to_server.endpoint = kServerAddr;
    to_server.allowed_ips = {*IpPrefix::Parse("10.0.0.2/32")};
    WGATE_CHECK(client->AddPeer(to_server, now.mono).ok());
    PeerConfig to_client;
    to_client.public_key = ck.DerivePublic();
    to_client.allowed_ips = {*IpPrefix::Parse("10.0.0.1/32")};
    WGATE_CHECK(server->AddPeer(to_client, now.mono).ok());
    std::vector<uint8_t> buf(2000), out(2000);
    Outbound o = client->Encapsulate(Ipv4("10.0.0.1", "10.0.0.2", 100), buf, now);
    Inbound r = server->Decapsulate(o.handshake.view(), kClientAddr, out, now);
    Inbound k = client->Decapsulate(r.reply.view(), kServerAddr, out, now);
    WGATE_CHECK(k.session_ready);
    Inbound c = server->Decapsulate(k.reply.view(), kClientAddr, out, now);
    WGATE_CHECK(c.session_ready);
  }
};

void BM_Encapsulate(benchmark::State& state) {
  Tunnel t;
  std::vector<uint8_t> packet = Ipv4("10.0.0.1", "10.0.0.2", kPacketSize);
  std::vector<uint8_t> out(t.client->MaxEncapsulatedSize(kPacketSize));
  for (auto _ : state) {
    Outbound r = t.client->Encapsulate(packet, out, t.now);
    benchmark::DoNotOptimize(r.size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPacketSize));
}
BENCHMARK(BM_Encapsulate);

// Decapsulation in place; fresh datagrams are made in untimed batches (each counter opens once).
void BM_Decapsulate(benchmark::State& state) {
  Tunnel t;
  std::vector<uint8_t> packet = Ipv4("10.0.0.1", "10.0.0.2", kPacketSize);
  constexpr size_t kBatch = 4096;
  const size_t msg_size = t.client->MaxEncapsulatedSize(kPacketSize);
  std::vector<uint8_t> batch(kBatch * msg_size);
  size_t next = kBatch;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      for (size_t i = 0; i < kBatch; ++i) {
        t.client->Encapsulate(packet, Bytes(&batch[i * msg_size], msg_size), t.now);
      }
      next = 0;
      state.ResumeTiming();
    }
    uint8_t* d = &batch[next++ * msg_size];
    Inbound r = t.server->Decapsulate(ConstBytes(d, msg_size), kClientAddr,
                                      Bytes(d + kTransportHeaderSize, msg_size - 16), t.now);
    if (r.packet_size != kPacketSize) state.SkipWithError("decapsulate failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPacketSize));
}
BENCHMARK(BM_Decapsulate);

// One complete handshake: initiation created (with macs), consumed with mac1 checked, response
// created and consumed, both sessions derived.
void BM_Handshake(benchmark::State& state) {
  StaticIdentity a = StaticIdentity::FromPrivate(crypto::PrivateKey::Generate());
  StaticIdentity b = StaticIdentity::FromPrivate(crypto::PrivateKey::Generate());
  crypto::PresharedKey psk;
  Handshake ha, hb;
  ha.Configure(a, b.public_key, psk);
  hb.Configure(b, a.public_key, psk);
  CookieGenerator macs_to_b, macs_to_a;
  macs_to_b.Configure(b.public_key, kCookieRefreshTime);
  macs_to_a.Configure(a.public_key, kCookieRefreshTime);
  CookieChecker checker_b(b.public_key, kCookieRefreshTime),
      checker_a(a.public_key, kCookieRefreshTime);
  MonoTime mono = MonoTime{} + 1000h;
  WallTime wall = WallTime{} + std::chrono::seconds(1'700'000'000);
  uint8_t init_bytes[kInitiationSize], resp_bytes[kResponseSize];
  for (auto _ : state) {
    mono += 1s;
    wall += 1s;
    Initiation init;
    if (!ha.CreateInitiation(a, 1, Tai64nFromWallTime(wall), &init)) state.SkipWithError("init");
    Serialize(init, init_bytes);
    macs_to_b.AddMacs(init_bytes, mono);
    if (!checker_b.CheckMac1(init_bytes)) state.SkipWithError("mac1");
    auto partial = ConsumeInitiationStatic(b, *ParseInitiation(init_bytes));
    if (!partial || hb.ConsumeInitiation(*partial, init, mono, kHandshakeInitiationRate) !=
                        HandshakeError::kNone) {
      state.SkipWithError("consume init");
    }
    Response resp;
    if (!hb.CreateResponse(2, &resp)) state.SkipWithError("response");
    Serialize(resp, resp_bytes);
    macs_to_a.AddMacs(resp_bytes, mono);
    if (!checker_a.CheckMac1(resp_bytes)) state.SkipWithError("mac1");
    if (ha.ConsumeResponse(a, *ParseResponse(resp_bytes)) != HandshakeError::kNone) {
      state.SkipWithError("consume response");
    }
    benchmark::DoNotOptimize(ha.DeriveSession());
    benchmark::DoNotOptimize(hb.DeriveSession());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Handshake);

}  // namespace
}  // namespace wgate::wg

BENCHMARK_MAIN();
