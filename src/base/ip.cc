#include "base/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "base/strings.h"

namespace wgate {

IpAddress IpAddress::V4(uint32_t host_order) {
  uint8_t b[4] = {static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
                  static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
  return V4(b);
}

IpAddress IpAddress::V4(const uint8_t b[4]) {
  IpAddress a;
  a.family_ = Family::kV4;
  std::memcpy(a.bytes_.data(), b, 4);
  return a;
}

IpAddress IpAddress::V6(const uint8_t b[16]) {
  IpAddress a;
  a.family_ = Family::kV6;
  std::memcpy(a.bytes_.data(), b, 16);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t b[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, b) == 1) return V4(b);
    return std::nullopt;
  }
  if (inet_pton(AF_INET6, buf, b) == 1) return V6(b);
  return std::nullopt;
}

bool IpAddress::IsUnspecified() const {
  for (size_t i = 0; i < size(); ++i) {
    if (bytes_[i]) return false;
  }
  return true;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

IpAddress IpAddress::Masked(int len) const {
  IpAddress out = *this;
  for (int i = 0; i < 16; ++i) {
    int bits = len - i * 8;
    if (bits >= 8) continue;
    out.bytes_[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return out;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<IpPrefix> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  auto addr = IpAddress::Parse(addr_text);
  if (!addr) return fail(StrCat("\"", addr_text, "\" is not an IP address"));
  IpPrefix p{*addr, addr->bit_length()};
  if (slash == std::string_view::npos) return p;
  std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc() || ptr != len_text.data() + len_text.size()) {
    return fail(StrCat("prefix length \"", len_text, "\" is not a number"));
  }
  if (len < 0 || len > addr->bit_length()) {
    return fail(StrCat("prefix length ", len, " is out of range 0-", addr->bit_length()));
  }
  p.len = len;
  return p;
}

bool IpPrefix::Contains(const IpAddress& a) const {
  return a.family() == addr.family() && a.Masked(len) == addr.Masked(len);
}

std::string IpPrefix::ToString() const { return StrCat(addr.ToString(), "/", len); }

std::optional<SocketAddress> SocketAddress::Parse(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
    port_text = text.substr(colon + 1);
  }
  auto ip = IpAddress::Parse(host);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!ip || port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return std::nullopt;
  }
  return SocketAddress{*ip, static_cast<uint16_t>(port)};
}

std::optional<SocketAddress> SocketAddress::FromSockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return SocketAddress{IpAddress::V4(reinterpret_cast<const uint8_t*>(&in->sin_addr)),
                         ntohs(in->sin_port)};
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return SocketAddress{IpAddress::V6(in6->sin6_addr.s6_addr), ntohs(in6->sin6_port)};
  }
  return std::nullopt;
}

socklen_t SocketAddress::ToSockaddr(sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (ip.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, ip.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  std::memcpy(&in6->sin6_addr, ip.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string SocketAddress::ToString() const {
  return ip.is_v4() ? StrCat(ip.ToString(), ":", port) : StrCat("[", ip.ToString(), "]:", port);
}

}  // namespace wgate
