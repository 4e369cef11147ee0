#include "dataplane/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/strings.h"

namespace wgate::dataplane {

namespace {

const char* FamilyName(IpAddress::Family f) { return f == IpAddress::Family::kV4 ? "v4" : "v6"; }

// Errors that concern one datagram's destination, not the socket.
bool IsPerDatagramError(int err) {
  switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
    case EAGAIN:
    case ENOBUFS:
    case EMSGSIZE:
    case EPERM:  // a firewall said no
    case EINVAL:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> UdpSocket::Bind(IpAddress::Family family, uint16_t port,
                                                   uint32_t fwmark) {
  const bool v6 = family == IpAddress::Family::kV6;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno(StrCat("socket udp", FamilyName(family)), errno);
  int one = 1;
  if (v6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) {
    return Error::FromErrno("setsockopt IPV6_V6ONLY", errno);
  }
  // Larger buffers absorb bursts between batches; best effort (the limit is rmem_max).
  int buf = 4 << 20;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
  if (fwmark != 0 && ::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0) {
    return Error::FromErrno(StrCat("setsockopt SO_MARK ", fwmark, " udp", FamilyName(family)),
                            errno);
  }
  SocketAddress local{v6 ? *IpAddress::Parse("::") : IpAddress::V4(0u), port};
  sockaddr_storage ss;
  socklen_t len = local.ToSockaddr(&ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return Error::FromErrno(StrCat("bind udp", FamilyName(family), " port ", port), errno);
  }
  len = sizeof(ss);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) {
    return Error::FromErrno("getsockname", errno);
  }
  auto bound = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  WGATE_CHECK(bound.has_value());
  std::unique_ptr<UdpSocket> s(new UdpSocket(std::move(fd), family, bound->port));
  // Offloads, where the kernel has them (UDP_SEGMENT since 4.18, UDP_GRO since 5.0).
  int segment = 0;
  socklen_t segment_len = sizeof(segment);
  s->gso_ = ::getsockopt(s->fd(), SOL_UDP, UDP_SEGMENT, &segment, &segment_len) == 0;
  s->gro_ = ::setsockopt(s->fd(), SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
  return s;
}

Status UdpSocket::SetMark(uint32_t fwmark) {
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0) {
    return Error::FromErrno(StrCat("setsockopt SO_MARK ", fwmark), errno);
  }
  return Ok();
}

void UdpSocket::DisableOffloads() {
  int zero = 0;
  (void)::setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &zero, sizeof(zero));
  gso_ = gro_ = false;
}

Result<size_t> UdpSocket::RecvBatch(std::span<Packet> buffers, std::span<Packet> datagrams,
                                    size_t* overflow) {
  const size_t n = std::min({buffers.size(), datagrams.size(), kMaxBatch});
  std::array<mmsghdr, kMaxBatch> msgs;
  std::array<iovec, kMaxBatch> iovs;
  std::array<sockaddr_storage, kMaxBatch> addrs;
  alignas(cmsghdr) std::array<std::array<uint8_t, CMSG_SPACE(sizeof(int))>, kMaxBatch> controls;
  for (size_t i = 0; i < n; ++i) {
    iovs[i] = {buffers[i].data, buffers[i].capacity};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (gro_) {
      msgs[i].msg_hdr.msg_control = controls[i].data();
      msgs[i].msg_hdr.msg_controllen = controls[i].size();
    }
  }
  int r;
  do {
    r = ::recvmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    // ICMP errors surface as ECONNREFUSED etc. on the next receive; they are not fatal.
    if (errno == EAGAIN || IsPerDatagramError(errno)) return size_t{0};
    return Error::FromErrno(StrCat("recvmmsg udp", FamilyName(family_)), errno);
  }
  size_t out = 0;
  for (int i = 0; i < r; ++i) {
    msghdr& h = msgs[i].msg_hdr;
    auto from =
        SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&addrs[i]), h.msg_namelen);
    const SocketAddress source = from.value_or(SocketAddress{});
    size_t len = msgs[i].msg_len;
    if (h.msg_flags & MSG_TRUNC) {
      if (out == datagrams.size()) {
        ++*overflow;
        continue;
      }
      datagrams[out++] =
          Packet{buffers[i].data, buffers[i].capacity + 1, buffers[i].capacity, source};
      continue;
    }
    size_t segment = len;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); gro_ && c; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int gso_size;
        std::memcpy(&gso_size, CMSG_DATA(c), sizeof(gso_size));
        if (gso_size > 0) segment = static_cast<size_t>(gso_size);
      }
    }
    for (size_t off = 0; off < len || (len == 0 && off == 0); off += segment) {
      if (out == datagrams.size()) {
        *overflow += (len - off + segment - 1) / segment;
        break;
      }
      const size_t size = std::min(segment, len - off);
      datagrams[out++] = Packet{buffers[i].data + off, size, size, source};
      if (len == 0) break;
    }
  }
  return out;
}

int UdpSocket::SendMessages(std::span<const Packet> packets, size_t* first, bool* first_gso) {
  std::array<mmsghdr, kMaxBatch> msgs;
  std::array<iovec, kMaxBatch> iovs;
  std::array<sockaddr_storage, kMaxBatch> addrs;
  std::array<size_t, kMaxBatch> counts;
  alignas(cmsghdr) std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, kMaxBatch>
      controls;
  // The largest UDP payload a GSO message may carry in total.
  constexpr size_t kMaxGsoBytes = 65000;
  const size_t n = std::min(packets.size(), kMaxBatch);
  size_t i = 0, m = 0;
  while (i < n) {
    const size_t start = i;
    const size_t size = packets[i].size;
    size_t total = size;
    iovs[i] = {packets[i].data, packets[i].size};
    ++i;
    if (gso_) {
      // A run of equal-sized datagrams to one address; a shorter one may end it.
      while (i < n && i - start < kMaxGsoSegments && packets[i].addr == packets[start].addr &&
             packets[i].size <= size && packets[i].size > 0 &&
             total + packets[i].size <= kMaxGsoBytes) {
        iovs[i] = {packets[i].data, packets[i].size};
        total += packets[i].size;
        ++i;
        if (packets[i - 1].size < size) break;
      }
    }
    msghdr& h = msgs[m].msg_hdr;
    msgs[m] = {};
    h.msg_name = &addrs[m];
    h.msg_namelen = packets[start].addr.ToSockaddr(&addrs[m]);
    h.msg_iov = &iovs[start];
    h.msg_iovlen = i - start;
    if (i - start > 1) {
      h.msg_control = controls[m].data();
      h.msg_controllen = controls[m].size();
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const uint16_t seg = static_cast<uint16_t>(size);
      std::memcpy(CMSG_DATA(c), &seg, sizeof(seg));
    }
    counts[m++] = i - start;
  }
  *first = counts[0];
  *first_gso = counts[0] > 1;
  const int r = ::sendmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(m), 0);
  if (r < 0) return -1;
  size_t sent = 0;
  for (int k = 0; k < r; ++k) sent += counts[k];
  return static_cast<int>(sent);
}

Status UdpSocket::SendBatch(std::span<const Packet> packets, size_t* dropped) {
  size_t done = 0;
  while (done < packets.size()) {
    size_t first = 0;
    bool first_gso = false;
    const int r = SendMessages(packets.subspan(done), &first, &first_gso);
    if (r >= 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // The socket buffer is full: wait for room rather than drop a whole batch (a blocking
      // send here is what applies backpressure to the tunnel reader).
      pollfd pfd{fd_.get(), POLLOUT, 0};
      (void)::poll(&pfd, 1, 100);
      continue;
    }
    if (first_gso && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
      // The route's device cannot take UDP GSO (no checksum offload): stop using it.
      gso_ = false;
      continue;
    }
    if (IsPerDatagramError(errno)) {
      // The first message failed on its own: skip its datagrams.
      *dropped += first;
      done += first;
      continue;
    }
    return Error::FromErrno(StrCat("sendmmsg udp", FamilyName(family_)), errno);
  }
  return Ok();
}

Result<SocketPair> BindPair(uint16_t port, uint32_t fwmark) {
  constexpr int kAttempts = 100;
  Error last("");
  for (int attempt = 0; attempt < (port == 0 ? kAttempts : 1); ++attempt) {
    auto v4 = UdpSocket::Bind(IpAddress::Family::kV4, port, fwmark);
    if (!v4.ok()) return std::move(v4).error();
    const uint16_t chosen = (*v4)->port();
    auto v6 = UdpSocket::Bind(IpAddress::Family::kV6, chosen, fwmark);
    if (v6.ok()) {
      return SocketPair{std::move(*v4), std::move(*v6), chosen};
    }
    if (v6.error().sys_errno() == EAFNOSUPPORT) {
      return SocketPair{std::move(*v4), nullptr, chosen};
    }
    last = std::move(v6).error();
    if (last.sys_errno() != EADDRINUSE) break;
  }
  return last;
}

}  // namespace wgate::dataplane
