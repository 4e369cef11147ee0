// The kill switch against the real kernel, in network namespaces this test makes and removes.
//
//   gw (wgate's namespace)                far (the uplink's other side: "the internet", the LAN)
//   up0 192.0.2.1/24 fd00:1::1/64  <-->  far0 192.0.2.2/24 fd00:1::2/64
//                                         lo: 203.0.113.10 (VPN endpoint), 198.51.100.10 (listed
//                                             LAN), 198.51.100.200 (other LAN), fd00:2::10
//   wg0 203.0.113.129/30 fd00:3::1/64 <--> vpn: vp0 203.0.113.130/30 fd00:3::2/64, lo 203.0.113.70
//   (a veth standing in for the tunnel interface; what leaves it is "through the tunnel")
//
// Every scenario counts the packets that arrive on far0 (and vp0) with AF_PACKET and asserts
// exactly what got through; a leak is any IP packet there that the state does not allow.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <vector>

#include "base/strings.h"
#include "firewall/firewall.h"
#include "firewall/nft_monitor.h"
#include "firewall/nftables_backend.h"
#include "netns_harness.h"

namespace wgate::firewall {
namespace {

using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kMark = 0xca6c;
constexpr uint16_t kEnginePort = 43210;  // the engine socket's bound port
constexpr int kTimedOut = ETIMEDOUT;     // our marker: no answer at all within the wait

SocketAddress Addr(std::string_view s) {
  std::optional<SocketAddress> a = SocketAddress::Parse(s);
  WGATE_CHECK(a.has_value());
  return *a;
}
IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s); }

RulesetSpec Lockdown() { return RulesetSpec{}; }

RulesetSpec Connected() {
  RulesetSpec s;
  s.mode = Mode::kConnected;
  s.fwmark = kMark;
  s.uplink = "up0";
  s.tunnel = "wg0";
  s.endpoint = Addr("203.0.113.10:51820");
  s.engine_port = kEnginePort;
  return s;
}

int Family(const SocketAddress& a) { return a.ip.is_v4() ? AF_INET : AF_INET6; }

// 0 when sendto() succeeded, else its errno (EPERM: refused by the output hook).
int SendTo(int fd, const SocketAddress& to, std::string_view payload = "wgate-test") {
  sockaddr_storage ss;
  socklen_t len = to.ToSockaddr(&ss);
  return sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0
             ? errno
             : 0;
}
// Waits for one datagram; returns its payload, or "" after `wait`.
std::string Receive(int fd, milliseconds wait = milliseconds(1000),
                    std::optional<SocketAddress>* from = nullptr) {
  pollfd pfd{fd, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(wait.count())) != 1) return "";
  char buf[512];
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0) return "";
  if (from) *from = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return std::string(buf, static_cast<size_t>(n));
}

class FirewallNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = netns::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    gw_ = Make("gw");
    far_ = Make("far");
    vpn_ = Make("vpn");
    ASSERT_TRUE(gw_ && far_ && vpn_);
    Check(netns::AddVeth(*gw_, "up0", *far_, "far0"));
    Check(netns::AddVeth(*gw_, "wg0", *vpn_, "vp0"));
    if (HasFatalFailure()) return;
    IpCmd(*gw_, {"addr", "add", "192.0.2.1/24", "dev", "up0"});
    IpCmd(*gw_, {"addr", "add", "fd00:1::1/64", "dev", "up0", "nodad"});
    IpCmd(*gw_, {"addr", "add", "203.0.113.129/30", "dev", "wg0"});
    IpCmd(*gw_, {"addr", "add", "fd00:3::1/64", "dev", "wg0", "nodad"});
    IpCmd(*gw_, {"route", "add", "default", "via", "192.0.2.2", "dev", "up0"});
    IpCmd(*gw_, {"-6", "route", "add", "default", "via", "fd00:1::2", "dev", "up0"});
    IpCmd(*gw_, {"route", "add", "203.0.113.64/26", "via", "203.0.113.130", "dev", "wg0"});
    IpCmd(*far_, {"addr", "add", "192.0.2.2/24", "dev", "far0"});
    IpCmd(*far_, {"addr", "add", "fd00:1::2/64", "dev", "far0", "nodad"});
    for (const char* a : {"203.0.113.10/32", "198.51.100.10/32", "198.51.100.200/32"}) {
      IpCmd(*far_, {"addr", "add", a, "dev", "lo"});
    }
    IpCmd(*far_, {"addr", "add", "fd00:2::10/128", "dev", "lo"});
    IpCmd(*far_, {"-6", "route", "add", "default", "via", "fd00:1::1", "dev", "far0"});
    IpCmd(*vpn_, {"addr", "add", "203.0.113.130/30", "dev", "vp0"});
    IpCmd(*vpn_, {"addr", "add", "fd00:3::2/64", "dev", "vp0", "nodad"});
    IpCmd(*vpn_, {"addr", "add", "203.0.113.70/32", "dev", "lo"});
    // A real tunnel is a layer-3 device without neighbour discovery; the veth standing in for it
    // gets a fixed neighbour instead.
    Result<std::string> mac = vpn_->Exec({"cat", "/sys/class/net/vp0/address"});
    ASSERT_TRUE(mac.ok()) << mac.error().message();
    IpCmd(*gw_, {"-6", "neigh", "add", "fd00:3::2", "lladdr", std::string(TrimSpace(*mac)), "dev",
                 "wg0", "nud", "permanent"});
    if (HasFatalFailure()) return;

    Check(gw_->Run([&] {
      Result<std::unique_ptr<NftablesBackend>> b = NftablesBackend::Create();
      ASSERT_TRUE(b.ok()) << b.error().message();
      backend_ = std::move(*b);
    }));
    ASSERT_TRUE(backend_);
    fw_ = std::make_unique<Firewall>(*backend_);

    Result<std::unique_ptr<netns::PacketCapture>> far_cap =
        netns::PacketCapture::Start(*far_, "far0");
    ASSERT_TRUE(far_cap.ok()) << far_cap.error().message();
    far_cap_ = std::move(*far_cap);
    Result<std::unique_ptr<netns::PacketCapture>> vpn_cap =
        netns::PacketCapture::Start(*vpn_, "vp0");
    ASSERT_TRUE(vpn_cap.ok()) << vpn_cap.error().message();
    vpn_cap_ = std::move(*vpn_cap);
  }

  std::unique_ptr<netns::Namespace> Make(std::string_view role) {
    Result<std::unique_ptr<netns::Namespace>> ns = netns::Namespace::Create(role);
    EXPECT_TRUE(ns.ok()) << ns.error().message();
    return ns.ok() ? std::move(*ns) : nullptr;
  }
  void Check(const Status& s) { ASSERT_TRUE(s.ok()) << s.error().message(); }
  void IpCmd(netns::Namespace& ns, const std::vector<std::string>& args) {
    Result<std::string> r = ns.Ip(args);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }

  // Firewall calls run on a thread inside gw, so nothing of libnftables ever acts elsewhere.
  Status Apply(const RulesetSpec& spec) {
    Status result;
    Status ran = gw_->Run([&] { result = fw_->Apply(spec); });
    return ran ? result : ran;
  }
  Status Reapply() {
    Status result;
    Status ran = gw_->Run([&] { result = fw_->Reapply(); });
    return ran ? result : ran;
  }
  Status RemoveAll() {
    Status result;
    Status ran = gw_->Run([&] { result = fw_->RemoveAll(); });
    return ran ? result : ran;
  }
  std::vector<std::string> Problems() {
    Verification v;
    Status ran = gw_->Run([&] { v = fw_->Verify(); });
    if (!ran) return {ran.error().message()};
    return v.problems;
  }
  // `nft ...` run from outside wgate, as an admin (or a careless script) would.
  void Nft(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"nft"};
    argv.insert(argv.end(), args.begin(), args.end());
    Result<std::string> r = gw_->Exec(argv);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }

  // A UDP socket in `ns`, optionally marked (SO_MARK, like the engine's) and bound.
  UniqueFd Udp(netns::Namespace& ns, int family, uint32_t mark = 0,
               std::optional<SocketAddress> bind_to = std::nullopt) {
    Result<UniqueFd> fd = ns.Socket(family, SOCK_DGRAM);
    EXPECT_TRUE(fd.ok()) << fd.error().message();
    if (!fd.ok()) return UniqueFd();
    if (mark != 0) {
      EXPECT_EQ(setsockopt(fd->get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
    }
    if (bind_to) BindTo(fd->get(), *bind_to);
    return std::move(*fd);
  }
  void BindTo(int fd, const SocketAddress& at) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage ss;
    socklen_t len = at.ToSockaddr(&ss);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0)
        << "bind " << at.ToString() << ": " << strerror(errno);
  }

  int SendUdp(const SocketAddress& to, uint32_t mark = 0) {
    UniqueFd fd = Udp(*gw_, Family(to), mark);
    return SendTo(fd.get(), to);
  }
  struct Connect {
    int err;  // 0: connected; ECONNREFUSED, EHOSTUNREACH...; kTimedOut: no answer
    milliseconds elapsed;
    UniqueFd fd;
  };
  Connect TcpConnect(netns::Namespace& ns, const SocketAddress& to,
                     milliseconds wait = milliseconds(1500),
                     std::optional<SocketAddress> from = std::nullopt, uint32_t mark = 0) {
    Result<UniqueFd> fd = ns.Socket(Family(to), SOCK_STREAM | SOCK_NONBLOCK);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return {EBADF, milliseconds(0), UniqueFd()};
    if (mark != 0) setsockopt(fd->get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
    if (from) BindTo(fd->get(), *from);
    sockaddr_storage ss;
    socklen_t len = to.ToSockaddr(&ss);
    const Clock::time_point start = Clock::now();
    int err = 0;
    if (connect(fd->get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd pfd{fd->get(), POLLOUT, 0};
        if (poll(&pfd, 1, static_cast<int>(wait.count())) == 1) {
          socklen_t elen = sizeof(err);
          getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &err, &elen);
        } else {
          err = kTimedOut;
        }
      }
    }
    return {err, std::chrono::duration_cast<milliseconds>(Clock::now() - start), std::move(*fd)};
  }
  UniqueFd TcpListen(netns::Namespace& ns, const SocketAddress& at) {
    Result<UniqueFd> fd = ns.Socket(Family(at), SOCK_STREAM);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return UniqueFd();
    BindTo(fd->get(), at);
    EXPECT_EQ(listen(fd->get(), 16), 0);
    return std::move(*fd);
  }
  // An ICMP echo request from gw through a raw socket; returns 0 or sendto's errno.
  int Ping(const IpAddress& to) {
    const bool v4 = to.is_v4();
    Result<UniqueFd> fd = gw_->Socket(v4 ? AF_INET : AF_INET6, SOCK_RAW,
                                      v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6});
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return EBADF;
    uint8_t msg[16] = {
        v4 ? uint8_t{ICMP_ECHO} : uint8_t{ICMP6_ECHO_REQUEST}, 0, 0, 0, 0x12, 0x34, 0, 1};
    if (v4) {  // the kernel fills in the ICMPv6 checksum, not the ICMP one
      uint32_t sum = 0;
      for (size_t i = 0; i < sizeof(msg); i += 2)
        sum += static_cast<uint32_t>(msg[i] << 8 | msg[i + 1]);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      const uint16_t c = static_cast<uint16_t>(~sum);
      msg[2] = static_cast<uint8_t>(c >> 8);
      msg[3] = static_cast<uint8_t>(c & 0xff);
    }
    sockaddr_storage ss;
    socklen_t len = SocketAddress{to, 0}.ToSockaddr(&ss);
    return sendto(fd->get(), msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0 ? errno
                                                                                             : 0;
  }

  std::vector<netns::Packet> FarTraffic() { return netns::IpTraffic(far_cap_->Take()); }
  std::vector<netns::Packet> VpnTraffic() { return netns::IpTraffic(vpn_cap_->Take()); }
  static bool Has(const std::vector<netns::Packet>& pkts, uint8_t proto, const IpAddress& dst,
                  uint16_t dport = 0) {
    return std::any_of(pkts.begin(), pkts.end(), [&](const netns::Packet& p) {
      return p.protocol == proto && p.dst == dst && (dport == 0 || p.dport == dport);
    });
  }

  // Declared first: destroyed last, after everything that lives inside the namespaces.
  std::unique_ptr<netns::Namespace> gw_, far_, vpn_;
  std::unique_ptr<NftablesBackend> backend_;
  std::unique_ptr<Firewall> fw_;
  std::unique_ptr<netns::PacketCapture> far_cap_, vpn_cap_;
};

TEST_F(FirewallNetnsTest, LockdownLetsNothingOutOfTheUplinkAndRefusesFast) {
  // Control: without wgate's table, all of it gets out (so the zero below means something).
  UniqueFd far_listener = TcpListen(*far_, Addr("192.0.2.2:80"));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), 0);
  EXPECT_EQ(SendUdp(Addr("[fd00:1::2]:9")), 0);
  EXPECT_EQ(TcpConnect(*gw_, Addr("192.0.2.2:80")).err, 0);
  EXPECT_EQ(Ping(Ip("192.0.2.2")), 0);
  EXPECT_EQ(Ping(Ip("fd00:1::2")), 0);
  std::vector<netns::Packet> open = FarTraffic();
  EXPECT_TRUE(Has(open, IPPROTO_UDP, Ip("192.0.2.2"), 9)) << netns::Describe(open);
  EXPECT_TRUE(Has(open, IPPROTO_UDP, Ip("fd00:1::2"), 9)) << netns::Describe(open);
  EXPECT_TRUE(Has(open, IPPROTO_TCP, Ip("192.0.2.2"), 80)) << netns::Describe(open);
  EXPECT_TRUE(Has(open, IPPROTO_ICMP, Ip("192.0.2.2"))) << netns::Describe(open);
  EXPECT_TRUE(Has(open, IPPROTO_ICMPV6, Ip("fd00:1::2"))) << netns::Describe(open);

  ASSERT_TRUE(Apply(Lockdown()).ok());
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
  EXPECT_EQ(SendUdp(Addr("[fd00:1::2]:9")), EPERM);
  EXPECT_EQ(SendUdp(Addr("203.0.113.70:53")), EPERM);  // through the tunnel: not in lockdown
  EXPECT_EQ(Ping(Ip("192.0.2.2")), EPERM);
  EXPECT_EQ(Ping(Ip("fd00:1::2")), EPERM);
  for (const char* to : {"192.0.2.2:80", "[fd00:1::2]:80", "203.0.113.70:80"}) {
    Connect c = TcpConnect(*gw_, Addr(to));
    EXPECT_EQ(c.err, ECONNREFUSED) << to << ": " << strerror(c.err);
    EXPECT_LT(c.elapsed, milliseconds(500)) << to << ": a refusal must be fast, not a timeout";
  }
  // Inbound is dropped silently: no reset comes back, the far side just times out.
  UniqueFd gw_listener = TcpListen(*gw_, Addr("0.0.0.0:8080"));
  EXPECT_EQ(TcpConnect(*far_, Addr("192.0.2.1:8080"), milliseconds(400)).err, kTimedOut);

  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
  std::vector<netns::Packet> tunnelled = VpnTraffic();
  EXPECT_THAT(tunnelled, IsEmpty()) << netns::Describe(tunnelled);
}

TEST_F(FirewallNetnsTest, LockdownKeepsLoopbackWorking) {
  ASSERT_TRUE(Apply(Lockdown()).ok());
  for (const char* at : {"127.0.0.1:7000", "[::1]:7000"}) {
    UniqueFd listener = TcpListen(*gw_, Addr(at));
    EXPECT_EQ(TcpConnect(*gw_, Addr(at)).err, 0) << at;
    UniqueFd server = Udp(*gw_, Family(Addr(at)), 0, Addr(at));
    EXPECT_EQ(SendUdp(Addr(at)), 0) << at;
    EXPECT_EQ(Receive(server.get()), "wgate-test") << at;
  }
  EXPECT_THAT(FarTraffic(), IsEmpty());
}

TEST_F(FirewallNetnsTest, DockerResolverIsRefusedUnlessAllowedEvenBehindDockersDnat) {
  // Docker's embedded DNS: 127.0.0.11:53 is DNATed (nat output hook) to a random port where the
  // resolver listens. Reproduce both the plain address and that DNAT.
  Nft({"add", "table", "ip", "dockerlike"});
  Nft({"add", "chain", "ip", "dockerlike", "out", "{ type nat hook output priority -100; }"});
  Nft({"add", "rule", "ip", "dockerlike", "out", "ip", "daddr", "127.0.0.11", "udp", "dport",
       "5300", "dnat", "to", "127.0.0.11:35353"});
  UniqueFd plain = Udp(*gw_, AF_INET, 0, Addr("127.0.0.11:53"));
  UniqueFd natted = Udp(*gw_, AF_INET, 0, Addr("127.0.0.11:35353"));
  UniqueFd tcp53 = TcpListen(*gw_, Addr("127.0.0.11:53"));

  ASSERT_TRUE(Apply(Lockdown()).ok());
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:53")), EPERM);
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:5300")), EPERM);  // after DNAT the port is 35353
  Connect c = TcpConnect(*gw_, Addr("127.0.0.11:53"));
  EXPECT_EQ(c.err, ECONNREFUSED) << strerror(c.err);
  EXPECT_LT(c.elapsed, milliseconds(500));
  EXPECT_EQ(Receive(plain.get(), milliseconds(100)), "");
  EXPECT_EQ(Receive(natted.get(), milliseconds(100)), "");
  // Other loopback addresses are not affected.
  UniqueFd other = Udp(*gw_, AF_INET, 0, Addr("127.0.0.53:53"));
  EXPECT_EQ(SendUdp(Addr("127.0.0.53:53")), 0);
  EXPECT_EQ(Receive(other.get()), "wgate-test");

  RulesetSpec allowed = Lockdown();
  allowed.allow_docker_dns = true;
  ASSERT_TRUE(Apply(allowed).ok());
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:53")), 0);
  EXPECT_EQ(Receive(plain.get()), "wgate-test");
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:5300")), 0);
  EXPECT_EQ(Receive(natted.get()), "wgate-test");
  EXPECT_EQ(TcpConnect(*gw_, Addr("127.0.0.11:53")).err, 0);
  EXPECT_THAT(FarTraffic(), IsEmpty());
}

TEST_F(FirewallNetnsTest, ResolverHoleIsOnlyForMarkedSockets) {
  UniqueFd resolver = Udp(*far_, AF_INET, 0, Addr("192.0.2.2:53"));
  UniqueFd resolver_tcp = TcpListen(*far_, Addr("192.0.2.2:53"));
  UniqueFd docker = Udp(*gw_, AF_INET, 0, Addr("127.0.0.11:53"));
  RulesetSpec spec = Lockdown();
  spec.fwmark = 0x77;
  spec.dns_hole_resolvers = {Ip("192.0.2.2"), Ip("127.0.0.11")};
  ASSERT_TRUE(Apply(spec).ok());

  // The marked query goes out and its answer comes back in.
  UniqueFd query = Udp(*gw_, AF_INET, 0x77);
  ASSERT_EQ(SendTo(query.get(), Addr("192.0.2.2:53")), 0);
  std::optional<SocketAddress> asker;
  ASSERT_EQ(Receive(resolver.get(), milliseconds(1000), &asker), "wgate-test");
  ASSERT_TRUE(asker.has_value());
  EXPECT_EQ(SendTo(resolver.get(), *asker, "answer"), 0);
  EXPECT_EQ(Receive(query.get()), "answer");
  EXPECT_EQ(TcpConnect(*gw_, Addr("192.0.2.2:53"), milliseconds(1500), std::nullopt, 0x77).err, 0);
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:53"), 0x77), 0);
  EXPECT_EQ(Receive(docker.get()), "wgate-test");

  // Anything else stays closed: unmarked, another mark, another port, another address.
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:53")), EPERM);
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:53"), 0x78), EPERM);
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:54"), 0x77), EPERM);
  EXPECT_EQ(SendUdp(Addr("198.51.100.10:53"), 0x77), EPERM);
  EXPECT_EQ(SendUdp(Addr("127.0.0.11:53")), EPERM);
  EXPECT_EQ(TcpConnect(*gw_, Addr("192.0.2.2:53")).err, ECONNREFUSED);

  std::vector<netns::Packet> seen = FarTraffic();
  for (const netns::Packet& p : seen) {
    EXPECT_TRUE(p.dst == Ip("192.0.2.2") && p.dport == 53) << "leak: " << p.ToString();
  }
  EXPECT_TRUE(Has(seen, IPPROTO_UDP, Ip("192.0.2.2"), 53)) << netns::Describe(seen);
}

TEST_F(FirewallNetnsTest, ConnectedEndpointHoleIsExact) {
  UniqueFd server = Udp(*far_, AF_INET, 0, Addr("203.0.113.10:51820"));
  ASSERT_TRUE(Apply(Connected()).ok());

  UniqueFd engine = Udp(*gw_, AF_INET, kMark, SocketAddress{Ip("0.0.0.0"), kEnginePort});
  ASSERT_EQ(SendTo(engine.get(), Addr("203.0.113.10:51820")), 0);
  std::optional<SocketAddress> peer;
  ASSERT_EQ(Receive(server.get(), milliseconds(1000), &peer), "wgate-test");
  EXPECT_EQ(SendTo(server.get(), *peer, "handshake-response"), 0);
  EXPECT_EQ(Receive(engine.get()), "handshake-response");

  EXPECT_EQ(SendUdp(Addr("203.0.113.10:51820")), EPERM);             // unmarked
  EXPECT_EQ(SendUdp(Addr("203.0.113.10:51820"), kMark + 1), EPERM);  // another mark
  EXPECT_EQ(SendUdp(Addr("203.0.113.10:51820"), kMark), EPERM);      // not the engine's port
  EXPECT_EQ(SendUdp(Addr("203.0.113.10:51821"), kMark), EPERM);      // another port
  EXPECT_EQ(SendUdp(Addr("198.51.100.200:51820"), kMark), EPERM);    // another address
  EXPECT_EQ(
      TcpConnect(*gw_, Addr("203.0.113.10:51820"), milliseconds(500), std::nullopt, kMark).err,
      ECONNREFUSED);  // not UDP

  std::vector<netns::Packet> seen = FarTraffic();
  ASSERT_EQ(seen.size(), 1u) << netns::Describe(seen);
  EXPECT_EQ(seen[0].ToString().substr(0, 4), "udp ");
  EXPECT_EQ(seen[0].dst, Ip("203.0.113.10"));
  EXPECT_EQ(seen[0].dport, 51820);
}

TEST_F(FirewallNetnsTest, ConnectedIpv6EndpointHole) {
  UniqueFd server = Udp(*far_, AF_INET6, 0, Addr("[fd00:2::10]:443"));
  RulesetSpec spec = Connected();
  spec.endpoint = Addr("[fd00:2::10]:443");  // a v6 endpoint with an IPv4-only tunnel
  ASSERT_TRUE(Apply(spec).ok());
  UniqueFd engine = Udp(*gw_, AF_INET6, kMark, SocketAddress{Ip("::"), kEnginePort});
  ASSERT_EQ(SendTo(engine.get(), Addr("[fd00:2::10]:443")), 0);  // needs ND on the uplink
  std::optional<SocketAddress> peer;
  ASSERT_EQ(Receive(server.get(), milliseconds(1000), &peer), "wgate-test");
  EXPECT_EQ(SendTo(server.get(), *peer, "response"), 0);
  EXPECT_EQ(Receive(engine.get()), "response");
  EXPECT_EQ(SendUdp(Addr("[fd00:2::10]:443")), EPERM);
  EXPECT_EQ(SendUdp(Addr("[fd00:2::10]:444"), kMark), EPERM);
  EXPECT_EQ(SendUdp(Addr("[fd00:1::2]:9")), EPERM);
  std::vector<netns::Packet> seen = FarTraffic();
  ASSERT_EQ(seen.size(), 1u) << netns::Describe(seen);
  EXPECT_EQ(seen[0].dst, Ip("fd00:2::10"));
  EXPECT_EQ(seen[0].dport, 443);
}

TEST_F(FirewallNetnsTest, TunnelInterfaceDeletedFromOutsideDoesNotFallBackToTheUplink) {
  ASSERT_TRUE(Apply(Connected()).ok());
  EXPECT_EQ(SendUdp(Addr("203.0.113.70:53")), 0);
  EXPECT_FALSE(VpnTraffic().empty());
  // The interface and its route vanish: 203.0.113.70 now routes by default out of the uplink.
  IpCmd(*gw_, {"link", "del", "wg0"});
  Result<std::string> route = gw_->Ip({"route", "get", "203.0.113.70"});
  ASSERT_TRUE(route.ok());
  ASSERT_THAT(*route, HasSubstr("dev up0"));
  EXPECT_EQ(SendUdp(Addr("203.0.113.70:53")), EPERM);
  EXPECT_EQ(TcpConnect(*gw_, Addr("203.0.113.70:80")).err, ECONNREFUSED);
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
  EXPECT_THAT(Problems(), IsEmpty());  // the rules themselves are untouched
}

TEST_F(FirewallNetnsTest, ConnectedSendsEverythingElseThroughTheTunnelOnly) {
  UniqueFd vpn_web = TcpListen(*vpn_, Addr("203.0.113.70:80"));
  ASSERT_TRUE(Apply(Connected()).ok());
  EXPECT_EQ(SendUdp(Addr("203.0.113.70:53")), 0);  // DNS through the tunnel
  EXPECT_EQ(TcpConnect(*gw_, Addr("203.0.113.70:80")).err, 0);
  EXPECT_EQ(Ping(Ip("203.0.113.70")), 0);
  std::vector<netns::Packet> tunnelled = VpnTraffic();
  EXPECT_TRUE(Has(tunnelled, IPPROTO_UDP, Ip("203.0.113.70"), 53)) << netns::Describe(tunnelled);
  EXPECT_TRUE(Has(tunnelled, IPPROTO_TCP, Ip("203.0.113.70"), 80)) << netns::Describe(tunnelled);

  // DNS, or anything, straight out of the uplink: refused.
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:53")), EPERM);
  EXPECT_EQ(SendUdp(Addr("198.51.100.200:53")), EPERM);
  EXPECT_EQ(TcpConnect(*gw_, Addr("192.0.2.2:853")).err, ECONNREFUSED);
  EXPECT_EQ(Ping(Ip("192.0.2.2")), EPERM);
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
}

TEST_F(FirewallNetnsTest, ConnectedAllowsListedLanSubnetsOnly) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {*IpPrefix::Parse("198.51.100.0/25"), *IpPrefix::Parse("fd00:2::/64")};
  ASSERT_TRUE(Apply(spec).ok());
  UniqueFd lan_web = TcpListen(*far_, Addr("198.51.100.10:80"));
  EXPECT_EQ(SendUdp(Addr("198.51.100.10:9")), 0);
  EXPECT_EQ(SendUdp(Addr("198.51.100.10:53")), 0);  // a LAN resolver the user listed
  EXPECT_EQ(SendUdp(Addr("[fd00:2::10]:9")), 0);    // needs neighbour discovery on the uplink
  EXPECT_EQ(TcpConnect(*gw_, Addr("198.51.100.10:80")).err, 0);
  EXPECT_EQ(SendUdp(Addr("198.51.100.200:9")), EPERM);
  EXPECT_EQ(TcpConnect(*gw_, Addr("198.51.100.200:80")).err, ECONNREFUSED);

  std::vector<netns::Packet> seen = FarTraffic();
  EXPECT_TRUE(Has(seen, IPPROTO_UDP, Ip("198.51.100.10"), 9)) << netns::Describe(seen);
  EXPECT_TRUE(Has(seen, IPPROTO_UDP, Ip("198.51.100.10"), 53)) << netns::Describe(seen);
  EXPECT_TRUE(Has(seen, IPPROTO_UDP, Ip("fd00:2::10"), 9)) << netns::Describe(seen);
  EXPECT_TRUE(Has(seen, IPPROTO_TCP, Ip("198.51.100.10"), 80)) << netns::Describe(seen);
  for (const netns::Packet& p : seen) {
    EXPECT_NE(p.dst, Ip("198.51.100.200")) << "leak: " << p.ToString();
  }
}

TEST_F(FirewallNetnsTest, ConnectedPublishesOnlyTheListedInputPorts) {
  RulesetSpec spec = Connected();
  spec.input_ports = {8080};
  ASSERT_TRUE(Apply(spec).ok());
  UniqueFd published = TcpListen(*gw_, Addr("0.0.0.0:8080"));
  UniqueFd unpublished = TcpListen(*gw_, Addr("0.0.0.0:8081"));
  UniqueFd udp_published = Udp(*gw_, AF_INET, 0, Addr("0.0.0.0:8080"));

  Connect lan_client = TcpConnect(*far_, Addr("192.0.2.1:8080"));
  EXPECT_EQ(lan_client.err, 0) << strerror(lan_client.err);  // SYN in, SYN-ACK out
  EXPECT_EQ(TcpConnect(*far_, Addr("192.0.2.1:8081"), milliseconds(400)).err, kTimedOut);
  EXPECT_EQ(TcpConnect(*vpn_, Addr("203.0.113.129:8080"), milliseconds(400)).err, kTimedOut);

  UniqueFd far_udp = Udp(*far_, AF_INET, 0, Addr("192.0.2.2:4000"));
  ASSERT_EQ(SendTo(far_udp.get(), Addr("192.0.2.1:8080")), 0);
  std::optional<SocketAddress> client;
  ASSERT_EQ(Receive(udp_published.get(), milliseconds(1000), &client), "wgate-test");
  EXPECT_EQ(SendTo(udp_published.get(), *client, "reply"), 0);
  EXPECT_EQ(Receive(far_udp.get()), "reply");

  // A published port number is no way out: the source port alone does not open the uplink.
  UniqueFd far_web = TcpListen(*far_, Addr("192.0.2.2:80"));
  Connect sneaky = TcpConnect(*gw_, Addr("192.0.2.2:80"), milliseconds(1500), Addr("0.0.0.0:8082"));
  EXPECT_EQ(sneaky.err, ECONNREFUSED);
  UniqueFd sneaky_udp = Udp(*gw_, AF_INET, 0, Addr("192.0.2.1:8083"));
  spec.input_ports = {8080, 8083};
  ASSERT_TRUE(Apply(spec).ok());
  EXPECT_EQ(SendTo(sneaky_udp.get(), Addr("192.0.2.2:9")), EPERM);

  // Provider port forwarding: new connections through the tunnel only when listed.
  spec.vpn_input_ports = {8080};
  ASSERT_TRUE(Apply(spec).ok());
  EXPECT_EQ(TcpConnect(*vpn_, Addr("203.0.113.129:8080")).err, 0);
  EXPECT_EQ(TcpConnect(*vpn_, Addr("203.0.113.129:8081"), milliseconds(400)).err, kTimedOut);

  for (const netns::Packet& p : FarTraffic()) {
    EXPECT_TRUE(p.sport == 8080) << "leak: " << p.ToString();
  }
}

// An IPv4 packet with a forged source, sent from gw through a raw socket (IP_HDRINCL): what a
// consumer with CAP_NET_RAW (Docker grants it by default) can do. `l4` is the UDP or TCP header
// and payload; the kernel fills in the IP checksum, length and id.
int SendSpoofed(netns::Namespace& ns, uint8_t protocol, const SocketAddress& from,
                const SocketAddress& to, std::vector<uint8_t> l4) {
  Result<UniqueFd> fd = ns.Socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  EXPECT_TRUE(fd.ok()) << fd.error().message();
  if (!fd.ok()) return EBADF;
  std::vector<uint8_t> pkt = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, protocol, 0, 0};
  pkt.insert(pkt.end(), from.ip.data(), from.ip.data() + 4);
  pkt.insert(pkt.end(), to.ip.data(), to.ip.data() + 4);
  if (protocol == IPPROTO_TCP) {  // checksum over the pseudo-header and the segment
    uint32_t sum = 0;
    auto add = [&sum](const uint8_t* p, size_t n) {
      for (size_t i = 0; i < n; i += 2) {
        sum += static_cast<uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
      }
    };
    add(pkt.data() + 12, 8);
    sum += IPPROTO_TCP + static_cast<uint32_t>(l4.size());
    add(l4.data(), l4.size());
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    l4[16] = static_cast<uint8_t>(~sum >> 8);
    l4[17] = static_cast<uint8_t>(~sum & 0xff);
  }
  pkt.insert(pkt.end(), l4.begin(), l4.end());
  sockaddr_storage ss;
  socklen_t len = SocketAddress{to.ip, 0}.ToSockaddr(&ss);
  return sendto(fd->get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0
             ? errno
             : 0;
}
std::vector<uint8_t> UdpHeader(uint16_t sport, uint16_t dport, std::string_view payload) {
  const size_t len = 8 + payload.size();
  std::vector<uint8_t> h = {static_cast<uint8_t>(sport >> 8),
                            static_cast<uint8_t>(sport & 0xff),
                            static_cast<uint8_t>(dport >> 8),
                            static_cast<uint8_t>(dport & 0xff),
                            static_cast<uint8_t>(len >> 8),
                            static_cast<uint8_t>(len & 0xff),
                            0,
                            0};  // no checksum: allowed for UDP over IPv4
  h.insert(h.end(), payload.begin(), payload.end());
  return h;
}
std::vector<uint8_t> TcpSyn(uint16_t sport, uint16_t dport) {
  return {static_cast<uint8_t>(sport >> 8),
          static_cast<uint8_t>(sport & 0xff),
          static_cast<uint8_t>(dport >> 8),
          static_cast<uint8_t>(dport & 0xff),
          0x12,
          0x34,
          0x56,
          0x78,  // sequence number
          0,
          0,
          0,
          0,     // acknowledgement number
          0x50,  // data offset: 5 words
          0x02,  // SYN
          0xfa,
          0xf0,  // window
          0,
          0,  // checksum, filled in by SendSpoofed
          0,
          0};
}

// The security review's leak: a consumer forges a packet from a far address to the gateway's own
// uplink address and a published port. It is delivered over lo, and its conntrack entry makes
// the answer (192.0.2.1:8081 -> far) a "reply" that the published port's output rule let out of
// the uplink in the clear: arbitrary UDP, and a TCP SYN-ACK the kernel sends by itself.
TEST_F(FirewallNetnsTest, SpoofedLoopbackSourceOpensNoWayOutOfAPublishedPort) {
  RulesetSpec spec = Connected();
  spec.input_ports = {8081};
  ASSERT_TRUE(Apply(spec).ok());
  const SocketAddress far_server = Addr("198.51.100.53:53");  // routed out of up0, unlisted
  const SocketAddress own = Addr("192.0.2.1:8081");           // gw's uplink address
  UniqueFd listener = TcpListen(*gw_, Addr("0.0.0.0:8081"));
  UniqueFd consumer = Udp(*gw_, AF_INET, 0, own);
  far_cap_->Take(milliseconds(0));

  EXPECT_EQ(SendSpoofed(*gw_, IPPROTO_UDP, far_server, own, UdpHeader(53, 8081, "spoof")), 0);
  EXPECT_EQ(SendSpoofed(*gw_, IPPROTO_TCP, far_server, own, TcpSyn(53, 8081)), 0);
  SendTo(consumer.get(), far_server, "exfiltrated");  // EPERM once refused; not asserted
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_TRUE(leaked.empty()) << "leak:\n" << netns::Describe(leaked);
  EXPECT_EQ(Receive(consumer.get(), milliseconds(0)), "") << "the forged datagram was delivered";

  // Control: a genuine connection from the far side to the published port still gets replies.
  UniqueFd far_udp = Udp(*far_, AF_INET, 0, Addr("192.0.2.2:4001"));
  ASSERT_EQ(SendTo(far_udp.get(), own), 0);
  std::optional<SocketAddress> client;
  EXPECT_EQ(Receive(consumer.get(), milliseconds(1000), &client), "wgate-test");
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(SendTo(consumer.get(), *client, "reply"), 0);
  EXPECT_EQ(Receive(far_udp.get()), "reply");
  Connect tcp = TcpConnect(*far_, own);
  EXPECT_EQ(tcp.err, 0) << strerror(tcp.err);
  for (const netns::Packet& p : FarTraffic()) {
    EXPECT_TRUE(p.dst == Ip("192.0.2.2") && p.sport == 8081) << "leak: " << p.ToString();
  }
}

// Whoever forges the server's address (any host on the path, the LAN) reaches the engine's own
// port and nothing else: no consumer's UDP service hears it.
TEST_F(FirewallNetnsTest, ForgedServerDatagramsReachOnlyTheEnginePort) {
  ASSERT_TRUE(Apply(Connected()).ok());
  UniqueFd engine = Udp(*gw_, AF_INET, kMark, SocketAddress{Ip("0.0.0.0"), kEnginePort});
  UniqueFd consumer = Udp(*gw_, AF_INET, 0, Addr("0.0.0.0:5353"));
  UniqueFd forged = Udp(*far_, AF_INET, 0, Addr("203.0.113.10:51820"));  // the server's address
  EXPECT_EQ(SendTo(forged.get(), Addr("192.0.2.1:5353"), "forged"), 0);
  EXPECT_EQ(Receive(consumer.get(), milliseconds(500)), "") << "a consumer heard the 'server'";
  EXPECT_EQ(SendTo(forged.get(), SocketAddress{Ip("192.0.2.1"), kEnginePort}, "handshake"), 0);
  EXPECT_EQ(Receive(engine.get()), "handshake");
}

// The engine's socket is bound to every address; consumers reach all of them over lo. Only the
// uplink may reach it: loopback datagrams would fill its drop counters and, in a flood, push it
// into the under-load cookie mode.
TEST_F(FirewallNetnsTest, EngineSocketIsUnreachableOverLoopback) {
  ASSERT_TRUE(Apply(Connected()).ok());
  UniqueFd engine4 = Udp(*gw_, AF_INET, kMark, SocketAddress{Ip("0.0.0.0"), kEnginePort});
  UniqueFd engine6 = Udp(*gw_, AF_INET6, kMark, SocketAddress{Ip("::"), kEnginePort});
  UniqueFd other = Udp(*gw_, AF_INET, 0, Addr("0.0.0.0:5353"));
  for (const char* to : {"127.0.0.1", "192.0.2.1", "203.0.113.129"}) {
    EXPECT_EQ(SendUdp(SocketAddress{Ip(to), kEnginePort}), 0) << to;
  }
  EXPECT_EQ(SendUdp(SocketAddress{Ip("::1"), kEnginePort}), 0);
  EXPECT_EQ(Receive(engine4.get(), milliseconds(500)), "") << "a consumer reached the engine";
  EXPECT_EQ(Receive(engine6.get(), milliseconds(100)), "") << "a consumer reached the engine";
  // Control: loopback itself still works, to any other port.
  EXPECT_EQ(SendUdp(Addr("127.0.0.1:5353")), 0);
  EXPECT_EQ(Receive(other.get()), "wgate-test");
}

// wg-quick's policy routing, as wgate installs it: unmarked traffic looks up the tunnel's table.
// Without a rule for the uplink's own address, only the reroute chain (connmark -> fwmark) brings
// a published port's replies back to the uplink.
TEST_F(FirewallNetnsTest, PublishedRepliesAreRoutedOutOfTheUplink) {
  IpCmd(*gw_, {"route", "add", "default", "via", "203.0.113.130", "dev", "wg0", "table", "100"});
  IpCmd(*gw_,
        {"rule", "add", "not", "fwmark", std::to_string(kMark), "lookup", "100", "pref", "32003"});
  RulesetSpec spec = Connected();
  spec.input_ports = {8080};
  spec.input_udp_ports = {8081};
  ASSERT_TRUE(Apply(spec).ok());
  UniqueFd listener = TcpListen(*gw_, Addr("0.0.0.0:8080"));
  UniqueFd bound = Udp(*gw_, AF_INET, 0, Addr("192.0.2.1:8080"));   // a server bound to an address
  UniqueFd wildcard = Udp(*gw_, AF_INET, 0, Addr("0.0.0.0:8081"));  // one bound to 0.0.0.0
  far_cap_->Take(milliseconds(0));

  Connect tcp = TcpConnect(*far_, Addr("192.0.2.1:8080"));
  EXPECT_EQ(tcp.err, 0) << strerror(tcp.err);  // the SYN-ACK came back out of the uplink
  UniqueFd far_udp = Udp(*far_, AF_INET, 0, Addr("192.0.2.2:4000"));
  ASSERT_EQ(SendTo(far_udp.get(), Addr("192.0.2.1:8080")), 0);
  std::optional<SocketAddress> client;
  ASSERT_EQ(Receive(bound.get(), milliseconds(1000), &client), "wgate-test");
  EXPECT_EQ(SendTo(bound.get(), *client, "reply"), 0);
  EXPECT_EQ(Receive(far_udp.get()), "reply");

  // A UDP server bound to 0.0.0.0 answers from the address its route lookup picks, the tunnel's:
  // that is not the connection that came in, so it goes into the tunnel, never onto the uplink.
  ASSERT_EQ(SendTo(far_udp.get(), Addr("192.0.2.1:8081")), 0);
  ASSERT_EQ(Receive(wildcard.get(), milliseconds(1000), &client), "wgate-test");
  SendTo(wildcard.get(), *client, "reply");
  EXPECT_EQ(Receive(far_udp.get(), milliseconds(500)), "");
  // ... unless it answers from the address the datagram came to (IP_PKTINFO), as a server that
  // serves several addresses must: then it is the connection's reply.
  {
    sockaddr_storage ss;
    socklen_t len = client->ToSockaddr(&ss);
    char payload[] = "pktinfo reply";
    iovec iov{payload, sizeof(payload) - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = &ss;
    msg.msg_namelen = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    inet_pton(AF_INET, "192.0.2.1", &info.ipi_spec_dst);
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
    EXPECT_EQ(sendmsg(wildcard.get(), &msg, 0), static_cast<ssize_t>(iov.iov_len))
        << strerror(errno);
  }
  EXPECT_EQ(Receive(far_udp.get()), "pktinfo reply");
  for (const netns::Packet& p : FarTraffic()) {
    EXPECT_TRUE(p.dst == Ip("192.0.2.2") && (p.sport == 8080 || p.sport == 8081))
        << "leak: " << p.ToString();
  }
}

// One inbound datagram opens a UDP return path only while the far side keeps sending: the
// consumer's own datagrams do not keep it open. The set's elements stand in for the flows' age;
// flushing them is what their timeout does after kPublishedUdpTimeoutSeconds of silence.
TEST_F(FirewallNetnsTest, PublishedUdpRepliesNeedTheFarSideToKeepSending) {
  RulesetSpec spec = Connected();
  spec.input_udp_ports = {8080};
  ASSERT_TRUE(Apply(spec).ok());
  UniqueFd server = Udp(*gw_, AF_INET, 0, Addr("192.0.2.1:8080"));
  UniqueFd far_udp = Udp(*far_, AF_INET, 0, Addr("192.0.2.2:4000"));
  ASSERT_EQ(SendTo(far_udp.get(), Addr("192.0.2.1:8080")), 0);
  std::optional<SocketAddress> client;
  ASSERT_EQ(Receive(server.get(), milliseconds(1000), &client), "wgate-test");
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(SendTo(server.get(), *client, "reply"), 0);
  EXPECT_EQ(Receive(far_udp.get()), "reply");
  Result<std::string> set = gw_->Exec({"nft", "list", "set", "inet", "wgate", "published_udp4"});
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_THAT(*set, HasSubstr("192.0.2.2 . 4000 . 8080 expires"));
  // Elements change with traffic; the verifier lists without them.
  EXPECT_THAT(Problems(), IsEmpty());

  Nft({"flush", "set", "inet", "wgate", "published_udp4"});  // the far side fell silent
  EXPECT_EQ(SendTo(server.get(), *client, "still there?"), EPERM);
  EXPECT_EQ(SendTo(server.get(), *client, "still there?"), EPERM);  // no renewal from inside
  EXPECT_EQ(Receive(far_udp.get(), milliseconds(300)), "");
  ASSERT_EQ(SendTo(far_udp.get(), Addr("192.0.2.1:8080"), "again"), 0);  // it speaks again
  ASSERT_EQ(Receive(server.get()), "again");
  EXPECT_EQ(SendTo(server.get(), *client, "reply"), 0);
  EXPECT_EQ(Receive(far_udp.get()), "reply");
  EXPECT_THAT(Problems(), IsEmpty());
}

// Another program's nat chain runs after wgate's output chain and can send what it accepted
// somewhere else; wgate's own table never changes, so the verifier sees nothing. The final check
// at postrouting 300 meets the packet with its final addresses.
TEST_F(FirewallNetnsTest, ForeignNatCannotRedirectAcceptedPacketsOntoTheUplink) {
  Nft({"add", "table", "ip", "foreign"});
  Nft({"add", "chain", "ip", "foreign", "out",
       "{ type nat hook output priority 100; policy accept; }"});
  Nft({"add", "rule", "ip", "foreign", "out", "ip", "daddr", "203.0.113.70", "dnat", "to",
       "198.51.100.200"});
  Nft({"add", "rule", "ip", "foreign", "out", "ip", "daddr", "203.0.113.10", "dnat", "to",
       "198.51.100.200"});
  Nft({"add", "rule", "ip", "foreign", "out", "ip", "daddr", "192.0.2.1", "udp", "dport", "9999",
       "dnat", "to", "198.51.100.200"});
  ASSERT_TRUE(Apply(Connected()).ok());
  far_cap_->Take(milliseconds(0));
  SendUdp(Addr("203.0.113.70:53"));  // into the tunnel, then DNATed onto the uplink
  TcpConnect(*gw_, Addr("203.0.113.70:80"), milliseconds(300));
  UniqueFd engine = Udp(*gw_, AF_INET, kMark, SocketAddress{Ip("0.0.0.0"), kEnginePort});
  SendTo(engine.get(), Addr("203.0.113.10:51820"));  // the engine's hole, redirected
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
  EXPECT_THAT(Problems(), IsEmpty());

  // Lockdown: loopback (the consumer's packet to the gateway's own address) redirected.
  ASSERT_TRUE(Apply(Lockdown()).ok());
  SendUdp(Addr("192.0.2.1:9999"));
  leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
}

// Neighbour discovery is the one IPv6 hole on the uplink: it may carry only the unspecified, a
// link-local or an own source address, never a forged one.
TEST_F(FirewallNetnsTest, NeighbourDiscoveryLeavesOnlyFromOwnAddresses) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {*IpPrefix::Parse("fd00:2::/64")};
  ASSERT_TRUE(Apply(spec).ok());
  auto solicit = [&](std::string_view from) {
    Result<UniqueFd> fd = gw_->Socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return EBADF;
    int one = 1, hops = 255;
    setsockopt(fd->get(), SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one));
    setsockopt(fd->get(), SOL_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
    sockaddr_storage ss;
    socklen_t len = SocketAddress{Ip(from), 0}.ToSockaddr(&ss);
    EXPECT_EQ(bind(fd->get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
    uint8_t ns[24] = {ND_NEIGHBOR_SOLICIT};  // the kernel fills in the checksum
    const IpAddress target = Ip("fd00:1::2");
    std::copy(target.data(), target.data() + 16, ns + 8);
    len = SocketAddress{target, 0}.ToSockaddr(&ss);
    return sendto(fd->get(), ns, sizeof(ns), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0 ? errno
                                                                                           : 0;
  };
  // Solicitations are link housekeeping that FarTraffic() leaves out: look at every packet.
  auto solicitations_from = [&](std::string_view from) {
    std::vector<netns::Packet> all = far_cap_->Take();
    return std::count_if(all.begin(), all.end(), [&](const netns::Packet& p) {
      return p.src == Ip(from) && p.icmp_type == ND_NEIGHBOR_SOLICIT;
    });
  };
  far_cap_->Take(milliseconds(0));
  EXPECT_EQ(solicit("fd00:1::99"), EPERM);  // a forged source
  EXPECT_EQ(solicitations_from("fd00:1::99"), 0);
  EXPECT_EQ(solicit("fd00:1::1"), 0);  // the namespace's own address
  EXPECT_GE(solicitations_from("fd00:1::1"), 1);
}

TEST_F(FirewallNetnsTest, Ipv6IsDroppedUnlessTunnelled) {
  ASSERT_TRUE(Apply(Connected()).ok());
  EXPECT_EQ(SendUdp(Addr("[fd00:3::2]:53")), EPERM);  // not even into the tunnel
  EXPECT_EQ(SendUdp(Addr("[fd00:1::2]:53")), EPERM);
  EXPECT_EQ(TcpConnect(*gw_, Addr("[fd00:3::2]:80")).err, ECONNREFUSED);
  EXPECT_EQ(Ping(Ip("fd00:1::2")), EPERM);
  EXPECT_THAT(VpnTraffic(), IsEmpty());
  EXPECT_THAT(FarTraffic(), IsEmpty());

  RulesetSpec spec = Connected();
  spec.ipv6_tunnelled = true;
  ASSERT_TRUE(Apply(spec).ok());
  EXPECT_EQ(SendUdp(Addr("[fd00:3::2]:53")), 0);
  EXPECT_EQ(SendUdp(Addr("[fd00:1::2]:53")), EPERM);  // tunnelled, never the uplink
  std::vector<netns::Packet> tunnelled = VpnTraffic();
  EXPECT_TRUE(Has(tunnelled, IPPROTO_UDP, Ip("fd00:3::2"), 53)) << netns::Describe(tunnelled);
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);
}

// Sends unmarked UDP out of the uplink, v4 and v6, as fast as it can until told to stop.
class Blaster {
 public:
  Blaster(UniqueFd v4, UniqueFd v6) : v4_(std::move(v4)), v6_(std::move(v6)) {
    thread_ = std::thread([this] {
      const SocketAddress to4 = Addr("192.0.2.2:9"), to6 = Addr("[fd00:1::2]:9");
      while (!stop_) {
        SendTo(v4_.get(), to4);
        SendTo(v6_.get(), to6);
        sent_ += 2;
      }
    });
  }
  ~Blaster() { Stop(); }
  uint64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return sent_;
  }

 private:
  UniqueFd v4_, v6_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

TEST_F(FirewallNetnsTest, TransitionsLeaveNoGap) {
  ASSERT_TRUE(Apply(Lockdown()).ok());
  RulesetSpec connected = Connected();
  connected.lan_subnets = {*IpPrefix::Parse("198.51.100.0/25")};
  connected.input_ports = {8080};
  far_cap_->Take(milliseconds(0));
  {
    Blaster blaster(Udp(*gw_, AF_INET), Udp(*gw_, AF_INET6));
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(Apply(connected).ok());
      ASSERT_TRUE(Apply(Lockdown()).ok());
    }
    EXPECT_GT(blaster.Stop(), 1000u);
  }
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << leaked.size() << " leaked, e.g. "
                                 << netns::Describe(leaked).substr(0, 300);

  // Control: the same blaster across a non-atomic replacement (delete, then add as a second
  // transaction) does leak, so the zero above is not the blaster's blindness.
  {
    Blaster blaster(Udp(*gw_, AF_INET), Udp(*gw_, AF_INET6));
    for (int i = 0; i < 25; ++i) {
      ASSERT_TRUE(RemoveAll().ok());
      ASSERT_TRUE(Apply(Lockdown()).ok());
    }
    blaster.Stop();
  }
  EXPECT_FALSE(FarTraffic().empty()) << "the blaster saw no gap even in a non-atomic swap";
}

TEST_F(FirewallNetnsTest, VerifierDetectsTamperingFromOutside) {
  RulesetSpec spec = Connected();
  spec.lan_subnets = {*IpPrefix::Parse("198.51.100.0/25")};
  ASSERT_TRUE(Apply(spec).ok());
  EXPECT_THAT(Problems(), IsEmpty());

  Nft({"flush", "table", "inet", "wgate"});
  EXPECT_THAT(Problems(), ElementsAre(StartsWith("table inet wgate was flushed: all ")));
  // Flushed, the chains keep policy drop: still closed (fail-closed even then).
  EXPECT_EQ(SendUdp(Addr("198.51.100.10:9")), EPERM);
  ASSERT_TRUE(Reapply().ok());
  EXPECT_THAT(Problems(), IsEmpty());

  Nft({"insert", "rule", "inet", "wgate", "output", "accept"});
  EXPECT_THAT(Problems(), ElementsAre("chain output: unexpected rule at position 1: `accept`"));
  ASSERT_TRUE(Reapply().ok());

  Nft({"chain", "inet", "wgate", "output", "{ policy accept ; }"});
  EXPECT_THAT(Problems(),
              ElementsAre("chain output: header changed: expected `type filter hook output "
                          "priority filter; policy drop;`, found `type filter hook output priority "
                          "filter; policy accept;`"));
  ASSERT_TRUE(Reapply().ok());

  Nft({"delete", "chain", "inet", "wgate", "forward"});
  EXPECT_THAT(Problems(), ElementsAre("chain forward is missing"));
  ASSERT_TRUE(Reapply().ok());

  Nft({"add", "set", "inet", "wgate", "leak", "{ type ipv4_addr ; }"});
  EXPECT_THAT(Problems(), ElementsAre("unexpected set leak"));
  ASSERT_TRUE(Reapply().ok());

  Nft({"delete", "table", "inet", "wgate"});
  EXPECT_THAT(Problems(), ElementsAre("table inet wgate is missing"));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), 0);  // why it matters: the namespace is open
  ASSERT_TRUE(Reapply().ok());
  EXPECT_THAT(Problems(), IsEmpty());
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
}

TEST_F(FirewallNetnsTest, RemoveAllOpensTheNamespaceAndIsIdempotent) {
  ASSERT_TRUE(Apply(Connected()).ok());
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
  ASSERT_TRUE(RemoveAll().ok());
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), 0);
  std::vector<netns::Packet> seen = FarTraffic();
  EXPECT_TRUE(Has(seen, IPPROTO_UDP, Ip("192.0.2.2"), 9)) << netns::Describe(seen);
  ASSERT_TRUE(RemoveAll().ok());
  Result<std::string> tables = gw_->Exec({"nft", "list", "tables"});
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(*tables, Not(HasSubstr("wgate")));
  EXPECT_THAT(Problems(), ElementsAre("no ruleset applied and read back by this process"));
}

TEST_F(FirewallNetnsTest, BackendQuotesNftErrorsAndSeesMissingTable) {
  Status s;
  Result<std::optional<std::string>> listed = std::optional<std::string>();
  ASSERT_TRUE(gw_->Run([&] {
                   s = backend_->Run("add rule inet nosuch output accept");
                   listed = backend_->ListTable(kTable);
                 })
                  .ok());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "nft: Error: Could not process rule: No such file or directory | add rule inet nosuch "
            "output accept");
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_FALSE(listed->has_value());
}

// How long an Apply (one transaction plus the read-back) takes. Prints the medians.
TEST_F(FirewallNetnsTest, ApplyTiming) {
  RulesetSpec connected = Connected();
  connected.lan_subnets = {*IpPrefix::Parse("198.51.100.0/25")};
  connected.input_ports = {8080, 9090};
  constexpr int kRuns = 51;
  std::vector<double> apply_ms, run_ms;
  Result<Ruleset> script = BuildRuleset(connected);
  ASSERT_TRUE(script.ok());
  ASSERT_TRUE(gw_->Run([&] {
                   for (int i = 0; i < kRuns; ++i) {
                     const RulesetSpec& spec = i % 2 ? connected : Lockdown();
                     Clock::time_point t0 = Clock::now();
                     ASSERT_TRUE(fw_->Apply(spec).ok());
                     apply_ms.push_back(
                         std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                     t0 = Clock::now();
                     ASSERT_TRUE(backend_->Run(script->script).ok());
                     run_ms.push_back(
                         std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
                   }
                 })
                  .ok());
  ASSERT_EQ(apply_ms.size(), static_cast<size_t>(kRuns));
  std::sort(apply_ms.begin(), apply_ms.end());
  std::sort(run_ms.begin(), run_ms.end());
  std::cout << "[ timing ] Firewall::Apply (transaction + read-back), median of " << kRuns << ": "
            << apply_ms[kRuns / 2] << " ms (min " << apply_ms.front() << ", max " << apply_ms.back()
            << ")\n"
            << "[ timing ] NftBackend::Run of the connected script alone, median of " << kRuns
            << ": " << run_ms[kRuns / 2] << " ms\n";
  RecordProperty("apply_median_ms", std::to_string(apply_ms[kRuns / 2]));
}

// ---- Tampering by another NET_ADMIN process, with the owned twin and the event monitor.

TEST_F(FirewallNetnsTest, OwnedTwinKeepsBlockingWhenAnotherProcessDeletesFlushesOrUnhooks) {
  fw_ = std::make_unique<Firewall>(*backend_, FirewallOptions{.owned_twin = true});
  ASSERT_TRUE(Apply(Connected()).ok());
  ASSERT_TRUE(fw_->owned_twin_active()) << fw_->ownership_summary();
  // A second transaction through the same backend may replace the owned table: libnftables
  // keeps one socket for the context's life.
  ASSERT_TRUE(Apply(Lockdown()).ok());
  ASSERT_TRUE(Apply(Connected()).ok());
  EXPECT_THAT(Problems(), IsEmpty());
  far_cap_->Take(milliseconds(0));

  Nft({"delete", "table", "inet", "wgate"});
  EXPECT_THAT(Problems(), ElementsAre("table inet wgate is missing"));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);  // the twin still refuses
  EXPECT_EQ(TcpConnect(*gw_, Addr("192.0.2.2:80")).err, ECONNREFUSED);
  // The twin itself: another process can neither delete it, nor unhook it; flush skips it.
  EXPECT_FALSE(gw_->Exec({"nft", "delete", "table", "inet", "wgate_owned"}).ok());
  EXPECT_FALSE(
      gw_->Exec({"nft", "add", "table", "inet", "wgate_owned", "{ flags dormant; }"}).ok());
  Nft({"flush", "ruleset"});
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
  ASSERT_TRUE(Reapply().ok());
  EXPECT_THAT(Problems(), IsEmpty());
  Nft({"add", "table", "inet", "wgate", "{ flags dormant; }"});
  EXPECT_THAT(Problems(), ElementsAre("table inet wgate: unexpected attribute at position 1: "
                                      "`flags dormant`"));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
  std::vector<netns::Packet> leaked = FarTraffic();
  EXPECT_THAT(leaked, IsEmpty()) << netns::Describe(leaked);

  // Control: the same deletion without the twin opens the namespace.
  ASSERT_TRUE(RemoveAll().ok());
  fw_ = std::make_unique<Firewall>(*backend_);
  ASSERT_TRUE(Apply(Connected()).ok());
  Result<std::string> tables = gw_->Exec({"nft", "list", "tables"});
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(*tables, Not(HasSubstr("wgate_owned")));
  Nft({"delete", "table", "inet", "wgate"});
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), 0);
}

TEST_F(FirewallNetnsTest, OwnedTwinGoesWithItsOwnerAndTheTableStays) {
  fw_ = std::make_unique<Firewall>(*backend_, FirewallOptions{.owned_twin = true});
  ASSERT_TRUE(Apply(Lockdown()).ok());
  Result<std::string> listed = gw_->Exec({"nft", "list", "table", "inet", "wgate_owned"});
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(*listed, HasSubstr("table inet wgate_owned { # progname "));
  EXPECT_THAT(*listed, HasSubstr("\tflags owner\n"));
  // The process dies: its socket closes, the kernel drops the twin, inet wgate stays (locked).
  fw_.reset();
  backend_.reset();
  Result<std::string> tables = gw_->Exec({"nft", "list", "tables"});
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(*tables, HasSubstr("table inet wgate\n"));
  EXPECT_THAT(*tables, Not(HasSubstr("wgate_owned")));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
}

TEST_F(FirewallNetnsTest, UnblockFromAnotherProcessCannotRemoveARunningGatewaysTwin) {
  fw_ = std::make_unique<Firewall>(*backend_, FirewallOptions{.owned_twin = true});
  ASSERT_TRUE(Apply(Connected()).ok());
  std::unique_ptr<NftablesBackend> other_backend;
  Status removed;
  ASSERT_TRUE(gw_->Run([&] {
                   other_backend = std::move(*NftablesBackend::Create());
                   Firewall other(*other_backend);
                   removed = other.RemoveAll();
                 })
                  .ok());
  ASSERT_FALSE(removed.ok());
  EXPECT_THAT(removed.error().message(), HasSubstr("table inet wgate_owned remains"));
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), EPERM);
  ASSERT_TRUE(RemoveAll().ok());  // the owner can
  EXPECT_EQ(SendUdp(Addr("192.0.2.2:9")), 0);
}

TEST_F(FirewallNetnsTest, BackendSocketIsCloseOnExecAndItsPortIdKnown) {
  ASSERT_NE(backend_->portid(), 0u);
  bool found = false;
  ASSERT_TRUE(gw_->Run([&] {
                   for (int fd = 0; fd < 1024; ++fd) {
                     sockaddr_nl addr{};
                     socklen_t len = sizeof addr;
                     int protocol = -1;
                     socklen_t plen = sizeof protocol;
                     if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
                         addr.nl_family != AF_NETLINK || addr.nl_pid != backend_->portid() ||
                         getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) != 0 ||
                         protocol != NETLINK_NETFILTER) {
                       continue;
                     }
                     found = true;
                     EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC) << "fd " << fd;
                   }
                 })
                  .ok());
  EXPECT_TRUE(found);
}

// Waits for the monitor's fd; returns how long it took, or nullopt.
std::optional<milliseconds> WaitReadable(int fd, milliseconds limit) {
  const Clock::time_point start = Clock::now();
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(limit.count())) != 1) return std::nullopt;
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST_F(FirewallNetnsTest, MonitorReportsAnotherProcessesDeletionWithinMilliseconds) {
  std::unique_ptr<NftMonitor> monitor;
  ASSERT_TRUE(
      gw_->Run([&] {
           auto m = NftMonitor::Open({"inet wgate", "inet wgate_owned"}, backend_->portid());
           ASSERT_TRUE(m.ok()) << m.error().message();
           monitor = std::move(*m);
         })
          .ok());
  ASSERT_TRUE(monitor);
  fw_ = std::make_unique<Firewall>(*backend_, FirewallOptions{.owned_twin = true});
  ASSERT_TRUE(Apply(Connected()).ok());
  ASSERT_TRUE(Reapply().ok());
  // Its own transactions wake nothing.
  Result<NftChanges> own = monitor->Read();
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->changed) << ::testing::PrintToString(own->descriptions);
  // Someone else's table is none of its business.
  Nft({"add", "table", "inet", "unrelated"});
  EXPECT_FALSE(monitor->Read()->changed);

  const Clock::time_point t0 = Clock::now();
  Nft({"delete", "table", "inet", "wgate"});
  std::optional<milliseconds> woke = WaitReadable(monitor->fd(), milliseconds(1000));
  ASSERT_TRUE(woke.has_value()) << "no event within a second";
  const auto since = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  Result<NftChanges> c = monitor->Read();
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(c->changed);
  EXPECT_THAT(c->descriptions, Contains("NFT_MSG_DELTABLE inet wgate"));
  // `since` includes starting the nft process.
  EXPECT_LT(since.count(), 500);
  std::cout << "[ timing ] `nft delete table inet wgate` started to event read: " << since.count()
            << " ms\n";
  RecordProperty("delete_to_event_ms", std::to_string(since.count()));
  Nft({"add", "table", "inet", "wgate", "{ flags dormant; }"});
  ASSERT_TRUE(WaitReadable(monitor->fd(), milliseconds(1000)).has_value());
  EXPECT_THAT(monitor->Read()->descriptions, Contains("NFT_MSG_NEWTABLE inet wgate flags dormant"));
}

TEST_F(FirewallNetnsTest, MonitorReportsLostEventsAsAChange) {
  std::unique_ptr<NftMonitor> monitor;
  ASSERT_TRUE(gw_->Run([&] {
                   auto m = NftMonitor::Open({"inet wgate"}, 0);
                   ASSERT_TRUE(m.ok()) << m.error().message();
                   monitor = std::move(*m);
                 })
                  .ok());
  const int small = 1;  // the kernel rounds it up to its minimum, a few KiB
  ASSERT_EQ(setsockopt(monitor->fd(), SOL_SOCKET, SO_RCVBUFFORCE, &small, sizeof small), 0);
  // Events of an unwatched table fill the buffer just as well.
  std::string script = "add table inet other\nadd chain inet other c\n";
  for (int i = 0; i < 500; ++i)
    script += StrCat("add rule inet other c ip daddr 192.0.2.", i % 250, " accept\n");
  ASSERT_TRUE(gw_->Run([&] { ASSERT_TRUE(backend_->Run(script).ok()); }).ok());
  Result<NftChanges> c = monitor->Read();
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_TRUE(c->changed);
  EXPECT_THAT(c->descriptions, Contains(StartsWith("events lost (ENOBUFS)")));
}

}  // namespace
}  // namespace wgate::firewall
