#include "wg/cookie.h"

#include <gtest/gtest.h>

#include "crypto/keys.h"
#include "wg/constants.h"

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

class CookieTest : public ::testing::Test {
 protected:
  CookieTest() : checker_(responder_.DerivePublic(), kCookieRefreshTime) {
    generator_.Configure(responder_.DerivePublic(), kCookieRefreshTime);
    for (size_t i = 0; i < sizeof msg_; ++i) msg_[i] = static_cast<uint8_t>(i);
  }

  crypto::PrivateKey responder_ = crypto::PrivateKey::Generate();
  CookieChecker checker_;
  CookieGenerator generator_;
  uint8_t msg_[kInitiationSize];
  SocketAddress source_ = *SocketAddress::Parse("192.0.2.7:51820");
  MonoTime now_ = MonoTime{} + 1000h;
};

TEST_F(CookieTest, Mac1ValidatesOnlyForTheRightReceiver) {
  generator_.AddMacs(msg_, now_);
  EXPECT_TRUE(checker_.CheckMac1(msg_));
  CookieChecker other(crypto::PrivateKey::Generate().DerivePublic(), kCookieRefreshTime);
  EXPECT_FALSE(other.CheckMac1(msg_));
  msg_[10] ^= 1;  // any covered byte
  EXPECT_FALSE(checker_.CheckMac1(msg_));
}

TEST_F(CookieTest, Mac2ZeroWithoutCookieAndRefused) {
  generator_.AddMacs(msg_, now_);
  for (size_t i = kInitiationSize - 16; i < kInitiationSize; ++i) EXPECT_EQ(msg_[i], 0);
  EXPECT_FALSE(checker_.CheckMac2(msg_, source_, now_));
}

TEST_F(CookieTest, CookieRoundTripMakesMac2Valid) {
  generator_.AddMacs(msg_, now_);
  CookieReply reply;
  checker_.CreateReply(msg_, 1234, source_, now_, &reply);
  EXPECT_EQ(reply.receiver_index, 1234u);
  ASSERT_TRUE(generator_.ConsumeReply(reply, now_));
  generator_.AddMacs(msg_, now_ + 1s);
  EXPECT_TRUE(checker_.CheckMac1(msg_));
  EXPECT_TRUE(checker_.CheckMac2(msg_, source_, now_ + 1s));
  // The cookie is bound to the source address and port.
  EXPECT_FALSE(checker_.CheckMac2(msg_, *SocketAddress::Parse("192.0.2.7:51821"), now_ + 1s));
  EXPECT_FALSE(checker_.CheckMac2(msg_, *SocketAddress::Parse("192.0.2.8:51820"), now_ + 1s));
}

TEST_F(CookieTest, CookieAndSecretExpire) {
  generator_.AddMacs(msg_, now_);
  CookieReply reply;
  checker_.CreateReply(msg_, 1, source_, now_, &reply);
  ASSERT_TRUE(generator_.ConsumeReply(reply, now_));
  EXPECT_TRUE(generator_.HasCookie(now_ + kCookieRefreshTime));
  EXPECT_FALSE(generator_.HasCookie(now_ + kCookieRefreshTime + 1s));
  generator_.AddMacs(msg_, now_ + 100s);
  EXPECT_TRUE(checker_.CheckMac2(msg_, source_, now_ + 100s));
  // The checker's secret is older than two minutes: the old cookie no longer validates.
  EXPECT_FALSE(checker_.CheckMac2(msg_, source_, now_ + kCookieRefreshTime + 1s));
}

TEST_F(CookieTest, ReplyMustAnswerOurLastMac1) {
  CookieReply reply;
  checker_.CreateReply(msg_, 1, source_, now_, &reply);
  EXPECT_FALSE(generator_.ConsumeReply(reply, now_)) << "nothing sent yet";
  generator_.AddMacs(msg_, now_);
  uint8_t other[kResponseSize] = {};
  CookieReply stale;
  checker_.CreateReply(other, 1, source_, now_, &stale);  // answers a different message
  EXPECT_FALSE(generator_.ConsumeReply(stale, now_));
  checker_.CreateReply(msg_, 1, source_, now_, &reply);
  reply.encrypted_cookie[0] ^= 1;
  EXPECT_FALSE(generator_.ConsumeReply(reply, now_));
}

}  // namespace
}  // namespace wgate::wg
