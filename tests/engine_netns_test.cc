// The userspace engine against the real kernel and against an independent implementation, in
// network namespaces this test makes and removes (shared/DESIGN.md, "How the project is tested").
//
//   a (client)                                   b (server)
//   va 192.0.2.1/24 fd00:1::1/64     <-veth->    vb 192.0.2.2/24 fd00:1::2/64
//   wg "wgt<pid>a<n>" 198.51.100.1/24 fd00:9::1/64   wg "wgt<pid>b<n>" 198.51.100.2/24 fd00:9::2/64
//
// Each side runs `wgate engine -f` or Debian's `wireguard-go -f` (interface names are unique per
// run: the UAPI socket directory is shared by every namespace), configured with `wg set` over the
// UAPI. Traffic is ICMP echo (raw sockets) and TCP streams whose checksum both ends compute.
// Every process is started by this test, stopped by PID; namespaces are deleted by the harness
// even when an assertion fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "base/strings.h"
#include "base/temp_dir.h"
#include "netns_harness.h"
#include "wg/device.h"

extern char** environ;

namespace wgate {
namespace {

using namespace std::chrono_literals;
using netns::Namespace;
using ::testing::HasSubstr;
using ::testing::Not;
using SteadyClock = std::chrono::steady_clock;

#ifndef WGATE_BINARY
#define WGATE_BINARY "wgate"
#endif

enum class Kind { kWgate, kWireguardGo };
std::string KindName(Kind k) { return k == Kind::kWgate ? "wgate" : "wggo"; }

// Timers for the rekey and restart scenarios (WGATE_TEST_TIMINGS, tests only).
constexpr char kShortTimings[] =
    "rekey_after_time=4000,reject_after_time=9000,rekey_timeout=1000,keepalive_timeout=2000,"
    "rekey_attempt_time=30000";

IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s); }

// ---- processes ----

// A process started inside a namespace (`ip netns exec NS argv...`, which execs: the PID is the
// program's), its output going to a log file. Stopped with SIGTERM (then SIGKILL) by PID.
class Process {
 public:
  Process(const std::string& ns, const std::vector<std::string>& argv, std::string log,
          const std::vector<std::string>& extra_env)
      : log_(std::move(log)) {
    std::vector<std::string> full = {"ip", "netns", "exec", ns};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (std::string& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_store(extra_env);
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (std::string& e : env_store) env.push_back(e.data());
    env.push_back(nullptr);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execvpe(args[0], args.data(), env.data());
      ::_exit(127);
    }
    ::close(log_fd);
  }
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Returns the wait status.
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = SteadyClock::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (SteadyClock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    exit_status_ = status;
    return status;
  }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

// ---- traffic ----

// Sends echo requests until one is answered or `timeout` passes.
bool Ping(Namespace& ns, const IpAddress& dst, std::chrono::milliseconds timeout = 10s) {
  const bool v6 = dst.is_v6();
  auto sock =
      ns.Socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
  if (!sock.ok()) return false;
  static std::atomic<uint16_t> next_id{1};
  const uint16_t id = next_id++;
  sockaddr_storage to;
  socklen_t to_len = SocketAddress{dst, 0}.ToSockaddr(&to);
  const auto deadline = SteadyClock::now() + timeout;
  for (uint16_t seq = 1; SteadyClock::now() < deadline; ++seq) {
    uint8_t req[64] = {};
    req[0] = v6 ? int{ICMP6_ECHO_REQUEST} : int{ICMP_ECHO};
    req[4] = id >> 8;
    req[5] = id & 0xff;
    req[6] = seq >> 8;
    req[7] = seq & 0xff;
    if (!v6) {  // the kernel computes the ICMPv6 checksum, not the ICMPv4 one
      uint32_t sum = 0;
      for (size_t i = 0; i < sizeof(req); i += 2) sum += (req[i] << 8) | req[i + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      req[2] = static_cast<uint8_t>(~sum >> 8);
      req[3] = static_cast<uint8_t>(~sum & 0xff);
    }
    ::sendto(sock->get(), req, sizeof(req), 0, reinterpret_cast<sockaddr*>(&to), to_len);
    const auto wait_until = std::min(deadline, SteadyClock::now() + 500ms);
    while (SteadyClock::now() < wait_until) {
      pollfd pfd{sock->get(), POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      uint8_t buf[1500];
      ssize_t n = ::recv(sock->get(), buf, sizeof(buf), 0);
      if (n <= 0) continue;
      const uint8_t* icmp = buf;
      if (!v6) {
        const size_t ihl = (buf[0] & 0x0f) * 4;
        if (static_cast<size_t>(n) < ihl + 8 || std::memcmp(buf + 12, dst.data(), 4) != 0) continue;
        icmp = buf + ihl;
      } else if (n < 8) {
        continue;
      }
      const int reply_type = v6 ? int{ICMP6_ECHO_REPLY} : int{ICMP_ECHOREPLY};
      if (icmp[0] == reply_type && icmp[4] == (id >> 8) && icmp[5] == (id & 0xff)) return true;
    }
  }
  return false;
}

struct StreamResult {
  uint64_t sent_bytes = 0, received_bytes = 0;
  uint64_t sent_hash = 0, received_hash = 0;
  std::string error;
  double seconds = 0;
  bool ok() const {
    return error.empty() && sent_bytes == received_bytes && sent_hash == received_hash;
  }
};

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
uint64_t Fnv(uint64_t h, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// One TCP connection from `client` to `server_addr`:port in `server`, `bytes` of pseudo-random
// data; both ends checksum what they saw. `during` runs on the caller's thread mid-transfer.
StreamResult TcpStream(Namespace& client, Namespace& server, const IpAddress& server_addr,
                       uint64_t bytes,
                       const std::function<void(const std::atomic<uint64_t>&)>& during = nullptr) {
  static std::atomic<uint16_t> next_port{7000};
  const uint16_t port = next_port++;
  StreamResult r;
  const int family = server_addr.is_v6() ? AF_INET6 : AF_INET;
  auto listener = server.Socket(family, SOCK_STREAM);
  auto conn = client.Socket(family, SOCK_STREAM);
  if (!listener.ok() || !conn.ok()) {
    r.error = "socket";
    return r;
  }
  int one = 1;
  ::setsockopt(listener->get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage addr;
  socklen_t len = SocketAddress{server_addr, port}.ToSockaddr(&addr);
  if (::bind(listener->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener->get(), 1) != 0) {
    r.error = StrCat("bind/listen: ", std::strerror(errno));
    return r;
  }
  timeval tv{60, 0};
  std::atomic<uint64_t> received{0};
  std::thread receiver([&] {
    pollfd pfd{listener->get(), POLLIN, 0};
    if (::poll(&pfd, 1, 30000) != 1) return;
    UniqueFd c(::accept(listener->get(), nullptr, nullptr));
    if (!c) return;
    ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::vector<uint8_t> buf(1 << 16);
    uint64_t h = kFnvOffset;
    for (;;) {
      ssize_t n = ::recv(c.get(), buf.data(), buf.size(), 0);
      if (n <= 0) break;
      h = Fnv(h, buf.data(), static_cast<size_t>(n));
      received += static_cast<uint64_t>(n);
    }
    r.received_hash = h;
  });
  const auto start = SteadyClock::now();
  std::thread sender([&] {
    ::setsockopt(conn->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(conn->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      r.error = StrCat("connect: ", std::strerror(errno));
      ::shutdown(listener->get(), SHUT_RDWR);
      return;
    }
    std::mt19937_64 rng(bytes);
    std::vector<uint64_t> buf(1 << 13);
    uint64_t h = kFnvOffset;
    uint64_t left = bytes;
    while (left > 0) {
      for (uint64_t& w : buf) w = rng();
      size_t chunk = std::min<uint64_t>(left, buf.size() * 8);
      const uint8_t* p = reinterpret_cast<const uint8_t*>(buf.data());
      h = Fnv(h, p, chunk);
      size_t off = 0;
      while (off < chunk) {
        ssize_t n = ::send(conn->get(), p + off, chunk - off, MSG_NOSIGNAL);
        if (n <= 0) {
          r.error = StrCat("send after ", bytes - left + off, " bytes: ", std::strerror(errno));
          ::shutdown(conn->get(), SHUT_RDWR);
          return;
        }
        off += static_cast<size_t>(n);
      }
      left -= chunk;
      r.sent_bytes += chunk;
    }
    r.sent_hash = h;
    ::shutdown(conn->get(), SHUT_WR);
  });
  if (during) during(received);
  sender.join();
  receiver.join();
  r.received_bytes = received;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return r;
}

std::string Describe(const StreamResult& r) {
  return StrCat("sent ", r.sent_bytes, " received ", r.received_bytes, " hashes ", r.sent_hash, "/",
                r.received_hash, " in ", r.seconds, " s (",
                r.seconds > 0 ? r.received_bytes * 8 / r.seconds / 1e6 : 0, " Mbit/s) ", r.error);
}

// ---- topology ----

struct Side {
  std::unique_ptr<Namespace> ns;
  std::string veth;
  std::string iface;
  std::string private_key, public_key;
  std::string key_file;
  std::unique_ptr<Process> engine;
  Kind kind = Kind::kWgate;
  IpAddress outer4, outer6, inner4, inner6;
};

class EngineNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = netns::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    if (!netns::Command({"wireguard-go", "--version"}).ok()) GTEST_SKIP() << "no wireguard-go";
    if (!netns::Command({"wg", "--version"}).ok()) GTEST_SKIP() << "no wg";
    static int counter = 0;
    const int n = counter++;
    for (Side* s : {&a_, &b_}) {
      const char role = s == &a_ ? 'a' : 'b';
      auto ns = Namespace::Create(StrCat(role, n));
      ASSERT_TRUE(ns.ok()) << ns.error().message();
      s->ns = std::move(*ns);
      s->veth = StrCat("v", role);
      s->iface = StrCat("wgt", ::getpid(), role, n);
      s->private_key = Trim(*netns::Command({"wg", "genkey"}));
      s->key_file = StrCat(dir_.path(), "/", role, ".key");
      std::ofstream(s->key_file) << s->private_key << "\n";
      ::chmod(s->key_file.c_str(), 0600);
      s->public_key = Trim(*netns::Command({"sh", "-c", "wg pubkey < " + s->key_file}));
    }
    a_.outer4 = Ip("192.0.2.1");
    b_.outer4 = Ip("192.0.2.2");
    a_.outer6 = Ip("fd00:1::1");
    b_.outer6 = Ip("fd00:1::2");
    a_.inner4 = Ip("198.51.100.1");
    b_.inner4 = Ip("198.51.100.2");
    a_.inner6 = Ip("fd00:9::1");
    b_.inner6 = Ip("fd00:9::2");
    ASSERT_TRUE(netns::AddVeth(*a_.ns, a_.veth, *b_.ns, b_.veth).ok());
    for (Side* s : {&a_, &b_}) {
      Must(s->ns->Ip({"addr", "add", s->outer4.ToString() + "/24", "dev", s->veth}));
      Must(s->ns->Ip({"addr", "add", s->outer6.ToString() + "/64", "dev", s->veth, "nodad"}));
    }
  }

  void TearDown() override {
    for (Side* s : {&a_, &b_}) {
      if (s->engine) s->engine->Stop();
      if (HasFailure() && s->engine) std::cerr << s->iface << " log:\n" << s->engine->Log();
    }
  }

  static std::string Trim(std::string s) { return std::string(TrimSpace(s)); }
  static void Must(const Result<std::string>& r) { ASSERT_TRUE(r.ok()) << r.error().message(); }

  // Starts the engine of `s` and gives its interface addresses. Waits for the UAPI socket.
  void Start(Side& s, Kind kind, const std::vector<std::string>& env = {}) {
    s.kind = kind;
    const std::string log = StrCat(dir_.path(), "/", s.iface, ".log");
    std::vector<std::string> argv =
        kind == Kind::kWgate ? std::vector<std::string>{WGATE_BINARY, "engine", "-f", s.iface}
                             : std::vector<std::string>{"wireguard-go", "-f", s.iface};
    std::vector<std::string> e = env;
    e.push_back("WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1");
    e.push_back("LOG_LEVEL=error");
    s.engine = std::make_unique<Process>(s.ns->name(), argv, log, e);
    const std::string sock = StrCat("/var/run/wireguard/", s.iface, ".sock");
    const auto deadline = SteadyClock::now() + 10s;
    while (::access(sock.c_str(), F_OK) != 0) {
      ASSERT_TRUE(s.engine->Running()) << KindName(kind) << " exited:\n" << s.engine->Log();
      ASSERT_LT(SteadyClock::now(), deadline) << "no UAPI socket " << sock;
      std::this_thread::sleep_for(20ms);
    }
    Must(s.ns->Ip({"addr", "add", s.inner4.ToString() + "/24", "dev", s.iface}));
    Must(s.ns->Ip({"addr", "add", s.inner6.ToString() + "/64", "dev", s.iface, "nodad"}));
    Must(s.ns->Ip({"link", "set", s.iface, "up"}));
  }

  // `wg set` on `self`: its key and port, and `peer` with an endpoint over outer v4 or v6 (or no
  // endpoint: the peer must initiate).
  void Configure(Side& self, Side& peer, uint16_t port, uint16_t peer_port, bool v6,
                 bool with_endpoint, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {
        "wg",           "set",         self.iface,           "private-key",
        self.key_file,  "listen-port", std::to_string(port), "peer",
        peer.public_key};
    if (with_endpoint) {
      argv.push_back("endpoint");
      argv.push_back(SocketAddress{v6 ? peer.outer6 : peer.outer4, peer_port}.ToString());
    }
    argv.push_back("allowed-ips");
    argv.push_back(peer.inner4.ToString() + "/32," + peer.inner6.ToString() + "/128");
    argv.insert(argv.end(), extra.begin(), extra.end());
    Must(self.ns->Exec(argv));
  }

  std::string Wg(Side& s, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"wg"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = s.ns->Exec(argv);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? *r : "";
  }

  TempDir dir_;
  Side a_, b_;
};

// ---- interop matrix ----

struct Case {
  Kind peer;  // what runs on b (a always runs wgate)
  bool outer_v6;
  bool b_initiates;
};

class EngineInteropTest : public EngineNetnsTest, public ::testing::WithParamInterface<Case> {};

TEST_P(EngineInteropTest, HandshakePingBothWaysAndA100MegabyteStream) {
  const Case c = GetParam();
  Start(a_, Kind::kWgate);
  Start(b_, c.peer);
  Configure(a_, b_, 51820, 51821, c.outer_v6, true);
  Configure(b_, a_, 51821, 51820, c.outer_v6, true);
  Side& first = c.b_initiates ? b_ : a_;
  Side& second = c.b_initiates ? a_ : b_;
  ASSERT_TRUE(Ping(*first.ns, second.inner4)) << "first ping (handshake)";
  EXPECT_TRUE(Ping(*second.ns, first.inner4));
  EXPECT_TRUE(Ping(*first.ns, second.inner6));
  EXPECT_TRUE(Ping(*second.ns, first.inner6));
  // Inner family opposite to the outer one, so that the matrix covers all four combinations.
  const bool inner_v6 = !c.outer_v6;
  StreamResult up =
      TcpStream(*first.ns, *second.ns, inner_v6 ? second.inner6 : second.inner4, 100 << 20);
  EXPECT_TRUE(up.ok()) << Describe(up);
  std::cerr << "stream " << KindName(first.kind) << " -> " << KindName(second.kind) << ": "
            << Describe(up) << "\n";
  StreamResult down =
      TcpStream(*second.ns, *first.ns, inner_v6 ? first.inner6 : first.inner4, 16 << 20);
  EXPECT_TRUE(down.ok()) << Describe(down);
  // wg show against wgate: the peer, a handshake, and the bytes.
  const std::string transfer = Wg(a_, {"show", a_.iface, "transfer"});
  std::istringstream fields(transfer);
  std::string key;
  uint64_t rx = 0, tx = 0;
  fields >> key >> rx >> tx;
  EXPECT_EQ(key, b_.public_key);
  EXPECT_GT(c.b_initiates ? rx : tx, 100u << 20);
  EXPECT_THAT(Wg(a_, {"show", a_.iface, "latest-handshakes"}), Not(HasSubstr("\t0\n")));
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return StrCat(KindName(info.param.peer), info.param.outer_v6 ? "_outer6" : "_outer4",
                info.param.b_initiates ? "_peer_initiates" : "_wgate_initiates");
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, EngineInteropTest,
    ::testing::Values(Case{Kind::kWireguardGo, false, false}, Case{Kind::kWireguardGo, false, true},
                      Case{Kind::kWireguardGo, true, false}, Case{Kind::kWireguardGo, true, true},
                      Case{Kind::kWgate, false, false}, Case{Kind::kWgate, false, true},
                      Case{Kind::kWgate, true, false}, Case{Kind::kWgate, true, true}),
    CaseName);

// ---- roaming ----

// The client's source address changes mid-stream; wgate (the server) follows it. The old address
// is deleted outright (the new one, a secondary, is promoted), as when a laptop changes networks.
// With wgate as the client the stream resumes at once; wireguard-go as the client keeps its source
// address sticky and takes tens of seconds to let go of the deleted one (the same against itself),
// so only completion is asserted there.
class EngineRoamingTest : public EngineNetnsTest, public ::testing::WithParamInterface<Kind> {};

TEST_P(EngineRoamingTest, ServerFollowsARoamingClientMidStream) {
  Start(a_, GetParam());
  Start(b_, Kind::kWgate);
  Configure(a_, b_, 51820, 51821, false, true, {"persistent-keepalive", "1"});
  Configure(b_, a_, 51821, 51820, false, false);
  ASSERT_TRUE(Ping(*a_.ns, b_.inner4));
  EXPECT_THAT(Wg(b_, {"show", b_.iface, "endpoints"}), HasSubstr("192.0.2.1:51820"));
  Must(a_.ns->Exec({"sysctl", "-qw", "net.ipv4.conf." + a_.veth + ".promote_secondaries=1"}));
  Must(a_.ns->Ip({"addr", "add", "192.0.2.3/24", "dev", a_.veth}));
  bool switched = false;
  double resumed_after = -1;
  StreamResult r = TcpStream(*a_.ns, *b_.ns, b_.inner4, 100 << 20, [&](const auto& received) {
    while (received < (30u << 20)) std::this_thread::sleep_for(10ms);
    switched = a_.ns->Ip({"addr", "del", "192.0.2.1/24", "dev", a_.veth}).ok();
    const auto at = SteadyClock::now();
    const uint64_t before = received;
    while (received < before + (1u << 20) && SteadyClock::now() - at < 60s) {
      std::this_thread::sleep_for(10ms);
    }
    resumed_after = std::chrono::duration<double>(SteadyClock::now() - at).count();
  });
  EXPECT_TRUE(switched);
  EXPECT_TRUE(r.ok()) << Describe(r);
  std::cerr << "stream resumed " << resumed_after << " s after the address change\n";
  if (GetParam() == Kind::kWgate) {
    EXPECT_LT(resumed_after, 5.0);
  }
  EXPECT_THAT(Wg(b_, {"show", b_.iface, "endpoints"}), HasSubstr("192.0.2.3:51820"));
  EXPECT_TRUE(Ping(*b_.ns, a_.inner4));
}

INSTANTIATE_TEST_SUITE_P(Client, EngineRoamingTest,
                         ::testing::Values(Kind::kWgate, Kind::kWireguardGo),
                         [](const auto& info) { return KindName(info.param); });

// ---- restart ----

// The server is replaced by a new process with the same keys: the client's traffic resumes by
// itself (it stops hearing back, and initiates a new handshake).
TEST_F(EngineNetnsTest, TrafficResumesAfterTheServerRestarts) {
  const std::vector<std::string> short_timers = {StrCat("WGATE_TEST_TIMINGS=", kShortTimings)};
  Start(a_, Kind::kWgate, short_timers);
  Start(b_, Kind::kWgate);
  Configure(a_, b_, 51820, 51821, false, true);
  Configure(b_, a_, 51821, 51820, false, false);
  ASSERT_TRUE(Ping(*a_.ns, b_.inner4));
  const int status = b_.engine->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  b_.engine.reset();
  Start(b_, Kind::kWgate);
  Configure(b_, a_, 51821, 51820, false, false);
  const auto start = SteadyClock::now();
  EXPECT_TRUE(Ping(*a_.ns, b_.inner4, 20s));
  const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  EXPECT_LT(secs, 10.0);
  StreamResult r = TcpStream(*a_.ns, *b_.ns, b_.inner4, 8 << 20);
  EXPECT_TRUE(r.ok()) << Describe(r);
}

// ---- rekey ----

// With shortened timers a long stream crosses several key rotations without losing a byte.
TEST_F(EngineNetnsTest, StreamCrossesSeveralRekeysWithoutLoss) {
  const std::vector<std::string> short_timers = {StrCat("WGATE_TEST_TIMINGS=", kShortTimings)};
  Start(a_, Kind::kWgate, short_timers);
  Start(b_, Kind::kWgate, short_timers);
  Configure(a_, b_, 51820, 51821, false, true);
  Configure(b_, a_, 51821, 51820, false, false);
  ASSERT_TRUE(Ping(*a_.ns, b_.inner4));
  std::set<std::string> handshakes;
  StreamResult r;
  const auto start = SteadyClock::now();
  // Keep streaming until at least 14 s (three rekeys at 4 s) have passed.
  uint64_t total = 0;
  while (SteadyClock::now() - start < 14s && total < (2ull << 30)) {
    r = TcpStream(*a_.ns, *b_.ns, b_.inner4, 100 << 20, [&](const auto& received) {
      while (received < (100u << 20) && SteadyClock::now() - start < 60s) {
        handshakes.insert(Wg(a_, {"show", a_.iface, "latest-handshakes"}));
        std::this_thread::sleep_for(250ms);
        if (r.error.size()) break;
      }
    });
    ASSERT_TRUE(r.ok()) << Describe(r);
    total += r.received_bytes;
  }
  EXPECT_GE(handshakes.size(), 3u) << "handshake times seen: " << handshakes.size();
}

// Rekeying against wireguard-go: wgate initiates every rotation, wireguard-go (spec timers)
// answers.
TEST_F(EngineNetnsTest, RekeysInteroperateWithWireguardGo) {
  Start(a_, Kind::kWgate, {StrCat("WGATE_TEST_TIMINGS=", kShortTimings)});
  Start(b_, Kind::kWireguardGo);
  Configure(a_, b_, 51820, 51821, false, true);
  Configure(b_, a_, 51821, 51820, false, false);
  ASSERT_TRUE(Ping(*a_.ns, b_.inner4));
  std::set<std::string> handshakes;
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < 14s) {
    StreamResult r = TcpStream(*a_.ns, *b_.ns, b_.inner4, 8 << 20);
    ASSERT_TRUE(r.ok()) << Describe(r);
    handshakes.insert(Wg(b_, {"show", b_.iface, "latest-handshakes"}));
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GE(handshakes.size(), 3u);
}

// ---- wg show / showconf / set ----

TEST_F(EngineNetnsTest, WgShowconfPrintsWhatWasConfiguredAndWgSetChangesAPeerLive) {
  Start(a_, Kind::kWgate);
  Start(b_, Kind::kWireguardGo);
  const std::string psk = Trim(*netns::Command({"wg", "genpsk"}));
  const std::string psk_file = dir_.path() + "/psk";
  std::ofstream(psk_file) << psk << "\n";
  Configure(a_, b_, 51820, 51821, true, true,
            {"preshared-key", psk_file, "persistent-keepalive", "25"});
  Must(a_.ns->Exec({"wg", "set", a_.iface, "fwmark", "0x1234"}));
  Configure(b_, a_, 51821, 51820, true, false, {"preshared-key", psk_file});
  const std::string expected =
      StrCat("[Interface]\nListenPort = 51820\nFwMark = 0x1234\nPrivateKey = ", a_.private_key,
             "\n\n[Peer]\nPublicKey = ", b_.public_key, "\nPresharedKey = ", psk,
             "\nAllowedIPs = 198.51.100.2/32, fd00:9::2/128\nEndpoint = [fd00:1::2]:51821\n"
             "PersistentKeepalive = 25\n");
  EXPECT_EQ(Wg(a_, {"showconf", a_.iface}), expected);
  // The mark is on the sockets themselves (what the kill switch matches), on both families, and
  // the sockets of the random port the engine started with are gone.
  std::this_thread::sleep_for(500ms);
  auto sockets = a_.ns->Exec({"ss", "-uaneH"});
  ASSERT_TRUE(sockets.ok()) << sockets.error().message();
  std::istringstream lines(*sockets);
  int marked = 0, others = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":51820 ") != std::string::npos &&
        line.find("fwmark:0x1234") != std::string::npos) {
      ++marked;
    } else if (line.rfind("UNCONN", 0) == 0) {  // (ss's stderr is mixed in)
      ++others;
    }
  }
  EXPECT_EQ(marked, 2) << *sockets;
  EXPECT_EQ(others, 0) << *sockets;
  // The same text from wireguard-go for the same settings (its own view) has the same shape.
  ASSERT_TRUE(Ping(*a_.ns, b_.inner6)) << "psk handshake";
  const std::string show = Wg(a_, {"show", a_.iface});
  EXPECT_THAT(show, HasSubstr("listening port: 51820"));
  EXPECT_THAT(show, HasSubstr("fwmark: 0x1234"));
  EXPECT_THAT(show, HasSubstr("preshared key: (hidden)"));
  EXPECT_THAT(show, HasSubstr("latest handshake:"));
  EXPECT_THAT(show, HasSubstr("persistent keepalive: every 25 seconds"));

  // Live change: move the v4 inner address away, ping fails; put it back, ping works.
  Must(a_.ns->Exec({"wg", "set", a_.iface, "peer", b_.public_key, "allowed-ips", "fd00:9::2/128"}));
  EXPECT_THAT(Wg(a_, {"show", a_.iface, "allowed-ips"}), HasSubstr("\tfd00:9::2/128\n"));
  EXPECT_FALSE(Ping(*a_.ns, b_.inner4, 1500ms));
  Must(a_.ns->Exec(
      {"wg", "set", a_.iface, "peer", b_.public_key, "allowed-ips", "198.51.100.2/32,fd00:9::2/128"}));
  EXPECT_TRUE(Ping(*a_.ns, b_.inner4));
  // setconf round trip: what showconf prints, setconf accepts and showconf prints again.
  const std::string conf = dir_.path() + "/a.conf";
  std::ofstream(conf) << Wg(a_, {"showconf", a_.iface});
  Must(a_.ns->Exec({"wg", "setconf", a_.iface, conf}));
  EXPECT_EQ(Wg(a_, {"showconf", a_.iface}), expected);
  Must(a_.ns->Exec({"wg", "set", a_.iface, "peer", b_.public_key, "remove"}));
  EXPECT_EQ(Wg(a_, {"show", a_.iface, "peers"}), "");
}

// ---- hostile datagrams ----

// Captures the UDP payloads arriving at `port` on `ifname` in `ns` (AF_PACKET), for replaying.
class PayloadCapture {
 public:
  PayloadCapture(Namespace& ns, const std::string& ifname, uint16_t port) : port_(port) {
    auto fd = ns.Socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    if (!fd.ok()) return;
    fd_ = std::move(*fd);
    unsigned idx = 0;
    (void)ns.Run([&] { idx = if_nametoindex(ifname.c_str()); });
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = static_cast<int>(idx);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&ll), sizeof(ll));
  }
  std::vector<std::vector<uint8_t>> Take(size_t max) {
    std::vector<std::vector<uint8_t>> out;
    uint8_t buf[2048];
    while (out.size() < max) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) break;
      if (n < 28 || buf[9] != IPPROTO_UDP) continue;
      const size_t ihl = (buf[0] & 0x0f) * 4;
      if ((buf[ihl + 2] << 8 | buf[ihl + 3]) != port_) continue;
      out.emplace_back(buf + ihl + 8, buf + n);
    }
    return out;
  }

 private:
  UniqueFd fd_;
  uint16_t port_;
};

TEST_F(EngineNetnsTest, HostileDatagramsAreDroppedAndCountedAndTheTunnelSurvives) {
  Start(a_, Kind::kWireguardGo);
  Start(b_, Kind::kWgate);
  Configure(a_, b_, 51820, 51821, false, true);
  Configure(b_, a_, 51821, 51820, false, false);
  PayloadCapture capture(*b_.ns, b_.veth, 51821);
  ASSERT_TRUE(Ping(*a_.ns, b_.inner4));
  StreamResult warm = TcpStream(*a_.ns, *b_.ns, b_.inner4, 1 << 20);
  ASSERT_TRUE(warm.ok()) << Describe(warm);
  std::vector<std::vector<uint8_t>> recorded = capture.Take(200);
  ASSERT_GT(recorded.size(), 10u);

  // A handshake initiation from a key the server does not know, built by our own protocol core
  // (valid mac1 for the server's public key, so it reaches the DH).
  crypto::KeyBytes server_pub;
  ASSERT_TRUE(crypto::DecodeKeyBase64(b_.public_key, &server_pub) == crypto::KeyParseError::kNone);
  wg::Device stranger(wg::DeviceConfig{crypto::PrivateKey::Generate(), {}, 1420});
  wg::PeerConfig pc;
  pc.public_key = crypto::PublicKey(server_pub);
  pc.endpoint = SocketAddress{b_.outer4, 51821};
  pc.allowed_ips = {*IpPrefix::Parse("0.0.0.0/0")};
  ASSERT_TRUE(stranger.AddPeer(pc, SteadyClock::now()).ok());
  std::vector<uint8_t> packet(40, 0);
  packet[0] = 0x45;
  packet[3] = 40;
  std::vector<uint8_t> out(256);
  wg::Outbound wrong_key = stranger.Encapsulate(
      packet, out, wg::Now{SteadyClock::now(), std::chrono::system_clock::now()});
  ASSERT_FALSE(wrong_key.handshake.empty());

  auto sock = a_.ns->Socket(AF_INET, SOCK_DGRAM);
  ASSERT_TRUE(sock.ok());
  sockaddr_storage to;
  socklen_t to_len = SocketAddress{b_.outer4, 51821}.ToSockaddr(&to);
  auto send = [&](const uint8_t* p, size_t n) {
    ::sendto(sock->get(), p, n, 0, reinterpret_cast<sockaddr*>(&to), to_len);
  };
  // Once alone (the flood below puts the engine under load: initiations then get cookie replies).
  send(wrong_key.handshake.bytes.data(), wrong_key.handshake.size);
  std::this_thread::sleep_for(100ms);
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {  // random bytes, some with a valid-looking type
      uint8_t buf[300];
      const size_t n = rng() % sizeof(buf);
      for (size_t k = 0; k < n; ++k) buf[k] = static_cast<uint8_t>(rng());
      if (n >= 4 && i % 2 == 0) {
        buf[0] = static_cast<uint8_t>(1 + rng() % 4);
        buf[1] = buf[2] = buf[3] = 0;
      }
      send(buf, n);
    }
    // Truncated handshakes (and a truncated transport header).
    for (size_t cut : {1u, 4u, 32u, 100u, 147u}) send(wrong_key.handshake.bytes.data(), cut);
    // Replays of real traffic, from another source port.
    for (const auto& d : recorded) send(d.data(), d.size());
    // The stranger's complete initiation: right mac1, unknown static key.
    send(wrong_key.handshake.bytes.data(), wrong_key.handshake.size);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(b_.engine->Running()) << b_.engine->Log();
  EXPECT_TRUE(Ping(*a_.ns, b_.inner4));
  StreamResult after = TcpStream(*a_.ns, *b_.ns, b_.inner4, 16 << 20);
  EXPECT_TRUE(after.ok()) << Describe(after);
  // The replays did not move the endpoint.
  EXPECT_THAT(Wg(b_, {"show", b_.iface, "endpoints"}), HasSubstr("192.0.2.1:51820"));
  // Counted: the engine logs its drop counters when it stops.
  const int status = b_.engine->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string log = b_.engine->Log();
  std::cerr << log;
  EXPECT_THAT(log, HasSubstr("malformed="));
  EXPECT_THAT(log, HasSubstr("replayed="));
  EXPECT_THAT(log, HasSubstr("handshake_failed="));
  EXPECT_THAT(log, HasSubstr("invalid_mac1="));
}

}  // namespace
}  // namespace wgate
