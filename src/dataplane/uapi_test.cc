#include "dataplane/uapi.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace wgate::dataplane::uapi {
namespace {

using ::testing::HasSubstr;

std::string Hex(uint8_t fill) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    s += kHex[fill >> 4];
    s += kHex[fill & 15];
  }
  return s;
}
crypto::KeyBytes Bytes(uint8_t fill) {
  crypto::KeyBytes k;
  k.fill(fill);
  return k;
}
IpPrefix Prefix(const char* s) { return *IpPrefix::Parse(s); }

TEST(UapiParseTest, EveryKeyTheReferenceDaemonAccepts) {
  const std::string body = "private_key=" + Hex(0x11) +
                           "\n"
                           "listen_port=51820\n"
                           "fwmark=51820\n"
                           "replace_peers=true\n"
                           "public_key=" +
                           Hex(0x22) +
                           "\n"
                           "update_only=true\n"
                           "preshared_key=" +
                           Hex(0x33) +
                           "\n"
                           "endpoint=[fd00::1]:51820\n"
                           "persistent_keepalive_interval=25\n"
                           "replace_allowed_ips=true\n"
                           "allowed_ip=10.0.0.0/8\n"
                           "allowed_ip=fd00::/64\n"
                           "protocol_version=1\n"
                           "public_key=" +
                           Hex(0x44) +
                           "\n"
                           "remove=true\n"
                           "\n";
  Failure f;
  auto r = ParseSet(body, &f);
  ASSERT_TRUE(r.ok()) << f.message;
  ASSERT_TRUE(r->private_key.has_value());
  EXPECT_EQ(r->private_key->bytes(), Bytes(0x11));
  EXPECT_EQ(r->listen_port, 51820);
  EXPECT_EQ(r->fwmark, 51820u);
  EXPECT_TRUE(r->replace_peers);
  ASSERT_EQ(r->peers.size(), 2u);
  const PeerUpdate& p = r->peers[0];
  EXPECT_EQ(p.public_key.bytes(), Bytes(0x22));
  EXPECT_TRUE(p.update_only);
  EXPECT_FALSE(p.remove);
  ASSERT_TRUE(p.preshared_key.has_value());
  EXPECT_EQ(p.preshared_key->bytes(), Bytes(0x33));
  EXPECT_EQ(p.endpoint, SocketAddress::Parse("[fd00::1]:51820"));
  EXPECT_EQ(p.persistent_keepalive_interval, 25);
  EXPECT_TRUE(p.replace_allowed_ips);
  EXPECT_EQ(p.allowed_ips, (std::vector<IpPrefix>{Prefix("10.0.0.0/8"), Prefix("fd00::/64")}));
  EXPECT_TRUE(r->peers[1].remove);
  EXPECT_EQ(r->peers[1].public_key.bytes(), Bytes(0x44));
}

TEST(UapiParseTest, EmptyRequestChangesNothing) {
  Failure f;
  auto r = ParseSet("\n", &f);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->private_key || r->listen_port || r->fwmark || r->replace_peers);
  EXPECT_TRUE(r->peers.empty());
  EXPECT_TRUE(ParseSet("", &f).ok());
}

TEST(UapiParseTest, ReplaceAllowedIpsClearsThoseBeforeIt) {
  Failure f;
  auto r = ParseSet("public_key=" + Hex(1) +
                        "\nallowed_ip=192.0.2.0/24\nreplace_allowed_ips=true\n"
                        "allowed_ip=198.51.100.7/24\n\n",
                    &f);
  ASSERT_TRUE(r.ok()) << f.message;
  EXPECT_EQ(r->peers[0].allowed_ips, std::vector<IpPrefix>{Prefix("198.51.100.0/24")});
}

TEST(UapiParseTest, ZeroPrivateKeyMeansRemoveIt) {
  Failure f;
  auto r = ParseSet("private_key=" + Hex(0) + "\n\n", &f);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->private_key.has_value());
  EXPECT_TRUE(r->private_key->IsZero());
}

TEST(UapiParseTest, LinesAfterTheBlankLineAreNotPartOfTheRequest) {
  Failure f;
  auto r = ParseSet("listen_port=1\n\nbogus\n", &f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->listen_port, 1);
}

struct BadCase {
  std::string body;
  int code;
  std::string message;
};

TEST(UapiParseTest, ErrorsMapToTheReferenceErrno) {
  const std::string pk = "public_key=" + Hex(7) + "\n";
  const BadCase cases[] = {
      {"listen_port\n", kErrorProtocol, "failed to parse line \"listen_port\""},
      {"bogus=1\n", kErrorInvalid, "invalid UAPI device key \"bogus\""},
      {"endpoint=192.0.2.1:1\n", kErrorInvalid, "invalid UAPI device key \"endpoint\""},
      {pk + "listen_port=1\n", kErrorInvalid, "invalid UAPI peer key \"listen_port\""},
      {"private_key=abc\n", kErrorInvalid, "invalid private_key"},
      {"private_key=" + Hex(1).substr(0, 62) + "zz\n", kErrorInvalid, "invalid private_key"},
      {"listen_port=65536\n", kErrorInvalid, "invalid listen_port \"65536\""},
      {"listen_port=-1\n", kErrorInvalid, "invalid listen_port"},
      {"listen_port=\n", kErrorInvalid, "invalid listen_port"},
      {"listen_port= 1\n", kErrorInvalid, "invalid listen_port"},
      {"fwmark=4294967296\n", kErrorInvalid, "invalid fwmark"},
      {"fwmark=0x10\n", kErrorInvalid, "invalid fwmark"},
      {"replace_peers=false\n", kErrorInvalid, "replace_peers must be \"true\""},
      {"public_key=00\n", kErrorInvalid, "invalid public_key"},
      {pk + "remove=1\n", kErrorInvalid, "remove must be"},
      {pk + "update_only=yes\n", kErrorInvalid, "update_only must be"},
      {pk + "replace_allowed_ips=false\n", kErrorInvalid, "replace_allowed_ips must be"},
      {pk + "preshared_key=xyz\n", kErrorInvalid, "invalid preshared_key"},
      {pk + "endpoint=192.0.2.1\n", kErrorInvalid, "invalid endpoint \"192.0.2.1\""},
      {pk + "endpoint=fd00::1:51820\n", kErrorInvalid, "invalid endpoint"},
      {pk + "persistent_keepalive_interval=65536\n", kErrorInvalid,
       "invalid persistent_keepalive_interval"},
      {pk + "allowed_ip=10.0.0.1\n", kErrorInvalid, "invalid allowed_ip \"10.0.0.1\""},
      {pk + "allowed_ip=10.0.0.0/33\n", kErrorInvalid, "invalid allowed_ip"},
      {pk + "allowed_ip=fd00::/129\n", kErrorInvalid, "invalid allowed_ip"},
      {pk + "protocol_version=2\n", kErrorInvalid, "invalid protocol_version \"2\""},
      {std::string("bad\x01key=1\n", 11), kErrorInvalid, "invalid UAPI device key \"bad\\x01key\""},
  };
  for (const BadCase& c : cases) {
    Failure f;
    auto r = ParseSet(c.body, &f);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(f.code, c.code) << c.body;
    EXPECT_THAT(f.message, HasSubstr(c.message)) << c.body;
    EXPECT_EQ(r.error().message(), f.message);
  }
}

TEST(UapiParseTest, SecretsAreNeverQuotedInErrors) {
  Failure f;
  const std::string almost = Hex(0xab).substr(0, 63);  // one hex digit short
  ASSERT_FALSE(ParseSet("private_key=" + almost + "\n", &f).ok());
  EXPECT_EQ(f.message.find(almost), std::string::npos);
  ASSERT_FALSE(ParseSet("public_key=" + Hex(1) + "\npreshared_key=" + almost + "\n", &f).ok());
  EXPECT_EQ(f.message.find(almost), std::string::npos);
}

TEST(UapiFormatTest, GetReplyMatchesTheReferenceLayout) {
  DeviceState s;
  s.private_key = crypto::PrivateKey(Bytes(0x01));
  s.listen_port = 51820;
  s.fwmark = 0xca6c;
  PeerState p;
  p.public_key = crypto::PublicKey(Bytes(0x02));
  p.endpoint = SocketAddress::Parse("192.0.2.1:51820");
  p.last_handshake = WallTime(std::chrono::seconds(1700000000) + std::chrono::nanoseconds(5));
  p.rx_bytes = 10;
  p.tx_bytes = 20;
  p.persistent_keepalive_interval = 25;
  p.allowed_ips = {Prefix("10.1.2.3/8"), Prefix("fd00::/64")};
  s.peers.push_back(p);
  PeerState q;
  q.public_key = crypto::PublicKey(Bytes(0x03));
  q.preshared_key = crypto::PresharedKey(Bytes(0x04));
  s.peers.push_back(q);
  EXPECT_EQ(FormatGet(s), "private_key=" + Hex(1) +
                              "\n"
                              "listen_port=51820\n"
                              "fwmark=51820\n"
                              "public_key=" +
                              Hex(2) + "\npreshared_key=" + Hex(0) +
                              "\n"
                              "protocol_version=1\n"
                              "endpoint=192.0.2.1:51820\n"
                              "last_handshake_time_sec=1700000000\n"
                              "last_handshake_time_nsec=5\n"
                              "tx_bytes=20\n"
                              "rx_bytes=10\n"
                              "persistent_keepalive_interval=25\n"
                              "allowed_ip=10.0.0.0/8\n"
                              "allowed_ip=fd00::/64\n"
                              "public_key=" +
                              Hex(3) + "\npreshared_key=" + Hex(4) +
                              "\n"
                              "protocol_version=1\n"
                              "last_handshake_time_sec=0\n"
                              "last_handshake_time_nsec=0\n"
                              "tx_bytes=0\n"
                              "rx_bytes=0\n"
                              "persistent_keepalive_interval=0\n"
                              "errno=0\n\n");
}

TEST(UapiFormatTest, EmptyDevicePrintsOnlyErrno) {
  EXPECT_EQ(FormatGet(DeviceState{}), "errno=0\n\n");
  EXPECT_EQ(FormatErrno(kErrorInvalid), "errno=-22\n\n");
}

TEST(UapiFormatTest, GetOutputParsesBackAsASetRequest) {
  // wg showconf | wg setconf relies on the two directions agreeing on keys and value syntax.
  DeviceState s;
  s.private_key = crypto::PrivateKey(Bytes(0x09));
  s.listen_port = 1;
  PeerState p;
  p.public_key = crypto::PublicKey(Bytes(0x08));
  p.endpoint = SocketAddress::Parse("[fd00::2]:2");
  p.allowed_ips = {Prefix("203.0.113.0/24")};
  s.peers.push_back(p);
  std::string text = FormatGet(s);
  // Drop the read-only statistics and the errno line, as `wg showconf` does.
  std::string body;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("last_handshake", 0) == 0 || line.rfind("tx_bytes", 0) == 0 ||
        line.rfind("rx_bytes", 0) == 0 || line.rfind("errno", 0) == 0 || line.empty()) {
      continue;
    }
    body += line + "\n";
  }
  Failure f;
  auto r = ParseSet(body + "\n", &f);
  ASSERT_TRUE(r.ok()) << f.message;
  EXPECT_EQ(r->peers[0].endpoint, p.endpoint);
  EXPECT_EQ(r->peers[0].allowed_ips, p.allowed_ips);
}

TEST(UapiOperationTest, OnlyVersionOneGetAndSet) {
  EXPECT_EQ(ParseOperation("get=1"), Operation::kGet);
  EXPECT_EQ(ParseOperation("set=1"), Operation::kSet);
  EXPECT_EQ(ParseOperation("get=2"), Operation::kInvalid);
  EXPECT_EQ(ParseOperation("GET=1"), Operation::kInvalid);
  EXPECT_EQ(ParseOperation(""), Operation::kInvalid);
}

}  // namespace
}  // namespace wgate::dataplane::uapi
