#include "wg/device.h"

#include <cstring>

namespace wgate::wg {
namespace {

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The destination of an outbound IP packet, nullopt if it is not IPv4/IPv6.
std::optional<IpAddress> Destination(ConstBytes p) {
  if (p.size() >= 20 && (p[0] >> 4) == 4) return IpAddress::V4(p.data() + 16);
  if (p.size() >= 40 && (p[0] >> 4) == 6) return IpAddress::V6(p.data() + 24);
  return std::nullopt;
}

// The source and true length (padding removed) of a decrypted inner packet.
struct InnerPacket {
  IpAddress source;
  size_t length;
};
std::optional<InnerPacket> ParseInner(ConstBytes p) {
  if (p.size() >= 20 && (p[0] >> 4) == 4) {
    size_t len = LoadBe16(p.data() + 2);
    if (len < 20 || len > p.size()) return std::nullopt;
    return InnerPacket{IpAddress::V4(p.data() + 12), len};
  }
  if (p.size() >= 40 && (p[0] >> 4) == 6) {
    size_t len = 40 + size_t{LoadBe16(p.data() + 4)};
    if (len > p.size()) return std::nullopt;
    return InnerPacket{IpAddress::V6(p.data() + 8), len};
  }
  return std::nullopt;
}

}  // namespace

Device::Device(const DeviceConfig& config)
    : ctx_{StaticIdentity::FromPrivate(config.private_key), config.timings, config.mtu, {}},
      cookie_checker_(std::make_unique<CookieChecker>(ctx_.identity.public_key,
                                                      ctx_.timings.cookie_refresh_time)) {}

Device::~Device() = default;

Result<Peer*> Device::AddPeer(const PeerConfig& config, MonoTime now) {
  if (config.public_key == ctx_.identity.public_key) {
    return Error("peer " + config.public_key.ToBase64() + ": is this device's own public key");
  }
  if (peers_.count(config.public_key.bytes())) {
    return Error("peer " + config.public_key.ToBase64() + ": already exists");
  }
  auto peer = std::make_unique<Peer>(&ctx_, config);
  Peer* p = peer.get();
  peers_.emplace(config.public_key.bytes(), std::move(peer));
  for (const IpPrefix& prefix : config.allowed_ips) AddAllowedIp(p, prefix);
  if (config.persistent_keepalive > Duration::zero()) {
    p->SetPersistentKeepalive(config.persistent_keepalive, now);
  }
  return p;
}

bool Device::RemovePeer(const crypto::PublicKey& key) {
  auto it = peers_.find(key.bytes());
  if (it == peers_.end()) return false;
  allowed_ips_.RemoveAll(it->second.get());
  ctx_.indices.RemovePeer(it->second.get());
  peers_.erase(it);
  return true;
}

Peer* Device::FindPeer(const crypto::PublicKey& key) const {
  auto it = peers_.find(key.bytes());
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<Peer*> Device::peers() const {
  std::vector<Peer*> out;
  out.reserve(peers_.size());
  for (const auto& [key, peer] : peers_) out.push_back(peer.get());
  return out;
}

void Device::SetPrivateKey(const crypto::PrivateKey& key) {
  ctx_.identity = StaticIdentity::FromPrivate(key);
  cookie_checker_ =
      std::make_unique<CookieChecker>(ctx_.identity.public_key, ctx_.timings.cookie_refresh_time);
  RemovePeer(ctx_.identity.public_key);
  for (auto& [k, peer] : peers_) peer->Rekeyed();
}

void Device::SetPeerEndpoint(Peer* peer, const SocketAddress& endpoint) {
  peer->SetEndpoint(endpoint);
}

void Device::SetPeerPresharedKey(Peer* peer, const crypto::PresharedKey& psk) {
  peer->SetPresharedKey(psk);
}

void Device::SetPeerPersistentKeepalive(Peer* peer, Duration interval, MonoTime now) {
  peer->SetPersistentKeepalive(interval, now);
}

void Device::AddAllowedIp(Peer* peer, const IpPrefix& prefix) { allowed_ips_.Insert(prefix, peer); }

bool Device::RemoveAllowedIp(Peer* peer, const IpPrefix& prefix) {
  return allowed_ips_.Remove(prefix, peer);
}

void Device::ClearAllowedIps(Peer* peer) { allowed_ips_.RemoveAll(peer); }

std::vector<IpPrefix> Device::AllowedIpsOf(Peer* peer) const {
  return allowed_ips_.PrefixesOf(peer);
}

// ---- Outbound ----

Outbound Device::PrepareEncapsulate(ConstBytes packet, const Now& now) {
  Outbound r;
  std::optional<IpAddress> dst = Destination(packet);
  if (!dst) {
    r.drop = DropReason::kInvalidPacket;
    CountDrop(r.drop);
    return r;
  }
  std::optional<Peer*> peer = allowed_ips_.Lookup(*dst);
  if (!peer) {
    r.drop = DropReason::kNoRoute;
    CountDrop(r.drop);
    return r;
  }
  r.peer = *peer;
  Peer::SendPlan plan = r.peer->PrepareSend(packet.size(), now, &r.handshake);
  r.drop = plan.drop;
  r.queued = plan.queued;
  r.endpoint = plan.endpoint;
  r.job = std::move(plan.job);
  if (r.job.keypair) r.size = r.job.message_size();
  return r;
}

size_t Device::Seal(const SealJob& job, ConstBytes packet, Bytes out) {
  WGATE_CHECK(out.size() >= job.message_size() && packet.size() <= job.padded_len);
  return job.keypair->Seal(job.counter, packet, job.padded_len, out);
}

Outbound Device::Encapsulate(ConstBytes packet, Bytes out, const Now& now) {
  if (out.size() < MaxEncapsulatedSize(packet.size())) {
    Outbound r;
    r.drop = DropReason::kBufferTooSmall;
    CountDrop(r.drop);
    return r;
  }
  Outbound r = PrepareEncapsulate(packet, now);
  if (r.job.keypair) Seal(r.job, packet, out);
  return r;
}

// ---- Inbound ----

Inbound Device::DeviceDrop(DropReason r) {
  CountDrop(r);
  Inbound in;
  in.drop = r;
  return in;
}

Inbound Device::PrepareDecapsulate(ConstBytes datagram, const SocketAddress& source,
                                   const Now& now) {
  std::optional<MessageType> type = ClassifyMessage(datagram);
  if (!type) return DeviceDrop(DropReason::kMalformed);
  if (*type != MessageType::kTransport) {
    Inbound r;
    HandleHandshake(*type, datagram, source, now, &r);
    return r;
  }
  TransportHeader h = *ParseTransportHeader(datagram);
  std::optional<IndexTable::Entry> e = ctx_.indices.Lookup(h.receiver_index);
  if (!e || !e->keypair) return DeviceDrop(DropReason::kUnknownIndex);
  Inbound r;
  r.peer = e->peer;
  if (now.mono - e->keypair->created() >= ctx_.timings.reject_after_time ||
      h.counter >= ctx_.timings.reject_after_messages) {
    r.drop = DropReason::kKeypairExpired;
    r.peer->CountDrop(r.drop);
    return r;
  }
  r.needs_open = true;
  r.job.keypair = std::move(e->keypair);
  r.job.counter = h.counter;
  return r;
}

bool Device::Open(const OpenJob& job, ConstBytes datagram, uint8_t* out) {
  return job.keypair->Open(job.counter, datagram.subspan(kTransportHeaderSize), out);
}

Inbound Device::FinishDecapsulate(Inbound r, bool opened, ConstBytes plaintext,
                                  size_t datagram_size, const SocketAddress& source,
                                  const Now& now) {
  r.needs_open = false;
  // The result outlives the packet; it must not keep the session's keys alive.
  OpenJob job = std::move(r.job);
  r.job = OpenJob{};
  if (!opened) {
    r.drop = DropReason::kDecryptFailed;
    r.peer->CountDrop(r.drop);
    return r;
  }
  std::optional<InnerPacket> inner;
  if (!plaintext.empty()) inner = ParseInner(plaintext);
  Peer::ReceivePlan plan;
  r.peer->FinishReceive(job, datagram_size, plaintext.empty(), source, now, &plan);
  r.drop = plan.drop;
  r.session_ready = plan.session_ready;
  r.endpoint_changed = plan.endpoint_changed;
  r.reply = plan.reply;
  r.reply_to = plan.reply_to;
  if (r.dropped() || plaintext.empty()) return r;
  // Authenticated, but the payload must be an IP packet from an address this peer owns
  // (cryptokey routing, whitepaper section 2).
  if (!inner) {
    r.drop = DropReason::kInvalidInnerPacket;
  } else if (allowed_ips_.Lookup(inner->source) != r.peer) {
    r.drop = DropReason::kDisallowedSource;
  }
  if (r.dropped()) {
    r.peer->CountDrop(r.drop);
    return r;
  }
  r.packet_size = inner->length;
  return r;
}

Inbound Device::Decapsulate(ConstBytes datagram, const SocketAddress& source, Bytes out,
                            const Now& now) {
  Inbound r = PrepareDecapsulate(datagram, source, now);
  if (!r.needs_open) return r;
  size_t plain_len = datagram.size() - kTransportOverhead;
  if (out.size() < plain_len) {
    r.needs_open = false;
    r.drop = DropReason::kBufferTooSmall;
    r.peer->CountDrop(r.drop);
    return r;
  }
  bool opened = Open(r.job, datagram, out.data());
  return FinishDecapsulate(std::move(r), opened, ConstBytes(out.data(), plain_len), datagram.size(),
                           source, now);
}

void Device::HandleHandshake(MessageType type, ConstBytes datagram, const SocketAddress& source,
                             const Now& now, Inbound* r) {
  if (type == MessageType::kCookieReply) {
    CookieReply reply = *ParseCookieReply(datagram);
    std::optional<IndexTable::Entry> e = ctx_.indices.Lookup(reply.receiver_index);
    if (!e) {
      *r = DeviceDrop(DropReason::kUnknownIndex);
      return;
    }
    r->peer = e->peer;
    Peer::ReceivePlan plan;
    r->peer->HandleCookieReply(reply, now, &plan);
    r->drop = plan.drop;
    return;
  }
  if (!cookie_checker_->CheckMac1(datagram)) {
    *r = DeviceDrop(DropReason::kInvalidMac1);
    return;
  }
  uint32_t sender_index = LoadLe32(datagram.data() + 4);
  if (under_load_.load(std::memory_order_relaxed)) {
    if (!cookie_checker_->CheckMac2(datagram, source, now.mono)) {
      // Prove the source address first: answer with a cookie, do no expensive DH.
      CookieReply reply;
      cookie_checker_->CreateReply(datagram, sender_index, source, now.mono, &reply);
      *r = DeviceDrop(DropReason::kCookieRequired);
      Serialize(reply, r->reply.bytes.data());
      r->reply.size = kCookieReplySize;
      r->reply_to = source;
      return;
    }
    if (!rate_limiter_.Allow(source.ip, now.mono)) {
      *r = DeviceDrop(DropReason::kRateLimited);
      return;
    }
  }
  Peer::ReceivePlan plan;
  if (type == MessageType::kInitiation) {
    Initiation msg = *ParseInitiation(datagram);
    std::optional<InitiationStatic> partial = ConsumeInitiationStatic(ctx_.identity, msg);
    Peer* peer = partial ? FindPeer(partial->initiator_static) : nullptr;
    if (!peer) {
      *r = DeviceDrop(DropReason::kHandshakeFailed);
      return;
    }
    r->peer = peer;
    peer->HandleInitiation(*partial, msg, source, now, &plan);
  } else {
    Response msg = *ParseResponse(datagram);
    std::optional<IndexTable::Entry> e = ctx_.indices.Lookup(msg.receiver_index);
    if (!e || e->keypair) {
      *r = DeviceDrop(DropReason::kUnknownIndex);
      return;
    }
    r->peer = e->peer;
    r->peer->HandleResponse(msg, source, now, &plan);
  }
  r->drop = plan.drop;
  r->session_ready = plan.session_ready;
  r->endpoint_changed = plan.endpoint_changed;
  r->reply = plan.reply;
  r->reply_to = plan.reply_to;
}

// ---- Timers ----

void Device::Tick(const Now& now, TickSink& sink) {
  for (auto& [key, peer] : peers_) {
    Peer::TickPlan plan = peer->Tick(now);
    if (plan.staged_expired) sink.DropStaged(*peer);
    for (int i = 0; i < plan.count; ++i) sink.Send(*peer, plan.endpoint, plan.messages[i].view());
  }
}

std::optional<MonoTime> Device::NextDeadline() const {
  std::optional<MonoTime> next;
  for (const auto& [key, peer] : peers_) {
    std::optional<MonoTime> d = peer->NextDeadline();
    if (d && (!next || *d < *next)) next = d;
  }
  return next;
}

}  // namespace wgate::wg
