#include "dataplane/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

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
  return std::unique_ptr<UdpSocket>(new UdpSocket(std::move(fd), family, bound->port));
}

Status UdpSocket::SetMark(uint32_t fwmark) {
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0) {
    return Error::FromErrno(StrCat("setsockopt SO_MARK ", fwmark), errno);
  }
  return Ok();
}

Result<size_t> UdpSocket::RecvBatch(std::span<Packet> packets) {
  const size_t n = std::min(packets.size(), kMaxBatch);
  std::array<mmsghdr, kMaxBatch> msgs;
  std::array<iovec, kMaxBatch> iovs;
  std::array<sockaddr_storage, kMaxBatch> addrs;
  for (size_t i = 0; i < n; ++i) {
    iovs[i] = {packets[i].data, packets[i].capacity};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
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
  for (int i = 0; i < r; ++i) {
    Packet& p = packets[i];
    p.size = msgs[i].msg_len;
    if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) p.size = p.capacity + 1;
    auto from = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&addrs[i]),
                                            msgs[i].msg_hdr.msg_namelen);
    p.addr = from.value_or(SocketAddress{});
  }
  return static_cast<size_t>(r);
}

Status UdpSocket::SendBatch(std::span<const Packet> packets, size_t* dropped) {
  size_t done = 0;
  while (done < packets.size()) {
    const size_t n = std::min(packets.size() - done, kMaxBatch);
    std::array<mmsghdr, kMaxBatch> msgs;
    std::array<iovec, kMaxBatch> iovs;
    std::array<sockaddr_storage, kMaxBatch> addrs;
    for (size_t i = 0; i < n; ++i) {
      const Packet& p = packets[done + i];
      iovs[i] = {p.data, p.size};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = p.addr.ToSockaddr(&addrs[i]);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = ::sendmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // The socket buffer is full: wait for room rather than drop a whole batch (a blocking
        // send here is what applies backpressure to the tunnel reader).
        pollfd pfd{fd_.get(), POLLOUT, 0};
        (void)::poll(&pfd, 1, 100);
        continue;
      }
      if (IsPerDatagramError(errno)) {
        // The first datagram of the batch failed on its own: skip it.
        ++*dropped;
        ++done;
        continue;
      }
      return Error::FromErrno(StrCat("sendmmsg udp", FamilyName(family_)), errno);
    }
    done += static_cast<size_t>(r);
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
