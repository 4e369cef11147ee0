#include "crypto/internal.h"

#include <sodium.h>

#include "base/error.h"

namespace wgate::crypto::internal {

void EnsureSodium() {
  static const int rc = sodium_init();
  WGATE_CHECK(rc >= 0);
}

}  // namespace wgate::crypto::internal
