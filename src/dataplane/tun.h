// The tunnel side of the engine: a layer-3 device that yields and accepts raw IPv4/IPv6 packets.
//
// The interface is batch-shaped (like recvmmsg) so that an implementation with offloads
// (IFF_VNET_HDR + TUNSETOFFLOAD, one super-packet split into many) fits without changing callers.
// fd() becomes readable when ReadBatch would return at least one packet, for epoll.
//
// Thread-safety: ReadBatch and WriteBatch may run concurrently on different threads (one reader,
// one writer: the kernel TUN queue is safe for that); neither is reentrant with itself.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "dataplane/packet.h"

namespace wgate::dataplane {

class TunDevice {
 public:
  virtual ~TunDevice() = default;

  virtual const std::string& name() const = 0;
  // Readable when packets are waiting. Owned by the device.
  virtual int fd() const = 0;
  // Reads up to packets.size() packets, each into packets[i].data (at most packets[i].capacity
  // bytes), setting packets[i].size. Never blocks: returns 0 when none is waiting.
  virtual Result<size_t> ReadBatch(std::span<Packet> packets) = 0;
  // Writes every packet (packets[i].data, packets[i].size). A packet the kernel refuses (malformed)
  // is skipped and counted in *refused; an error means the device itself failed.
  virtual Status WriteBatch(std::span<const Packet> packets, size_t* refused) = 0;
};

// A Linux TUN device (IFF_TUN | IFF_NO_PI), nonblocking. Opening needs CAP_NET_ADMIN.
//
// With offloads (IFF_VNET_HDR + TUNSETOFFLOAD TSO4/TSO6/CSUM), the kernel hands over TCP
// super-packets of up to 64 KiB with their checksum left to us: one read() then yields dozens of
// packets, which ReadBatch segments (headers, sequence numbers, checksums) into MTU-sized ones.
// WriteBatch does the reverse (GRO): a run of in-order segments of one TCP flow within a batch is
// written as one super-packet, its headers rewritten in place in the first packet's buffer; other
// packets go one by one with an all-zero virtio header. Order within the batch is kept.
class LinuxTun final : public TunDevice {
 public:
  // Creates (or attaches to) the TUN interface `name` (at most 15 bytes) and sets its MTU. The link
  // is left down, as wireguard-go does: whoever configures addresses brings it up. `offload`
  // asks for TSO; the device falls back to plain packets if the kernel refuses.
  static Result<std::unique_ptr<LinuxTun>> Open(std::string_view name, int mtu,
                                                bool offload = true);

  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }
  Result<size_t> ReadBatch(std::span<Packet> packets) override;
  Status WriteBatch(std::span<const Packet> packets, size_t* refused) override;
  bool offload() const { return offload_; }
  // Super-packets or checksum requests that could not be handled (malformed), dropped.
  uint64_t offload_errors() const { return offload_errors_; }
  // Runs of segments written as one super-packet (writer thread's count).
  uint64_t coalesced_writes() const { return coalesced_writes_; }

 private:
  LinuxTun(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  // writev with the device's error policy (a refused packet is counted, not an error).
  Status WriteVector(struct iovec* iov, int count, size_t* refused);
  // Moves the pending super-packet's next segments into `out`; returns how many.
  size_t EmitSegments(std::span<Packet> out);
  // Takes one packet read with its virtio header; may leave segments pending.
  size_t TakeOffloaded(size_t len, std::span<Packet> out);

  UniqueFd fd_;
  std::string name_;
  bool offload_ = false;
  bool vnet_hdr_ = false;
  // The super-packet being segmented (reader thread only).
  std::unique_ptr<uint8_t[]> super_;
  size_t super_len_ = 0;   // bytes after the virtio header
  size_t header_len_ = 0;  // IP + TCP header
  size_t segment_size_ = 0;
  size_t next_offset_ = 0;  // payload offset of the next segment; pending while < payload length
  uint32_t segment_index_ = 0;
  uint64_t offload_errors_ = 0;
  uint64_t coalesced_writes_ = 0;
};

// Internet checksum helpers (RFC 1071), exposed for tests.
uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len);
uint16_t ChecksumFold(uint32_t sum);

// Splits a TCP/IPv4 or TCP/IPv6 super-packet `packet` into segments of at most `segment_size`
// payload bytes, as a NIC doing TSO would; pure, for tests. Each segment is appended to `out`.
bool SegmentTcpForTest(const uint8_t* packet, size_t len, size_t segment_size,
                       std::vector<std::vector<uint8_t>>* out);

}  // namespace wgate::dataplane
