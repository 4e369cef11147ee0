#include "crypto/random.h"

#include <sodium.h>

#include "crypto/internal.h"

namespace wgate::crypto {

// libsodium's randombytes reads getrandom(2) and is thread-safe once sodium_init() has run.

void RandomBytes(Bytes out) {
  if (out.empty()) return;  // randombytes_buf's pointer is declared non-null
  internal::EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

uint32_t RandomU32() {
  internal::EnsureSodium();
  return randombytes_random();
}

uint32_t RandomUniform(uint32_t upper_bound) {
  internal::EnsureSodium();
  // Rejection sampling inside libsodium, so there is no modulo bias. 0 and 1 both give 0.
  return randombytes_uniform(upper_bound);
}

}  // namespace wgate::crypto
