#include "config/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Diags(const Environment& env) {
  std::vector<std::string> out;
  SettingsResult r = ReadSettings(env);
  for (const Diagnostic& d : r.diagnostics.all()) out.push_back(d.ToString());
  return out;
}

TEST(SettingsTest, DefaultsWhenUnset) {
  SettingsResult r = ReadSettings({});
  EXPECT_THAT(r.diagnostics.all(), IsEmpty());
  EXPECT_FALSE(r.settings.config_path);
  EXPECT_EQ(r.settings.log_level, LogLevel::kInfo);
  EXPECT_FALSE(r.settings.allow_docker_dns);
  EXPECT_THAT(r.settings.lan_subnets, IsEmpty());
}

TEST(SettingsTest, ReadsEveryKind) {
  SettingsResult r = ReadSettings({{"WGATE_CONFIG", " /config/se.conf "},
                                   {"WGATE_LAN_SUBNETS", "192.168.1.0/24, fd00:1::7/64"},
                                   {"WGATE_INPUT_PORTS", "8080,6881/udp,9091/TCP"},
                                   {"WGATE_DNS", "198.51.100.53"},
                                   {"WGATE_ALLOW_DOCKER_DNS", "yes"},
                                   {"WGATE_LOG_LEVEL", "Debug"}});
  EXPECT_THAT(r.diagnostics.all(), IsEmpty());
  EXPECT_EQ(r.settings.config_path, "/config/se.conf");
  ASSERT_EQ(r.settings.lan_subnets.size(), 2u);
  EXPECT_EQ(r.settings.lan_subnets[1].ToString(), "fd00:1::/64");
  ASSERT_EQ(r.settings.input_ports.size(), 3u);
  EXPECT_EQ(r.settings.input_ports[0].ToString(), "8080");
  EXPECT_EQ(r.settings.input_ports[1].ToString(), "6881/udp");
  EXPECT_EQ(r.settings.input_ports[2].ToString(), "9091/tcp");
  EXPECT_TRUE(r.settings.allow_docker_dns);
  EXPECT_EQ(r.settings.log_level, LogLevel::kDebug);
}

TEST(SettingsTest, BadValuesQuoteTheVariableAndValue) {
  EXPECT_THAT(Diags({{"WGATE_LAN_SUBNETS", "10.0.0.0/33"}}),
              ElementsAre("WGATE_LAN_SUBNETS: \"10.0.0.0/33\" is not a CIDR: prefix length 33 is "
                          "out of range 0-32"));
  EXPECT_THAT(Diags({{"WGATE_INPUT_PORTS", "8080,0,http"}}),
              ElementsAre("WGATE_INPUT_PORTS: \"0\" is not a port: \"0\" is out of range 1-65535",
                          "WGATE_INPUT_PORTS: \"http\" is not a port: \"http\" is not a number"));
  EXPECT_THAT(
      Diags({{"WGATE_VPN_INPUT_PORTS", "51413/sctp"}}),
      ElementsAre(
          "WGATE_VPN_INPUT_PORTS: \"51413/sctp\" has an unknown protocol (expected PORT, PORT/tcp "
          "or PORT/udp)"));
  EXPECT_THAT(
      Diags({{"WGATE_ALLOW_DOCKER_DNS", "sure"}}),
      ElementsAre("WGATE_ALLOW_DOCKER_DNS: \"sure\" is not a boolean (expected true or false)"));
  EXPECT_THAT(
      Diags({{"WGATE_LOG_LEVEL", "loud"}}),
      ElementsAre(
          "WGATE_LOG_LEVEL: \"loud\" is not a log level (expected error, warn, info or debug)"));
  EXPECT_THAT(Diags({{"WGATE_DNS", "dns.example"}}),
              ElementsAre("WGATE_DNS: \"dns.example\" is not an IP address"));
  EXPECT_THAT(Diags({{"WGATE_ENGINE_WORKERS", "1000000"}}),
              ElementsAre("WGATE_ENGINE_WORKERS: \"1000000\" is out of range 0-64"));
  EXPECT_THAT(
      Diags({{"WGATE_TUN_OFFLOAD", "maybe"}}),
      ElementsAre("WGATE_TUN_OFFLOAD: \"maybe\" is not a boolean (expected true or false)"));
  EXPECT_THAT(
      Diags({{"WGATE_LAN_SUBNETS", "192.168.1.0/24,"}}),
      ElementsAre("WGATE_LAN_SUBNETS: \"192.168.1.0/24,\" has an empty item between commas"));
}

TEST(SettingsTest, UnknownVariableWarnsWithSuggestion) {
  SettingsResult r = ReadSettings({{"WGATE_LAN_SUBNET", "192.168.1.0/24"}, {"WGATE_FOO", "1"}});
  EXPECT_FALSE(r.diagnostics.has_errors());
  std::vector<std::string> d;
  for (const auto& x : r.diagnostics.all()) d.push_back(x.ToString());
  EXPECT_THAT(
      d,
      ElementsAre(
          "WGATE_FOO: warning: unknown setting, ignored",
          "WGATE_LAN_SUBNET: warning: unknown setting, ignored; did you mean WGATE_LAN_SUBNETS?"));
}

TEST(SettingsTest, WgateEnvironmentKeepsOnlyPrefixed) {
  char a[] = "WGATE_DNS=198.51.100.53", b[] = "PATH=/bin", c[] = "WGATE_EMPTY=";
  char d[] = "WIREGUARD_PRIVATE_KEY=k", e[] = "VPN_ENDPOINT_IP=192.0.2.1",
       f[] = "FIREWALL_INPUT_PORTS=8080", g[] = "VPN_SERVICE_PROVIDER=custom", h[] = "WIREGUARDX=1";
  char* envp[] = {a, b, c, d, e, f, g, h, nullptr};
  Environment env = WgateEnvironment(envp);
  EXPECT_EQ(env.size(), 5u);
  EXPECT_EQ(env["WGATE_DNS"], "198.51.100.53");
  EXPECT_EQ(env["WIREGUARD_PRIVATE_KEY"], "k");
  EXPECT_EQ(env["VPN_ENDPOINT_IP"], "192.0.2.1");
  EXPECT_EQ(env["FIREWALL_INPUT_PORTS"], "8080");
}

TEST(SettingsTest, InterfaceNameIsValidated) {
  EXPECT_EQ(ReadSettings({{"WGATE_INTERFACE", " tun7 "}}).settings.interface, "tun7");
  EXPECT_THAT(Diags({{"WGATE_INTERFACE", "this-name-is-too-long"}}),
              ElementsAre("WGATE_INTERFACE: \"this-name-is-too-long\" is not an interface name "
                          "(1-15 characters of letters, digits and _=+.-)"));
}

TEST(SettingsTest, GluetunFirewallAliasesWarnOnceNamingTheWgateVariable) {
  SettingsResult r = ReadSettings({{"FIREWALL_OUTBOUND_SUBNETS", "192.168.1.0/24"},
                                   {"FIREWALL_INPUT_PORTS", "8080,6881/udp"},
                                   {"FIREWALL_VPN_INPUT_PORTS", "51413"}});
  EXPECT_FALSE(r.diagnostics.has_errors());
  ASSERT_EQ(r.settings.lan_subnets.size(), 1u);
  EXPECT_EQ(r.settings.lan_subnets[0].ToString(), "192.168.1.0/24");
  ASSERT_EQ(r.settings.input_ports.size(), 2u);
  EXPECT_EQ(r.settings.input_ports[1].ToString(), "6881/udp");
  ASSERT_EQ(r.settings.vpn_input_ports.size(), 1u);
  EXPECT_EQ(r.settings.vpn_input_ports[0].number, 51413);
  // One warning per alias, and no "unknown setting" one.
  EXPECT_THAT(Diags({{"FIREWALL_OUTBOUND_SUBNETS", "192.168.1.0/24"},
                     {"FIREWALL_INPUT_PORTS", "8080,6881/udp"},
                     {"FIREWALL_VPN_INPUT_PORTS", "51413"}}),
              ElementsAre("environment: warning: FIREWALL_OUTBOUND_SUBNETS is gluetun's name; "
                          "wgate reads it as WGATE_LAN_SUBNETS",
                          "environment: warning: FIREWALL_INPUT_PORTS is gluetun's name; wgate "
                          "reads it as WGATE_INPUT_PORTS",
                          "environment: warning: FIREWALL_VPN_INPUT_PORTS is gluetun's name; "
                          "wgate reads it as WGATE_VPN_INPUT_PORTS"));
  EXPECT_EQ(KnownAliases().size(), 3u);
}

TEST(SettingsTest, BadAliasValuesNameTheVariableTheUserWrote) {
  EXPECT_THAT(Diags({{"FIREWALL_OUTBOUND_SUBNETS", "10.0.0.0/33"}}),
              ElementsAre("FIREWALL_OUTBOUND_SUBNETS: \"10.0.0.0/33\" is not a CIDR: prefix "
                          "length 33 is out of range 0-32",
                          "environment: warning: FIREWALL_OUTBOUND_SUBNETS is gluetun's name; "
                          "wgate reads it as WGATE_LAN_SUBNETS"));
  EXPECT_THAT(Diags({{"FIREWALL_INPUT_PORTS", "http"}}),
              ElementsAre("FIREWALL_INPUT_PORTS: \"http\" is not a port: \"http\" is not a number",
                          "environment: warning: FIREWALL_INPUT_PORTS is gluetun's name; wgate "
                          "reads it as WGATE_INPUT_PORTS"));
}

TEST(SettingsTest, AliasAndWgateNameBothSet) {
  // The same values (spelled differently): the WGATE_ one is read, with one warning.
  SettingsResult same = ReadSettings(
      {{"FIREWALL_INPUT_PORTS", "8080, 6881/udp"}, {"WGATE_INPUT_PORTS", "8080,6881/UDP"}});
  EXPECT_FALSE(same.diagnostics.has_errors());
  ASSERT_EQ(same.settings.input_ports.size(), 2u);
  EXPECT_THAT(
      Diags({{"FIREWALL_INPUT_PORTS", "8080, 6881/udp"}, {"WGATE_INPUT_PORTS", "8080,6881/UDP"}}),
      ElementsAre("environment: warning: FIREWALL_INPUT_PORTS is gluetun's name for "
                  "WGATE_INPUT_PORTS; both are set to the same value, WGATE_INPUT_PORTS "
                  "is read"));
  // Different holes: an error, never a guess.
  EXPECT_THAT(Diags({{"FIREWALL_OUTBOUND_SUBNETS", "192.168.0.0/16"},
                     {"WGATE_LAN_SUBNETS", "192.168.1.0/24"}}),
              ElementsAre("FIREWALL_OUTBOUND_SUBNETS: \"192.168.0.0/16\" differs from "
                          "WGATE_LAN_SUBNETS \"192.168.1.0/24\", wgate's name for it; set only "
                          "one"));
  // A bad value in either is reported as such, not as a difference.
  EXPECT_THAT(Diags({{"FIREWALL_VPN_INPUT_PORTS", "1"}, {"WGATE_VPN_INPUT_PORTS", "0"}}),
              ElementsAre("WGATE_VPN_INPUT_PORTS: \"0\" is not a port: \"0\" is out of range "
                          "1-65535"));
}

}  // namespace
}  // namespace wgate::config
