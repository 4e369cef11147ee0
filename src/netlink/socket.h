// RtnlSocket: one NETLINK_ROUTE socket that sends requests and collects their answers.
//
// Requests carry increasing sequence numbers; answers to other numbers (from a request abandoned
// after an error) are skipped. Every state change is acknowledged (NLM_F_ACK), so success means
// the kernel said so. Extended acks are on, so kernel error text reaches the caller.
//
// The socket acts on the network namespace it was opened in, whatever thread uses it later.
// Not thread-safe: one exchange at a time; callers serialise. A request socket gives up on an
// answer after kReplyTimeoutSeconds (the kernel always answers; this only bounds a stuck daemon).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "base/error.h"

struct mnl_socket;
struct nlmsghdr;

namespace wgate::netlink {

class RtnlSocket {
 public:
  static constexpr int kReplyTimeoutSeconds = 10;

  // Opens a socket in the calling thread's network namespace. `groups` (RTMGRP_* bits) subscribes
  // to notifications; 0 for a request socket.
  static Result<std::unique_ptr<RtnlSocket>> Open(uint32_t groups = 0);
  ~RtnlSocket();
  RtnlSocket(const RtnlSocket&) = delete;
  RtnlSocket& operator=(const RtnlSocket&) = delete;

  int fd() const;
  uint32_t portid() const { return portid_; }

  // Sends `request` (stamped with the next sequence number; NLM_F_ACK added unless it is a dump)
  // and reads until the exchange ends: the ack, or NLMSG_DONE after a dump. Every data message
  // goes to on_message. A kernel error is returned as Error(strerror [(extack)], errno), for the
  // caller to wrap with the operation and object. A dump interrupted by a concurrent change is
  // retried, up to a few times.
  Status Exchange(nlmsghdr* request, const std::function<Status(const nlmsghdr*)>& on_message);

  // Reads one datagram of notifications without blocking, passing each message to on_message.
  // Returns false when nothing was waiting. ENOBUFS (the kernel dropped notifications) is
  // returned as an Error with that errno.
  Result<bool> ReadNotifications(const std::function<Status(const nlmsghdr*)>& on_message);

 private:
  struct ReceiveBuffer;
  RtnlSocket(mnl_socket* nl, uint32_t portid);
  Status ExchangeOnce(nlmsghdr* request, const std::function<Status(const nlmsghdr*)>& on_message);

  mnl_socket* nl_;
  uint32_t portid_;
  std::unique_ptr<ReceiveBuffer> buf_;  // one datagram; 32 KiB, so not on the stack
  uint32_t seq_ = 0;
};

}  // namespace wgate::netlink
