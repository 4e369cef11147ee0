#include "netlink/socket.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <optional>

#include "netlink/message.h"

namespace wgate::netlink {
namespace {

// Big enough for any rtnetlink dump datagram: the kernel sizes dump skbs up to 32 KiB for
// readers with large buffers, and a truncated datagram would lose messages.
constexpr size_t kReceiveBufferSize = 32768;
constexpr int kDumpAttempts = 5;

}  // namespace

struct alignas(NLMSG_ALIGNTO) RtnlSocket::ReceiveBuffer {
  uint8_t bytes[kReceiveBufferSize];
};

RtnlSocket::RtnlSocket(mnl_socket* nl, uint32_t portid)
    : nl_(nl), portid_(portid), buf_(std::make_unique<ReceiveBuffer>()) {}

Result<std::unique_ptr<RtnlSocket>> RtnlSocket::Open(uint32_t groups) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return Error::FromErrno("socket(NETLINK_ROUTE)", errno);
  std::unique_ptr<RtnlSocket> sock(new RtnlSocket(nl, 0));
  // Best effort: without them errors lose the kernel's explanation or echo the whole request,
  // which is still correct.
  int one = 1;
  (void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
  if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
    return Error::FromErrno("bind(NETLINK_ROUTE)", errno);
  }
  if (groups == 0) {
    const timeval timeout{kReplyTimeoutSeconds, 0};
    if (setsockopt(sock->fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
      return Error::FromErrno("setsockopt(SO_RCVTIMEO)", errno);
    }
  }
  sock->portid_ = mnl_socket_get_portid(nl);
  return sock;
}

RtnlSocket::~RtnlSocket() { mnl_socket_close(nl_); }

int RtnlSocket::fd() const { return mnl_socket_get_fd(nl_); }

Status RtnlSocket::Exchange(nlmsghdr* request,
                            const std::function<Status(const nlmsghdr*)>& on_message) {
  const bool dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) request->nlmsg_flags |= NLM_F_ACK;
  for (int attempt = 1;; ++attempt) {
    Status s = ExchangeOnce(request, on_message);
    if (s || !dump || s.error().sys_errno() != EINTR || attempt == kDumpAttempts) return s;
  }
}

Status RtnlSocket::ExchangeOnce(nlmsghdr* request,
                                const std::function<Status(const nlmsghdr*)>& on_message) {
  request->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(nl_, request, request->nlmsg_len) < 0) {
    return Error::FromErrno("sendto", errno);
  }
  // A failure inside a dump (our callback, an interrupted dump) must still drain the rest of
  // it: the next exchange would otherwise read its tail. Those tail messages have the old
  // sequence number and are skipped, so remembering the first error and reading on is enough.
  std::optional<Error> first_error;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf_->bytes, sizeof(buf_->bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("recvfrom", errno);
    }
    Result<ReplyState> state =
        WalkReplies(std::span<const uint8_t>(buf_->bytes, static_cast<size_t>(n)), seq_, portid_,
                    [&](const nlmsghdr* nlh) -> Status {
                      if (first_error) return Ok();
                      if (Status s = on_message(nlh); !s) first_error = s.error();
                      return Ok();
                    });
    if (!state) return first_error ? *first_error : state.error();
    if (*state == ReplyState::kDone) return first_error ? Status(*first_error) : Ok();
  }
}

Result<bool> RtnlSocket::ReadNotifications(
    const std::function<Status(const nlmsghdr*)>& on_message) {
  const ssize_t n = recv(fd(), buf_->bytes, sizeof(buf_->bytes), MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
    return Error::FromErrno("recv(netlink notifications)", errno);
  }
  int remaining = static_cast<int>(n);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_->bytes);
  for (; mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (Status s = on_message(nlh); !s) return s.error();
  }
  return true;
}

}  // namespace wgate::netlink
