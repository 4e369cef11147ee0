#include "daemon/status.h"

#include <gtest/gtest.h>

namespace wgate::daemon {
namespace {

GatewayStatus Connected() {
  GatewayStatus s;
  s.state = GatewayState::kConnected;
  s.config_path = "/config/wg0.conf";
  s.interface = "wg0";
  s.firewall = "connected";
  s.rules_verified = true;
  s.endpoint = "198.51.100.1:51820";
  s.last_handshake = WallTime{} + std::chrono::seconds(1'700'000'000);
  s.rx_bytes = 3 * 1024 * 1024 + 512 * 1024;
  s.tx_bytes = 900;
  s.pid = 1;
  return s;
}

TEST(StatusTest, HumanForm) {
  WallTime now = WallTime{} + std::chrono::seconds(1'700'000'063);
  EXPECT_EQ(FormatStatus(Connected(), now),
            "state: connected\n"
            "healthy: yes\n"
            "firewall: connected, rules verified\n"
            "config: /config/wg0.conf\n"
            "interface: wg0\n"
            "endpoint: 198.51.100.1:51820\n"
            "latest handshake: 1 minute, 3 seconds ago\n"
            "transfer: 3.50 MiB received, 900 B sent\n"
            "pid: 1\n");
  GatewayStatus blocked;
  blocked.state = GatewayState::kBlocked;
  blocked.reason = "/config/wg0.conf:3: \"Address\" has no value (expected \"Address = ...\")";
  blocked.firewall = "lockdown";
  blocked.rules_verified = false;
  blocked.rules_problem = "chain output is missing";
  EXPECT_EQ(
      FormatStatus(blocked, now),
      "state: blocked (/config/wg0.conf:3: \"Address\" has no value (expected \"Address = ...\"))\n"
      "healthy: no\n"
      "firewall: lockdown, rules NOT verified: chain output is missing\n");
}

TEST(StatusTest, HealthyNeedsConnectedAndVerifiedRules) {
  GatewayStatus s = Connected();
  EXPECT_TRUE(s.healthy());
  s.rules_verified = false;
  EXPECT_FALSE(s.healthy());
  s = Connected();
  s.state = GatewayState::kConnecting;
  EXPECT_FALSE(s.healthy());
}

TEST(StatusTest, JsonRoundTrip) {
  GatewayStatus s = Connected();
  s.warnings = {"PostUp hook 1 exited with status 3"};
  nlohmann::json j = StatusToJson(s);
  EXPECT_EQ(j["state"], "connected");
  EXPECT_EQ(j["healthy"], true);
  EXPECT_EQ(j["last_handshake"], 1'700'000'000);
  GatewayStatus back = StatusFromJson(j);
  EXPECT_EQ(StatusToJson(back), j);
}

TEST(StatusTest, ProtectionsAreListedAndSurviveTheControlSocket) {
  GatewayStatus s = Connected();
  s.protections = {"table ownership: on (...)", "nftables events: watched (...)"};
  GatewayStatus back = StatusFromJson(StatusToJson(s));
  EXPECT_EQ(back.protections, s.protections);
  const std::string text = FormatStatus(back, WallTime{} + std::chrono::seconds(1'700'000'010));
  EXPECT_NE(text.find("protection: table ownership: on (...)\nprotection: nftables events: "
                      "watched (...)\n"),
            std::string::npos)
      << text;
}

TEST(StatusTest, HolderSaysItsRoleAndIsHealthyWhenLocked) {
  GatewayStatus s;
  s.role = "hold";
  s.state = GatewayState::kHolding;
  s.reason = "lockdown verified; no gateway has taken over";
  s.firewall = "lockdown";
  s.rules_verified = true;
  s.pid = 1;
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(FormatStatus(s, WallTime{}),
            "role: hold\n"
            "state: holding (lockdown verified; no gateway has taken over)\n"
            "healthy: yes\n"
            "firewall: lockdown, rules verified\n"
            "pid: 1\n");
  GatewayStatus back = StatusFromJson(StatusToJson(s));
  EXPECT_EQ(back.role, "hold");
  EXPECT_EQ(back.state, GatewayState::kHolding);
  EXPECT_TRUE(back.healthy());
  s.rules_verified = false;
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(StatusFromJson(nlohmann::json{{"state", "connected"}}).role, "gateway");
}

}  // namespace
}  // namespace wgate::daemon
