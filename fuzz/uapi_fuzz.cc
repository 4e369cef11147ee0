// libFuzzer target: the UAPI set-request parser takes any bytes from the control socket without
// crashing; a request it accepts keeps its invariants and survives a get/set round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "dataplane/uapi.h"

namespace uapi = wgate::dataplane::uapi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)uapi::ParseOperation(text.substr(0, text.find('\n')));
  uapi::Failure failure;
  auto r = uapi::ParseSet(text, &failure);
  if (!r.ok()) {
    // Every failure carries one of the reference daemon's codes and says why.
    WGATE_CHECK(failure.code == uapi::kErrorInvalid || failure.code == uapi::kErrorProtocol);
    WGATE_CHECK(!failure.message.empty());
    return 0;
  }
  // Formatting what was parsed as a device state and parsing the configuration part of it again
  // gives the same peers and prefixes.
  uapi::DeviceState state;
  if (r->private_key) state.private_key = *r->private_key;
  state.listen_port = r->listen_port.value_or(0);
  state.fwmark = r->fwmark.value_or(0);
  for (const uapi::PeerUpdate& p : r->peers) {
    for (const auto& prefix : p.allowed_ips) WGATE_CHECK(prefix.Network() == prefix);
    uapi::PeerState s;
    s.public_key = p.public_key;
    if (p.preshared_key) s.preshared_key = *p.preshared_key;
    s.endpoint = p.endpoint;
    s.persistent_keepalive_interval = p.persistent_keepalive_interval.value_or(0);
    s.allowed_ips = p.allowed_ips;
    state.peers.push_back(s);
  }
  std::string reply = uapi::FormatGet(state);
  std::string body;
  for (size_t pos = 0; pos < reply.size();) {
    size_t nl = reply.find('\n', pos);
    std::string_view line(reply.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line.starts_with("errno=") || line.starts_with("last_handshake") ||
        line.starts_with("tx_bytes=") || line.starts_with("rx_bytes=")) {
      continue;
    }
    body.append(line).push_back('\n');
  }
  uapi::Failure again_failure;
  auto again = uapi::ParseSet(body, &again_failure);
  WGATE_CHECK(again.ok());
  WGATE_CHECK(again->peers.size() == r->peers.size());
  for (size_t i = 0; i < r->peers.size(); ++i) {
    WGATE_CHECK(again->peers[i].public_key == r->peers[i].public_key);
    WGATE_CHECK(again->peers[i].endpoint == r->peers[i].endpoint);
    WGATE_CHECK(again->peers[i].allowed_ips == r->peers[i].allowed_ips);
  }
  return 0;
}
