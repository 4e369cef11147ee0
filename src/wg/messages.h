// The four WireGuard message formats (whitepaper section 5.4) and their strict parsers.
//
// Every message starts with a little-endian 32-bit word: the type in the low byte and three
// reserved zero bytes, compared as a whole, as the reference implementations do. Handshake
// messages and cookie replies have exactly one valid size; a transport message is a 16-byte header
// followed by at least the 16-byte tag. Parsers copy out of the input (which may be untrusted and
// unaligned) into plain structs; serializers write exactly k*Size bytes. All functions are pure and
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "wg/tai64n.h"

namespace wgate::wg {

enum class MessageType : uint32_t {
  kInitiation = 1,
  kResponse = 2,
  kCookieReply = 3,
  kTransport = 4,
};

inline constexpr size_t kInitiationSize = 148;
inline constexpr size_t kResponseSize = 92;
inline constexpr size_t kCookieReplySize = 64;
inline constexpr size_t kTransportHeaderSize = 16;
// Header + tag: the size of a keepalive, the smallest valid transport message.
inline constexpr size_t kTransportOverhead = kTransportHeaderSize + crypto::kAeadTagLen;
inline constexpr size_t kMaxControlMessageSize = kInitiationSize;
// mac1 and mac2 are the last 32 bytes of a handshake message.
inline constexpr size_t kMacsSize = 2 * crypto::kMacLen;

inline constexpr size_t kEncryptedStaticSize = crypto::kKeyLen + crypto::kAeadTagLen;
inline constexpr size_t kEncryptedTimestampSize = kTai64nSize + crypto::kAeadTagLen;
inline constexpr size_t kEncryptedNothingSize = crypto::kAeadTagLen;
inline constexpr size_t kCookieSize = crypto::kMacLen;
inline constexpr size_t kEncryptedCookieSize = kCookieSize + crypto::kAeadTagLen;

struct Initiation {
  uint32_t sender_index = 0;
  crypto::KeyBytes ephemeral{};
  std::array<uint8_t, kEncryptedStaticSize> encrypted_static{};
  std::array<uint8_t, kEncryptedTimestampSize> encrypted_timestamp{};
  crypto::Mac mac1{};
  crypto::Mac mac2{};
};

struct Response {
  uint32_t sender_index = 0;
  uint32_t receiver_index = 0;
  crypto::KeyBytes ephemeral{};
  std::array<uint8_t, kEncryptedNothingSize> encrypted_nothing{};
  crypto::Mac mac1{};
  crypto::Mac mac2{};
};

struct CookieReply {
  uint32_t receiver_index = 0;
  std::array<uint8_t, crypto::kXNonceLen> nonce{};
  std::array<uint8_t, kEncryptedCookieSize> encrypted_cookie{};
};

// The header of a transport message; the ciphertext follows at offset kTransportHeaderSize.
struct TransportHeader {
  uint32_t receiver_index = 0;
  uint64_t counter = 0;
};

// The type of a well-formed message: the type word is valid and the size fits that type.
// nullopt for everything else (wrong reserved bytes, unknown type, any other size).
std::optional<MessageType> ClassifyMessage(ConstBytes datagram);

// Each parser returns nullopt unless ClassifyMessage would report its type.
std::optional<Initiation> ParseInitiation(ConstBytes datagram);
std::optional<Response> ParseResponse(ConstBytes datagram);
std::optional<CookieReply> ParseCookieReply(ConstBytes datagram);
std::optional<TransportHeader> ParseTransportHeader(ConstBytes datagram);

// Serializers write the whole message, type word included.
void Serialize(const Initiation& m, uint8_t out[kInitiationSize]);
void Serialize(const Response& m, uint8_t out[kResponseSize]);
void Serialize(const CookieReply& m, uint8_t out[kCookieReplySize]);
void Serialize(const TransportHeader& h, uint8_t out[kTransportHeaderSize]);

// Little-endian helpers shared by the message code.
inline uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline uint64_t LoadLe64(const uint8_t* p) {
  return uint64_t{LoadLe32(p)} | uint64_t{LoadLe32(p + 4)} << 32;
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace wgate::wg
