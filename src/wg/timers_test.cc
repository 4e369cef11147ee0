#include "wg/timers.h"

#include <gtest/gtest.h>

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

class TimersTest : public ::testing::Test {
 protected:
  Timings timings_;
  PeerTimers timers_{&timings_};
  MonoTime t0_ = MonoTime{} + 1000h;
};

TEST(TimingsTest, DefaultsAreTheSpecValues) {
  Timings t;
  EXPECT_EQ(t.rekey_after_time, 120s);
  EXPECT_EQ(t.reject_after_time, 180s);
  EXPECT_EQ(t.rekey_attempt_time, 90s);
  EXPECT_EQ(t.rekey_timeout, 5s);
  EXPECT_EQ(t.keepalive_timeout, 10s);
  EXPECT_EQ(t.handshake_initiation_rate, 20ms);
  EXPECT_EQ(t.max_timer_handshakes(), 18);
  EXPECT_EQ(t.zero_key_material_after(), 540s);
  EXPECT_EQ(t.rekey_after_time_on_receive(), 165s);
  EXPECT_EQ(t.new_handshake_after_silence(), 15s);
  EXPECT_EQ(t.rekey_after_messages, uint64_t{1} << 60);
  EXPECT_EQ(t.reject_after_messages, ~uint64_t{0} - 8192);
}

TEST(TimingsTest, ScaledDownKeepsRatios) {
  Timings t = Timings{}.ScaledDown(10);
  EXPECT_EQ(t.rekey_after_time, 12s);
  EXPECT_EQ(t.reject_after_time, 18s);
  EXPECT_EQ(t.rekey_timeout, 500ms);
  EXPECT_EQ(t.max_timer_handshakes(), 18);
  EXPECT_EQ(t.rekey_after_messages, kRekeyAfterMessages);
}

TEST_F(TimersTest, RequestedHandshakeIsDueAtOnceAndOnlyMovesTheDeadlineSooner) {
  timers_.RequestHandshake(t0_);
  EXPECT_TRUE(timers_.Expire(t0_).new_handshake);
  EXPECT_FALSE(timers_.Expire(t0_ + 1h).any());
  timers_.DataSent(t0_, 0ms);  // arms it 15 s out
  timers_.RequestHandshake(t0_ + 1s);
  EXPECT_TRUE(timers_.Expire(t0_ + 1s).new_handshake);
  timers_.RequestHandshake(t0_ + 20s);
  timers_.RequestHandshake(t0_ + 30s);  // later than armed: no change
  EXPECT_FALSE(timers_.Expire(t0_ + 19s).any());
  EXPECT_TRUE(timers_.Expire(t0_ + 20s).new_handshake);
}

TEST_F(TimersTest, NothingArmedNothingDue) {
  EXPECT_FALSE(timers_.Expire(t0_ + 1000h).any());
  EXPECT_FALSE(timers_.NextDeadline());
}

TEST_F(TimersTest, RetransmitsThenGivesUpAfterRekeyAttemptTime) {
  timers_.HandshakeInitiated(t0_, 0ms);
  MonoTime t = t0_;
  int retries = 0;
  for (;;) {
    t += kRekeyTimeout;
    auto due = timers_.Expire(t);
    if (due.give_up) break;
    ASSERT_TRUE(due.retransmit_handshake);
    ++retries;
    timers_.HandshakeInitiated(t, 0ms);
  }
  // As the reference implementations: attempts count up to MAX_TIMER_HANDSHAKES + 1.
  EXPECT_EQ(retries, kRekeyAttemptTime / kRekeyTimeout + 1);
  EXPECT_FALSE(timers_.retransmit_armed());
  // Giving up schedules the erasure of key material.
  EXPECT_FALSE(timers_.Expire(t + 3 * kRejectAfterTime - 1s).zero_key_material);
  EXPECT_TRUE(timers_.Expire(t + 3 * kRejectAfterTime).zero_key_material);
}

TEST_F(TimersTest, RetransmitHonoursJitterAndCompletion) {
  timers_.HandshakeInitiated(t0_, 300ms);
  EXPECT_FALSE(timers_.Expire(t0_ + kRekeyTimeout + 299ms).retransmit_handshake);
  EXPECT_TRUE(timers_.Expire(t0_ + kRekeyTimeout + 300ms).retransmit_handshake);
  timers_.HandshakeInitiated(t0_, 0ms);
  timers_.HandshakeComplete();
  EXPECT_FALSE(timers_.Expire(t0_ + 1h).any());
  EXPECT_EQ(timers_.handshake_attempts(), 0);
}

TEST_F(TimersTest, KeepaliveAfterDataReceivedUnlessWeSent) {
  timers_.DataReceived(t0_);
  EXPECT_FALSE(timers_.Expire(t0_ + kKeepaliveTimeout - 1ms).send_keepalive);
  EXPECT_TRUE(timers_.Expire(t0_ + kKeepaliveTimeout).send_keepalive);
  timers_.DataReceived(t0_);
  timers_.AnyAuthenticatedPacketSent();
  EXPECT_FALSE(timers_.Expire(t0_ + kKeepaliveTimeout).send_keepalive);
}

TEST_F(TimersTest, SecondKeepaliveWhenDataKeptComing) {
  timers_.DataReceived(t0_);
  timers_.DataReceived(t0_ + 1s);
  EXPECT_TRUE(timers_.Expire(t0_ + kKeepaliveTimeout).send_keepalive);
  EXPECT_TRUE(timers_.Expire(t0_ + 2 * kKeepaliveTimeout).send_keepalive);
  EXPECT_FALSE(timers_.Expire(t0_ + 3 * kKeepaliveTimeout).send_keepalive);
}

TEST_F(TimersTest, NewHandshakeWhenDataSentWithoutReply) {
  timers_.DataSent(t0_, 0ms);
  timers_.DataSent(t0_ + 5s, 0ms);  // does not push the deadline
  EXPECT_FALSE(timers_.Expire(t0_ + 15s - 1ms).new_handshake);
  EXPECT_TRUE(timers_.Expire(t0_ + 15s).new_handshake);
  timers_.DataSent(t0_, 0ms);
  timers_.AnyAuthenticatedPacketReceived();
  EXPECT_FALSE(timers_.Expire(t0_ + 1h).new_handshake);
}

TEST_F(TimersTest, PersistentKeepaliveRearmsOnTraffic) {
  timers_.AnyAuthenticatedPacketTraversal(t0_, 25s);
  timers_.AnyAuthenticatedPacketTraversal(t0_ + 10s, 25s);
  EXPECT_FALSE(timers_.Expire(t0_ + 25s).persistent_keepalive);
  EXPECT_TRUE(timers_.Expire(t0_ + 35s).persistent_keepalive);
  timers_.AnyAuthenticatedPacketTraversal(t0_, 0s);  // disabled
  EXPECT_FALSE(timers_.NextDeadline());
}

TEST_F(TimersTest, ZeroKeyMaterialAfterThreeRejectAfterTime) {
  timers_.SessionDerived(t0_);
  EXPECT_EQ(timers_.NextDeadline(), t0_ + 540s);
  EXPECT_TRUE(timers_.Expire(t0_ + 540s).zero_key_material);
}

}  // namespace
}  // namespace wgate::wg
