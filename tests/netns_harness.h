// A small harness for tests that run against the real kernel inside network namespaces they make
// themselves (shared/DESIGN.md, "How the project is tested here").
//
// Safety rules it enforces:
//  - every namespace is named with a per-run prefix ("wgt<pid>-") and deleted by its owner's
//    destructor, also when a test fails half-way;
//  - the test's own threads never change namespace: code that must act inside one runs on a
//    short-lived thread that joined it (Namespace::Run), and if joining fails the code is NOT run
//    (it would otherwise act on the machine's own network);
//  - commands address a namespace explicitly (`ip -n NAME`, `ip netns exec NAME`).
// Sockets keep the namespace they were created in, so a socket made with Namespace::Socket() can
// be used from any thread.
//
// Needs root, iproute2 and (for tampering) the nft command.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "base/ip.h"
#include "base/unique_fd.h"

namespace wgate::netns {

// "wgt<pid>-": prefix of every namespace this process makes.
std::string RunPrefix();

// Why the harness cannot run here ("needs root", "no ip command"), or "" when it can.
std::string Unavailable();

// Runs argv (PATH lookup), waits, returns stdout and stderr together. A non-zero exit is an error
// that quotes the command and its output.
Result<std::string> Command(const std::vector<std::string>& argv);

class Namespace {
 public:
  // Creates RunPrefix() + role ("wgt123-gw") with lo up. Fails if it already exists.
  static Result<std::unique_ptr<Namespace>> Create(std::string_view role);
  ~Namespace();  // `ip netns del`, which also destroys the veths inside
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }

  // Runs fn on a thread that joined this namespace, and waits for it. fn is not run at all (and
  // an error is returned) if joining fails.
  Status Run(const std::function<void()>& fn);

  // `ip -n NAME args...`
  Result<std::string> Ip(const std::vector<std::string>& args);
  // `ip netns exec NAME argv...`
  Result<std::string> Exec(const std::vector<std::string>& argv);

  // socket(2) inside this namespace (close-on-exec).
  Result<UniqueFd> Socket(int domain, int type, int protocol = 0);

 private:
  explicit Namespace(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A veth pair: `a_if` in `a`, `b_if` in `b`, both up. Never touches the machine's namespace.
Status AddVeth(Namespace& a, std::string_view a_if, Namespace& b, std::string_view b_if);

// One frame seen arriving on an interface.
struct Packet {
  uint16_t ethertype = 0;  // ETH_P_IP, ETH_P_IPV6, ETH_P_ARP...
  std::optional<IpAddress> src, dst;
  uint8_t protocol = 0;           // IPPROTO_*, for IPv6 the first next-header
  uint16_t sport = 0, dport = 0;  // TCP/UDP
  uint8_t icmp_type = 0;          // ICMP/ICMPv6

  bool IsIp() const { return src.has_value(); }
  // IPv6 neighbour discovery / MLD / router solicitation: link housekeeping, not traffic.
  bool IsIpv6LinkControl() const;
  std::string ToString() const;  // "udp 192.0.2.1:40000 > 192.0.2.2:9"
};

// Records every frame arriving on one interface of a namespace (AF_PACKET, incoming only).
class PacketCapture {
 public:
  static Result<std::unique_ptr<PacketCapture>> Start(Namespace& ns, std::string_view ifname);
  ~PacketCapture();

  // Waits `settle` for packets in flight, then returns everything seen since Start or the
  // previous Take(), and keeps capturing.
  std::vector<Packet> Take(std::chrono::milliseconds settle = std::chrono::milliseconds(150));

 private:
  PacketCapture(UniqueFd fd, int ifindex);
  void Loop();

  UniqueFd fd_;
  int ifindex_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Packet> packets_;
  std::thread thread_;
};

// Counts of a capture: IP packets other than IPv6 link control.
std::vector<Packet> IpTraffic(const std::vector<Packet>& packets);
std::string Describe(const std::vector<Packet>& packets);  // one line per packet, for failures

}  // namespace wgate::netns
