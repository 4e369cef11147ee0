#include "dataplane/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/strings.h"

namespace wgate::dataplane {

Result<std::unique_ptr<LinuxTun>> LinuxTun::Open(std::string_view name, int mtu) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Error(StrCat("interface name \"", name, "\" must be 1 to ", IFNAMSIZ - 1, " bytes"));
  }
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open /dev/net/tun", errno);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  // IFF_NO_PI: packets start at the IP header. IFF_VNET_HDR would go here with TUNSETOFFLOAD.
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
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
  return std::unique_ptr<LinuxTun>(new LinuxTun(std::move(fd), std::move(actual)));
}

Result<size_t> LinuxTun::ReadBatch(std::span<Packet> packets) {
  size_t n = 0;
  while (n < packets.size()) {
    ssize_t r = ::read(fd_.get(), packets[n].data, packets[n].capacity);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (n > 0) break;  // report what we have; the error comes back on the next call
      return Error::FromErrno(StrCat("read ", name_), errno);
    }
    packets[n].size = static_cast<size_t>(r);
    ++n;
  }
  return n;
}

Status LinuxTun::WriteBatch(std::span<const Packet> packets, size_t* refused) {
  for (const Packet& p : packets) {
    for (;;) {
      ssize_t r = ::write(fd_.get(), p.data, p.size);
      if (r >= 0) break;
      if (errno == EINTR) continue;
      // The kernel refuses packets it cannot parse (EINVAL) and drops on a full queue (EAGAIN /
      // ENOBUFS); neither is the device failing.
      if (errno == EINVAL || errno == EAGAIN || errno == ENOBUFS || errno == EMSGSIZE) {
        ++*refused;
        break;
      }
      return Error::FromErrno(StrCat("write ", name_), errno);
    }
  }
  return Ok();
}

}  // namespace wgate::dataplane
