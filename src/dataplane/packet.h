// Packet buffers for the data path: fixed-size slots carved out of one allocation made at start-up,
// so that no packet ever costs an allocation.
//
// A slot has `kHeadroom` bytes in front of where a tunnel packet is read, exactly the WireGuard
// transport header, so that a packet read from the TUN device is sealed in place into the datagram
// that carries it (and a datagram is opened in place into the packet it carries). Slots are large
// enough for one MTU-sized packet plus the transport overhead; offloads (TUN TSO, UDP GRO) will
// need bigger slots, which is a constructor argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/bytes.h"
#include "base/error.h"
#include "base/ip.h"

namespace wgate::dataplane {

// Transport message header (type, receiver, counter) in front of the ciphertext.
inline constexpr size_t kHeadroom = 16;
// The AEAD tag behind it.
inline constexpr size_t kTailroom = 16;
// Default slot size: a 1500-byte packet padded to 16, plus header and tag, rounded up.
inline constexpr size_t kDefaultSlotSize = 2048;

// One packet or datagram in a batch. `data` points into a slot owned by a BufferPool; `size` is
// how many bytes are valid, `capacity` how many may be written. `addr` is the datagram's source
// (receive) or destination (send); unused for TUN packets.
struct Packet {
  uint8_t* data = nullptr;
  size_t size = 0;
  size_t capacity = 0;
  SocketAddress addr;

  Bytes bytes() const { return Bytes(data, size); }
  Bytes room() const { return Bytes(data, capacity); }
};

// A fixed array of equally sized slots, allocated once. Not thread-safe: each pipeline stage owns
// its pool (or its share of one) and the slots never change hands between threads without the
// stage's own synchronisation.
class BufferPool {
 public:
  BufferPool(size_t slots, size_t slot_size = kDefaultSlotSize);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  size_t slots() const { return slots_; }
  size_t slot_size() const { return slot_size_; }
  // Slot i (0 <= i < slots()), aligned to 64 bytes.
  uint8_t* slot(size_t i) const;

  // Points packets[i] at slot i, `offset` bytes in, with the remaining capacity and size 0.
  // packets.size() must not exceed slots().
  void Attach(std::span<Packet> packets, size_t offset) const;

 private:
  size_t slots_;
  size_t slot_size_;
  std::unique_ptr<uint8_t[]> storage_;
  uint8_t* base_;
};

}  // namespace wgate::dataplane
