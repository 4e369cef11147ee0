// Sliding-window replay protection for transport counters (RFC 6479's bitmap ring, the layout
// the Linux kernel and wireguard-go use): 128 blocks of 64 bits, one block kept free so the window
// can slide by whole blocks, giving a window of 127 * 64 = 8128 counters behind the highest seen.
//
// Not thread-safe: the caller serializes per keypair (Peer does it under its lock). Check() is a
// read-only pre-filter a worker may use before the expensive decryption; only Accept(), called
// after authentication, moves the window.
#pragma once

#include <array>
#include <cstdint>

namespace wgate::wg {

class ReplayWindow {
 public:
  static constexpr int kBlockBits = 64;
  static constexpr int kRingBlocks = 128;
  static constexpr uint64_t kWindowSize = (kRingBlocks - 1) * kBlockBits;  // 8128

  ReplayWindow() { Reset(); }
  void Reset();

  // Would `counter` be accepted now? Does not modify the window.
  bool Check(uint64_t counter, uint64_t limit) const;
  // Marks `counter` as received. False (and no change) when counter >= limit, when it is older
  // than the window allows, or when it was already received.
  bool Accept(uint64_t counter, uint64_t limit);

  // The highest counter accepted so far (0 before any).
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_;
  std::array<uint64_t, kRingBlocks> ring_;
};

}  // namespace wgate::wg
