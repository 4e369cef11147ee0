#include "wg/peer.h"

#include "crypto/random.h"
#include "wg/tai64n.h"

namespace wgate::wg {
namespace {

DropReason DropReasonFor(HandshakeError e) {
  switch (e) {
    case HandshakeError::kNone:
      return DropReason::kNone;
    case HandshakeError::kReplayedTimestamp:
      return DropReason::kReplayedInitiation;
    case HandshakeError::kFlood:
      return DropReason::kInitiationFlood;
    case HandshakeError::kUnexpectedResponse:
      return DropReason::kUnexpectedResponse;
    case HandshakeError::kDecryptFailed:
      break;
  }
  return DropReason::kHandshakeFailed;
}

}  // namespace

Peer::Peer(DeviceContext* ctx, const PeerConfig& config)
    : ctx_(ctx),
      public_key_(config.public_key),
      endpoint_(config.endpoint),
      persistent_keepalive_(config.persistent_keepalive),
      timers_(&ctx->timings) {
  handshake_.Configure(ctx_->identity, public_key_, config.preshared_key);
  cookies_.Configure(public_key_, ctx_->timings.cookie_refresh_time);
}

Peer::~Peer() {
  std::lock_guard lock(mu_);
  ZeroKeyMaterialLocked();
}

std::optional<SocketAddress> Peer::endpoint() const {
  std::lock_guard lock(mu_);
  return endpoint_;
}

Duration Peer::persistent_keepalive() const {
  std::lock_guard lock(mu_);
  return persistent_keepalive_;
}

crypto::PresharedKey Peer::preshared_key() const {
  std::lock_guard lock(mu_);
  return handshake_.preshared_key();
}

PeerStats Peer::stats() const {
  PeerStats s;
  s.rx_bytes = rx_bytes_.load(std::memory_order_relaxed);
  s.tx_bytes = tx_bytes_.load(std::memory_order_relaxed);
  s.rx_packets = rx_packets_.load(std::memory_order_relaxed);
  s.tx_packets = tx_packets_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kDropReasonCount; ++i) s.drops[i] = drops_[i].load();
  std::lock_guard lock(mu_);
  s.last_handshake = last_handshake_;
  s.handshake_pending_since = handshake_pending_since_;
  return s;
}

std::optional<MonoTime> Peer::NextDeadline() const {
  std::lock_guard lock(mu_);
  return timers_.NextDeadline();
}

Keypairs Peer::KeypairsForTest() const {
  std::lock_guard lock(mu_);
  return keypairs_;
}

void Peer::SetSendCounterForTest(uint64_t counter) {
  std::lock_guard lock(mu_);
  if (keypairs_.current) keypairs_.current->SetNextCounterForTest(counter);
}

void Peer::SetEndpoint(const SocketAddress& endpoint) {
  std::lock_guard lock(mu_);
  endpoint_ = endpoint;
}

void Peer::SetPresharedKey(const crypto::PresharedKey& psk) {
  std::lock_guard lock(mu_);
  handshake_.SetPresharedKey(psk);
}

void Peer::SetPersistentKeepalive(Duration interval, MonoTime now) {
  std::lock_guard lock(mu_);
  persistent_keepalive_ = interval;
  // Like `wg set ... persistent-keepalive`, send one at once: a peer behind NAT then connects
  // without waiting for traffic.
  timers_.AnyAuthenticatedPacketTraversal(now - interval, interval);
}

void Peer::RequestHandshake(MonoTime now) {
  std::lock_guard lock(mu_);
  timers_.RequestHandshake(now);
}

void Peer::Rekeyed() {
  std::lock_guard lock(mu_);
  ZeroKeyMaterialLocked();
  crypto::PresharedKey psk = handshake_.preshared_key();
  handshake_.Configure(ctx_->identity, public_key_, psk);
}

Duration Peer::JitterLocked() const {
  auto max_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx_->timings.rekey_timeout_jitter_max);
  if (max_ms.count() <= 0) return Duration::zero();
  return std::chrono::milliseconds(crypto::RandomUniform(static_cast<uint32_t>(max_ms.count())));
}

std::shared_ptr<Keypair> Peer::UsableCurrentLocked(MonoTime now) const {
  const auto& kp = keypairs_.current;
  if (!kp || now - kp->created() >= ctx_->timings.reject_after_time) return nullptr;
  if (kp->next_counter() >= ctx_->timings.reject_after_messages) return nullptr;
  return kp;
}

bool Peer::AuthenticatedReceiveLocked(size_t bytes, const SocketAddress& source, MonoTime now) {
  rx_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  rx_packets_.fetch_add(1, std::memory_order_relaxed);
  timers_.AnyAuthenticatedPacketTraversal(now, persistent_keepalive_);
  timers_.AnyAuthenticatedPacketReceived();
  // Roaming: the endpoint follows the source of authenticated packets.
  if (endpoint_ == source) return false;
  endpoint_ = source;
  return true;
}

void Peer::AuthenticatedSendLocked(size_t bytes, MonoTime now) {
  tx_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  tx_packets_.fetch_add(1, std::memory_order_relaxed);
  timers_.AnyAuthenticatedPacketTraversal(now, persistent_keepalive_);
  timers_.AnyAuthenticatedPacketSent();
}

void Peer::DropKeypairLocked(std::shared_ptr<Keypair>* slot) {
  if (*slot) ctx_->indices.Remove((*slot)->local_index());
  slot->reset();  // the last holder (maybe a worker) zeroes the keys
}

void Peer::ForgetHandshakeIndexLocked() {
  if (handshake_index_) ctx_->indices.Remove(*handshake_index_);
  handshake_index_.reset();
}

void Peer::ZeroKeyMaterialLocked() {
  DropKeypairLocked(&keypairs_.previous);
  DropKeypairLocked(&keypairs_.current);
  DropKeypairLocked(&keypairs_.next);
  ForgetHandshakeIndexLocked();
  handshake_.Zero();
}

bool Peer::CreateInitiationLocked(const Now& now, bool retry, ControlMessage* out) {
  if (!retry) timers_.ResetAttempts();
  if (!endpoint_) return false;
  // At most one initiation per REKEY_TIMEOUT, whatever asks for it.
  if (last_sent_handshake_ && now.mono - *last_sent_handshake_ < ctx_->timings.rekey_timeout) {
    return false;
  }
  ForgetHandshakeIndexLocked();
  uint32_t index = ctx_->indices.Allocate(this);
  Initiation msg;
  if (!handshake_.CreateInitiation(ctx_->identity, index, Tai64nFromWallTime(now.wall), &msg)) {
    ctx_->indices.Remove(index);
    return false;
  }
  handshake_index_ = index;
  last_sent_handshake_ = now.mono;
  if (!handshake_pending_since_) handshake_pending_since_ = now.mono;
  Serialize(msg, out->bytes.data());
  out->size = kInitiationSize;
  cookies_.AddMacs(Bytes(out->bytes.data(), out->size), now.mono);
  AuthenticatedSendLocked(out->size, now.mono);
  timers_.HandshakeInitiated(now.mono, JitterLocked());
  return true;
}

bool Peer::CreateKeepaliveLocked(const Now& now, ControlMessage* out) {
  std::shared_ptr<Keypair> kp = UsableCurrentLocked(now.mono);
  if (!kp || !endpoint_) return false;
  std::optional<uint64_t> counter = kp->ReserveCounter(ctx_->timings.reject_after_messages);
  if (!counter) return false;
  out->size = kp->Seal(*counter, {}, 0, Bytes(out->bytes.data(), out->bytes.size()));
  AuthenticatedSendLocked(out->size, now.mono);
  return true;
}

void Peer::InstallSessionLocked(const SessionKeys& keys, const Now& now) {
  auto kp = std::make_shared<Keypair>(keys, now.mono);
  ctx_->indices.SetKeypair(keys.local_index, kp);
  handshake_index_.reset();  // the index now names the session
  if (keys.is_initiator) {
    // The initiator uses the new session at once; a pending `next` (from a simultaneous
    // handshake as responder) becomes `previous` so packets sealed with it still open.
    if (keypairs_.next) {
      DropKeypairLocked(&keypairs_.previous);
      keypairs_.previous = std::move(keypairs_.next);
      DropKeypairLocked(&keypairs_.current);
    } else {
      DropKeypairLocked(&keypairs_.previous);
      keypairs_.previous = std::move(keypairs_.current);
    }
    keypairs_.current = std::move(kp);
  } else {
    // The responder waits for key confirmation (the initiator's first transport message).
    DropKeypairLocked(&keypairs_.next);
    keypairs_.next = std::move(kp);
    DropKeypairLocked(&keypairs_.previous);
  }
  timers_.SessionDerived(now.mono);
}

Peer::SendPlan Peer::PrepareSend(size_t packet_len, const Now& now, ControlMessage* handshake) {
  SendPlan plan;
  std::lock_guard lock(mu_);
  if (!endpoint_) {
    plan.drop = DropReason::kNoEndpoint;
    CountDrop(plan.drop);
    return plan;
  }
  plan.endpoint = *endpoint_;
  std::shared_ptr<Keypair> kp = UsableCurrentLocked(now.mono);
  std::optional<uint64_t> counter;
  if (kp) counter = kp->ReserveCounter(ctx_->timings.reject_after_messages);
  if (!counter) {
    plan.queued = true;
    CreateInitiationLocked(now, /*retry=*/false, handshake);
    return plan;
  }
  plan.job.padded_len = PaddedSize(packet_len, ctx_->mtu);
  plan.job.counter = *counter;
  AuthenticatedSendLocked(plan.job.message_size(), now.mono);
  // Draw jitter only when the timer is armed: not one CSPRNG call per packet.
  if (packet_len > 0 && !timers_.new_handshake_armed()) timers_.DataSent(now.mono, JitterLocked());
  // Rekey before the session wears out; only the initiator rekeys on time so that both sides do
  // not start handshakes at once.
  if (*counter > ctx_->timings.rekey_after_messages ||
      (kp->is_initiator() && now.mono - kp->created() >= ctx_->timings.rekey_after_time)) {
    CreateInitiationLocked(now, /*retry=*/false, handshake);
  }
  plan.job.keypair = std::move(kp);
  return plan;
}

void Peer::HandleInitiation(const InitiationStatic& partial, const Initiation& msg,
                            const SocketAddress& source, const Now& now, ReceivePlan* out) {
  std::lock_guard lock(mu_);
  HandshakeError err =
      handshake_.ConsumeInitiation(partial, msg, now.mono, ctx_->timings.handshake_initiation_rate);
  if (Dropped(DropReasonFor(err), out)) return;
  out->endpoint_changed = AuthenticatedReceiveLocked(kInitiationSize, source, now.mono);

  ForgetHandshakeIndexLocked();
  uint32_t index = ctx_->indices.Allocate(this);
  Response resp;
  std::optional<SessionKeys> keys;
  if (handshake_.CreateResponse(index, &resp)) keys = handshake_.DeriveSession();
  if (!keys) {
    ctx_->indices.Remove(index);
    Dropped(DropReason::kHandshakeFailed, out);
    return;
  }
  Serialize(resp, out->reply.bytes.data());
  out->reply.size = kResponseSize;
  cookies_.AddMacs(Bytes(out->reply.bytes.data(), out->reply.size), now.mono);
  out->reply_to = source;
  AuthenticatedSendLocked(kResponseSize, now.mono);
  InstallSessionLocked(*keys, now);
}

void Peer::HandleResponse(const Response& msg, const SocketAddress& source, const Now& now,
                          ReceivePlan* out) {
  std::lock_guard lock(mu_);
  if (Dropped(DropReasonFor(handshake_.ConsumeResponse(ctx_->identity, msg)), out)) return;
  std::optional<SessionKeys> keys = handshake_.DeriveSession();
  if (!keys) {
    Dropped(DropReason::kHandshakeFailed, out);
    return;
  }
  out->endpoint_changed = AuthenticatedReceiveLocked(kResponseSize, source, now.mono);
  InstallSessionLocked(*keys, now);
  timers_.HandshakeComplete();
  handshake_pending_since_.reset();
  last_handshake_ = now.wall;
  out->session_ready = true;
  // Confirm the session to the responder at once, even with nothing staged to send.
  if (CreateKeepaliveLocked(now, &out->reply)) out->reply_to = *endpoint_;
}

void Peer::HandleCookieReply(const CookieReply& msg, const Now& now, ReceivePlan* out) {
  std::lock_guard lock(mu_);
  // On success the retransmit timer resends the initiation, now with mac2.
  if (!cookies_.ConsumeReply(msg, now.mono)) Dropped(DropReason::kInvalidCookieReply, out);
}

void Peer::FinishReceive(const OpenJob& job, size_t datagram_size, bool is_keepalive,
                         const SocketAddress& source, const Now& now, ReceivePlan* out) {
  std::lock_guard lock(mu_);
  Keypair* kp = job.keypair.get();
  if (kp != keypairs_.current.get() && kp != keypairs_.previous.get() &&
      kp != keypairs_.next.get()) {
    Dropped(DropReason::kKeypairExpired, out);  // erased while the packet was in flight
    return;
  }
  if (!kp->replay().Accept(job.counter, ctx_->timings.reject_after_messages)) {
    Dropped(DropReason::kReplayed, out);
    return;
  }
  if (kp == keypairs_.next.get()) {
    // Key confirmation: the initiator has the new session; rotate it in.
    DropKeypairLocked(&keypairs_.previous);
    keypairs_.previous = std::move(keypairs_.current);
    keypairs_.current = std::move(keypairs_.next);
    timers_.HandshakeComplete();
    handshake_pending_since_.reset();
    last_handshake_ = now.wall;
    out->session_ready = true;
  }
  out->endpoint_changed = AuthenticatedReceiveLocked(datagram_size, source, now.mono);
  out->is_keepalive = is_keepalive;
  if (!is_keepalive) timers_.DataReceived(now.mono);
  // The initiator rekeys shortly before REJECT_AFTER_TIME if it only receives, once per session.
  const auto& cur = keypairs_.current;
  if (cur && cur->is_initiator() && !timers_.sent_last_minute_handshake() &&
      now.mono - cur->created() >= ctx_->timings.rekey_after_time_on_receive()) {
    timers_.set_sent_last_minute_handshake();
    if (CreateInitiationLocked(now, /*retry=*/false, &out->reply)) out->reply_to = *endpoint_;
  }
}

Peer::TickPlan Peer::Tick(const Now& now) {
  TickPlan plan;
  std::lock_guard lock(mu_);
  PeerTimers::Due due = timers_.Expire(now.mono);
  if (!due.any()) return plan;
  if (due.zero_key_material) ZeroKeyMaterialLocked();
  if (due.give_up) plan.staged_expired = true;
  if (due.retransmit_handshake || due.new_handshake) {
    if (CreateInitiationLocked(now, /*retry=*/due.retransmit_handshake,
                               &plan.messages[plan.count])) {
      ++plan.count;
    }
  }
  if (due.send_keepalive || due.persistent_keepalive) {
    if (CreateKeepaliveLocked(now, &plan.messages[plan.count])) {
      ++plan.count;
    } else if (!UsableCurrentLocked(now.mono) && plan.count == 0 &&
               CreateInitiationLocked(now, /*retry=*/false, &plan.messages[plan.count])) {
      // No session to carry the keepalive: start one.
      ++plan.count;
    }
  }
  if (endpoint_) plan.endpoint = *endpoint_;
  return plan;
}

}  // namespace wgate::wg
