// Allowed-IPs lookup, the per-packet routing decision, on a server-sized table: 1000 peers, each
// with a /32 and a /128 host route, and every tenth with a routed /24 and /64 behind it.
//
//   build/rel/bench/allowed_ips_bench (see crypto_bench.cc for the build commands)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "base/ip.h"
#include "wg/allowed_ips.h"

namespace wgate::wg {
namespace {

constexpr int kPeers = 1000;

IpAddress V4(uint32_t a) { return IpAddress::V4(a); }

IpAddress V6(uint16_t group4, uint64_t low) {
  uint8_t b[16] = {0xfd, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
  b[6] = static_cast<uint8_t>(group4 >> 8);
  b[7] = static_cast<uint8_t>(group4);
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  return IpAddress::V6(b);
}

struct Table {
  AllowedIps<int> ips;
  std::vector<IpAddress> v4_hits, v6_hits, misses;

  Table() {
    std::mt19937 rng(1000);
    for (int peer = 0; peer < kPeers; ++peer) {
      // 10.64.0.0/10 host addresses, as a VPN provider hands out.
      const uint32_t host = 0x0a400000u + static_cast<uint32_t>(peer) * 7 + 2;
      ips.Insert(IpPrefix{V4(host), 32}, peer);
      ips.Insert(IpPrefix{V6(0, host), 128}, peer);
      v4_hits.push_back(V4(host));
      v6_hits.push_back(V6(0, host));
      if (peer % 10 == 0) {
        const uint32_t subnet = 0xc6330000u + static_cast<uint32_t>(peer) * 256;  // 198.51.x.0/24
        ips.Insert(IpPrefix{V4(subnet), 24}, peer);
        ips.Insert(IpPrefix{V6(static_cast<uint16_t>(peer + 1), 0), 64}, peer);
        v4_hits.push_back(V4(subnet + rng() % 256));
        v6_hits.push_back(V6(static_cast<uint16_t>(peer + 1), rng()));
      }
    }
    for (int i = 0; i < 1024; ++i) misses.push_back(V4(0xcb007100u + rng() % 256));  // 203.0.113/24
    Shuffle(v4_hits, rng);
    Shuffle(v6_hits, rng);
  }

  static void Shuffle(std::vector<IpAddress>& v, std::mt19937& rng) {
    std::shuffle(v.begin(), v.end(), rng);
  }
};

const Table& SharedTable() {
  static const Table table;
  return table;
}

void RunLookups(benchmark::State& state, const std::vector<IpAddress>& addrs) {
  const AllowedIps<int>& ips = SharedTable().ips;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ips.Lookup(addrs[i]));
    if (++i == addrs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LookupV4Hit(benchmark::State& state) { RunLookups(state, SharedTable().v4_hits); }
void BM_LookupV6Hit(benchmark::State& state) { RunLookups(state, SharedTable().v6_hits); }
void BM_LookupMiss(benchmark::State& state) { RunLookups(state, SharedTable().misses); }
BENCHMARK(BM_LookupV4Hit);
BENCHMARK(BM_LookupV6Hit);
BENCHMARK(BM_LookupMiss);

// A client's table: one peer owning both default routes.
void BM_LookupDefaultRoute(benchmark::State& state) {
  AllowedIps<int> ips;
  ips.Insert(IpPrefix{IpAddress::V4(0u), 0}, 1);
  const IpAddress dst = IpAddress::V4(0xc6336401u);
  for (auto _ : state) benchmark::DoNotOptimize(ips.Lookup(dst));
}
BENCHMARK(BM_LookupDefaultRoute);

}  // namespace
}  // namespace wgate::wg

BENCHMARK_MAIN();
