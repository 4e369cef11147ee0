#include "config/env_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "base/strings.h"
#include "config/wg_quick_parser.h"

namespace wgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kPrivate[] = "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=";
constexpr char kServer[] = "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=";
constexpr char kPsk[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// Secret files from a map; a missing one fails as open(2) would.
class FakeSecrets {
 public:
  void Add(const std::string& path, const std::string& content) { files_[path] = content; }
  SecretReader reader() {
    return [this](const std::string& path) -> Result<std::string> {
      reads_.push_back(path);
      auto it = files_.find(path);
      if (it == files_.end()) return Error("No such file or directory");
      return it->second;
    };
  }
  const std::vector<std::string>& reads() const { return reads_; }

 private:
  std::map<std::string, std::string> files_;
  std::vector<std::string> reads_;
};

Environment Minimal() {
  return {{"WIREGUARD_PRIVATE_KEY", kPrivate},
          {"WIREGUARD_ADDRESSES", "10.64.0.2/32"},
          {"WIREGUARD_PUBLIC_KEY", kServer},
          {"WIREGUARD_ENDPOINT_IP", "192.0.2.1"}};
}

ParseResult Parse(const Environment& env) {
  FakeSecrets none;
  return ParseEnvConfig(env, none.reader());
}

std::vector<std::string> Diags(const ParseResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics.all()) out.push_back(d.ToString());
  return out;
}

std::string AllText(const ParseResult& r) {
  std::string all;
  for (const std::string& d : Diags(r)) all += d + "\n";
  return all;
}

TEST(EnvConfigTest, MinimalGivesTheSameConfigAsTheEquivalentFile) {
  ParseResult r = Parse(Minimal());
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_THAT(r.diagnostics.all(), IsEmpty());
  const WgConfig& c = *r.config;
  EXPECT_EQ(c.source, "environment");
  ParseResult file = ParseWgQuick(StrCat("[Interface]\nPrivateKey = ", kPrivate,
                                         "\nAddress = 10.64.0.2/32\n[Peer]\nPublicKey = ", kServer,
                                         "\nAllowedIPs = 0.0.0.0/0, ::/0\n"
                                         "Endpoint = 192.0.2.1:51820\n"),
                                  "wg0.conf");
  ASSERT_TRUE(file.config);
  const WgConfig& f = *file.config;
  EXPECT_EQ(c.interface.private_key.DerivePublic(), f.interface.private_key.DerivePublic());
  EXPECT_EQ(c.interface.addresses, f.interface.addresses);
  EXPECT_EQ(c.interface.mtu, std::nullopt);
  EXPECT_THAT(c.interface.dns_servers, IsEmpty());  // WGATE_DNS supplies DNS
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_EQ(c.peers[0].public_key, f.peers[0].public_key);
  EXPECT_EQ(c.peers[0].allowed_ips, f.peers[0].allowed_ips);
  ASSERT_TRUE(c.peers[0].endpoint);
  EXPECT_EQ(c.peers[0].endpoint->ToString(), "192.0.2.1:51820");
  EXPECT_EQ(c.peers[0].endpoint->ip, IpAddress::Parse("192.0.2.1"));
  EXPECT_FALSE(c.peers[0].preshared_key);
  EXPECT_EQ(c.peers[0].persistent_keepalive, 0);
}

TEST(EnvConfigTest, ReadsEveryVariable) {
  Environment env = Minimal();
  env.erase("WIREGUARD_ENDPOINT_IP");
  env["VPN_ENDPOINT_IP"] = "fd00::1";
  env["VPN_ENDPOINT_PORT"] = "1637";
  env["WIREGUARD_ADDRESSES"] = "10.64.0.2/32, fd00:bbbb::2/128";
  env["WIREGUARD_PRESHARED_KEY"] = kPsk;
  env["WIREGUARD_ALLOWED_IPS"] = "10.0.0.1/8";
  env["WIREGUARD_MTU"] = "1380";
  env["WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL"] = "25s";
  ParseResult r = Parse(env);
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_THAT(r.diagnostics.all(), IsEmpty());
  const WgConfig& c = *r.config;
  ASSERT_EQ(c.interface.addresses.size(), 2u);
  EXPECT_EQ(c.interface.addresses[1].ToString(), "fd00:bbbb::2/128");
  EXPECT_EQ(c.interface.mtu, 1380);
  EXPECT_EQ(c.peers[0].endpoint->ToString(), "[fd00::1]:1637");
  ASSERT_TRUE(c.peers[0].preshared_key);
  ASSERT_EQ(c.peers[0].allowed_ips.size(), 1u);
  EXPECT_EQ(c.peers[0].allowed_ips[0].ToString(), "10.0.0.0/8");  // network form, as wg stores it
  EXPECT_EQ(c.peers[0].persistent_keepalive, 25);
}

TEST(EnvConfigTest, EndpointHostNameBracketsAndPortAlias) {
  Environment env = Minimal();
  env["WIREGUARD_ENDPOINT_IP"] = "se-got-wg-001.relays.example";
  env["WIREGUARD_ENDPOINT_PORT"] = "3000";
  ParseResult r = Parse(env);
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_EQ(r.config->peers[0].endpoint->ToString(), "se-got-wg-001.relays.example:3000");
  EXPECT_FALSE(r.config->peers[0].endpoint->ip);

  env["WIREGUARD_ENDPOINT_IP"] = "[fd00::7]";
  env["VPN_ENDPOINT_PORT"] = "3000";  // both names, same value: fine
  r = Parse(env);
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_EQ(r.config->peers[0].endpoint->ToString(), "[fd00::7]:3000");
}

TEST(EnvConfigTest, KeepaliveTakesGoDurationsAndSeconds) {
  for (auto [text, seconds] : std::vector<std::pair<std::string, int>>{
           {"25", 25}, {"25s", 25}, {"1m", 60}, {"0", 0}, {"1m30s", 90}}) {
    Environment env = Minimal();
    env["WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL"] = text;
    ParseResult r = Parse(env);
    ASSERT_TRUE(r.config) << text << ": " << AllText(r);
    EXPECT_EQ(r.config->peers[0].persistent_keepalive, seconds) << text;
  }
}

TEST(EnvConfigTest, EmptyValuesAreUnsetAsInCompose) {
  Environment env = Minimal();
  env["WIREGUARD_PRESHARED_KEY"] = "";
  env["WIREGUARD_MTU"] = "  ";
  env["VPN_ENDPOINT_PORT"] = "";
  ParseResult r = Parse(env);
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_FALSE(r.config->peers[0].preshared_key);
  EXPECT_EQ(r.config->peers[0].endpoint->port, 51820);
}

TEST(EnvConfigTest, BadValuesNameTheVariableAndQuoteTheValue) {
  Environment env = Minimal();
  env["WIREGUARD_ADDRESSES"] = "10.0.0.1/33,,fd00::2/128";
  env["VPN_ENDPOINT_PORT"] = "99999";
  env["WIREGUARD_ALLOWED_IPS"] = "0.0.0.0/0,everything";
  env["WIREGUARD_MTU"] = "1420x";
  env["WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL"] = "25x";
  ParseResult r = Parse(env);
  EXPECT_FALSE(r.config);
  EXPECT_THAT(
      Diags(r),
      ElementsAre(
          "WIREGUARD_ADDRESSES: \"10.0.0.1/33\" is not a CIDR: prefix length 33 is out of range "
          "0-32",
          "WIREGUARD_ADDRESSES: \"10.0.0.1/33,,fd00::2/128\" has an empty item between commas",
          "VPN_ENDPOINT_PORT: \"99999\" is out of range 1-65535",
          "WIREGUARD_ALLOWED_IPS: \"everything\" is not a CIDR: \"everything\" is not an IP "
          "address",
          "WIREGUARD_MTU: \"1420x\" has an unexpected trailing \"x\"",
          "WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL: \"25x\" is not a duration (expected seconds, "
          "or a number and a unit such as 25s or 1m)"));
  EXPECT_EQ(r.diagnostics.error_count(), 6u);
}

TEST(EnvConfigTest, BadEndpoints) {
  Environment env = Minimal();
  env["WIREGUARD_ENDPOINT_IP"] = "192.0.2.1:51820";
  EXPECT_THAT(Diags(Parse(env)),
              ElementsAre("WIREGUARD_ENDPOINT_IP: \"192.0.2.1:51820\" is neither an IP address "
                          "nor a host name (the port goes in VPN_ENDPOINT_PORT)"));
  env["WIREGUARD_ENDPOINT_IP"] = "not a host";
  EXPECT_THAT(Diags(Parse(env)),
              ElementsAre("WIREGUARD_ENDPOINT_IP: \"not a host\" is neither an IP address nor a "
                          "host name"));
  env["WIREGUARD_ENDPOINT_IP"] = "192.0.2.1";
  env["VPN_ENDPOINT_IP"] = "192.0.2.2";
  EXPECT_THAT(Diags(Parse(env)),
              ElementsAre("VPN_ENDPOINT_IP: \"192.0.2.2\" differs from WIREGUARD_ENDPOINT_IP "
                          "\"192.0.2.1\"; set only one of them"));
  env["VPN_ENDPOINT_IP"] = "192.0.2.1";
  env["VPN_ENDPOINT_PORT"] = "1";
  env["WIREGUARD_ENDPOINT_PORT"] = "2";
  EXPECT_THAT(Diags(Parse(env)),
              ElementsAre("WIREGUARD_ENDPOINT_PORT: \"2\" differs from VPN_ENDPOINT_PORT \"1\"; "
                          "set only one of them"));
}

TEST(EnvConfigTest, MissingRequiredVariables) {
  ParseResult r = Parse({{"WIREGUARD_PRIVATE_KEY", kPrivate}});
  EXPECT_FALSE(r.config);
  EXPECT_THAT(
      Diags(r),
      ElementsAre("environment: WIREGUARD_ADDRESSES is required with WIREGUARD_PRIVATE_KEY",
                  "environment: WIREGUARD_PUBLIC_KEY is required with WIREGUARD_PRIVATE_KEY",
                  "environment: WIREGUARD_ENDPOINT_IP (or VPN_ENDPOINT_IP) is required with "
                  "WIREGUARD_PRIVATE_KEY"));
  EXPECT_EQ(r.diagnostics.all()[1].message,
            "WIREGUARD_PUBLIC_KEY is required with WIREGUARD_PRIVATE_KEY");
}

TEST(EnvConfigTest, NoPrivateKeyMeansNoConfig) {
  ParseResult r = Parse({{"WIREGUARD_PUBLIC_KEY", kServer}, {"WIREGUARD_PRIVATE_KEY", " "}});
  EXPECT_FALSE(HasEnvConfig({{"WIREGUARD_PUBLIC_KEY", kServer}, {"WIREGUARD_PRIVATE_KEY", " "}}));
  EXPECT_THAT(Diags(r), ElementsAre("environment: WIREGUARD_PRIVATE_KEY (or "
                                    "WIREGUARD_PRIVATE_KEY_SECRETFILE) is not set: the "
                                    "environment holds no WireGuard config"));
  EXPECT_TRUE(HasEnvConfig({{"WIREGUARD_PRIVATE_KEY", "x"}}));
  EXPECT_TRUE(HasEnvConfig({{"WIREGUARD_PRIVATE_KEY_SECRETFILE", "/run/secrets/k"}}));
}

TEST(EnvConfigTest, BadKeysAreNeverShown) {
  // A private key pasted where the public key goes, a truncated key, a key with a typo.
  std::string truncated = std::string(kPrivate).substr(0, 30);
  std::string typo = std::string(kPsk).substr(0, 42) + "!=";
  Environment env = Minimal();
  env["WIREGUARD_PRIVATE_KEY"] = truncated;
  env["WIREGUARD_PRESHARED_KEY"] = typo;
  ParseResult r = Parse(env);
  EXPECT_FALSE(r.config);
  EXPECT_THAT(Diags(r),
              ElementsAre("WIREGUARD_PRIVATE_KEY: not a valid key: is not 44 characters of base64 "
                          "(a 32-byte key) (value not shown)",
                          "WIREGUARD_PRESHARED_KEY: not a valid key: is not valid base64 (value "
                          "not shown)"));
  std::string all = AllText(r);
  EXPECT_EQ(all.find(truncated.substr(0, 12)), std::string::npos);
  EXPECT_EQ(all.find(typo.substr(0, 12)), std::string::npos);
}

TEST(EnvConfigTest, OwnKeyAsServerKeyIsRefused) {
  Environment env = Minimal();
  ParseResult first = Parse(env);
  ASSERT_TRUE(first.config);
  env["WIREGUARD_PUBLIC_KEY"] = first.config->interface.private_key.DerivePublic().ToBase64();
  EXPECT_THAT(Diags(Parse(env)),
              ElementsAre("environment: WIREGUARD_PUBLIC_KEY is the interface's own public key "
                          "(the one derived from WIREGUARD_PRIVATE_KEY); it must be the VPN "
                          "server's"));
}

TEST(EnvConfigTest, SecretFiles) {
  FakeSecrets secrets;
  secrets.Add("/run/secrets/wg_key", std::string(kPrivate) + "\n");
  secrets.Add("/run/secrets/psk", std::string("  ") + kPsk + "\r\n");
  secrets.Add("/run/secrets/server", kServer);
  secrets.Add("/run/secrets/addresses", "10.64.0.2/32\n");
  Environment env = {{"WIREGUARD_PRIVATE_KEY_SECRETFILE", "/run/secrets/wg_key"},
                     {"WIREGUARD_PRESHARED_KEY_SECRETFILE", "/run/secrets/psk"},
                     {"WIREGUARD_PUBLIC_KEY_SECRETFILE", "/run/secrets/server"},
                     {"WIREGUARD_ADDRESSES_SECRETFILE", "/run/secrets/addresses"},
                     {"VPN_ENDPOINT_IP", "192.0.2.1"}};
  EXPECT_TRUE(HasEnvConfig(env));
  ParseResult r = ParseEnvConfig(env, secrets.reader());
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_EQ(r.config->peers[0].public_key.ToBase64(), kServer);
  EXPECT_TRUE(r.config->peers[0].preshared_key);
  EXPECT_EQ(r.config->interface.addresses[0].ToString(), "10.64.0.2/32");
  ParseResult direct = Parse(Minimal());
  EXPECT_EQ(r.config->interface.private_key.DerivePublic(),
            direct.config->interface.private_key.DerivePublic());
  EXPECT_THAT(secrets.reads(), ElementsAre("/run/secrets/wg_key", "/run/secrets/addresses",
                                           "/run/secrets/server", "/run/secrets/psk"));
}

TEST(EnvConfigTest, SecretFileErrors) {
  FakeSecrets secrets;
  secrets.Add("/run/secrets/empty", "\n");
  secrets.Add("/run/secrets/bad_key", "not-a-key-at-all\n");
  secrets.Add("/run/secrets/addresses", "10.0.0.1/33\n");
  Environment env = Minimal();
  env.erase("WIREGUARD_PRIVATE_KEY");
  env.erase("WIREGUARD_ADDRESSES");
  env["WIREGUARD_PRIVATE_KEY_SECRETFILE"] = "/run/secrets/wg_key";
  env["WIREGUARD_ADDRESSES_SECRETFILE"] = "/run/secrets/addresses";
  env["WIREGUARD_PRESHARED_KEY_SECRETFILE"] = "/run/secrets/bad_key";
  env["WIREGUARD_PUBLIC_KEY_SECRETFILE"] = "/run/secrets/empty";  // and WIREGUARD_PUBLIC_KEY
  ParseResult r = ParseEnvConfig(env, secrets.reader());
  EXPECT_FALSE(r.config);
  EXPECT_THAT(
      Diags(r),
      ElementsAre(
          "WIREGUARD_PRIVATE_KEY_SECRETFILE: \"/run/secrets/wg_key\": No such file or directory",
          "WIREGUARD_ADDRESSES_SECRETFILE: \"/run/secrets/addresses\": \"10.0.0.1/33\" is not a "
          "CIDR: prefix length 33 is out of range 0-32",
          "environment: WIREGUARD_PUBLIC_KEY and WIREGUARD_PUBLIC_KEY_SECRETFILE are both set; "
          "set only one of them",
          "WIREGUARD_PRESHARED_KEY_SECRETFILE: \"/run/secrets/bad_key\": not a valid key: is not "
          "44 characters of base64 (a 32-byte key) (value not shown)"));
  EXPECT_EQ(AllText(r).find("not-a-key"), std::string::npos);

  env.erase("WIREGUARD_PUBLIC_KEY");
  r = ParseEnvConfig(env, secrets.reader());
  EXPECT_EQ(Diags(r)[2], "WIREGUARD_PUBLIC_KEY_SECRETFILE: \"/run/secrets/empty\" is empty");
}

TEST(EnvConfigTest, SecretFileTriggersTheFormAndNamesIt) {
  FakeSecrets secrets;
  secrets.Add("/k", kPrivate);
  ParseResult r = ParseEnvConfig({{"WIREGUARD_PRIVATE_KEY_SECRETFILE", "/k"}}, secrets.reader());
  EXPECT_EQ(Diags(r)[0],
            "environment: WIREGUARD_ADDRESSES is required with WIREGUARD_PRIVATE_KEY_SECRETFILE");
}

TEST(EnvConfigTest, AKeyInAnyQuotedVariableIsRedacted) {
  // A key pasted into a variable whose value is quoted, or given as a secret file's path.
  Environment env = Minimal();
  env["WIREGUARD_ENDPOINT_IP"] = kPrivate;
  env["WIREGUARD_ADDRESSES"] = kPrivate;
  env.erase("WIREGUARD_PUBLIC_KEY");
  env["WIREGUARD_PUBLIC_KEY_SECRETFILE"] = kPrivate;
  ParseResult r = Parse(env);
  EXPECT_FALSE(r.config);
  std::string all = AllText(r);
  EXPECT_EQ(all.find(std::string(kPrivate).substr(0, 12)), std::string::npos) << all;
  EXPECT_NE(all.find("(key-like value not shown)"), std::string::npos) << all;
}

TEST(EnvConfigTest, WarnsAboutUnknownAndLowMtu) {
  Environment env = Minimal();
  env["WIREGUARD_ADDRESSES"] = "10.64.0.2/32,fd00::2/128";
  env["WIREGUARD_MTU"] = "1200";
  env["WIREGUARD_IMPLEMENTATION"] = "kernel";
  env["WIREGUARD_ALLOWED_IP"] = "0.0.0.0/0";
  ParseResult r = Parse(env);
  ASSERT_TRUE(r.config) << AllText(r);
  EXPECT_THAT(Diags(r),
              ElementsAre("WIREGUARD_MTU: warning: 1200 is below 1280, the minimum for IPv6; IPv6 "
                          "will not work",
                          "WIREGUARD_ALLOWED_IP: warning: is not read by wgate, ignored; did you "
                          "mean WIREGUARD_ALLOWED_IPS?",
                          "WIREGUARD_IMPLEMENTATION: warning: is not read by wgate, ignored"));
}

TEST(EnvConfigTest, VariablesSet) {
  Environment env = Minimal();
  env["WGATE_DNS"] = "192.0.2.53";
  env["VPN_ENDPOINT_PORT"] = "";
  EXPECT_THAT(EnvConfigVariablesSet(env),
              ElementsAre("WIREGUARD_ADDRESSES", "WIREGUARD_ENDPOINT_IP", "WIREGUARD_PRIVATE_KEY",
                          "WIREGUARD_PUBLIC_KEY"));
}

}  // namespace
}  // namespace wgate::config
