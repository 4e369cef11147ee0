// Why a packet or datagram was dropped. Every drop on the data path is counted under one of
// these (per peer when the peer is known, per device otherwise), never logged per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wgate::wg {

enum class DropReason : uint8_t {
  kNone = 0,
  // Outbound (tunnel -> network).
  kNoRoute,         // destination in no peer's allowed IPs
  kNoEndpoint,      // the peer has no known endpoint to send to
  kInvalidPacket,   // not an IPv4/IPv6 packet
  kBufferTooSmall,  // caller's output buffer cannot hold the result
  // Inbound (network -> tunnel).
  kMalformed,           // wrong size or type for any message
  kUnknownIndex,        // receiver index names no handshake or session
  kInvalidMac1,         // handshake message without a valid mac1
  kCookieRequired,      // under load and mac2 missing: answered with a cookie reply
  kRateLimited,         // under load and the source exceeds its handshake rate
  kHandshakeFailed,     // handshake did not authenticate or names an unknown peer
  kReplayedInitiation,  // TAI64N timestamp not newer than the last accepted
  kInitiationFlood,     // initiations faster than INITIATIONS_PER_SECOND
  kUnexpectedResponse,  // response to no initiation in flight
  kInvalidCookieReply,  // cookie reply that does not answer our last message
  kKeypairExpired,      // session older than REJECT_AFTER_TIME or counter at the limit
  kDecryptFailed,       // transport message whose tag does not verify
  kReplayed,            // counter already received or older than the replay window
  kInvalidInnerPacket,  // decrypted payload is not a well-formed IPv4/IPv6 packet
  kDisallowedSource,    // inner source address not in the sending peer's allowed IPs
  kCount,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

// Stable snake_case names, for metrics.
std::string_view DropReasonName(DropReason r);

}  // namespace wgate::wg
