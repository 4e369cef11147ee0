// mac1/mac2 and cookie replies (whitepaper section 5.3 and 5.4.7): the DoS defence of the
// handshake.
//
// Every handshake message carries mac1 = MAC(HASH("mac1----" || receiver's public key), msg up to
// mac1), which proves the sender knows whom it talks to. A responder under load additionally
// demands mac2 = MAC(cookie, msg up to mac2), where the cookie is a MAC of the sender's IP address
// and port under a secret that changes every two minutes; a sender without a valid cookie gets a
// cookie reply (the cookie, XChaCha20-Poly1305-encrypted under HASH("cookie--" || responder's
// public key) with the message's mac1 as associated data) and must retry.
#pragma once

#include <mutex>
#include <optional>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/ip.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "wg/messages.h"

namespace wgate::wg {

inline constexpr char kLabelMac1[] = "mac1----";
inline constexpr char kLabelCookie[] = "cookie--";

// HASH(label || public key): the mac1 key and the cookie encryption key of messages sent to the
// owner of `public_key`.
crypto::Hash Mac1Key(const crypto::PublicKey& public_key);
crypto::Hash CookieKey(const crypto::PublicKey& public_key);

// Responder side, one per device (keyed by the device's public key).
// Thread-safe: every method may be called from several threads at once.
class CookieChecker {
 public:
  CookieChecker(const crypto::PublicKey& local, Duration refresh_time);

  // `msg` is a whole handshake message (initiation or response).
  bool CheckMac1(ConstBytes msg) const;
  // False also when no cookie secret is live (none handed out within refresh_time).
  bool CheckMac2(ConstBytes msg, const SocketAddress& source, MonoTime now);
  // The cookie reply to `msg`, addressed to `sender_index` (the index the message came from).
  // Rotates the secret when it is older than refresh_time.
  void CreateReply(ConstBytes msg, uint32_t sender_index, const SocketAddress& source, MonoTime now,
                   CookieReply* out);

 private:
  crypto::Mac CookieFor(const SocketAddress& source) const;  // needs mu_

  crypto::Hash mac1_key_;
  crypto::Hash cookie_key_;
  Duration refresh_time_;
  std::mutex mu_;
  crypto::SecretKey secret_;
  std::optional<MonoTime> secret_born_;
};

// Initiator side, one per peer (keyed by the peer's public key). Not thread-safe: Peer guards it.
class CookieGenerator {
 public:
  void Configure(const crypto::PublicKey& remote, Duration refresh_time);

  // Writes mac1 and mac2 into the last 32 bytes of the handshake message `msg` (mac2 is zero
  // unless a cookie younger than refresh_time is held), and remembers mac1 for a cookie reply.
  void AddMacs(Bytes msg, MonoTime now);
  // Decrypts a cookie reply to our last message and keeps the cookie. False when we sent nothing
  // it could answer or it does not authenticate.
  bool ConsumeReply(const CookieReply& reply, MonoTime now);
  bool HasCookie(MonoTime now) const;

 private:
  crypto::Hash mac1_key_{};
  crypto::Hash cookie_key_{};
  Duration refresh_time_{};
  std::optional<crypto::Mac> last_mac1_;
  crypto::Mac cookie_{};
  std::optional<MonoTime> cookie_born_;
};

}  // namespace wgate::wg
