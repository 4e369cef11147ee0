// The network side of the engine: UDP sockets that carry WireGuard datagrams.
//
// One socket per address family (the outer v4 and v6 paths), bound to the same port, nonblocking,
// marked with SO_MARK so that the kill switch lets exactly these packets out. Receive and send
// move batches (recvmmsg/sendmmsg), with each datagram's peer address in Packet::addr. Where the
// kernel offers them, UDP GSO (UDP_SEGMENT: runs of equal-sized datagrams to one address leave as
// one message) and UDP GRO (UDP_GRO: a train of datagrams from one source arrives in one buffer)
// cut the per-datagram cost of the kernel's UDP path; callers see single datagrams either way.
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
// A receive buffer large enough for one GRO train (the kernel caps a train at 64 KiB).
inline constexpr size_t kGroBufferSize = 65536;
// Most datagrams one GSO message carries (the kernel's UDP_MAX_SEGMENTS on older kernels).
inline constexpr size_t kMaxGsoSegments = 64;

class DatagramSocket {
 public:
  virtual ~DatagramSocket() = default;
  virtual int fd() const = 0;
  virtual IpAddress::Family family() const = 0;
  virtual uint16_t port() const = 0;
  // Receives into `buffers` (at most kMaxBatch messages; with GRO one buffer may take a train of
  // datagrams from one source, so give kGroBufferSize buffers to benefit) and describes every
  // datagram in `datagrams` (data pointing into a buffer, size, addr = source). Returns how many
  // datagrams; never blocks (0 when none waits). A truncated datagram is reported with
  // size > capacity so that the caller drops it. Datagrams of a train that do not fit in
  // `datagrams` are dropped and counted in *overflow.
  virtual Result<size_t> RecvBatch(std::span<Packet> buffers, std::span<Packet> datagrams,
                                   size_t* overflow) = 0;
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
  Result<size_t> RecvBatch(std::span<Packet> buffers, std::span<Packet> datagrams,
                           size_t* overflow) override;
  Status SendBatch(std::span<const Packet> packets, size_t* dropped) override;
  // Changes the mark of a bound socket (0 removes it).
  Status SetMark(uint32_t fwmark);
  // Offloads in use (tests turn them off to cover both paths).
  bool gso() const { return gso_; }
  bool gro() const { return gro_; }
  void DisableOffloads();

 private:
  UdpSocket(UniqueFd fd, IpAddress::Family family, uint16_t port)
      : fd_(std::move(fd)), family_(family), port_(port) {}
  // Sends `packets` as messages, GSO-grouped when possible; returns how many packets the kernel
  // took, or -1 with errno; *first is how many packets the first message carried.
  int SendMessages(std::span<const Packet> packets, size_t* first, bool* first_gso);

  UniqueFd fd_;
  IpAddress::Family family_;
  uint16_t port_;
  bool gso_ = false;
  bool gro_ = false;
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
