#include "wg/tai64n.h"

namespace wgate::wg {
namespace {

constexpr uint64_t kTai64Base = (uint64_t{1} << 62) + 10;
constexpr uint32_t kWhitenerMask = (uint32_t{1} << 24) - 1;

}  // namespace

Tai64n Tai64nFromWallTime(WallTime t) {
  auto since_epoch = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  uint64_t s = kTai64Base + static_cast<uint64_t>(secs.count());
  uint32_t n = static_cast<uint32_t>(nanos.count()) & ~kWhitenerMask;
  Tai64n out;
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(s >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  return out;
}

}  // namespace wgate::wg
