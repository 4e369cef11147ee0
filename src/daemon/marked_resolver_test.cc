#include "daemon/marked_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "base/temp_dir.h"
#include "base/unique_fd.h"

namespace wgate::daemon {
namespace {

// A DNS stub on 127.0.0.1: answers A and AAAA queries from `names`, NXDOMAIN otherwise, and logs
// every name asked. Marks are not visible to the receiver; the namespace leak suite checks the mark
// against the real firewall.
class StubDns {
 public:
  explicit StubDns(std::map<std::string, std::vector<IpAddress>> names =
                       {{"vpn.test", {*IpAddress::Parse("203.0.113.9")}}})
      : names_(std::move(names)), fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 100000};
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { Serve(); });
  }
  ~StubDns() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }
  std::vector<std::string> asked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  void Serve() {
    uint8_t buf[512];
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      ++queries_;
      // Question name starts at 12; find its end and the qtype.
      size_t i = 12;
      std::string name;
      while (i < static_cast<size_t>(n) && buf[i]) {
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<char*>(buf + i + 1), buf[i]);
        i += buf[i] + 1;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        asked_.push_back(name);
      }
      size_t qend = i + 5;
      uint16_t qtype = static_cast<uint16_t>(buf[i + 1] << 8 | buf[i + 2]);
      std::vector<uint8_t> out(buf, buf + qend);
      out[2] = 0x81;  // response, recursion desired
      out[3] = 0x80;  // recursion available, rcode 0
      out[6] = out[7] = 0;
      out[8] = out[9] = out[10] = out[11] = 0;
      auto found = names_.find(name);
      if (found == names_.end()) {
        out[3] = 0x83;  // NXDOMAIN
      } else {
        bool v6 = qtype == 28;
        for (const IpAddress& a : found->second) {
          if (a.is_v6() != v6 || (qtype != 1 && qtype != 28)) continue;
          ++out[7];
          uint8_t head[] = {0xc0, 0x0c, 0, static_cast<uint8_t>(qtype),   0, 1, 0, 0,
                            0,    60,   0, static_cast<uint8_t>(a.size())};
          out.insert(out.end(), head, head + sizeof head);
          out.insert(out.end(), a.data(), a.data() + a.size());
        }
      }
      sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::map<std::string, std::vector<IpAddress>> names_;
  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  mutable std::mutex mu_;
  std::vector<std::string> asked_;
  std::thread thread_;
};

const std::vector<IpAddress> kLoopbackResolver = {*IpAddress::Parse("127.0.0.1")};

TEST(MarkedResolverTest, ResolvesThroughTheGivenResolver) {
  StubDns dns;
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("vpn.test", kLoopbackResolver, 51820);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].ToString(), "203.0.113.9");
  EXPECT_GE(dns.queries(), 1);
}

TEST(MarkedResolverTest, NxdomainAndTimeoutAreErrors) {
  StubDns dns;
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto nx = resolver.Resolve("nowhere.test", kLoopbackResolver, 51820);
  ASSERT_FALSE(nx.ok());
  EXPECT_EQ(nx.error().message(), "Domain name not found");
  MarkedResolver silent(1, std::chrono::milliseconds(300));  // nobody on port 1
  auto t = silent.Resolve("vpn.test", kLoopbackResolver, 51820);
  ASSERT_FALSE(t.ok());
}

TEST(MarkedResolverTest, NeverTheHostsFile) {
  // /etc/hosts says localhost is 127.0.0.1; a consumer can write that file. Only DNS counts.
  StubDns dns({{"localhost", {*IpAddress::Parse("203.0.113.7")}}});
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("localhost", kLoopbackResolver, 51820);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].ToString(), "203.0.113.7");
  EXPECT_EQ(dns.asked()[0], "localhost");
}

TEST(MarkedResolverTest, TheEnvironmentAddsNoSearchDomainNorNdots) {
  StubDns dns({{"vpn.test", {*IpAddress::Parse("203.0.113.9")}},
               {"vpn", {*IpAddress::Parse("203.0.113.10")}}});
  ASSERT_EQ(setenv("LOCALDOMAIN", "secret.attacker.example", 1), 0);
  ASSERT_EQ(setenv("RES_OPTIONS", "ndots:9 attempts:5", 1), 0);
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("vpn.test", kLoopbackResolver, 51820);
  auto single = resolver.Resolve("vpn", kLoopbackResolver, 51820);
  unsetenv("LOCALDOMAIN");
  unsetenv("RES_OPTIONS");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(single.ok()) << single.error().message();
  EXPECT_EQ((*single)[0].ToString(), "203.0.113.10");
  for (const std::string& name : dns.asked()) {
    EXPECT_TRUE(name == "vpn.test" || name == "vpn") << "asked " << name;
  }
}

TEST(MarkedResolverTest, AnAddressThatCannotBeAServerRefusesTheAnswer) {
  StubDns dns({{"loop.test", {*IpAddress::Parse("198.51.100.7"), *IpAddress::Parse("127.0.0.1")}},
               {"mcast.test", {*IpAddress::Parse("ff02::1")}}});
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto loop = resolver.Resolve("loop.test", kLoopbackResolver, 51820);
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().message(),
            "\"loop.test\" resolved to 127.0.0.1, a loopback address, which cannot be a VPN "
            "server: refused");
  auto mcast = resolver.Resolve("mcast.test", kLoopbackResolver, 51820);
  ASSERT_FALSE(mcast.ok());
  EXPECT_EQ(mcast.error().message(),
            "\"mcast.test\" resolved to ff02::1, a multicast address, which cannot be a VPN "
            "server: refused");
}

TEST(MarkedResolverTest, CheckEndpointAddressRefusesEachClass) {
  for (const char* bad : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.5.5.5", "169.254.1.1",
                          "224.0.0.1", "239.255.255.250", "255.255.255.255", "::", "::1", "fe80::1",
                          "ff02::1", "::ffff:127.0.0.1", "::ffff:203.0.113.9"}) {
    Status s = CheckEndpointAddress("vpn.test", *IpAddress::Parse(bad));
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_NE(s.error().message().find(bad), std::string::npos);
    }
  }
  for (const char* good : {"203.0.113.9", "198.51.100.1", "10.0.0.1", "192.0.2.1", "fd00::9",
                           "2001:db8::1", "223.255.255.255"}) {
    EXPECT_TRUE(CheckEndpointAddress("vpn.test", *IpAddress::Parse(good)).ok()) << good;
  }
}

TEST(MarkedResolverTest, AtMostEightAddressesAreKept) {
  std::vector<IpAddress> many;
  for (uint8_t i = 1; i <= 20; ++i) {
    uint8_t b[4] = {203, 0, 113, i};
    many.push_back(IpAddress::V4(b));
  }
  StubDns dns({{"many.test", many}});
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("many.test", kLoopbackResolver, 51820);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->size(), kMaxEndpointAddresses);
}

TEST(MarkedResolverTest, ABadHostNameIsQuotedAndNeverAsked) {
  StubDns dns;
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("vpn test", kLoopbackResolver, 51820);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "\"vpn test\" is not a DNS host name: only letters, digits, hyphens and dots may "
            "appear in it");
  EXPECT_EQ(dns.queries(), 0);
}

TEST(MarkedResolverTest, ValidateHostName) {
  for (const char* good : {"vpn.example.test", "vpn.example.test.", "nl-1.wg.example", "1.example",
                           "localhost", "A.B"}) {
    EXPECT_TRUE(ValidateHostName(good).ok()) << good;
  }
  EXPECT_EQ(ValidateHostName("").error().message(), "\"\" is not a DNS host name: it is empty");
  EXPECT_EQ(ValidateHostName("a..b").error().message(),
            "\"a..b\" is not a DNS host name: it has an empty label");
  EXPECT_EQ(ValidateHostName("-vpn.test").error().message(),
            "\"-vpn.test\" is not a DNS host name: label \"-vpn\" starts or ends with a hyphen");
  EXPECT_EQ(ValidateHostName(std::string(64, 'a') + ".test").error().message(),
            "\"" + std::string(64, 'a') + ".test\" is not a DNS host name: label \"" +
                std::string(64, 'a') + "\" is longer than 63 characters");
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(50, 'a') + ".";
  long_name += "test";  // 259 characters in labels of 50
  EXPECT_EQ(ValidateHostName(long_name).error().message(),
            "\"" + long_name + "\" is not a DNS host name: longer than 253 characters");
  EXPECT_EQ(ValidateHostName("vpn.test\n\"x").error().message(),
            "\"vpn.test\\x0a\\x22x\" is not a DNS host name: only letters, digits, hyphens and "
            "dots may appear in it");
  EXPECT_FALSE(ValidateHostName("vpn_1.test").ok());
  EXPECT_FALSE(ValidateHostName("vpn.test..").ok());
}

// The real files, replaced for this process only: a private mount namespace in a child, with a
// hostile /etc/hosts and /etc/resolv.conf bind-mounted over the machine's (needs root).
TEST(MarkedResolverTest, NeitherTheHostsFileNorResolvConfAsAConsumerWroteThem) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  TempDir dir;
  std::string hosts = dir.Write("hosts", "203.0.113.66 vpn.test\n", 0644);
  std::string resolv = dir.Write("resolv.conf",
                                 "nameserver 127.0.0.1\nsearch data.attacker.example\n"
                                 "options ndots:9\nsortlist 203.0.113.66/255.255.255.255\n",
                                 0644);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
        mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) ||
        mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr)) {
      _exit(10);
    }
    StubDns dns({{"vpn.test", {*IpAddress::Parse("203.0.113.9")}},
                 {"vpn", {*IpAddress::Parse("203.0.113.10")}}});
    MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
    auto r = resolver.Resolve("vpn.test", kLoopbackResolver, 51820);
    auto single = resolver.Resolve("vpn", kLoopbackResolver, 51820);
    if (!r.ok() || r->size() != 1 || (*r)[0].ToString() != "203.0.113.9") _exit(11);
    if (!single.ok() || (*single)[0].ToString() != "203.0.113.10") _exit(12);
    for (const std::string& name : dns.asked()) {
      if (name.find("attacker") != std::string::npos) _exit(13);
    }
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: no mount namespace; 11: took the hosts file; 12, 13: used the search list";
}

}  // namespace
}  // namespace wgate::daemon
