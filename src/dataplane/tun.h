// The tunnel side of the engine: a layer-3 device that yields and accepts raw IPv4/IPv6 packets.
//
// The interface is batch-shaped (like recvmmsg) so that an implementation with offloads
// (IFF_VNET_HDR + TUNSETOFFLOAD, one super-packet split into many) fits without changing callers.
// fd() becomes readable when ReadBatch would return at least one packet, for epoll.
//
// Thread-safety: ReadBatch and WriteBatch may run concurrently on different threads (one reader,
// one writer: the kernel TUN queue is safe for that); neither is reentrant with itself.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

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
class LinuxTun final : public TunDevice {
 public:
  // Creates (or attaches to) the TUN interface `name` (at most 15 bytes) and sets its MTU. The link
  // is left down, as wireguard-go does: whoever configures addresses brings it up.
  static Result<std::unique_ptr<LinuxTun>> Open(std::string_view name, int mtu);

  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }
  Result<size_t> ReadBatch(std::span<Packet> packets) override;
  Status WriteBatch(std::span<const Packet> packets, size_t* refused) override;

 private:
  LinuxTun(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  UniqueFd fd_;
  std::string name_;
};

}  // namespace wgate::dataplane
