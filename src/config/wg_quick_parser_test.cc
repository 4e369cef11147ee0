// Every error a user makes has its own message, with the line and the offending value.
#include "config/wg_quick_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPriv[] = "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=";
constexpr char kPub[] = "94rehC6DqxbyU+X8msmySDYWy3w8w5AUz8goj+jfnwQ=";  // of kPriv
constexpr char kPeer1[] = "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=";
constexpr char kPeer2[] = "QZ1KQ/K7bHzW0oPgeq7sQcwhkb+b0QVGk74Ofoi3JVw=";

std::string Valid() {
  return std::string("[Interface]\nPrivateKey = ") + kPriv +
         "\nAddress = 10.64.0.2/32\n\n[Peer]\nPublicKey = " + kPeer1 +
         "\nAllowedIPs = 0.0.0.0/0\nEndpoint = 198.51.100.1:51820\n";
}

// All diagnostics as "file:line: message".
std::vector<std::string> Diags(const std::string& text) {
  ParseResult r = ParseWgQuick(text, "wg0.conf");
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics.all()) out.push_back(d.ToString());
  EXPECT_EQ(r.config.has_value(), !r.diagnostics.has_errors());
  return out;
}

// The valid config with `line` inserted after line `after` (1-based) of Valid().
std::string With(int after, const std::string& line) {
  std::string text = Valid();
  size_t pos = 0;
  for (int i = 0; i < after; ++i) pos = text.find('\n', pos) + 1;
  return text.insert(pos, line + "\n");
}

std::string Replace(const std::string& from, const std::string& to) {
  std::string text = Valid();
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

TEST(WgQuickParserTest, ValidConfigHasNoDiagnostics) { EXPECT_THAT(Diags(Valid()), IsEmpty()); }

TEST(WgQuickParserTest, KeyWithoutValueIsTheClassic) {
  // The blog post's fail-open: `Address` with no value made wg-quick abort before PostUp.
  EXPECT_THAT(Diags(Replace("Address = 10.64.0.2/32", "Address  # This malformed configuration")),
              ElementsAre("wg0.conf:3: \"Address\" has no value (expected \"Address = ...\")"));
  EXPECT_THAT(Diags(Replace("Address = 10.64.0.2/32", "Address =")),
              ElementsAre("wg0.conf:3: \"Address\" has no value (expected \"Address = ...\")"));
}

TEST(WgQuickParserTest, UnknownKeySuggestsClosest) {
  EXPECT_THAT(
      Diags(Replace("Address = ", "Adress = ")),
      ElementsAre("wg0.conf:3: unknown key \"Adress\" in [Interface]; did you mean \"Address\"?"));
  EXPECT_THAT(
      Diags(Replace("AllowedIPs", "AllowedIP")),
      ElementsAre("wg0.conf:7: unknown key \"AllowedIP\" in [Peer]; did you mean \"AllowedIPs\"?"));
  EXPECT_THAT(Diags(With(3, "Colour = blue")),
              ElementsAre("wg0.conf:4: unknown key \"Colour\" in [Interface]"));
}

TEST(WgQuickParserTest, KeyInTheWrongSection) {
  EXPECT_THAT(Diags(With(3, "Endpoint = 198.51.100.9:51820")),
              ElementsAre("wg0.conf:4: \"Endpoint\" belongs in [Peer], not in [Interface]"));
  EXPECT_THAT(Diags(With(8, "MTU = 1420")),
              ElementsAre("wg0.conf:9: \"MTU\" belongs in [Interface], not in [Peer]"));
  EXPECT_THAT(
      Diags("MTU = 1420\n" + Valid()),
      ElementsAre("wg0.conf:1: \"MTU\" appears before any section; it belongs in [Interface]"));
}

TEST(WgQuickParserTest, MissingInterfaceOrPrivateKey) {
  EXPECT_THAT(
      Diags(std::string("[Peer]\nPublicKey = ") + kPeer1 + "\n"),
      ElementsAre("wg0.conf: no [Interface] section (a config needs one, with a PrivateKey)"));
  EXPECT_THAT(
      Diags(""),
      ElementsAre("wg0.conf: no [Interface] section (a config needs one, with a PrivateKey)"));
  EXPECT_THAT(Diags(Replace(std::string("PrivateKey = ") + kPriv + "\n", "")),
              ElementsAre("wg0.conf:1: [Interface] has no PrivateKey"));
}

TEST(WgQuickParserTest, PeerWithoutPublicKey) {
  EXPECT_THAT(Diags(Replace(std::string("PublicKey = ") + kPeer1 + "\n", "")),
              ElementsAre("wg0.conf:5: [Peer] has no PublicKey"));
}

TEST(WgQuickParserTest, DuplicatePeers) {
  std::string text =
      Valid() + "\n[Peer]\nPublicKey = " + kPeer1 + "\nAllowedIPs = 198.51.100.0/24\n";
  EXPECT_THAT(Diags(text),
              ElementsAre("wg0.conf:10: duplicate [Peer]: same PublicKey as the [Peer] at line 5"));
}

TEST(WgQuickParserTest, PeerWithOwnPublicKey) {
  EXPECT_THAT(
      Diags(Replace(kPeer1, kPub)),
      ElementsAre(
          "wg0.conf:5: [Peer] has this interface's own public key (the one derived from its "
          "PrivateKey)"));
}

TEST(WgQuickParserTest, BadCidr) {
  EXPECT_THAT(Diags(Replace("10.64.0.2/32", "10.0.0.1/33")),
              ElementsAre("wg0.conf:3: Address \"10.0.0.1/33\" is not a CIDR: prefix length 33 is "
                          "out of range 0-32"));
  EXPECT_THAT(Diags(Replace("0.0.0.0/0", "0.0.0.0/0, fd00::/129")),
              ElementsAre("wg0.conf:7: AllowedIPs \"fd00::/129\" is not a CIDR: prefix length 129 "
                          "is out of range 0-128"));
  EXPECT_THAT(Diags(Replace("10.64.0.2/32", "10.64.0.300/32")),
              ElementsAre("wg0.conf:3: Address \"10.64.0.300/32\" is not a CIDR: \"10.64.0.300\" "
                          "is not an IP address"));
  EXPECT_THAT(
      Diags(Replace("10.64.0.2/32", "10.64.0.2/32,")),
      ElementsAre("wg0.conf:3: Address \"10.64.0.2/32,\" has an empty item between commas"));
}

TEST(WgQuickParserTest, PortOutOfRange) {
  EXPECT_THAT(Diags(With(2, "ListenPort = 70000")),
              ElementsAre("wg0.conf:3: ListenPort \"70000\" is out of range 0-65535"));
  EXPECT_THAT(
      Diags(Replace(":51820", ":0")),
      ElementsAre("wg0.conf:8: Endpoint \"198.51.100.1:0\": port \"0\" is out of range 1-65535"));
  EXPECT_THAT(Diags(Replace(":51820", ":99999999999999999999999")),
              ElementsAre("wg0.conf:8: Endpoint \"198.51.100.1:99999999999999999999999\": port "
                          "\"99999999999999999999999\" is out of range 1-65535"));
}

TEST(WgQuickParserTest, EndpointShapes) {
  EXPECT_THAT(
      Diags(Replace("198.51.100.1:51820", "198.51.100.1")),
      ElementsAre("wg0.conf:8: Endpoint \"198.51.100.1\" has no port (expected host:port, e.g. "
                  "\"198.51.100.1:51820\")"));
  EXPECT_THAT(
      Diags(Replace("198.51.100.1:51820", "[fd00::1]")),
      ElementsAre("wg0.conf:8: Endpoint \"[fd00::1]\" has no port (expected host:port, e.g. "
                  "\"[fd00::1]:51820\")"));
  EXPECT_THAT(
      Diags(Replace("198.51.100.1:51820", "fd00::1:51820")),
      ElementsAre(
          "wg0.conf:8: Endpoint \"fd00::1:51820\" looks like an IPv6 address without brackets "
          "(expected \"[address]:port\")"));
  EXPECT_THAT(Diags(Replace("198.51.100.1:51820", ":51820")),
              ElementsAre("wg0.conf:8: Endpoint \":51820\" has no host before the port"));
  EXPECT_THAT(
      Diags(Replace("198.51.100.1:51820", "vpn_host!:51820")),
      ElementsAre(
          "wg0.conf:8: Endpoint \"vpn_host!:51820\": \"vpn_host!\" is neither an IP address nor "
          "a host name"));
  EXPECT_THAT(
      Diags(Replace("198.51.100.1:51820", "[198.51.100.1]:51820")),
      ElementsAre(
          "wg0.conf:8: Endpoint \"[198.51.100.1]:51820\": \"198.51.100.1\" in brackets is not an "
          "IPv6 address"));
  EXPECT_THAT(Diags(Replace("198.51.100.1:51820", "vpn.example.net:51820")), IsEmpty());
}

TEST(WgQuickParserTest, TruncatedOrNonBase64KeyNeverQuoted) {
  std::string truncated(kPriv, 40);
  auto d = Diags(Replace(kPriv, truncated));
  EXPECT_THAT(d,
              ElementsAre("wg0.conf:2: PrivateKey is not 44 characters of base64 (a 32-byte key)"));
  EXPECT_EQ(d[0].find(truncated), std::string::npos);
  std::string bad = kPeer1;
  bad[10] = '*';
  EXPECT_THAT(Diags(Replace(kPeer1, bad)),
              ElementsAre("wg0.conf:6: PublicKey is not valid base64"));
  std::string noncanonical = kPeer1;
  noncanonical[42] = 'V';  // 'U' -> 'V' sets a padding bit
  EXPECT_THAT(
      Diags(Replace(kPeer1, noncanonical)),
      ElementsAre(
          "wg0.conf:6: PublicKey is not in canonical base64 form (its last character is wrong)"));
  EXPECT_THAT(Diags(With(6, "PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
              ElementsAre("wg0.conf:7: PresharedKey is all zeros"));
}

TEST(WgQuickParserTest, UnexpectedTrailingCharacter) {
  EXPECT_THAT(Diags(With(3, "MTU = 1420x")),
              ElementsAre("wg0.conf:4: MTU \"1420x\" has an unexpected trailing \"x\""));
  EXPECT_THAT(
      Diags(With(7, "PersistentKeepalive = 25s")),
      ElementsAre(
          "wg0.conf:8: PersistentKeepalive \"25s\" has an unexpected trailing \"s\" (expected "
          "seconds or \"off\")"));
  EXPECT_THAT(
      Diags(Replace(":51820", ":51820;")),
      ElementsAre("wg0.conf:8: Endpoint \"198.51.100.1:51820;\": port \"51820;\" has an unexpected "
                  "trailing \";\""));
  EXPECT_THAT(
      Diags(Replace("[Peer]", "[Peer]]")),
      ElementsAre("wg0.conf:5: section header \"[Peer]]\" has an unexpected trailing \"]\""));
}

TEST(WgQuickParserTest, AKeyPastedIntoAnyValueIsNeverQuoted) {
  for (const char* key : {"MTU", "Address", "DNS", "Endpoint", "ListenPort", "Table", "FwMark"}) {
    std::string line = std::string(key) + " = " + kPriv;
    for (const std::string& d : Diags(With(3, line))) {
      EXPECT_EQ(d.find(std::string(kPriv).substr(0, 20)), std::string::npos) << d;
    }
  }
  EXPECT_EQ(RedactKeyLike("MTU \"UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=\" is not a number"),
            "MTU \"(key-like value not shown)\" is not a number");
  EXPECT_EQ(RedactKeyLike("10.64.0.1/32 and Address"), "10.64.0.1/32 and Address");
}

TEST(WgQuickParserTest, OtherValueErrors) {
  EXPECT_THAT(Diags(With(3, "MTU = 100")),
              ElementsAre("wg0.conf:4: MTU \"100\" is out of range 576-65535"));
  EXPECT_THAT(
      Diags(With(3, "FwMark = 0xzz")),
      ElementsAre(
          "wg0.conf:4: FwMark \"0xzz\" is not a number (expected a number, 0x-hex, or \"off\")"));
  EXPECT_THAT(
      Diags(With(3, "Table = vpn")),
      ElementsAre(
          "wg0.conf:4: Table \"vpn\" is not a number (expected \"off\", \"auto\", \"main\" or a "
          "table number)"));
  EXPECT_THAT(
      Diags(With(3, "DNS = 10.64.0.1, not a domain")),
      ElementsAre("wg0.conf:4: DNS \"not a domain\" is neither an IP address nor a search domain"));
  EXPECT_THAT(Diags(With(3, "SaveConfig = maybe")),
              ElementsAre("wg0.conf:4: SaveConfig \"maybe\" is not \"true\" or \"false\""));
  EXPECT_THAT(Diags(With(3, "MTU = 1420\nMTU = 1280")),
              ElementsAre("wg0.conf:5: \"MTU\" is set twice in this section (first at line 4)"));
}

TEST(WgQuickParserTest, SectionErrors) {
  EXPECT_THAT(
      Diags(Replace("[Peer]", "[Peers]")),
      ElementsAre(
          "wg0.conf:5: unknown section \"[Peers]\"; did you mean \"[Peer]\"?",
          "wg0.conf:1: warning: no [Peer] section: the tunnel has nowhere to send traffic"));
  EXPECT_THAT(
      Diags(Replace("[Peer]", "[Peer")),
      ElementsAre(
          "wg0.conf:5: section header \"[Peer\" has no closing \"]\"",
          "wg0.conf:1: warning: no [Peer] section: the tunnel has nowhere to send traffic"));
  EXPECT_THAT(Diags(Valid() + "[Interface]\n"),
              ElementsAre("wg0.conf:9: second [Interface] section (the first is at line 1)"));
  EXPECT_THAT(
      Diags(With(3, "just some words")),
      ElementsAre("wg0.conf:4: unrecognized line \"just \u2026\" (expected \"Key = value\" or a "
                  "[Section])"));
  EXPECT_THAT(Diags(With(3, "= 5")), ElementsAre("wg0.conf:4: line has no key before \"=\""));
}

// Fails unless no diagnostic holds `secret` or any 20-character piece of it.
void ExpectNotQuoted(const std::vector<std::string>& diags, std::string_view secret) {
  for (const std::string& d : diags) {
    for (size_t i = 0; i + 20 <= secret.size(); ++i) {
      EXPECT_EQ(d.find(secret.substr(i, 20)), std::string::npos)
          << "\"" << d << "\" quotes part of \"" << secret << "\"";
    }
  }
}

// A base64 key ends in '='; with the separator forgotten that '=' is taken for it.
TEST(WgQuickParserTest, KeyNameThenValueWithoutEqualsNeverQuotesTheValue) {
  std::string priv_line = std::string("PrivateKey = ") + kPriv;
  auto d = Diags(Replace(priv_line, std::string("PrivateKey ") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:2: \"PrivateKey\" has no \"=\" before its value (expected "
                             "\"PrivateKey = ...\")"));
  ExpectNotQuoted(d, kPriv);
  // Without the padding there is no '=' at all: the "unrecognized line" path.
  std::string unpadded(kPriv, 43);
  d = Diags(Replace(priv_line, "privatekey " + unpadded));
  EXPECT_THAT(d, ElementsAre("wg0.conf:2: \"PrivateKey\" has no \"=\" before its value (expected "
                             "\"PrivateKey = ...\")"));
  ExpectNotQuoted(d, kPriv);
  // A PublicKey line may hold a pasted private key.
  std::string pub_line = std::string("PublicKey = ") + kPeer1;
  d = Diags(Replace(pub_line, std::string("PublicKey\t") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:6: \"PublicKey\" has no \"=\" before its value (expected "
                             "\"PublicKey = ...\")"));
  ExpectNotQuoted(d, kPriv);
  d = Diags(Replace(pub_line, std::string("PublicKey\tkey")));
  EXPECT_THAT(d, ElementsAre("wg0.conf:6: \"PublicKey\" has no \"=\" before its value (expected "
                             "\"PublicKey = ...\")"));
}

TEST(WgQuickParserTest, UnknownKeyQuotesOnlyItsFirstWordAndNeverAKey) {
  auto d = Diags(With(2, std::string("Private Key ") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: unknown key \"Private \u2026\" in [Interface]; did you "
                             "mean \"PrivateKey\"?"));
  ExpectNotQuoted(d, kPriv);
  d = Diags(With(2, kPriv));  // a key pasted on its own line: its padding reads as "="
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: unknown key in [Interface]: a key-like value (not "
                             "quoted)"));
  ExpectNotQuoted(d, kPriv);
  d = Diags(With(2, std::string("PrivateKey:") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: unknown key in [Interface]: a key-like value (not "
                             "quoted)"));
  ExpectNotQuoted(d, kPriv);
}

TEST(WgQuickParserTest, UnrecognizedLineQuotesOnlyItsFirstWordAndNeverAKey) {
  std::string unpadded(kPriv, 43);
  auto d = Diags(With(2, unpadded));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: unrecognized line starting with a key-like value, not "
                             "quoted (expected \"Key = value\" or a [Section])"));
  ExpectNotQuoted(d, kPriv);
  d = Diags(With(2, "Private Key " + unpadded));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: unrecognized line \"Private \u2026\" (expected \"Key = "
                             "value\" or a [Section]); did you mean \"PrivateKey\"?"));
  ExpectNotQuoted(d, kPriv);
  // A hook missing its "PostUp =": the command may carry a credential.
  d = Diags(With(3, "curl -H \"Authorization: Bearer SECRET\" https://198.51.100.7/up"));
  EXPECT_THAT(d, ElementsAre("wg0.conf:4: unrecognized line \"curl \u2026\" (expected \"Key = "
                             "value\" or a [Section])"));
  EXPECT_EQ(d[0].find("SECRET"), std::string::npos);
  EXPECT_EQ(d[0].find("Bearer"), std::string::npos);
  // Even a first word is cut to 32 bytes.
  EXPECT_THAT(
      Diags(With(3, "this-is-a-very-long-word-that-goes-on-and-on")),
      ElementsAre("wg0.conf:4: unrecognized line \"this-is-a-very-long-word-that-go\u2026\" "
                  "(expected \"Key = value\" or a [Section])"));
}

TEST(WgQuickParserTest, NoKeyBeforeEqualsNeverQuotesTheValue) {
  auto d = Diags(With(2, std::string("= ") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: line has no key before \"=\""));
  ExpectNotQuoted(d, kPriv);
  d = Diags(With(2, std::string("=") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:3: line has no key before \"=\""));
  ExpectNotQuoted(d, kPriv);
}

TEST(WgQuickParserTest, SectionHeaderErrorsNeverQuoteWhatFollowsIt) {
  auto d = Diags(Replace("[Interface]", std::string("[Interface] PrivateKey = ") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:1: section header \"[Interface] \u2026\" has an unexpected "
                             "trailing \"PrivateKey \u2026\""));
  ExpectNotQuoted(d, kPriv);
  d = Diags(Replace("[Peer]", std::string("[Peer PublicKey = ") + kPriv));
  EXPECT_THAT(d, ElementsAre("wg0.conf:5: section header \"[Peer \u2026\" has no closing \"]\"",
                             "wg0.conf:1: warning: no [Peer] section: the tunnel has nowhere to "
                             "send traffic"));
  ExpectNotQuoted(d, kPriv);
  d = Diags(Replace("[Peer]", std::string("[") + kPriv + "]"));
  EXPECT_THAT(d, ElementsAre("wg0.conf:5: unknown section: a key-like value (not quoted)",
                             "wg0.conf:1: warning: no [Peer] section: the tunnel has nowhere to "
                             "send traffic"));
  ExpectNotQuoted(d, kPriv);
}

TEST(WgQuickParserTest, CollectsAllErrorsNotJustTheFirst) {
  std::string text = std::string(
      "[Interface]\nPrivateKey = short\nAddress\nMTU = big\n[Peer]\nEndpoint = 192.0.2.1\n");
  EXPECT_THAT(Diags(text),
              ElementsAre("wg0.conf:2: PrivateKey is not 44 characters of base64 (a 32-byte key)",
                          "wg0.conf:3: \"Address\" has no value (expected \"Address = ...\")",
                          "wg0.conf:4: MTU \"big\" is not a number",
                          "wg0.conf:6: Endpoint \"192.0.2.1\" has no port (expected host:port, "
                          "e.g. \"192.0.2.1:51820\")",
                          "wg0.conf:5: [Peer] has no PublicKey"));
}

TEST(WgQuickParserTest, Warnings) {
  EXPECT_THAT(Diags(With(3, "SaveConfig = true")),
              ElementsAre("wg0.conf:4: warning: SaveConfig = true is ignored: wgate never writes "
                          "the config file back"));
  EXPECT_THAT(Diags(Replace("10.64.0.2/32", "10.64.0.2/32, fd00::2/128") + ""), IsEmpty());
  EXPECT_THAT(
      Diags(With(3, "MTU = 1000\nAddress = fd00::2/128")),
      ElementsAre(
          "wg0.conf:4: warning: MTU 1000 is below 1280, the minimum for IPv6; IPv6 will not work"));
  std::string two = Valid() + "[Peer]\nPublicKey = " + kPeer2 + "\nAllowedIPs = 0.0.0.0/0\n";
  EXPECT_THAT(
      Diags(two),
      ElementsAre("wg0.conf:9: warning: AllowedIPs 0.0.0.0/0 is also claimed by the [Peer] at "
                  "line 5; as with wg, this later peer gets it"));
}

TEST(WgQuickParserTest, AcceptsWgQuickSyntaxVariants) {
  std::string text =
      std::string("\xEF\xBB\xBF  [ interface ]  \r\n\tprivatekey=") + kPriv +
      "   # trailing comment\r\nADDRESS = 10.64.0.2/32 ,fd00::2/128\r\nfwmark = off\r\n"
      "table = off\r\n\r\n[peer]\r\npublickey = " +
      kPeer1 + "\r\nallowedips = ::0/0\r\npersistentkeepalive = off\r\n";
  ParseResult r = ParseWgQuick(text, "x.conf");
  ASSERT_TRUE(r.config) << (r.diagnostics.all().empty() ? "" : r.diagnostics.all()[0].ToString());
  EXPECT_EQ(r.config->interface.addresses.size(), 2u);
  EXPECT_EQ(r.config->interface.table.kind, RoutingTable::Kind::kOff);
  EXPECT_EQ(r.config->peers[0].allowed_ips[0].ToString(), "::/0");
}

TEST(WgQuickParserTest, HooksKeepOrderAndRepeat) {
  ParseResult r = ParseWgQuick(
      With(3, "PostUp = echo one %i\nPreUp = echo zero\nPostUp = echo two"), "wg0.conf");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(r.config->interface.post_up, ElementsAre("echo one %i", "echo two"));
  EXPECT_THAT(r.config->interface.pre_up, ElementsAre("echo zero"));
}

}  // namespace
}  // namespace wgate::config
