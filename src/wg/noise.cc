#include "wg/noise.h"

#include <cstring>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/x25519.h"

namespace wgate::wg {
namespace {

using crypto::Hash;
using crypto::KeyBytes;
using crypto::SecretKey;

ConstBytes AsBytes(std::string_view s) {
  return ConstBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The running Noise state (chaining key, hash) of one message being built or consumed; work
// happens on a copy so that a failed message leaves the Handshake untouched.
class SymmetricState {
 public:
  SymmetricState(const KeyBytes& ck, const Hash& h) : ck_(ck), h_(h) {}
  ~SymmetricState() { crypto::SecureZero(h_.data(), h_.size()); }

  void MixHash(ConstBytes data) { h_ = crypto::Blake2s256({h_, data}); }
  // ck = KDF1(ck, input)
  void MixKey(ConstBytes input) {
    SecretKey t1;
    crypto::Kdf1(ck_.bytes(), input, &t1.mutable_bytes());
    ck_ = t1;
  }
  // (ck, key) = KDF2(ck, input)
  void MixKey2(ConstBytes input, SecretKey* key) {
    SecretKey t1;
    crypto::Kdf2(ck_.bytes(), input, &t1.mutable_bytes(), &key->mutable_bytes());
    ck_ = t1;
  }
  // (ck, tau, key) = KDF3(ck, psk); h = HASH(h || tau)
  void MixKeyAndHash(ConstBytes psk, SecretKey* key) {
    SecretKey t1, tau;
    crypto::Kdf3(ck_.bytes(), psk, &t1.mutable_bytes(), &tau.mutable_bytes(),
                 &key->mutable_bytes());
    ck_ = t1;
    MixHash(tau.bytes());
  }
  // ck = KDF1(ck, DH(priv, pub)); false when the DH result is zero (small-order point).
  bool MixDh(const KeyBytes& priv, const KeyBytes& pub) {
    SecretKey shared;
    if (!crypto::X25519(priv, pub, &shared.mutable_bytes())) return false;
    MixKey(shared.bytes());
    return true;
  }
  // (ck, key) = KDF2(ck, DH(priv, pub))
  bool MixDh2(const KeyBytes& priv, const KeyBytes& pub, SecretKey* key) {
    SecretKey shared;
    if (!crypto::X25519(priv, pub, &shared.mutable_bytes())) return false;
    MixKey2(shared.bytes(), key);
    return true;
  }
  // out = AEAD(key, 0, plain, h); h = HASH(h || out)
  void EncryptAndHash(const SecretKey& key, ConstBytes plain, uint8_t* out) {
    crypto::ChaChaPolySeal(key.bytes(), 0, plain, h_, out);
    MixHash(ConstBytes(out, plain.size() + crypto::kAeadTagLen));
  }
  bool DecryptAndHash(const SecretKey& key, ConstBytes sealed, uint8_t* out) {
    if (!crypto::ChaChaPolyOpen(key.bytes(), 0, sealed, h_, out)) return false;
    MixHash(sealed);
    return true;
  }

  const SecretKey& chaining_key() const { return ck_; }
  const Hash& hash() const { return h_; }

 private:
  SecretKey ck_;
  Hash h_;
};

struct InitialState {
  Hash ck;
  Hash h;
  InitialState() {
    ck = crypto::Blake2s256({AsBytes(kConstruction)});
    h = crypto::Blake2s256({ck, AsBytes(kIdentifier)});
  }
};

const InitialState& Initial() {
  static const InitialState state;
  return state;
}

}  // namespace

const Hash& InitialChainingKey() { return Initial().ck; }
const Hash& InitialHash() { return Initial().h; }

std::optional<InitiationStatic> ConsumeInitiationStatic(const StaticIdentity& local,
                                                        const Initiation& msg) {
  SymmetricState s(InitialChainingKey(), InitialHash());
  s.MixHash(local.public_key.bytes());
  s.MixKey(msg.ephemeral);
  s.MixHash(msg.ephemeral);
  SecretKey key;
  if (!s.MixDh2(local.private_key.bytes(), msg.ephemeral, &key)) return std::nullopt;
  KeyBytes initiator_static;
  if (!s.DecryptAndHash(key, msg.encrypted_static, initiator_static.data())) return std::nullopt;
  InitiationStatic out;
  out.initiator_static = crypto::PublicKey(initiator_static);
  out.chaining_key = s.chaining_key();
  out.hash = s.hash();
  return out;
}

void Handshake::Configure(const StaticIdentity& local, const crypto::PublicKey& remote,
                          const crypto::PresharedKey& psk) {
  Zero();
  remote_static_ = remote;
  psk_ = psk;
  static_static_valid_ =
      crypto::X25519(local.private_key.bytes(), remote.bytes(), &static_static_.mutable_bytes());
}

bool Handshake::CreateInitiation(const StaticIdentity& local, uint32_t sender_index,
                                 const Tai64n& timestamp, Initiation* out) {
  if (!static_static_valid_) return false;
  SymmetricState s(InitialChainingKey(), InitialHash());
  s.MixHash(remote_static_.bytes());
  crypto::PrivateKey ephemeral = crypto::PrivateKey::Generate();
  out->sender_index = sender_index;
  out->ephemeral = ephemeral.DerivePublic().bytes();
  s.MixKey(out->ephemeral);
  s.MixHash(out->ephemeral);
  SecretKey key;
  if (!s.MixDh2(ephemeral.bytes(), remote_static_.bytes(), &key)) return false;
  s.EncryptAndHash(key, local.public_key.bytes(), out->encrypted_static.data());
  s.MixKey2(static_static_.bytes(), &key);
  s.EncryptAndHash(key, timestamp, out->encrypted_timestamp.data());

  chaining_key_ = s.chaining_key();
  hash_ = s.hash();
  local_ephemeral_ = ephemeral;
  local_index_ = sender_index;
  state_ = State::kInitiationCreated;
  return true;
}

HandshakeError Handshake::ConsumeInitiation(const InitiationStatic& partial, const Initiation& msg,
                                            MonoTime now, Duration min_interval) {
  if (!static_static_valid_) return HandshakeError::kDecryptFailed;
  SymmetricState s(partial.chaining_key.bytes(), partial.hash);
  SecretKey key;
  s.MixKey2(static_static_.bytes(), &key);
  Tai64n timestamp;
  if (!s.DecryptAndHash(key, msg.encrypted_timestamp, timestamp.data())) {
    return HandshakeError::kDecryptFailed;
  }
  if (latest_timestamp_ && !Tai64nAfter(timestamp, *latest_timestamp_)) {
    return HandshakeError::kReplayedTimestamp;
  }
  if (last_initiation_consumed_ && now - *last_initiation_consumed_ < min_interval) {
    return HandshakeError::kFlood;
  }
  chaining_key_ = s.chaining_key();
  hash_ = s.hash();
  remote_ephemeral_ = msg.ephemeral;
  remote_index_ = msg.sender_index;
  latest_timestamp_ = timestamp;
  last_initiation_consumed_ = now;
  state_ = State::kInitiationConsumed;
  return HandshakeError::kNone;
}

bool Handshake::CreateResponse(uint32_t sender_index, Response* out) {
  if (state_ != State::kInitiationConsumed) return false;
  SymmetricState s(chaining_key_.bytes(), hash_);
  crypto::PrivateKey ephemeral = crypto::PrivateKey::Generate();
  out->sender_index = sender_index;
  out->receiver_index = remote_index_;
  out->ephemeral = ephemeral.DerivePublic().bytes();
  s.MixKey(out->ephemeral);
  s.MixHash(out->ephemeral);
  if (!s.MixDh(ephemeral.bytes(), remote_ephemeral_)) return false;
  if (!s.MixDh(ephemeral.bytes(), remote_static_.bytes())) return false;
  SecretKey key;
  s.MixKeyAndHash(psk_.bytes(), &key);
  s.EncryptAndHash(key, {}, out->encrypted_nothing.data());

  chaining_key_ = s.chaining_key();
  hash_ = s.hash();
  local_index_ = sender_index;
  state_ = State::kResponseCreated;
  return true;
}

HandshakeError Handshake::ConsumeResponse(const StaticIdentity& local, const Response& msg) {
  if (state_ != State::kInitiationCreated || msg.receiver_index != local_index_) {
    return HandshakeError::kUnexpectedResponse;
  }
  SymmetricState s(chaining_key_.bytes(), hash_);
  s.MixKey(msg.ephemeral);
  s.MixHash(msg.ephemeral);
  if (!s.MixDh(local_ephemeral_.bytes(), msg.ephemeral)) return HandshakeError::kDecryptFailed;
  if (!s.MixDh(local.private_key.bytes(), msg.ephemeral)) return HandshakeError::kDecryptFailed;
  SecretKey key;
  s.MixKeyAndHash(psk_.bytes(), &key);
  uint8_t nothing[1];
  if (!s.DecryptAndHash(key, msg.encrypted_nothing, nothing)) {
    return HandshakeError::kDecryptFailed;
  }
  chaining_key_ = s.chaining_key();
  hash_ = s.hash();
  remote_ephemeral_ = msg.ephemeral;
  remote_index_ = msg.sender_index;
  state_ = State::kResponseConsumed;
  return HandshakeError::kNone;
}

std::optional<SessionKeys> Handshake::DeriveSession() {
  bool initiator;
  if (state_ == State::kResponseConsumed) {
    initiator = true;
  } else if (state_ == State::kResponseCreated) {
    initiator = false;
  } else {
    return std::nullopt;
  }
  SessionKeys keys;
  SecretKey first, second;
  crypto::Kdf2(chaining_key_.bytes(), {}, &first.mutable_bytes(), &second.mutable_bytes());
  keys.send = initiator ? first : second;
  keys.recv = initiator ? second : first;
  keys.is_initiator = initiator;
  keys.local_index = local_index_;
  keys.remote_index = remote_index_;
  Zero();
  return keys;
}

void Handshake::Zero() {
  state_ = State::kZeroed;
  chaining_key_ = SecretKey();
  crypto::SecureZero(hash_.data(), hash_.size());
  local_ephemeral_ = crypto::PrivateKey();
  crypto::SecureZero(remote_ephemeral_.data(), remote_ephemeral_.size());
}

}  // namespace wgate::wg
