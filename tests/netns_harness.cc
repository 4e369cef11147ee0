#include "netns_harness.h"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

extern char** environ;

namespace wgate::netns {

std::string RunPrefix() { return StrCat("wgt", getpid(), "-"); }

std::string Unavailable() {
  if (geteuid() != 0) return "needs root (network namespaces, nftables)";
  if (!Command({"ip", "-V"}).ok()) return "no ip command";
  if (!Command({"nft", "--version"}).ok()) return "no nft command";
  return "";
}

Result<std::string> Command(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Error::FromErrno("pipe2", errno);
  UniqueFd read_end(pipefd[0]), write_end(pipefd[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
  if (rc != 0) return Error::FromErrno(StrCat("spawn `", line, "`"), rc);

  std::string output;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(read_end.get(), buf, sizeof(buf));
    if (n > 0) {
      output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(StrCat("`", line, "` failed (status ", status, "): ", TrimSpace(output)));
  }
  return output;
}

Result<std::unique_ptr<Namespace>> Namespace::Create(std::string_view role) {
  std::string name = StrCat(RunPrefix(), role);
  if (Result<std::string> r = Command({"ip", "netns", "add", name}); !r) return r.error();
  std::unique_ptr<Namespace> ns(new Namespace(name));
  if (Result<std::string> r = ns->Ip({"link", "set", "lo", "up"}); !r) return r.error();
  return ns;
}

Namespace::~Namespace() {
  // Best effort: a failure here leaves a namespace named with our prefix for `ip netns list`.
  (void)Command({"ip", "netns", "del", name_});
}

Status Namespace::Run(const std::function<void()>& fn) {
  Status result;
  std::thread worker([&] {
    const std::string path = StrCat("/run/netns/", name_);
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      result = Error::FromErrno(StrCat("open ", path), errno);
      return;
    }
    if (setns(fd.get(), CLONE_NEWNET) != 0) {
      result = Error::FromErrno(StrCat("setns ", path), errno);
      return;  // never run fn in the wrong namespace
    }
    fn();
  });
  worker.join();
  return result;
}

Result<std::string> Namespace::Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip", "-n", name_};
  argv.insert(argv.end(), args.begin(), args.end());
  return Command(argv);
}

Result<std::string> Namespace::Exec(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return Command(full);
}

Result<UniqueFd> Namespace::Socket(int domain, int type, int protocol) {
  int fd = -1, err = 0;
  Status ran = Run([&] {
    fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    err = errno;
  });
  if (!ran) return ran.error();
  if (fd < 0) return Error::FromErrno(StrCat("socket in ", name_), err);
  return UniqueFd(fd);
}

Status AddVeth(Namespace& a, std::string_view a_if, Namespace& b, std::string_view b_if) {
  // Created directly inside `a` with its peer inside `b`: nothing appears in our own namespace.
  if (Result<std::string> r = a.Ip({"link", "add", std::string(a_if), "type", "veth", "peer",
                                    "name", std::string(b_if), "netns", b.name()});
      !r) {
    return r.error();
  }
  if (Result<std::string> r = a.Ip({"link", "set", std::string(a_if), "up"}); !r) return r.error();
  if (Result<std::string> r = b.Ip({"link", "set", std::string(b_if), "up"}); !r) return r.error();
  return Ok();
}

bool Packet::IsIpv6LinkControl() const {
  if (ethertype != ETH_P_IPV6) return false;
  if (protocol == 0) return true;  // hop-by-hop options: MLD reports
  return protocol == IPPROTO_ICMPV6 && icmp_type >= 130 && icmp_type <= 143;
}

std::string Packet::ToString() const {
  if (!IsIp()) return StrCat("ethertype 0x", std::hex, ethertype);
  std::string proto = protocol == IPPROTO_UDP      ? "udp"
                      : protocol == IPPROTO_TCP    ? "tcp"
                      : protocol == IPPROTO_ICMP   ? "icmp"
                      : protocol == IPPROTO_ICMPV6 ? "icmpv6"
                                                   : StrCat("proto ", static_cast<int>(protocol));
  if (protocol == IPPROTO_UDP || protocol == IPPROTO_TCP) {
    return StrCat(proto, " ", SocketAddress{*src, sport}.ToString(), " > ",
                  SocketAddress{*dst, dport}.ToString());
  }
  return StrCat(proto, " type ", static_cast<int>(icmp_type), " ", src->ToString(), " > ",
                dst->ToString());
}

namespace {

std::optional<Packet> ParseFrame(const uint8_t* p, size_t n) {
  if (n < 14) return std::nullopt;
  Packet pkt;
  pkt.ethertype = static_cast<uint16_t>(p[12] << 8 | p[13]);
  p += 14;
  n -= 14;
  const uint8_t* l4 = nullptr;
  size_t l4_len = 0;
  if (pkt.ethertype == ETH_P_IP && n >= 20) {
    const size_t ihl = (p[0] & 0x0f) * 4u;
    pkt.protocol = p[9];
    pkt.src = IpAddress::V4(p + 12);
    pkt.dst = IpAddress::V4(p + 16);
    if (n >= ihl) {
      l4 = p + ihl;
      l4_len = n - ihl;
    }
  } else if (pkt.ethertype == ETH_P_IPV6 && n >= 40) {
    pkt.protocol = p[6];
    pkt.src = IpAddress::V6(p + 8);
    pkt.dst = IpAddress::V6(p + 24);
    l4 = p + 40;
    l4_len = n - 40;
  }
  if (l4 != nullptr) {
    if ((pkt.protocol == IPPROTO_UDP || pkt.protocol == IPPROTO_TCP) && l4_len >= 4) {
      pkt.sport = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
      pkt.dport = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
    } else if ((pkt.protocol == IPPROTO_ICMP || pkt.protocol == IPPROTO_ICMPV6) && l4_len >= 1) {
      pkt.icmp_type = l4[0];
    }
  }
  return pkt;
}

}  // namespace

Result<std::unique_ptr<PacketCapture>> PacketCapture::Start(Namespace& ns,
                                                            std::string_view ifname) {
  int fd = -1, err = 0;
  unsigned ifindex = 0;
  const std::string name(ifname);
  Status ran = ns.Run([&] {
    ifindex = if_nametoindex(name.c_str());
    if (ifindex == 0) {
      err = errno;
      return;
    }
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
      err = errno;
      return;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  });
  if (!ran) return ran.error();
  if (fd < 0) return Error::FromErrno(StrCat("capture on ", ns.name(), "/", name), err);
  return std::unique_ptr<PacketCapture>(new PacketCapture(UniqueFd(fd), static_cast<int>(ifindex)));
}

PacketCapture::PacketCapture(UniqueFd fd, int ifindex) : fd_(std::move(fd)), ifindex_(ifindex) {
  thread_ = std::thread([this] { Loop(); });
}

PacketCapture::~PacketCapture() {
  stop_ = true;
  thread_.join();
}

void PacketCapture::Loop() {
  uint8_t buf[2048];
  while (!stop_) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (poll(&pfd, 1, 20) <= 0) continue;
    sockaddr_ll from{};
    socklen_t len = sizeof(from);
    const ssize_t n =
        recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      // E.g. ENETDOWN once the interface is deleted: do not spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (n <= 0) continue;
    // Only what arrives from the other end of the link, on the interface asked for.
    if (from.sll_pkttype == PACKET_OUTGOING || from.sll_ifindex != ifindex_) continue;
    if (std::optional<Packet> p = ParseFrame(buf, static_cast<size_t>(n))) {
      std::lock_guard<std::mutex> lock(mu_);
      packets_.push_back(*p);
    }
  }
}

std::vector<Packet> PacketCapture::Take(std::chrono::milliseconds settle) {
  std::this_thread::sleep_for(settle);
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(packets_, {});
}

std::vector<Packet> IpTraffic(const std::vector<Packet>& packets) {
  std::vector<Packet> out;
  for (const Packet& p : packets) {
    if (p.IsIp() && !p.IsIpv6LinkControl()) out.push_back(p);
  }
  return out;
}

std::string Describe(const std::vector<Packet>& packets) {
  std::string out;
  for (const Packet& p : packets) out += StrCat("  ", p.ToString(), "\n");
  return out;
}

}  // namespace wgate::netns
