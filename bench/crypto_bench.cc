// Per-packet AEAD of both libraries side by side (which one aead.cc uses is decided here), and
// the handshake primitives.
//
//   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DWGATE_BENCH=ON
//   ninja -C build/rel crypto_bench
//   build/rel/bench/crypto_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <memory>
#include <vector>

#include "base/error.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/internal.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"

namespace wgate::crypto {
namespace {

using internal::AeadLibrary;

KeyBytes TestKey() {
  KeyBytes key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(0x80 + i);
  return key;
}

// A transport message's AAD is empty; the payload is the padded inner packet.
void BM_ChaChaPolySeal(benchmark::State& state, AeadLibrary library) {
  const size_t size = static_cast<size_t>(state.range(0));
  const KeyBytes key = TestKey();
  std::vector<uint8_t> plaintext(size, 0x42), out(size + kAeadTagLen);
  uint64_t counter = 0;
  uint8_t nonce[internal::kIetfNonceLen];
  for (auto _ : state) {
    internal::WireGuardNonce(counter++, nonce);
    internal::ChaChaPolySealIetf(library, key, nonce, plaintext, {}, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_ChaChaPolyOpen(benchmark::State& state, AeadLibrary library) {
  const size_t size = static_cast<size_t>(state.range(0));
  const KeyBytes key = TestKey();
  std::vector<uint8_t> plaintext(size, 0x42), sealed(size + kAeadTagLen), out(size);
  uint8_t nonce[internal::kIetfNonceLen];
  internal::WireGuardNonce(7, nonce);
  internal::ChaChaPolySealIetf(library, key, nonce, plaintext, {}, sealed.data());
  for (auto _ : state) {
    bool ok = internal::ChaChaPolyOpenIetf(library, key, nonce, sealed, {}, out.data());
    benchmark::DoNotOptimize(ok);
    WGATE_CHECK(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

// 64: a small packet (TCP ACK, DNS query) padded; 1420: a full packet at WireGuard's default MTU.
// The sizes between locate the crossover of the two libraries.
void AeadSizes(benchmark::internal::Benchmark* b) {
  for (int size : {64, 128, 192, 256, 384, 512, 1024, 1420}) b->Arg(size);
}
BENCHMARK_CAPTURE(BM_ChaChaPolySeal, openssl, AeadLibrary::kOpenSsl)->Apply(AeadSizes);
BENCHMARK_CAPTURE(BM_ChaChaPolySeal, libsodium, AeadLibrary::kSodium)->Apply(AeadSizes);
BENCHMARK_CAPTURE(BM_ChaChaPolyOpen, openssl, AeadLibrary::kOpenSsl)->Apply(AeadSizes);
BENCHMARK_CAPTURE(BM_ChaChaPolyOpen, libsodium, AeadLibrary::kSodium)->Apply(AeadSizes);

// The public entry points (the library chosen for the size, WireGuard's nonce), in place.
void BM_PublicSealOpenInPlace(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const KeyBytes key = TestKey();
  std::vector<uint8_t> buf(size + kAeadTagLen, 0x42);
  uint64_t counter = 0;
  for (auto _ : state) {
    ChaChaPolySeal(key, counter, ConstBytes(buf).first(size), {}, buf.data());
    WGATE_CHECK(ChaChaPolyOpen(key, counter, buf, {}, buf.data()));
    ++counter;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_PublicSealOpenInPlace)->Arg(64)->Arg(1420);

void BM_XChaChaPolySeal(benchmark::State& state) {
  const KeyBytes key = TestKey();
  const uint8_t nonce[kXNonceLen] = {1};
  std::vector<uint8_t> cookie(16, 0x42), out(16 + kAeadTagLen);
  const std::vector<uint8_t> mac1(16, 0x17);
  for (auto _ : state) {
    XChaChaPolySeal(key, nonce, cookie, mac1, out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_XChaChaPolySeal);

void BM_X25519Sodium(benchmark::State& state) {
  const PrivateKey a = PrivateKey::Generate(), b = PrivateKey::Generate();
  const KeyBytes b_public = b.DerivePublic().bytes();
  KeyBytes shared;
  for (auto _ : state) {
    WGATE_CHECK(X25519(a.bytes(), b_public, &shared));
    benchmark::DoNotOptimize(shared.data());
  }
}
BENCHMARK(BM_X25519Sodium);

// For comparison only: OpenSSL's X25519 through EVP_PKEY (not used by wgate).
void BM_X25519OpenSsl(benchmark::State& state) {
  const PrivateKey a = PrivateKey::Generate(), b = PrivateKey::Generate();
  const KeyBytes b_public = b.DerivePublic().bytes();
  auto free_pkey = [](EVP_PKEY* p) { EVP_PKEY_free(p); };
  std::unique_ptr<EVP_PKEY, decltype(free_pkey)> priv(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, a.bytes().data(), kKeyLen), free_pkey);
  std::unique_ptr<EVP_PKEY, decltype(free_pkey)> peer(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, b_public.data(), kKeyLen), free_pkey);
  WGATE_CHECK(priv && peer);
  KeyBytes shared;
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(priv.get(), nullptr);
    size_t len = shared.size();
    WGATE_CHECK(EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
                EVP_PKEY_derive(ctx, shared.data(), &len) == 1);
    EVP_PKEY_CTX_free(ctx);
    benchmark::DoNotOptimize(shared.data());
  }
}
BENCHMARK(BM_X25519OpenSsl);

void BM_Blake2s256(benchmark::State& state) {
  const std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x42);
  for (auto _ : state) benchmark::DoNotOptimize(Blake2s256({data}));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
// 64: HASH(h || 32-byte value), the handshake's mix-hash; 1024 for throughput.
BENCHMARK(BM_Blake2s256)->Arg(64)->Arg(1024);

// mac1 over a handshake initiation: 116 bytes keyed with a 32-byte key.
void BM_Blake2sMac128(benchmark::State& state) {
  const KeyBytes key = TestKey();
  const std::vector<uint8_t> data(116, 0x42);
  for (auto _ : state) benchmark::DoNotOptimize(Blake2sMac128(key, {data}));
}
BENCHMARK(BM_Blake2sMac128);

void BM_HmacBlake2s(benchmark::State& state) {
  const KeyBytes key = TestKey();
  const std::vector<uint8_t> data(32, 0x42);
  for (auto _ : state) benchmark::DoNotOptimize(HmacBlake2s(key, data));
}
BENCHMARK(BM_HmacBlake2s);

void BM_Kdf2(benchmark::State& state) {
  const Hash key{};
  const std::vector<uint8_t> input(32, 0x42);
  Hash t1, t2;
  for (auto _ : state) {
    Kdf2(key, input, &t1, &t2);
    benchmark::DoNotOptimize(t2.data());
  }
}
BENCHMARK(BM_Kdf2);

void BM_Kdf3(benchmark::State& state) {
  const Hash key{};
  const std::vector<uint8_t> input(32, 0x42);
  Hash t1, t2, t3;
  for (auto _ : state) {
    Kdf3(key, input, &t1, &t2, &t3);
    benchmark::DoNotOptimize(t3.data());
  }
}
BENCHMARK(BM_Kdf3);

}  // namespace
}  // namespace wgate::crypto

BENCHMARK_MAIN();
