#include "daemon/marked_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/unique_fd.h"

namespace wgate::daemon {
namespace {

// A DNS stub on 127.0.0.1: answers A queries for vpn.test with 203.0.113.9, NXDOMAIN otherwise,
// and records the mark of... nothing: marks are not visible to the receiver; the namespace leak
// suite checks the mark against the real firewall.
class StubDns {
 public:
  StubDns() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
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
      size_t qend = i + 5;
      uint16_t qtype = static_cast<uint16_t>(buf[i + 1] << 8 | buf[i + 2]);
      std::vector<uint8_t> out(buf, buf + qend);
      out[2] = 0x81;  // response, recursion desired
      out[3] = 0x80;  // recursion available, rcode 0
      out[6] = out[7] = 0;
      out[8] = out[9] = out[10] = out[11] = 0;
      if (name != "vpn.test") {
        out[3] = 0x83;  // NXDOMAIN
      } else if (qtype == 1) {
        out[7] = 1;
        uint8_t answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 9};
        out.insert(out.end(), answer, answer + sizeof answer);
      }
      sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

TEST(MarkedResolverTest, ResolvesThroughTheGivenResolver) {
  StubDns dns;
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto r = resolver.Resolve("vpn.test", {*IpAddress::Parse("127.0.0.1")}, 51820);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].ToString(), "203.0.113.9");
  EXPECT_GE(dns.queries(), 1);
}

TEST(MarkedResolverTest, NxdomainAndTimeoutAreErrors) {
  StubDns dns;
  MarkedResolver resolver(dns.port(), std::chrono::seconds(3));
  auto nx = resolver.Resolve("nowhere.test", {*IpAddress::Parse("127.0.0.1")}, 51820);
  ASSERT_FALSE(nx.ok());
  EXPECT_EQ(nx.error().message(), "Domain name not found");
  MarkedResolver silent(1, std::chrono::milliseconds(300));  // nobody on port 1
  auto t = silent.Resolve("vpn.test", {*IpAddress::Parse("127.0.0.1")}, 51820);
  ASSERT_FALSE(t.ok());
}

}  // namespace
}  // namespace wgate::daemon
