// The network side of the engine: UDP sockets that carry WireGuard datagrams.
//
// One socket per address family (the outer v4 and v6 paths), bound to the same port, nonblocking,
// marked with SO_MARK so that the kill switch lets exactly these packets out. Receive and send
// move batches (recvmmsg/sendmmsg), with each datagram's peer address in Packet::addr; UDP GSO/GRO
// (UDP_SEGMENT, UDP_GRO) would enlarge the slots and add a segment size, not change the calls.
//
// Thread-safety: RecvBatch and SendBatch may run concurrently (one receiving thread, any number of
// senders: sendmmsg on one socket is atomic per call). Rebinding is done by replacing the object
// while no I/O runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/error.h"
#include "base/ip.h"
#include "base/unique_fd.h"
#include "dataplane/packet.h"

namespace wgate::dataplane {

// Largest batch one call moves; callers size their arrays with it.
inline constexpr size_t kMaxBatch = 128;

class DatagramSocket {
 public:
  virtual ~DatagramSocket() = default;
  virtual int fd() const = 0;
  virtual IpAddress::Family family() const = 0;
  virtual uint16_t port() const = 0;
  // Receives up to min(packets.size(), kMaxBatch) datagrams into packets[i].data (capacity bytes),
  // setting size and addr (the source). Never blocks: 0 when none waits. Truncated datagrams
  // (larger than the slot) are returned with size > capacity so the caller drops them.
  virtual Result<size_t> RecvBatch(std::span<Packet> packets) = 0;
  // Sends each packet to its addr (same family as the socket). Returns how many the kernel took; a
  // datagram refused for its own sake (unreachable, no route, full buffer) is skipped and counted
  // in *dropped, so one bad destination never stalls the batch.
  virtual Status SendBatch(std::span<const Packet> packets, size_t* dropped) = 0;
};

class UdpSocket final : public DatagramSocket {
 public:
  // Binds the wildcard address of `family` to `port` (0: the kernel picks). `fwmark` 0 leaves the
  // socket unmarked (setting a mark needs CAP_NET_ADMIN). A v6 socket is IPV6_V6ONLY.
  static Result<std::unique_ptr<UdpSocket>> Bind(IpAddress::Family family, uint16_t port,
                                                 uint32_t fwmark);

  int fd() const override { return fd_.get(); }
  IpAddress::Family family() const override { return family_; }
  uint16_t port() const override { return port_; }
  Result<size_t> RecvBatch(std::span<Packet> packets) override;
  Status SendBatch(std::span<const Packet> packets, size_t* dropped) override;
  // Changes the mark of a bound socket (0 removes it).
  Status SetMark(uint32_t fwmark);

 private:
  UdpSocket(UniqueFd fd, IpAddress::Family family, uint16_t port)
      : fd_(std::move(fd)), family_(family), port_(port) {}
  UniqueFd fd_;
  IpAddress::Family family_;
  uint16_t port_;
};

// The engine's pair of sockets. v6 is null when the host has no IPv6 (EAFNOSUPPORT).
struct SocketPair {
  std::unique_ptr<DatagramSocket> v4;
  std::unique_ptr<DatagramSocket> v6;
  uint16_t port = 0;
};

// Binds v4 and v6 to the same port: `port`, or when 0 a random port free in both families
// (retrying a few times when the v6 half is taken, as wireguard-go does).
Result<SocketPair> BindPair(uint16_t port, uint32_t fwmark);

}  // namespace wgate::dataplane
