// libFuzzer target: the WireGuard message parsers take any bytes without crashing, accept exactly
// the sizes and types of the whitepaper, and re-serialize what they accept byte for byte.
//
// Seeds (fuzz/corpus/wg_message_fuzz/) are the valid messages of wg_decapsulate_fuzz's seeds
// without their 2-byte length prefix:
//   for f in fuzz/corpus/wg_decapsulate_fuzz/*; do tail -c +3 $f >
//   fuzz/corpus/wg_message_fuzz/${f##*/}; done
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/error.h"
#include "wg/messages.h"

using namespace wgate;
using namespace wgate::wg;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ConstBytes in(data, size);
  std::optional<MessageType> type = ClassifyMessage(in);
  auto initiation = ParseInitiation(in);
  auto response = ParseResponse(in);
  auto cookie = ParseCookieReply(in);
  auto transport = ParseTransportHeader(in);
  int parsed =
      initiation.has_value() + response.has_value() + cookie.has_value() + transport.has_value();
  WGATE_CHECK(parsed == (type ? 1 : 0));

  uint8_t out[kInitiationSize];
  if (initiation) {
    WGATE_CHECK(size == kInitiationSize);
    Serialize(*initiation, out);
    WGATE_CHECK(std::memcmp(out, data, size) == 0);
  }
  if (response) {
    WGATE_CHECK(size == kResponseSize);
    Serialize(*response, out);
    WGATE_CHECK(std::memcmp(out, data, size) == 0);
  }
  if (cookie) {
    WGATE_CHECK(size == kCookieReplySize);
    Serialize(*cookie, out);
    WGATE_CHECK(std::memcmp(out, data, size) == 0);
  }
  if (transport) {
    WGATE_CHECK(size >= kTransportOverhead);
    Serialize(*transport, out);
    WGATE_CHECK(std::memcmp(out, data, kTransportHeaderSize) == 0);
  }
  return 0;
}
