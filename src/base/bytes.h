// Byte spans: non-owning views of caller-owned buffers, the currency of the packet path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace wgate {

using Bytes = std::span<uint8_t>;
using ConstBytes = std::span<const uint8_t>;

}  // namespace wgate
