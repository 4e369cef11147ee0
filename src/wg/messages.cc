#include "wg/messages.h"

#include <cstring>

namespace wgate::wg {
namespace {

// Sequential reader/writer over a message whose size was already checked.
class Reader {
 public:
  explicit Reader(const uint8_t* p) : p_(p) {}
  uint32_t U32() {
    uint32_t v = LoadLe32(p_);
    p_ += 4;
    return v;
  }
  template <size_t N>
  void Read(std::array<uint8_t, N>* out) {
    std::memcpy(out->data(), p_, N);
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
  void Write(const std::array<uint8_t, N>& in) {
    std::memcpy(p_, in.data(), N);
    p_ += N;
  }

 private:
  uint8_t* p_;
};

bool Is(ConstBytes d, MessageType t) { return ClassifyMessage(d) == t; }

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
  if (!Is(d, MessageType::kInitiation)) return std::nullopt;
  Reader r(d.data() + 4);
  Initiation m;
  m.sender_index = r.U32();
  r.Read(&m.ephemeral);
  r.Read(&m.encrypted_static);
  r.Read(&m.encrypted_timestamp);
  r.Read(&m.mac1);
  r.Read(&m.mac2);
  return m;
}

std::optional<Response> ParseResponse(ConstBytes d) {
  if (!Is(d, MessageType::kResponse)) return std::nullopt;
  Reader r(d.data() + 4);
  Response m;
  m.sender_index = r.U32();
  m.receiver_index = r.U32();
  r.Read(&m.ephemeral);
  r.Read(&m.encrypted_nothing);
  r.Read(&m.mac1);
  r.Read(&m.mac2);
  return m;
}

std::optional<CookieReply> ParseCookieReply(ConstBytes d) {
  if (!Is(d, MessageType::kCookieReply)) return std::nullopt;
  Reader r(d.data() + 4);
  CookieReply m;
  m.receiver_index = r.U32();
  r.Read(&m.nonce);
  r.Read(&m.encrypted_cookie);
  return m;
}

std::optional<TransportHeader> ParseTransportHeader(ConstBytes d) {
  if (!Is(d, MessageType::kTransport)) return std::nullopt;
  return TransportHeader{LoadLe32(d.data() + 4), LoadLe64(d.data() + 8)};
}

void Serialize(const Initiation& m, uint8_t out[kInitiationSize]) {
  Writer w(out);
  w.U32(static_cast<uint32_t>(MessageType::kInitiation));
  w.U32(m.sender_index);
  w.Write(m.ephemeral);
  w.Write(m.encrypted_static);
  w.Write(m.encrypted_timestamp);
  w.Write(m.mac1);
  w.Write(m.mac2);
}

void Serialize(const Response& m, uint8_t out[kResponseSize]) {
  Writer w(out);
  w.U32(static_cast<uint32_t>(MessageType::kResponse));
  w.U32(m.sender_index);
  w.U32(m.receiver_index);
  w.Write(m.ephemeral);
  w.Write(m.encrypted_nothing);
  w.Write(m.mac1);
  w.Write(m.mac2);
}

void Serialize(const CookieReply& m, uint8_t out[kCookieReplySize]) {
  Writer w(out);
  w.U32(static_cast<uint32_t>(MessageType::kCookieReply));
  w.U32(m.receiver_index);
  w.Write(m.nonce);
  w.Write(m.encrypted_cookie);
}

void Serialize(const TransportHeader& h, uint8_t out[kTransportHeaderSize]) {
  StoreLe32(out, static_cast<uint32_t>(MessageType::kTransport));
  StoreLe32(out + 4, h.receiver_index);
  StoreLe64(out + 8, h.counter);
}

}  // namespace wgate::wg
