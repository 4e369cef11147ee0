#include "dataplane/uapi.h"

#include <charconv>
#include <chrono>

#include "base/strings.h"

namespace wgate::dataplane::uapi {

namespace {

// Decimal without sign, spaces or leading '+', fitting `max`; as Go's strconv.ParseUint(v, 10, n).
template <typename T>
bool ParseUnsigned(std::string_view text, T max, T* out) {
  if (text.empty()) return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v > max) return false;
  *out = static_cast<T>(v);
  return true;
}

// "addr/len" only (the bare-address shorthand of wg-quick files is not part of the protocol).
std::optional<IpPrefix> ParseAllowedIp(std::string_view text) {
  if (text.find('/') == std::string_view::npos) return std::nullopt;
  auto p = IpPrefix::Parse(text);
  if (!p) return std::nullopt;
  return p->Network();
}

class Parser {
 public:
  explicit Parser(Failure* failure) : failure_(failure) {}

  bool Line(std::string_view line) {
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Fail(kErrorProtocol, StrCat("failed to parse line \"", Printable(line), "\""));
    }
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (key == "public_key") {
      crypto::KeyBytes k;
      if (!crypto::DecodeKeyHex(value, &k)) return Fail(kErrorInvalid, "invalid public_key");
      request_.peers.emplace_back();
      request_.peers.back().public_key = crypto::PublicKey(k);
      return true;
    }
    return request_.peers.empty() ? DeviceLine(key, value)
                                  : PeerLine(request_.peers.back(), key, value);
  }

  SetRequest Take() { return std::move(request_); }

 private:
  bool DeviceLine(std::string_view key, std::string_view value) {
    if (key == "private_key") {
      crypto::KeyBytes k;
      if (!crypto::DecodeKeyHex(value, &k)) return Fail(kErrorInvalid, "invalid private_key");
      request_.private_key.emplace(k);
      crypto::SecureZero(k.data(), k.size());
      return true;
    }
    if (key == "listen_port") {
      uint16_t port;
      if (!ParseUnsigned<uint16_t>(value, 0xffff, &port)) {
        return Fail(kErrorInvalid, StrCat("invalid listen_port \"", Printable(value), "\""));
      }
      request_.listen_port = port;
      return true;
    }
    if (key == "fwmark") {
      uint32_t mark;
      if (!ParseUnsigned<uint32_t>(value, 0xffffffffu, &mark)) {
        return Fail(kErrorInvalid, StrCat("invalid fwmark \"", Printable(value), "\""));
      }
      request_.fwmark = mark;
      return true;
    }
    if (key == "replace_peers") {
      if (value != "true") return Fail(kErrorInvalid, "replace_peers must be \"true\"");
      request_.replace_peers = true;
      return true;
    }
    return Fail(kErrorInvalid, StrCat("invalid UAPI device key \"", Printable(key), "\""));
  }

  bool PeerLine(PeerUpdate& peer, std::string_view key, std::string_view value) {
    if (key == "update_only") {
      if (value != "true") return Fail(kErrorInvalid, "update_only must be \"true\"");
      peer.update_only = true;
      return true;
    }
    if (key == "remove") {
      if (value != "true") return Fail(kErrorInvalid, "remove must be \"true\"");
      peer.remove = true;
      return true;
    }
    if (key == "preshared_key") {
      crypto::KeyBytes k;
      if (!crypto::DecodeKeyHex(value, &k)) return Fail(kErrorInvalid, "invalid preshared_key");
      peer.preshared_key.emplace(k);
      crypto::SecureZero(k.data(), k.size());
      return true;
    }
    if (key == "endpoint") {
      auto ep = SocketAddress::Parse(value);
      if (!ep) return Fail(kErrorInvalid, StrCat("invalid endpoint \"", Printable(value), "\""));
      peer.endpoint = *ep;
      return true;
    }
    if (key == "persistent_keepalive_interval") {
      uint16_t secs;
      if (!ParseUnsigned<uint16_t>(value, 0xffff, &secs)) {
        return Fail(kErrorInvalid,
                    StrCat("invalid persistent_keepalive_interval \"", Printable(value), "\""));
      }
      peer.persistent_keepalive_interval = secs;
      return true;
    }
    if (key == "replace_allowed_ips") {
      if (value != "true") return Fail(kErrorInvalid, "replace_allowed_ips must be \"true\"");
      peer.replace_allowed_ips = true;
      peer.allowed_ips.clear();
      return true;
    }
    if (key == "allowed_ip") {
      auto prefix = ParseAllowedIp(value);
      if (!prefix)
        return Fail(kErrorInvalid, StrCat("invalid allowed_ip \"", Printable(value), "\""));
      peer.allowed_ips.push_back(*prefix);
      return true;
    }
    if (key == "protocol_version") {
      if (value != "1") {
        return Fail(kErrorInvalid, StrCat("invalid protocol_version \"", Printable(value), "\""));
      }
      return true;
    }
    return Fail(kErrorInvalid, StrCat("invalid UAPI peer key \"", Printable(key), "\""));
  }

  bool Fail(int code, std::string message) {
    failure_->code = code;
    failure_->message = std::move(message);
    return false;
  }

  // Quotes untrusted text for a log line: at most 64 bytes, control bytes escaped.
  static std::string Printable(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < 64; ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out += static_cast<char>(c);
      } else {
        static const char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    if (s.size() > 64) out += "...";
    return out;
  }

  Failure* failure_;
  SetRequest request_;
};

void AppendKey(std::string* out, std::string_view name, const crypto::KeyBytes& key) {
  out->append(name);
  out->push_back('=');
  static const char kHex[] = "0123456789abcdef";
  for (uint8_t b : key) {
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 15]);
  }
  out->push_back('\n');
}

void AppendNumber(std::string* out, std::string_view name, uint64_t n) {
  out->append(name);
  out->push_back('=');
  out->append(std::to_string(n));
  out->push_back('\n');
}

}  // namespace

Result<SetRequest> ParseSet(std::string_view body, Failure* failure) {
  Parser parser(failure);
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.empty()) break;  // the blank line ends the request
    if (!parser.Line(line)) return Error(failure->message);
  }
  return parser.Take();
}

std::string FormatGet(const DeviceState& state) {
  std::string out;
  out.reserve(256 + state.peers.size() * 512);
  if (!state.private_key.IsZero()) AppendKey(&out, "private_key", state.private_key.bytes());
  if (state.listen_port != 0) AppendNumber(&out, "listen_port", state.listen_port);
  if (state.fwmark != 0) AppendNumber(&out, "fwmark", state.fwmark);
  for (const PeerState& p : state.peers) {
    AppendKey(&out, "public_key", p.public_key.bytes());
    AppendKey(&out, "preshared_key", p.preshared_key.bytes());
    out += "protocol_version=1\n";
    if (p.endpoint) out += StrCat("endpoint=", p.endpoint->ToString(), "\n");
    int64_t sec = 0, nsec = 0;
    if (p.last_handshake) {
      const int64_t ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(p.last_handshake->time_since_epoch())
              .count();
      sec = ns / 1000000000;
      nsec = ns % 1000000000;
    }
    out += StrCat("last_handshake_time_sec=", sec, "\n");
    out += StrCat("last_handshake_time_nsec=", nsec, "\n");
    AppendNumber(&out, "tx_bytes", p.tx_bytes);
    AppendNumber(&out, "rx_bytes", p.rx_bytes);
    AppendNumber(&out, "persistent_keepalive_interval", p.persistent_keepalive_interval);
    for (const IpPrefix& prefix : p.allowed_ips) {
      out += StrCat("allowed_ip=", prefix.Network().ToString(), "\n");
    }
  }
  out += "errno=0\n\n";
  return out;
}

std::string FormatErrno(int code) { return StrCat("errno=", code, "\n\n"); }

Operation ParseOperation(std::string_view line) {
  if (line == "get=1") return Operation::kGet;
  if (line == "set=1") return Operation::kSet;
  return Operation::kInvalid;
}

}  // namespace wgate::dataplane::uapi
