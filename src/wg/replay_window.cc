#include "wg/replay_window.h"

namespace wgate::wg {
namespace {

constexpr uint64_t kBlockMask = ReplayWindow::kRingBlocks - 1;
constexpr uint64_t kBitMask = ReplayWindow::kBlockBits - 1;
constexpr int kBlockShift = 6;  // log2(kBlockBits)

}  // namespace

void ReplayWindow::Reset() {
  highest_ = 0;
  ring_.fill(0);
}

bool ReplayWindow::Check(uint64_t counter, uint64_t limit) const {
  if (counter >= limit) return false;
  if (counter > highest_) return true;
  if (highest_ - counter > kWindowSize) return false;
  uint64_t block = (counter >> kBlockShift) & kBlockMask;
  return (ring_[block] & (uint64_t{1} << (counter & kBitMask))) == 0;
}

bool ReplayWindow::Accept(uint64_t counter, uint64_t limit) {
  if (!Check(counter, limit)) return false;
  if (counter > highest_) {
    // Clear the blocks the window slides over; after a jump of a whole ring, all of them.
    uint64_t current = highest_ >> kBlockShift;
    uint64_t diff = (counter >> kBlockShift) - current;
    if (diff > kRingBlocks) diff = kRingBlocks;
    for (uint64_t i = current + 1; i <= current + diff; ++i) ring_[i & kBlockMask] = 0;
    highest_ = counter;
  }
  ring_[(counter >> kBlockShift) & kBlockMask] |= uint64_t{1} << (counter & kBitMask);
  return true;
}

}  // namespace wgate::wg
