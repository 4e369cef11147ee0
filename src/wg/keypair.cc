#include "wg/keypair.h"

#include <cstring>

#include "crypto/aead.h"

namespace wgate::wg {

size_t PaddedSize(size_t packet_len, size_t mtu) {
  size_t last_unit = packet_len;
  if (mtu > 0 && last_unit > mtu) last_unit %= mtu;
  size_t padded = (last_unit + kPaddingMultiple - 1) & ~(kPaddingMultiple - 1);
  if (mtu > 0 && padded > mtu) padded = mtu;
  if (padded < last_unit) padded = last_unit;
  return packet_len + (padded - last_unit);
}

std::optional<uint64_t> Keypair::ReserveCounter(uint64_t limit) {
  uint64_t c = send_counter_.fetch_add(1, std::memory_order_relaxed);
  if (c >= limit) {
    // Pin the counter so that later calls cannot wrap it back into the valid range.
    send_counter_.store(limit, std::memory_order_relaxed);
    return std::nullopt;
  }
  return c;
}

size_t Keypair::Seal(uint64_t counter, ConstBytes packet, size_t padded_len, Bytes out) const {
  uint8_t* body = out.data() + kTransportHeaderSize;
  if (packet.data() != body && !packet.empty()) std::memcpy(body, packet.data(), packet.size());
  std::memset(body + packet.size(), 0, padded_len - packet.size());
  Serialize(TransportHeader{remote_index_, counter}, out.data());
  crypto::ChaChaPolySeal(send_key_.bytes(), counter, ConstBytes(body, padded_len), {}, body);
  return TransportMessageSize(padded_len);
}

bool Keypair::Open(uint64_t counter, ConstBytes sealed, uint8_t* out) const {
  return crypto::ChaChaPolyOpen(recv_key_.bytes(), counter, sealed, {}, out);
}

}  // namespace wgate::wg
