#include "wg/timers.h"

namespace wgate::wg {
namespace {

// Pops `deadline` when it has passed.
bool Fire(std::optional<MonoTime>* deadline, MonoTime now) {
  if (!*deadline || **deadline > now) return false;
  deadline->reset();
  return true;
}

}  // namespace

void PeerTimers::HandshakeInitiated(MonoTime now, Duration jitter) {
  retransmit_handshake_ = now + t_->rekey_timeout + jitter;
}

void PeerTimers::HandshakeComplete() {
  retransmit_handshake_.reset();
  handshake_attempts_ = 0;
  sent_last_minute_handshake_ = false;
}

void PeerTimers::SessionDerived(MonoTime now) {
  zero_key_material_ = now + t_->zero_key_material_after();
}

void PeerTimers::DataSent(MonoTime now, Duration jitter) {
  if (!new_handshake_) new_handshake_ = now + t_->new_handshake_after_silence() + jitter;
}

void PeerTimers::DataReceived(MonoTime now) {
  if (!send_keepalive_) {
    send_keepalive_ = now + t_->keepalive_timeout;
  } else {
    need_another_keepalive_ = true;
  }
}

void PeerTimers::RequestHandshake(MonoTime now) {
  if (!new_handshake_ || *new_handshake_ > now) new_handshake_ = now;
}

void PeerTimers::AnyAuthenticatedPacketSent() { send_keepalive_.reset(); }

void PeerTimers::AnyAuthenticatedPacketReceived() { new_handshake_.reset(); }

void PeerTimers::AnyAuthenticatedPacketTraversal(MonoTime now, Duration persistent_keepalive) {
  if (persistent_keepalive > Duration::zero()) {
    persistent_keepalive_ = now + persistent_keepalive;
  }
}

void PeerTimers::StopAll() {
  retransmit_handshake_.reset();
  send_keepalive_.reset();
  new_handshake_.reset();
  zero_key_material_.reset();
  persistent_keepalive_.reset();
  handshake_attempts_ = 0;
  need_another_keepalive_ = false;
  sent_last_minute_handshake_ = false;
}

PeerTimers::Due PeerTimers::Expire(MonoTime now) {
  Due due;
  if (Fire(&retransmit_handshake_, now)) {
    if (handshake_attempts_ > t_->max_timer_handshakes()) {
      due.give_up = true;
      send_keepalive_.reset();
      // Erase keys eventually even if no session ever came up.
      if (!zero_key_material_) zero_key_material_ = now + t_->zero_key_material_after();
    } else {
      ++handshake_attempts_;
      due.retransmit_handshake = true;
    }
  }
  if (Fire(&send_keepalive_, now)) {
    due.send_keepalive = true;
    if (need_another_keepalive_) {
      need_another_keepalive_ = false;
      send_keepalive_ = now + t_->keepalive_timeout;
    }
  }
  due.new_handshake = Fire(&new_handshake_, now);
  due.zero_key_material = Fire(&zero_key_material_, now);
  due.persistent_keepalive = Fire(&persistent_keepalive_, now);
  return due;
}

std::optional<MonoTime> PeerTimers::NextDeadline() const {
  std::optional<MonoTime> next;
  for (const auto* d : {&retransmit_handshake_, &send_keepalive_, &new_handshake_,
                        &zero_key_material_, &persistent_keepalive_}) {
    if (*d && (!next || **d < *next)) next = **d;
  }
  return next;
}

}  // namespace wgate::wg
