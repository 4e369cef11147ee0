#include "daemon/marked_resolver.h"

#include <ares.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace wgate::daemon {

namespace {

struct Query {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<IpAddress> addresses;
};

int MarkSocket(ares_socket_t fd, int /*type*/, void* data) {
  uint32_t mark = *static_cast<uint32_t*>(data);
  // A socket that cannot be marked would be refused by the firewall anyway; fail it early.
  return ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0 ? ARES_SUCCESS : -1;
}

void OnResult(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* q = static_cast<Query*>(arg);
  q->done = true;
  q->status = status;
  if (status == ARES_SUCCESS && result) {
    for (ares_addrinfo_node* n = result->nodes; n; n = n->ai_next) {
      if (auto a = SocketAddress::FromSockaddr(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen))) {
        if (std::find(q->addresses.begin(), q->addresses.end(), a->ip) == q->addresses.end()) {
          q->addresses.push_back(a->ip);
        }
      }
    }
  }
  if (result) ares_freeaddrinfo(result);
}

}  // namespace

Result<std::vector<IpAddress>> MarkedResolver::Resolve(const std::string& host,
                                                       const std::vector<IpAddress>& resolvers,
                                                       uint32_t fwmark) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) return Error(StrCat("c-ares: ", ares_strerror(init)));
  if (resolvers.empty()) return Error("no resolver to ask");

  ares_options opts{};
  opts.timeout = static_cast<int>(timeout_.count() / 2);
  opts.tries = 2;
  ares_channel channel;
  int rc = ares_init_options(&channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) return Error(StrCat("c-ares: ", ares_strerror(rc)));
  std::vector<ares_addr_port_node> servers(resolvers.size());
  for (size_t i = 0; i < resolvers.size(); ++i) {
    servers[i].next = i + 1 < resolvers.size() ? &servers[i + 1] : nullptr;
    servers[i].family = resolvers[i].is_v4() ? AF_INET : AF_INET6;
    std::memcpy(&servers[i].addr, resolvers[i].data(), resolvers[i].size());
    servers[i].udp_port = port_;
    servers[i].tcp_port = port_;
  }
  ares_set_servers_ports(channel, servers.data());
  ares_set_socket_callback(channel, &MarkSocket, &fwmark);

  Query q;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  ares_getaddrinfo(channel, host.c_str(), nullptr, &hints, &OnResult, &q);
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!q.done && std::chrono::steady_clock::now() < deadline) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short ev = (ARES_GETSOCK_READABLE(bits, i) ? POLLIN : 0) |
                 (ARES_GETSOCK_WRITABLE(bits, i) ? POLLOUT : 0);
      if (ev) fds.push_back({socks[i], ev, 0});
    }
    timeval tv{0, 100000};
    ares_timeout(channel, &tv, &tv);
    int ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    int n = ::poll(fds.data(), fds.size(), std::max(ms, 1));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) {
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (const pollfd& p : fds) {
      ares_process_fd(channel, (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD,
                      (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD);
    }
  }
  ares_destroy(channel);  // calls OnResult with ARES_EDESTRUCTION if still pending
  if (!q.done || q.status == ARES_EDESTRUCTION)
    return Error("timed out asking " + resolvers[0].ToString());
  if (q.status != ARES_SUCCESS) return Error(ares_strerror(q.status));
  if (q.addresses.empty()) return Error("no address");
  return q.addresses;
}

}  // namespace wgate::daemon
