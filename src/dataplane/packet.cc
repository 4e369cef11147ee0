#include "dataplane/packet.h"

#include <cstdint>

namespace wgate::dataplane {

namespace {
constexpr size_t kAlign = 64;
size_t RoundUp(size_t n, size_t m) { return (n + m - 1) / m * m; }
}  // namespace

BufferPool::BufferPool(size_t slots, size_t slot_size)
    : slots_(slots),
      slot_size_(RoundUp(slot_size, kAlign)),
      storage_(new uint8_t[slots_ * slot_size_ + kAlign]) {
  auto p = reinterpret_cast<uintptr_t>(storage_.get());
  base_ = storage_.get() + (RoundUp(p, kAlign) - p);
}

uint8_t* BufferPool::slot(size_t i) const {
  WGATE_CHECK(i < slots_);
  return base_ + i * slot_size_;
}

void BufferPool::Attach(std::span<Packet> packets, size_t offset) const {
  WGATE_CHECK(packets.size() <= slots_ && offset < slot_size_);
  for (size_t i = 0; i < packets.size(); ++i) {
    packets[i].data = slot(i) + offset;
    packets[i].size = 0;
    packets[i].capacity = slot_size_ - offset;
  }
}

}  // namespace wgate::dataplane
