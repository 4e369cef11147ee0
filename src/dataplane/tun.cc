#include "dataplane/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/strings.h"

namespace wgate::dataplane {

namespace {

// The virtio-net header in front of every packet with IFF_VNET_HDR (linux/virtio_net.h, which
// does not compile as C++); native byte order on a little-endian host.
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10);
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
constexpr uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

// The largest IP packet plus its virtio header.
constexpr size_t kSuperPacketSize = 65535 + sizeof(virtio_net_hdr);

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The IP and TCP header lengths of a TCP packet, or false.
bool ParseTcp(const uint8_t* p, size_t len, bool* v6, size_t* ip_len, size_t* header_len) {
  if (len < 20) return false;
  if ((p[0] >> 4) == 4) {
    *v6 = false;
    *ip_len = (p[0] & 0x0f) * 4u;
    if (*ip_len < 20 || p[9] != IPPROTO_TCP) return false;
  } else if ((p[0] >> 4) == 6) {
    *v6 = true;
    *ip_len = 40;
    if (len < 40 || p[6] != IPPROTO_TCP) return false;  // extension headers: not offloaded
  } else {
    return false;
  }
  if (len < *ip_len + 20) return false;
  *header_len = *ip_len + (p[*ip_len + 12] >> 4) * 4u;
  return *header_len >= *ip_len + 20 && *header_len <= len;
}

// Writes segment `index` (payload [offset, offset + size) of the super-packet `p`) to `out`:
// headers copied and fixed (lengths, IPv4 ID and checksum, sequence number, flags, TCP checksum).
size_t BuildSegment(const uint8_t* p, bool v6, size_t ip_len, size_t header_len, size_t offset,
                    size_t size, uint32_t index, bool last, uint8_t* out) {
  std::memcpy(out, p, header_len);
  std::memcpy(out + header_len, p + header_len + offset, size);
  const size_t total = header_len + size;
  uint8_t* tcp = out + ip_len;
  const size_t tcp_len = total - ip_len;
  if (v6) {
    Store16(out + 4, static_cast<uint16_t>(tcp_len));
  } else {
    Store16(out + 2, static_cast<uint16_t>(total));
    Store16(out + 4, static_cast<uint16_t>(Load16(p + 4) + index));
    Store16(out + 10, 0);
    Store16(out + 10, ChecksumFold(ChecksumAdd(0, out, ip_len)));
  }
  uint32_t seq;
  std::memcpy(&seq, p + ip_len + 4, 4);
  seq = htonl(ntohl(seq) + static_cast<uint32_t>(offset));
  std::memcpy(tcp + 4, &seq, 4);
  if (!last) tcp[13] &= static_cast<uint8_t>(~(0x01 | 0x08));  // FIN, PSH only on the last
  if (index > 0) tcp[13] &= static_cast<uint8_t>(~0x80);       // CWR only on the first
  // Pseudo-header: addresses, protocol, TCP length.
  uint32_t sum = v6 ? ChecksumAdd(0, out + 8, 32) : ChecksumAdd(0, out + 12, 8);
  sum += IPPROTO_TCP;
  sum += static_cast<uint32_t>(tcp_len & 0xffff) + static_cast<uint32_t>(tcp_len >> 16);
  Store16(tcp + 16, 0);
  sum = ChecksumAdd(sum, tcp, tcp_len);
  Store16(tcp + 16, ChecksumFold(sum));
  return total;
}

// What coalescing needs to know about one TCP packet.
struct TcpView {
  bool v6 = false;
  size_t ip_len = 0, header_len = 0, payload = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
};

constexpr uint8_t kAck = 0x10, kPsh = 0x08;
// Most packets one coalesced write carries (the kernel's MAX_SKB_FRAGS-ish bound is larger).
constexpr size_t kMaxCoalesce = 64;

// A TCP packet that may take part in coalescing: no IP options or fragments, no extension
// headers, lengths consistent with the buffer.
bool ViewTcp(const uint8_t* p, size_t len, TcpView* v) {
  if (!ParseTcp(p, len, &v->v6, &v->ip_len, &v->header_len)) return false;
  if (v->v6) {
    if (40u + Load16(p + 4) != len) return false;
  } else {
    if (v->ip_len != 20 || Load16(p + 2) != len || (p[6] & 0x3f) != 0 || p[7] != 0) return false;
  }
  v->payload = len - v->header_len;
  uint32_t seq;
  std::memcpy(&seq, p + v->ip_len + 4, 4);
  v->seq = ntohl(seq);
  v->flags = p[v->ip_len + 13];
  return true;
}

// Whether `n` continues the flow of `f` (same addresses, ports, IP fields, ACK, TCP options).
bool SameFlow(const uint8_t* f, const TcpView& fv, const uint8_t* n, const TcpView& nv) {
  if (fv.v6 != nv.v6 || fv.header_len != nv.header_len) return false;
  if (fv.v6) {
    if (std::memcmp(f, n, 4) != 0 || f[7] != n[7] || std::memcmp(f + 8, n + 8, 32) != 0) {
      return false;
    }
  } else {
    if (f[1] != n[1] || f[6] != n[6] || f[8] != n[8] || std::memcmp(f + 12, n + 12, 8) != 0) {
      return false;
    }
  }
  const uint8_t* ft = f + fv.ip_len;
  const uint8_t* nt = n + nv.ip_len;
  return std::memcmp(ft, nt, 4) == 0 &&          // ports
         std::memcmp(ft + 8, nt + 8, 4) == 0 &&  // acknowledgement number
         ft[12] == nt[12] &&                     // header length
         std::memcmp(ft + 20, nt + 20, fv.header_len - fv.ip_len - 20) == 0;  // options
}

}  // namespace

uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len) {
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 1 < len; i += 2) s += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < len) s += static_cast<uint32_t>(data[i] << 8);
  while (s >> 32) s = (s & 0xffffffffu) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool SegmentTcpForTest(const uint8_t* packet, size_t len, size_t segment_size,
                       std::vector<std::vector<uint8_t>>* out) {
  bool v6;
  size_t ip_len, header_len;
  if (!ParseTcp(packet, len, &v6, &ip_len, &header_len) || segment_size == 0) return false;
  const size_t payload = len - header_len;
  uint32_t index = 0;
  for (size_t off = 0; off < payload; off += segment_size, ++index) {
    const size_t size = std::min(segment_size, payload - off);
    std::vector<uint8_t> seg(header_len + size);
    BuildSegment(packet, v6, ip_len, header_len, off, size, index, off + size == payload,
                 seg.data());
    out->push_back(std::move(seg));
  }
  return true;
}

Result<std::unique_ptr<LinuxTun>> LinuxTun::Open(std::string_view name, int mtu, bool offload) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Error(StrCat("interface name \"", name, "\" must be 1 to ", IFNAMSIZ - 1, " bytes"));
  }
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open /dev/net/tun", errno);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  // IFF_NO_PI: packets start at the IP header (after the virtio header with offloads).
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    return Error::FromErrno(StrCat("TUNSETIFF ", name), errno);
  }
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno("socket for SIOCSIFMTU", errno);
  ifreq mtu_req{};
  std::memcpy(mtu_req.ifr_name, actual.data(), actual.size());
  mtu_req.ifr_mtu = mtu;
  if (::ioctl(sock.get(), SIOCSIFMTU, &mtu_req) < 0) {
    return Error::FromErrno(StrCat("SIOCSIFMTU ", mtu, " dev ", actual), errno);
  }
  std::unique_ptr<LinuxTun> tun(new LinuxTun(std::move(fd), std::move(actual)));
  if (offload) {
    tun->vnet_hdr_ = true;
    // Without TSO the virtio header stays (all zero); checksums may still be left to us.
    const unsigned flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    tun->offload_ = ::ioctl(tun->fd_.get(), TUNSETOFFLOAD, flags) == 0;
    tun->super_.reset(new uint8_t[kSuperPacketSize]);
  }
  return tun;
}

size_t LinuxTun::EmitSegments(std::span<Packet> out) {
  const uint8_t* p = super_.get() + sizeof(virtio_net_hdr);
  bool v6;
  size_t ip_len, header_len;
  ParseTcp(p, super_len_, &v6, &ip_len, &header_len);  // validated when the packet was taken
  const size_t payload = super_len_ - header_len;
  size_t n = 0;
  while (next_offset_ < payload && n < out.size()) {
    const size_t size = std::min(segment_size_, payload - next_offset_);
    if (header_len + size > out[n].capacity) {
      ++offload_errors_;
      next_offset_ = payload;
      break;
    }
    out[n].size = BuildSegment(p, v6, ip_len, header_len, next_offset_, size, segment_index_,
                               next_offset_ + size == payload, out[n].data);
    next_offset_ += size;
    ++segment_index_;
    ++n;
  }
  return n;
}

size_t LinuxTun::TakeOffloaded(size_t len, std::span<Packet> out) {
  virtio_net_hdr h;
  std::memcpy(&h, super_.get(), sizeof(h));
  uint8_t* p = super_.get() + sizeof(h);
  const size_t plen = len - sizeof(h);
  const uint8_t gso = h.gso_type & static_cast<uint8_t>(~VIRTIO_NET_HDR_GSO_ECN);
  if (gso == VIRTIO_NET_HDR_GSO_NONE) {
    if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      // The checksum field holds the pseudo-header sum; finish it over the rest.
      const size_t start = h.csum_start, field = start + h.csum_offset;
      if (start >= plen || field + 2 > plen) {
        ++offload_errors_;
        return 0;
      }
      uint16_t csum = ChecksumFold(ChecksumAdd(0, p + start, plen - start));
      Store16(p + field, csum == 0 ? 0xffff : csum);
    }
    if (plen > out[0].capacity) {
      ++offload_errors_;
      return 0;
    }
    std::memcpy(out[0].data, p, plen);
    out[0].size = plen;
    return 1;
  }
  bool v6;
  size_t ip_len, header_len;
  if ((gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) || h.gso_size == 0 ||
      !ParseTcp(p, plen, &v6, &ip_len, &header_len)) {
    ++offload_errors_;
    return 0;
  }
  super_len_ = plen;
  header_len_ = header_len;
  segment_size_ = h.gso_size;
  next_offset_ = 0;
  segment_index_ = 0;
  return EmitSegments(out);
}

Result<size_t> LinuxTun::ReadBatch(std::span<Packet> packets) {
  size_t n = 0;
  while (n < packets.size()) {
    if (vnet_hdr_ && super_len_ > 0 && next_offset_ < super_len_ - header_len_) {
      n += EmitSegments(packets.subspan(n));
      continue;
    }
    super_len_ = 0;
    uint8_t* dst = vnet_hdr_ ? super_.get() : packets[n].data;
    const size_t cap = vnet_hdr_ ? kSuperPacketSize : packets[n].capacity;
    ssize_t r = ::read(fd_.get(), dst, cap);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (n > 0) break;  // report what we have; the error comes back on the next call
      return Error::FromErrno(StrCat("read ", name_), errno);
    }
    if (!vnet_hdr_) {
      packets[n++].size = static_cast<size_t>(r);
      continue;
    }
    if (static_cast<size_t>(r) <= sizeof(virtio_net_hdr)) continue;
    n += TakeOffloaded(static_cast<size_t>(r), packets.subspan(n));
  }
  return n;
}

Status LinuxTun::WriteVector(iovec* iov, int count, size_t* refused) {
  for (;;) {
    if (::writev(fd_.get(), iov, count) >= 0) return Ok();
    if (errno == EINTR) continue;
    // The kernel refuses packets it cannot parse (EINVAL) and drops on a full queue (EAGAIN /
    // ENOBUFS); neither is the device failing.
    if (errno == EINVAL || errno == EAGAIN || errno == ENOBUFS || errno == EMSGSIZE) {
      ++*refused;
      return Ok();
    }
    return Error::FromErrno(StrCat("write ", name_), errno);
  }
}

Status LinuxTun::WriteBatch(std::span<const Packet> packets, size_t* refused) {
  static const virtio_net_hdr kNoOffload{};
  if (!vnet_hdr_) {
    for (const Packet& p : packets) {
      iovec iov{p.data, p.size};
      Status s = WriteVector(&iov, 1, refused);
      if (!s.ok()) return s;
    }
    return Ok();
  }
  size_t i = 0;
  while (i < packets.size()) {
    // With offloads, a run of segments of one TCP flow (in order, equal sizes, plain ACKs) is
    // written as one super-packet: the receiving stack then handles one packet instead of dozens.
    TcpView first;
    size_t j = i + 1;
    size_t total = packets[i].size;
    if (offload_ && ViewTcp(packets[i].data, packets[i].size, &first) && first.payload > 0 &&
        first.flags == kAck) {
      uint32_t next_seq = first.seq + static_cast<uint32_t>(first.payload);
      while (j < packets.size() && j - i < kMaxCoalesce) {
        TcpView v;
        const Packet& n = packets[j];
        if (!ViewTcp(n.data, n.size, &v) || v.payload == 0 || v.payload > first.payload ||
            (v.flags & static_cast<uint8_t>(~kPsh)) != kAck || v.seq != next_seq ||
            total + v.payload > 65535 || !SameFlow(packets[i].data, first, n.data, v)) {
          break;
        }
        total += v.payload;
        next_seq += static_cast<uint32_t>(v.payload);
        ++j;
        if (v.payload < first.payload || (v.flags & kPsh)) break;  // a run ends here
      }
    }
    if (j - i == 1) {
      iovec iov[2] = {{const_cast<virtio_net_hdr*>(&kNoOffload), sizeof(kNoOffload)},
                      {packets[i].data, packets[i].size}};
      Status s = WriteVector(iov, 2, refused);
      if (!s.ok()) return s;
      ++i;
      continue;
    }
    // Rewrite the first packet's headers for the whole run; the kernel segments it again if it
    // forwards it, and finishes the TCP checksum from the pseudo-header sum left in the field.
    uint8_t* h = packets[i].data;
    uint8_t* tcp = h + first.ip_len;
    const size_t tcp_len = total - first.ip_len;
    if (first.v6) {
      Store16(h + 4, static_cast<uint16_t>(tcp_len));
    } else {
      Store16(h + 2, static_cast<uint16_t>(total));
      Store16(h + 10, 0);
      Store16(h + 10, ChecksumFold(ChecksumAdd(0, h, first.ip_len)));
    }
    const uint8_t last_flags = packets[j - 1].data[first.ip_len + 13];
    tcp[13] |= last_flags & kPsh;
    uint32_t sum = first.v6 ? ChecksumAdd(0, h + 8, 32) : ChecksumAdd(0, h + 12, 8);
    sum += IPPROTO_TCP;
    sum += static_cast<uint32_t>(tcp_len & 0xffff) + static_cast<uint32_t>(tcp_len >> 16);
    Store16(tcp + 16, static_cast<uint16_t>(~ChecksumFold(sum)));  // folded, not complemented
    virtio_net_hdr vh{};
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.gso_type = first.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr_len = static_cast<uint16_t>(first.header_len);
    vh.gso_size = static_cast<uint16_t>(first.payload);
    vh.csum_start = static_cast<uint16_t>(first.ip_len);
    vh.csum_offset = 16;
    std::array<iovec, kMaxCoalesce + 1> iov;
    iov[0] = {&vh, sizeof(vh)};
    iov[1] = {packets[i].data, packets[i].size};
    for (size_t k = i + 1; k < j; ++k) {
      TcpView v;
      ViewTcp(packets[k].data, packets[k].size, &v);
      iov[k - i + 1] = {packets[k].data + v.header_len, v.payload};
    }
    Status s = WriteVector(iov.data(), static_cast<int>(j - i + 1), refused);
    if (!s.ok()) return s;
    ++coalesced_writes_;
    i = j;
  }
  return Ok();
}

}  // namespace wgate::dataplane
