#include "wg/cookie.h"

#include <string_view>

#include "crypto/aead.h"
#include "crypto/random.h"

namespace wgate::wg {
namespace {

crypto::Hash LabelledKey(std::string_view label, const crypto::PublicKey& key) {
  return crypto::Blake2s256(
      {ConstBytes(reinterpret_cast<const uint8_t*>(label.data()), label.size()), key.bytes()});
}

ConstBytes UpToMac1(ConstBytes msg) { return msg.first(msg.size() - kMacsSize); }
ConstBytes UpToMac2(ConstBytes msg) { return msg.first(msg.size() - crypto::kMacLen); }
ConstBytes Mac1Of(ConstBytes msg) { return msg.subspan(msg.size() - kMacsSize, crypto::kMacLen); }
ConstBytes Mac2Of(ConstBytes msg) { return msg.last(crypto::kMacLen); }

}  // namespace

crypto::Hash Mac1Key(const crypto::PublicKey& public_key) {
  return LabelledKey(kLabelMac1, public_key);
}
crypto::Hash CookieKey(const crypto::PublicKey& public_key) {
  return LabelledKey(kLabelCookie, public_key);
}

CookieChecker::CookieChecker(const crypto::PublicKey& local, Duration refresh_time)
    : mac1_key_(Mac1Key(local)), cookie_key_(CookieKey(local)), refresh_time_(refresh_time) {}

bool CookieChecker::CheckMac1(ConstBytes msg) const {
  if (msg.size() < kMacsSize) return false;
  crypto::Mac mac = crypto::Blake2sMac128(mac1_key_, {UpToMac1(msg)});
  return crypto::ConstantTimeEqual(mac.data(), Mac1Of(msg).data(), mac.size());
}

crypto::Mac CookieChecker::CookieFor(const SocketAddress& source) const {
  // Address bytes then the port in network order, as the kernel does. Only this device ever
  // recomputes the cookie, so the exact encoding is a local choice.
  uint8_t port[2] = {static_cast<uint8_t>(source.port >> 8), static_cast<uint8_t>(source.port)};
  return crypto::Blake2sMac128(secret_.bytes(),
                               {ConstBytes(source.ip.data(), source.ip.size()), port});
}

bool CookieChecker::CheckMac2(ConstBytes msg, const SocketAddress& source, MonoTime now) {
  if (msg.size() < kMacsSize) return false;
  crypto::Mac cookie;
  {
    std::lock_guard lock(mu_);
    if (!secret_born_ || now - *secret_born_ > refresh_time_) return false;
    cookie = CookieFor(source);
  }
  crypto::Mac mac = crypto::Blake2sMac128(cookie, {UpToMac2(msg)});
  return crypto::ConstantTimeEqual(mac.data(), Mac2Of(msg).data(), mac.size());
}

void CookieChecker::CreateReply(ConstBytes msg, uint32_t sender_index, const SocketAddress& source,
                                MonoTime now, CookieReply* out) {
  crypto::Mac cookie;
  {
    std::lock_guard lock(mu_);
    if (!secret_born_ || now - *secret_born_ > refresh_time_) {
      crypto::RandomBytes(secret_.mutable_bytes());
      secret_born_ = now;
    }
    cookie = CookieFor(source);
  }
  out->receiver_index = sender_index;
  crypto::RandomBytes(out->nonce);
  crypto::XChaChaPolySeal(cookie_key_, out->nonce.data(), cookie, Mac1Of(msg),
                          out->encrypted_cookie.data());
  crypto::SecureZero(cookie.data(), cookie.size());
}

void CookieGenerator::Configure(const crypto::PublicKey& remote, Duration refresh_time) {
  mac1_key_ = Mac1Key(remote);
  cookie_key_ = CookieKey(remote);
  refresh_time_ = refresh_time;
  last_mac1_.reset();
  cookie_born_.reset();
}

void CookieGenerator::AddMacs(Bytes msg, MonoTime now) {
  crypto::Mac mac1 = crypto::Blake2sMac128(mac1_key_, {UpToMac1(msg)});
  std::copy(mac1.begin(), mac1.end(), msg.end() - kMacsSize);
  last_mac1_ = mac1;
  crypto::Mac mac2{};
  if (HasCookie(now)) mac2 = crypto::Blake2sMac128(cookie_, {UpToMac2(msg)});
  std::copy(mac2.begin(), mac2.end(), msg.end() - crypto::kMacLen);
}

bool CookieGenerator::ConsumeReply(const CookieReply& reply, MonoTime now) {
  if (!last_mac1_) return false;
  crypto::Mac cookie;
  if (!crypto::XChaChaPolyOpen(cookie_key_, reply.nonce.data(), reply.encrypted_cookie, *last_mac1_,
                               cookie.data())) {
    return false;
  }
  cookie_ = cookie;
  cookie_born_ = now;
  return true;
}

bool CookieGenerator::HasCookie(MonoTime now) const {
  return cookie_born_ && now - *cookie_born_ <= refresh_time_;
}

}  // namespace wgate::wg
