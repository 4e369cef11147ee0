// The cross-platform userspace API (https://www.wireguard.com/xplatform/) as a pure text codec:
// a `set=1` request body becomes a typed SetRequest, a device snapshot becomes a `get=1` reply.
// No I/O and no device access here (uapi_server.h does the socket, the engine applies requests),
// so the parser is unit-tested exactly and fuzzed (fuzz/uapi_fuzz.cc).
//
// Errors carry the errno the reference daemon (wireguard-go) replies with, negated as it does:
// a line without '=' is -EPROTO, an unknown key or a bad value is -EINVAL; applying a request may
// add -EADDRINUSE (listen_port, fwmark). The reply line is "errno=<that number>".
//
// Secrets: private and preshared keys parse into zeroing key types; error messages never quote
// a key's value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/ip.h"
#include "crypto/keys.h"

namespace wgate::dataplane::uapi {

// The errno values of replies (negative, as wireguard-go writes them).
inline constexpr int kErrorIo = -5;          // -EIO
inline constexpr int kErrorProtocol = -71;   // -EPROTO
inline constexpr int kErrorInvalid = -22;    // -EINVAL
inline constexpr int kErrorPortInUse = -98;  // -EADDRINUSE
inline constexpr int kErrorUnknown = -55;    // what wireguard-go uses for anything else

// A parse or apply failure: the reply's errno and a message for the log.
struct Failure {
  int code = kErrorInvalid;
  std::string message;
};

// One peer section of a set request ("public_key=..." and the lines after it), in the order the
// request names peers. Lines apply in order within a section, so `replace_allowed_ips` clears the
// allowed IPs listed before it in the same section.
struct PeerUpdate {
  crypto::PublicKey public_key;
  bool remove = false;       // remove=true: delete the peer; later lines of the section are moot
  bool update_only = false;  // update_only=true: do not create the peer if it does not exist
  std::optional<crypto::PresharedKey> preshared_key;  // all zero: none
  std::optional<SocketAddress> endpoint;
  std::optional<uint16_t> persistent_keepalive_interval;  // seconds, 0: off
  bool replace_allowed_ips = false;   // clear the peer's allowed IPs before adding these
  std::vector<IpPrefix> allowed_ips;  // masked to their network, as the reference stores them
};

struct SetRequest {
  std::optional<crypto::PrivateKey> private_key;  // all zero: remove the key
  std::optional<uint16_t> listen_port;            // 0: a random port
  std::optional<uint32_t> fwmark;                 // 0: no mark
  bool replace_peers = false;                     // remove every peer before the updates
  std::vector<PeerUpdate> peers;
};

// Parses the lines after "set=1\n", up to the terminating blank line (which may be absent: end of
// input ends the request too). Every line is key=value.
Result<SetRequest> ParseSet(std::string_view body, Failure* failure);

// What `get=1` reports. Peers print in the given order.
struct PeerState {
  crypto::PublicKey public_key;
  crypto::PresharedKey preshared_key;
  std::optional<SocketAddress> endpoint;
  std::optional<WallTime> last_handshake;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint16_t persistent_keepalive_interval = 0;
  std::vector<IpPrefix> allowed_ips;
  // Not part of the UAPI text (never printed or parsed): wg::PeerStats::handshake_pending_since,
  // for the daemon's health.
  std::optional<MonoTime> handshake_pending_since;
};

struct DeviceState {
  crypto::PrivateKey private_key;  // all zero: none, not printed
  uint16_t listen_port = 0;        // 0: not printed
  uint32_t fwmark = 0;             // 0: not printed
  std::vector<PeerState> peers;
};

// The full reply to get=1, ending in "errno=0\n\n".
std::string FormatGet(const DeviceState& state);
// "errno=N\n\n".
std::string FormatErrno(int code);

// The first line of a request.
enum class Operation { kGet, kSet, kInvalid };
Operation ParseOperation(std::string_view line);  // "get=1", "set=1" (without the newline)

}  // namespace wgate::dataplane::uapi
