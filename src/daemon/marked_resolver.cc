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
      // c-ares makes nodes of A and AAAA answers only (CNAMEs are followed, other types
      // ignored); FromSockaddr takes only those two families.
      if (auto a = SocketAddress::FromSockaddr(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen))) {
        if (std::find(q->addresses.begin(), q->addresses.end(), a->ip) == q->addresses.end()) {
          q->addresses.push_back(a->ip);
        }
      }
    }
  }
  if (result) ares_freeaddrinfo(result);
}

// Prefixes no VPN server can be at; an answer naming one is someone steering the endpoint.
struct Refused {
  const char* prefix;
  const char* what;
};
constexpr Refused kRefused[] = {
    {"0.0.0.0/8", "an unspecified (\"this network\") address"},
    {"127.0.0.0/8", "a loopback address"},
    {"169.254.0.0/16", "a link-local address"},
    {"224.0.0.0/4", "a multicast address"},
    {"255.255.255.255/32", "the broadcast address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "the loopback address"},
    {"::ffff:0.0.0.0/96", "an IPv4-mapped address"},
    {"fe80::/10", "a link-local address"},
    {"ff00::/8", "a multicast address"},
};

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

Status ValidateHostName(std::string_view host) {
  auto bad = [&](std::string_view why) {
    std::string shown;  // control characters would garble the log line: shown escaped
    for (char c : host.substr(0, 300)) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        shown += StrCat("\\x", "0123456789abcdef"[(c >> 4) & 0xf], "0123456789abcdef"[c & 0xf]);
      } else {
        shown += c;
      }
    }
    return Error(StrCat("\"", shown, "\" is not a DNS host name: ", why));
  };
  std::string_view name = host;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return bad("it is empty");
  if (name.size() > 253) return bad("longer than 253 characters");
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty()) return bad("it has an empty label");
    if (label.size() > 63) return bad(StrCat("label \"", label, "\" is longer than 63 characters"));
    for (char c : label) {
      if (!IsLdh(c)) return bad("only letters, digits, hyphens and dots may appear in it");
    }
    if (label.front() == '-' || label.back() == '-')
      return bad(StrCat("label \"", label, "\" starts or ends with a hyphen"));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return Ok();
}

Status CheckEndpointAddress(std::string_view host, const IpAddress& address) {
  for (const Refused& r : kRefused) {
    if (IpPrefix::Parse(r.prefix)->Contains(address)) {
      return Error(StrCat("\"", host, "\" resolved to ", address.ToString(), ", ", r.what,
                          ", which cannot be a VPN server: refused"));
    }
  }
  return Ok();
}

Result<std::vector<IpAddress>> MarkedResolver::Resolve(const std::string& host,
                                                       const std::vector<IpAddress>& resolvers,
                                                       uint32_t fwmark) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) return Error(StrCat("c-ares: ", ares_strerror(init)));
  if (resolvers.empty()) return Error("no resolver to ask");
  if (Status s = ValidateHostName(host); !s.ok()) return s.error();

  // Every option c-ares would otherwise take from /etc/resolv.conf, /etc/hosts, /etc/host.conf,
  // /etc/nsswitch.conf or the environment (LOCALDOMAIN, RES_OPTIONS, HOSTALIASES) is set here:
  // c-ares reads a source only for options still unset.
  ares_options opts{};
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  opts.timeout = static_cast<int>(timeout_.count() / 2);
  opts.tries = 2;
  opts.ndots = 1;
  opts.domains = nullptr;
  opts.ndomains = 0;
  opts.sortlist = nullptr;
  opts.nsort = 0;
  char lookups[] = "b";  // DNS only, never the hosts file
  opts.lookups = lookups;
  char no_resolv_conf[] = "/dev/null";
  opts.resolvconf_path = no_resolv_conf;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_SORTLIST | ARES_OPT_LOOKUPS | ARES_OPT_RESOLVCONF |
             ARES_OPT_NOROTATE;
  ares_channel channel;
  int rc = ares_init_options(&channel, &opts, mask);
  if (rc != ARES_SUCCESS) return Error(StrCat("c-ares: ", ares_strerror(rc)));
  std::vector<ares_addr_port_node> servers(resolvers.size());
  for (size_t i = 0; i < resolvers.size(); ++i) {
    servers[i].next = i + 1 < resolvers.size() ? &servers[i + 1] : nullptr;
    servers[i].family = resolvers[i].is_v4() ? AF_INET : AF_INET6;
    std::memcpy(&servers[i].addr, resolvers[i].data(), resolvers[i].size());
    servers[i].udp_port = port_;
    servers[i].tcp_port = port_;
  }
  if (int set = ares_set_servers_ports(channel, servers.data()); set != ARES_SUCCESS) {
    ares_destroy(channel);
    return Error(StrCat("c-ares: setting the resolvers: ", ares_strerror(set)));
  }
  ares_set_socket_callback(channel, &MarkSocket, &fwmark);

  Query q;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  // The absolute name: a trailing dot leaves c-ares nothing to append.
  std::string absolute = host.back() == '.' ? host : host + ".";
  ares_getaddrinfo(channel, absolute.c_str(), nullptr, &hints, &OnResult, &q);
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
  for (const IpAddress& a : q.addresses) {
    if (Status s = CheckEndpointAddress(host, a); !s.ok()) return s.error();
  }
  if (q.addresses.size() > kMaxEndpointAddresses) q.addresses.resize(kMaxEndpointAddresses);
  return q.addresses;
}

}  // namespace wgate::daemon
