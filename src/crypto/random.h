// Cryptographically secure random bytes from the library's CSPRNG. Thread-safe.
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace wgate::crypto {

void RandomBytes(Bytes out);
uint32_t RandomU32();
// Uniform in [0, upper_bound), without modulo bias. 0 when upper_bound is 0 or 1.
uint32_t RandomUniform(uint32_t upper_bound);

}  // namespace wgate::crypto
