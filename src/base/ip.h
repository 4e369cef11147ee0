// IP addresses, prefixes and socket endpoints as plain values (v4 and v6). Pure: no syscalls.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wgate {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  IpAddress() : family_(Family::kV4) { bytes_.fill(0); }
  static IpAddress V4(uint32_t host_order);
  static IpAddress V4(const uint8_t b[4]);
  static IpAddress V6(const uint8_t b[16]);
  // Dotted quad or RFC 4291 text ("::1", "fd00::1"); no brackets, no zone, no prefix.
  static std::optional<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  int bit_length() const { return is_v4() ? 32 : 128; }
  // 4 or 16 significant bytes, network order.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  bool IsUnspecified() const;  // 0.0.0.0 or ::
  std::string ToString() const;

  // Keeps the first `len` bits, zeroes the rest.
  IpAddress Masked(int len) const;

  bool operator==(const IpAddress& o) const { return family_ == o.family_ && bytes_ == o.bytes_; }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
  bool operator<(const IpAddress& o) const {
    return family_ != o.family_ ? family_ < o.family_ : bytes_ < o.bytes_;
  }

 private:
  Family family_;
  std::array<uint8_t, 16> bytes_;
};

// An address with a prefix length. `addr` keeps host bits as written ("10.64.0.2/32" for an
// interface address); use Network() for the masked form.
struct IpPrefix {
  IpAddress addr;
  int len = 0;

  // "10.0.0.0/8", "fd00::/64"; a bare address means the full length (/32 or /128), as wg-quick
  // does. On failure returns nullopt and sets *why (e.g. "prefix length 33 is out of range 0-32").
  static std::optional<IpPrefix> Parse(std::string_view text, std::string* why = nullptr);

  IpPrefix Network() const { return IpPrefix{addr.Masked(len), len}; }
  bool Contains(const IpAddress& a) const;
  std::string ToString() const;  // "addr/len"
  bool operator==(const IpPrefix& o) const { return addr == o.addr && len == o.len; }
  bool operator<(const IpPrefix& o) const { return addr != o.addr ? addr < o.addr : len < o.len; }
};

// An IP address and UDP/TCP port: "192.0.2.1:51820" or "[fd00::1]:51820".
struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;

  static std::optional<SocketAddress> Parse(std::string_view text);
  static std::optional<SocketAddress> FromSockaddr(const sockaddr* sa, socklen_t len);
  // Fills `out`; returns the length to pass to bind/sendto.
  socklen_t ToSockaddr(sockaddr_storage* out) const;
  std::string ToString() const;
  bool operator==(const SocketAddress& o) const { return ip == o.ip && port == o.port; }
  bool operator!=(const SocketAddress& o) const { return !(*this == o); }
};

}  // namespace wgate
