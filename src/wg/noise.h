// The Noise_IKpsk2 handshake of WireGuard (whitepaper section 5.4.2-5.4.4): the per-peer state
// machine that creates and consumes initiations and responses and derives transport keys.
//
// Mac fields are not touched here (cookie.h does them); messages come in and go out as the plain
// structs of messages.h. Index allocation is the caller's: it passes the index to put in the
// message. Pure apart from fresh ephemeral keys from the CSPRNG.
//
// Thread-safety: a Handshake is per peer and not thread-safe; Peer guards it with its lock.
// The free functions (InitialChainingKey, ConsumeInitiationStatic) are pure and thread-safe.
#pragma once

#include <optional>

#include "base/clock.h"
#include "crypto/blake2s.h"
#include "crypto/keys.h"
#include "wg/messages.h"
#include "wg/tai64n.h"

namespace wgate::wg {

inline constexpr char kConstruction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr char kIdentifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

// Ci = HASH(CONSTRUCTION) and Hi = HASH(Ci || IDENTIFIER), the starting state of every handshake.
const crypto::Hash& InitialChainingKey();
const crypto::Hash& InitialHash();

// This device's static key pair.
struct StaticIdentity {
  crypto::PrivateKey private_key;
  crypto::PublicKey public_key;
  static StaticIdentity FromPrivate(const crypto::PrivateKey& key) {
    return StaticIdentity{key, key.DerivePublic()};
  }
};

// The two transport keys of a fresh session, seen from this side.
struct SessionKeys {
  crypto::SecretKey send;
  crypto::SecretKey recv;
  bool is_initiator = false;
  uint32_t local_index = 0;
  uint32_t remote_index = 0;
};

// The first half of consuming an initiation, before the sender is known: decrypts the
// initiator's static key with our static key. The chaining state travels to the peer's
// Handshake::ConsumeInitiation. Secrets inside zero themselves.
struct InitiationStatic {
  crypto::PublicKey initiator_static;
  crypto::SecretKey chaining_key;
  crypto::Hash hash{};
};
std::optional<InitiationStatic> ConsumeInitiationStatic(const StaticIdentity& local,
                                                        const Initiation& msg);

// Why consuming a handshake message failed.
enum class HandshakeError {
  kNone,
  kDecryptFailed,       // an AEAD tag did not verify, or a DH result was zero
  kReplayedTimestamp,   // initiation timestamp not newer than the last accepted
  kFlood,               // initiations from this peer arrive faster than kInitiationsPerSecond
  kUnexpectedResponse,  // no initiation of ours in flight with that index
};

class Handshake {
 public:
  enum class State {
    kZeroed,
    kInitiationCreated,
    kInitiationConsumed,
    kResponseCreated,
    kResponseConsumed,
  };

  // Binds the handshake to a peer. Precomputes DH(local static, remote static); a remote key of
  // small order makes every later operation fail. Resets the state (not the replay timestamp).
  void Configure(const StaticIdentity& local, const crypto::PublicKey& remote,
                 const crypto::PresharedKey& psk);
  void SetPresharedKey(const crypto::PresharedKey& psk) { psk_ = psk; }
  const crypto::PresharedKey& preshared_key() const { return psk_; }

  State state() const { return state_; }
  uint32_t local_index() const { return local_index_; }
  const crypto::PublicKey& remote_static() const { return remote_static_; }

  // Initiator: fills `out` (macs left zero) with a fresh ephemeral key and `timestamp`.
  // False when the static-static DH is invalid.
  bool CreateInitiation(const StaticIdentity& local, uint32_t sender_index, const Tai64n& timestamp,
                        Initiation* out);
  // Responder, second half: decrypts and checks the timestamp (replay) and the arrival rate
  // (`now` vs the last consumed initiation, at most one per `min_interval`).
  HandshakeError ConsumeInitiation(const InitiationStatic& partial, const Initiation& msg,
                                   MonoTime now, Duration min_interval);
  // Responder: the response to the initiation just consumed. False if none is pending.
  bool CreateResponse(uint32_t sender_index, Response* out);
  // Initiator: consumes the response to our initiation.
  HandshakeError ConsumeResponse(const StaticIdentity& local, const Response& msg);
  // After CreateResponse or ConsumeResponse: the transport keys. Zeroes the handshake.
  std::optional<SessionKeys> DeriveSession();

  // Forgets all in-flight secrets (the replay timestamp and rate state stay).
  void Zero();

 private:
  crypto::PublicKey remote_static_;
  crypto::PresharedKey psk_;
  crypto::SecretKey static_static_;  // DH(local static, remote static)
  bool static_static_valid_ = false;

  State state_ = State::kZeroed;
  crypto::SecretKey chaining_key_;
  crypto::Hash hash_{};
  crypto::PrivateKey local_ephemeral_;
  crypto::KeyBytes remote_ephemeral_{};
  uint32_t local_index_ = 0;
  uint32_t remote_index_ = 0;

  std::optional<Tai64n> latest_timestamp_;
  std::optional<MonoTime> last_initiation_consumed_;
};

}  // namespace wgate::wg
