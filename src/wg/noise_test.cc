#include "wg/noise.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/blake2s.h"
#include "wg/constants.h"

namespace wgate::wg {
namespace {

using namespace std::chrono_literals;

std::vector<uint8_t> Hex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back(std::stoi(s.substr(i, 2), nullptr, 16));
  return out;
}

// Published in boringtun src/noise/handshake.rs (INITIAL_CHAIN_KEY, INITIAL_CHAIN_HASH).
TEST(NoiseTest, InitialChainingKeyMatchesReference) {
  const crypto::Hash expected = {96,  226, 109, 174, 243, 39,  239, 192, 46,  195, 53,
                                 226, 160, 37,  210, 208, 22,  235, 66,  6,   248, 114,
                                 119, 245, 45,  56,  209, 152, 139, 120, 205, 54};
  EXPECT_EQ(InitialChainingKey(), expected);
}

TEST(NoiseTest, InitialHashMatchesReference) {
  const crypto::Hash expected = {34,  17,  179, 97,  8,   26,  197, 102, 105, 18, 67,
                                 219, 69,  138, 213, 50,  45,  156, 108, 102, 34, 147,
                                 232, 183, 14,  225, 156, 101, 186, 7,   158, 243};
  EXPECT_EQ(InitialHash(), expected);
}

// The KDF vectors of wireguard-go device/kdf_test.go. Its keys are shorter than 32 bytes; HMAC
// zero-pads keys to the block size, so the same key zero-padded to 32 bytes is equivalent.
TEST(NoiseTest, KdfMatchesWireguardGoVectors) {
  struct Vector {
    std::string key, input, t1, t2, t3;
  } vectors[] = {
      {"746573742d6b6579", "746573742d696e707574",
       "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
       "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
       "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"},
      {"776972656775617264", "776972656775617264",
       "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
       "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
       "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"},
      {"", "", "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
       "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
       "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"},
  };
  for (const Vector& v : vectors) {
    crypto::Hash key{};
    std::vector<uint8_t> k = Hex(v.key);
    std::copy(k.begin(), k.end(), key.begin());
    std::vector<uint8_t> input = Hex(v.input);
    crypto::Hash t1, t2, t3;
    crypto::Kdf3(key, input, &t1, &t2, &t3);
    EXPECT_EQ(std::vector<uint8_t>(t1.begin(), t1.end()), Hex(v.t1));
    EXPECT_EQ(std::vector<uint8_t>(t2.begin(), t2.end()), Hex(v.t2));
    EXPECT_EQ(std::vector<uint8_t>(t3.begin(), t3.end()), Hex(v.t3));
  }
}

struct Party {
  StaticIdentity id = StaticIdentity::FromPrivate(crypto::PrivateKey::Generate());
  Handshake hs;
};

class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_.hs.Configure(alice_.id, bob_.id.public_key, psk_);
    bob_.hs.Configure(bob_.id, alice_.id.public_key, psk_);
  }

  Tai64n Stamp(int seconds) {
    return Tai64nFromWallTime(WallTime{} + std::chrono::seconds(1'700'000'000 + seconds));
  }

  crypto::PresharedKey psk_{crypto::KeyBytes{1, 2, 3}};
  Party alice_, bob_;
  MonoTime now_ = MonoTime{} + 1000h;
};

TEST_F(HandshakeTest, FullHandshakeDerivesMatchingKeys) {
  Initiation init;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 11, Stamp(0), &init));
  EXPECT_EQ(alice_.hs.state(), Handshake::State::kInitiationCreated);

  auto partial = ConsumeInitiationStatic(bob_.id, init);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->initiator_static, alice_.id.public_key);
  ASSERT_EQ(bob_.hs.ConsumeInitiation(*partial, init, now_, kHandshakeInitiationRate),
            HandshakeError::kNone);
  Response resp;
  ASSERT_TRUE(bob_.hs.CreateResponse(22, &resp));
  EXPECT_EQ(resp.receiver_index, 11u);
  EXPECT_EQ(resp.sender_index, 22u);
  ASSERT_EQ(alice_.hs.ConsumeResponse(alice_.id, resp), HandshakeError::kNone);

  auto a = alice_.hs.DeriveSession();
  auto b = bob_.hs.DeriveSession();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->is_initiator);
  EXPECT_FALSE(b->is_initiator);
  EXPECT_EQ(a->send, b->recv);
  EXPECT_EQ(a->recv, b->send);
  EXPECT_FALSE(a->send == a->recv);
  EXPECT_EQ(a->local_index, 11u);
  EXPECT_EQ(a->remote_index, 22u);
  EXPECT_EQ(b->local_index, 22u);
  EXPECT_EQ(b->remote_index, 11u);
  // Deriving zeroes the handshake: a second derivation is impossible.
  EXPECT_EQ(alice_.hs.state(), Handshake::State::kZeroed);
  EXPECT_FALSE(alice_.hs.DeriveSession());
}

TEST_F(HandshakeTest, WrongResponderCannotReadInitiation) {
  Initiation init;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 1, Stamp(0), &init));
  Party mallory;
  EXPECT_FALSE(ConsumeInitiationStatic(mallory.id, init));
}

TEST_F(HandshakeTest, TamperedInitiationRefused) {
  Initiation init;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 1, Stamp(0), &init));
  Initiation bad = init;
  bad.encrypted_static[3] ^= 1;
  EXPECT_FALSE(ConsumeInitiationStatic(bob_.id, bad));
  bad = init;
  bad.encrypted_timestamp[0] ^= 1;
  auto partial = ConsumeInitiationStatic(bob_.id, bad);
  ASSERT_TRUE(partial);
  EXPECT_EQ(bob_.hs.ConsumeInitiation(*partial, bad, now_, kHandshakeInitiationRate),
            HandshakeError::kDecryptFailed);
}

TEST_F(HandshakeTest, ReplayedOrOlderTimestampRefused) {
  Initiation first, older;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 1, Stamp(10), &first));
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 2, Stamp(5), &older));
  auto p1 = ConsumeInitiationStatic(bob_.id, first);
  ASSERT_TRUE(p1);
  ASSERT_EQ(bob_.hs.ConsumeInitiation(*p1, first, now_, kHandshakeInitiationRate),
            HandshakeError::kNone);
  now_ += 1s;
  EXPECT_EQ(bob_.hs.ConsumeInitiation(*p1, first, now_, kHandshakeInitiationRate),
            HandshakeError::kReplayedTimestamp);
  auto p2 = ConsumeInitiationStatic(bob_.id, older);
  ASSERT_TRUE(p2);
  EXPECT_EQ(bob_.hs.ConsumeInitiation(*p2, older, now_, kHandshakeInitiationRate),
            HandshakeError::kReplayedTimestamp);
}

TEST_F(HandshakeTest, FloodOfInitiationsRefused) {
  Initiation a, b;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 1, Stamp(1), &a));
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 2, Stamp(2), &b));
  auto pa = ConsumeInitiationStatic(bob_.id, a);
  auto pb = ConsumeInitiationStatic(bob_.id, b);
  ASSERT_TRUE(pa && pb);
  ASSERT_EQ(bob_.hs.ConsumeInitiation(*pa, a, now_, kHandshakeInitiationRate),
            HandshakeError::kNone);
  EXPECT_EQ(bob_.hs.ConsumeInitiation(*pb, b, now_ + 19ms, kHandshakeInitiationRate),
            HandshakeError::kFlood);
  EXPECT_EQ(bob_.hs.ConsumeInitiation(*pb, b, now_ + 20ms, kHandshakeInitiationRate),
            HandshakeError::kNone);
}

TEST_F(HandshakeTest, ResponseChecksStateIndexAndPsk) {
  Initiation init;
  ASSERT_TRUE(alice_.hs.CreateInitiation(alice_.id, 7, Stamp(0), &init));
  auto partial = ConsumeInitiationStatic(bob_.id, init);
  ASSERT_TRUE(partial);
  bob_.hs.SetPresharedKey(crypto::PresharedKey(crypto::KeyBytes{9}));
  ASSERT_EQ(bob_.hs.ConsumeInitiation(*partial, init, now_, kHandshakeInitiationRate),
            HandshakeError::kNone);
  Response resp;
  ASSERT_TRUE(bob_.hs.CreateResponse(8, &resp));
  EXPECT_FALSE(bob_.hs.CreateResponse(8, &resp)) << "one response per initiation";

  Response wrong_index = resp;
  wrong_index.receiver_index = 6;
  EXPECT_EQ(alice_.hs.ConsumeResponse(alice_.id, wrong_index), HandshakeError::kUnexpectedResponse);
  // Different preshared keys: the response does not authenticate.
  EXPECT_EQ(alice_.hs.ConsumeResponse(alice_.id, resp), HandshakeError::kDecryptFailed);
  // A failed response leaves the initiation pending.
  EXPECT_EQ(alice_.hs.state(), Handshake::State::kInitiationCreated);
}

TEST_F(HandshakeTest, SmallOrderPeerKeyRefused) {
  Handshake hs;
  hs.Configure(alice_.id, crypto::PublicKey(crypto::KeyBytes{}), psk_);  // the zero point
  Initiation init;
  EXPECT_FALSE(hs.CreateInitiation(alice_.id, 1, Stamp(0), &init));
}

}  // namespace
}  // namespace wgate::wg
