#include "crypto/x25519.h"

#include <sodium.h>

#include "crypto/internal.h"

namespace wgate::crypto {

bool X25519(const KeyBytes& private_key, const KeyBytes& public_key, KeyBytes* shared) {
  internal::EnsureSodium();
  // Computed into a local so that `shared` may alias either input. libsodium clamps the scalar
  // and returns -1 when the result is all zero (a small-order peer point).
  KeyBytes result;
  const bool ok =
      crypto_scalarmult_curve25519(result.data(), private_key.data(), public_key.data()) == 0;
  if (ok) {
    *shared = result;
  } else {
    SecureZero(shared->data(), shared->size());
  }
  SecureZero(result.data(), result.size());
  return ok;
}

}  // namespace wgate::crypto
