#include "wg/drop_reason.h"

namespace wgate::wg {

std::string_view DropReasonName(DropReason r) {
  switch (r) {
    case DropReason::kNone:
      return "none";
    case DropReason::kNoRoute:
      return "no_route";
    case DropReason::kNoEndpoint:
      return "no_endpoint";
    case DropReason::kInvalidPacket:
      return "invalid_packet";
    case DropReason::kBufferTooSmall:
      return "buffer_too_small";
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kUnknownIndex:
      return "unknown_index";
    case DropReason::kInvalidMac1:
      return "invalid_mac1";
    case DropReason::kCookieRequired:
      return "cookie_required";
    case DropReason::kRateLimited:
      return "rate_limited";
    case DropReason::kHandshakeFailed:
      return "handshake_failed";
    case DropReason::kReplayedInitiation:
      return "replayed_initiation";
    case DropReason::kInitiationFlood:
      return "initiation_flood";
    case DropReason::kUnexpectedResponse:
      return "unexpected_response";
    case DropReason::kInvalidCookieReply:
      return "invalid_cookie_reply";
    case DropReason::kKeypairExpired:
      return "keypair_expired";
    case DropReason::kDecryptFailed:
      return "decrypt_failed";
    case DropReason::kReplayed:
      return "replayed";
    case DropReason::kInvalidInnerPacket:
      return "invalid_inner_packet";
    case DropReason::kDisallowedSource:
      return "disallowed_source";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace wgate::wg
