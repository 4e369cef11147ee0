// X25519 Diffie-Hellman (RFC 7748), with clamping. Thread-safe.
#pragma once

#include "crypto/keys.h"

namespace wgate::crypto {

// shared = X25519(private_key, public_key). Returns false (and zeroes *shared) when the result is
// all zero, i.e. the peer's point has small order; WireGuard must refuse such a handshake.
[[nodiscard]] bool X25519(const KeyBytes& private_key, const KeyBytes& public_key, KeyBytes* shared);

}  // namespace wgate::crypto
