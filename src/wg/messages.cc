#include "wg/messages.h"

#include <concepts>
#include <cstring>
#include <type_traits>

namespace wgate::wg {
namespace {

// Field-by-field readers and writers share one field list per message (Fields below), so that
// parsing and serializing cannot disagree about the layout. Sizes were checked beforehand.
class Reader {
 public:
  explicit Reader(const uint8_t* p) : p_(p) {}
  void U32(uint32_t& v) {
    v = LoadLe32(p_);
    p_ += 4;
  }
  template <size_t N>
  void Array(std::array<uint8_t, N>& a) {
    std::memcpy(a.data(), p_, N);
    p_ += N;
  }

 private:
  const uint8_t* p_;
};

class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  void U32(uint32_t v) {
    StoreLe32(p_, v);
    p_ += 4;
  }
  template <size_t N>
  void Array(const std::array<uint8_t, N>& a) {
    std::memcpy(p_, a.data(), N);
    p_ += N;
  }

 private:
  uint8_t* p_;
};

// M is the message or the const message (Writer).
template <typename Io, typename M>
requires std::same_as<std::remove_const_t<M>, Initiation>
void Fields(Io& io, M& m) {
  io.U32(m.sender_index);
  io.Array(m.ephemeral);
  io.Array(m.encrypted_static);
  io.Array(m.encrypted_timestamp);
  io.Array(m.mac1);
  io.Array(m.mac2);
}

template <typename Io, typename M>
requires std::same_as<std::remove_const_t<M>, Response>
void Fields(Io& io, M& m) {
  io.U32(m.sender_index);
  io.U32(m.receiver_index);
  io.Array(m.ephemeral);
  io.Array(m.encrypted_nothing);
  io.Array(m.mac1);
  io.Array(m.mac2);
}

template <typename Io, typename M>
requires std::same_as<std::remove_const_t<M>, CookieReply>
void Fields(Io& io, M& m) {
  io.U32(m.receiver_index);
  io.Array(m.nonce);
  io.Array(m.encrypted_cookie);
}

template <typename M>
std::optional<M> ParseAs(ConstBytes d, MessageType type) {
  if (ClassifyMessage(d) != type) return std::nullopt;
  Reader r(d.data() + 4);
  M m;
  Fields(r, m);
  return m;
}

template <typename M>
void SerializeAs(const M& m, MessageType type, uint8_t* out) {
  StoreLe32(out, static_cast<uint32_t>(type));
  Writer w(out + 4);
  Fields(w, m);
}

}  // namespace

std::optional<MessageType> ClassifyMessage(ConstBytes d) {
  if (d.size() < 4) return std::nullopt;
  switch (LoadLe32(d.data())) {
    case static_cast<uint32_t>(MessageType::kInitiation):
      if (d.size() == kInitiationSize) return MessageType::kInitiation;
      break;
    case static_cast<uint32_t>(MessageType::kResponse):
      if (d.size() == kResponseSize) return MessageType::kResponse;
      break;
    case static_cast<uint32_t>(MessageType::kCookieReply):
      if (d.size() == kCookieReplySize) return MessageType::kCookieReply;
      break;
    case static_cast<uint32_t>(MessageType::kTransport):
      if (d.size() >= kTransportOverhead) return MessageType::kTransport;
      break;
  }
  return std::nullopt;
}

std::optional<Initiation> ParseInitiation(ConstBytes d) {
  return ParseAs<Initiation>(d, MessageType::kInitiation);
}

std::optional<Response> ParseResponse(ConstBytes d) {
  return ParseAs<Response>(d, MessageType::kResponse);
}

std::optional<CookieReply> ParseCookieReply(ConstBytes d) {
  return ParseAs<CookieReply>(d, MessageType::kCookieReply);
}

std::optional<TransportHeader> ParseTransportHeader(ConstBytes d) {
  if (ClassifyMessage(d) != MessageType::kTransport) return std::nullopt;
  return TransportHeader{LoadLe32(d.data() + 4), LoadLe64(d.data() + 8)};
}

void Serialize(const Initiation& m, uint8_t out[kInitiationSize]) {
  SerializeAs(m, MessageType::kInitiation, out);
}

void Serialize(const Response& m, uint8_t out[kResponseSize]) {
  SerializeAs(m, MessageType::kResponse, out);
}

void Serialize(const CookieReply& m, uint8_t out[kCookieReplySize]) {
  SerializeAs(m, MessageType::kCookieReply, out);
}

void Serialize(const TransportHeader& h, uint8_t out[kTransportHeaderSize]) {
  StoreLe32(out, static_cast<uint32_t>(MessageType::kTransport));
  StoreLe32(out + 4, h.receiver_index);
  StoreLe64(out + 8, h.counter);
}

}  // namespace wgate::wg
