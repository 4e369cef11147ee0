#include "cli/check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/temp_dir.h"
#include "cli/exit_codes.h"

namespace wgate::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

class CheckTest : public ::testing::Test {
 protected:
  // Copies a testdata file into a private file (git does not keep mode 600).
  std::string Testdata(const std::string& name, const std::string& as = "wg0.conf") {
    std::ifstream in(std::string(WGATE_TESTDATA_DIR) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return Write(as, ss.str());
  }
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    return dir_.Write(name, text, mode);
  }
  CliRun Check(std::vector<std::string_view> args) {
    std::ostringstream out, err;
    int code = RunCheck(args, {out, err});
    return {code, out.str(), err.str()};
  }
  // `wgate check` with `env` as the environment; secret files come from secrets_.
  CliRun CheckEnv(std::vector<std::string_view> args, const config::Environment& env) {
    std::ostringstream out, err;
    auto reader = [this](const std::string& path) -> Result<std::string> {
      auto it = secrets_.find(path);
      if (it == secrets_.end()) return Error("No such file or directory");
      return it->second;
    };
    int code = RunCheckIn(args, {out, err}, env, reader);
    return {code, out.str(), err.str()};
  }

  std::map<std::string, std::string> secrets_;

  TempDir dir_;
};

TEST_F(CheckTest, MullvadSummaryPinned) {
  std::string path = Testdata("mullvad_killswitch.conf");
  CliRun r = Check({path});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      r.out,
      path +
          ": valid\n"
          "interface: wg0\n"
          "  public key: 94rehC6DqxbyU+X8msmySDYWy3w8w5AUz8goj+jfnwQ=\n"
          "  private key: (hidden)\n"
          "  listening port: random\n"
          "  fwmark: off (wgate picks its own)\n"
          "  address: 10.64.23.84/32, fc00:bbbb:bbbb:bb01::1:1753/128\n"
          "  dns: 10.64.0.1\n"
          "  mtu: auto (uplink MTU - 80)\n"
          "  table: auto\n"
          "  hooks: PostUp x1, PreDown x1 (run by `wgate run`; they never decide the kill switch)\n"
          "\n"
          "peer: QZ1KQ/K7bHzW0oPgeq7sQcwhkb+b0QVGk74Ofoi3JVw=\n"
          "  endpoint: 198.51.100.114:51820\n"
          "  allowed ips: 0.0.0.0/0, ::/0\n"
          "  persistent keepalive: off\n");
}

TEST_F(CheckTest, AzireAndIvpnSummaries) {
  std::string azire = Testdata("azirevpn.conf", "azire.conf");
  std::string ivpn = Testdata("ivpn.conf", "ivpn.conf");
  CliRun r = Check({azire, ivpn});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, azire +
                       ": valid\n"
                       "interface: azire\n"
                       "  public key: Yj7yYTt7C9c8zBLH1Uma5hAdWN5ziBEsSWcIeOfYkjQ=\n"
                       "  private key: (hidden)\n"
                       "  listening port: random\n"
                       "  fwmark: off (wgate picks its own)\n"
                       "  address: 10.0.22.15/32, fd00:1c80:1337:1:10:0:22:15/128\n"
                       "  dns: 198.51.100.2, fd00:1c80::2\n"
                       "  mtu: auto (uplink MTU - 80)\n"
                       "  table: auto\n"
                       "\n"
                       "peer: Ssa//k+D+v4eedrULA89fGwmisIyjxg6QYbgfxu0gjs=\n"
                       "  endpoint: [fd00:db8:1::5]:51820\n"
                       "  allowed ips: 0.0.0.0/0, ::/0\n"
                       "  preshared key: (hidden)\n"
                       "  persistent keepalive: off\n"
                       "\n" +
                       ivpn +
                       ": valid\n"
                       "interface: ivpn\n"
                       "  public key: 768VoJVKw1UbqO+ac6LfcfIrZoGzN9Jy7JrQpar0+EI=\n"
                       "  private key: (hidden)\n"
                       "  listening port: random\n"
                       "  fwmark: off (wgate picks its own)\n"
                       "  address: 172.22.0.5/32\n"
                       "  dns: 172.16.0.1\n"
                       "  mtu: auto (uplink MTU - 80)\n"
                       "  table: auto\n"
                       "\n"
                       "peer: ANFN4N066YduzzCUf/SgIJ4NnwS7HLLLEgeYy0f7fBA=\n"
                       "  endpoint: nl1.wg.ivpn.example:2049 (resolved at start)\n"
                       "  allowed ips: 0.0.0.0/0\n"
                       "  persistent keepalive: every 25 seconds\n");
  // Secrets never appear.
  for (const char* secret : {"GI8pdgz4eldPmUxFbpzDsS7Of3v2RMqrSUDN17dSSXY=",
                             "cHBu4623Y7WtZGwxPEOlyDcI5VPbyln4HeiRcylNKkI=",
                             "aVP1kcMZl60dEMUoyR4lkLGrzx9f/qlelGEYb1ChxEs=",
                             "KGT8WJEUh6xTKSCSWSdNwO2tFe0FVQiUypOxxj3vtFI="}) {
    EXPECT_EQ(r.out.find(secret), std::string::npos);
  }
}

TEST_F(CheckTest, MultiPeerSummaryShowsTableFwMarkMtu) {
  CliRun r = Check({Testdata("multipeer.conf", "site.conf")});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("  listening port: 51821\n  fwmark: 0x1234\n"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("  dns: 10.10.0.1\n  dns search: corp.example\n  mtu: 1380\n  table: 1234\n"),
      std::string::npos);
  EXPECT_NE(r.out.find("  allowed ips: 10.10.0.0/24, 192.168.50.0/24\n"), std::string::npos);
  EXPECT_NE(r.out.find("  allowed ips: 10.20.0.0/16, 10.30.0.0/16\n"), std::string::npos);
}

TEST_F(CheckTest, InvalidConfigPrintsEveryErrorAndExits1) {
  std::string path = Write(
      "wg0.conf",
      "[Interface]\nPrivateKey = UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=\nAddress\n"
      "[Peer]\nPublicKey = SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=\nEndpoint = 192.0.2.1\n");
  CliRun r = Check({path});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, path + ":3: \"Address\" has no value (expected \"Address = ...\")\n" + path +
                       ":6: Endpoint \"192.0.2.1\" has no port (expected host:port, e.g. "
                       "\"192.0.2.1:51820\")\n" +
                       path + ": 2 errors; the config was not accepted\n");
  EXPECT_EQ(r.err.find("UCIke"), std::string::npos);
}

TEST_F(CheckTest, MissingFileAndMixedResults) {
  std::string good = Testdata("proton.conf");
  CliRun r = Check({dir_.path() + "/missing.conf", good});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, dir_.path() + "/missing.conf: no such file\n" + dir_.path() +
                       "/missing.conf: 1 error; the config was not accepted\n");
  EXPECT_EQ(r.out.rfind(good + ": valid\n", 0), 0u);
}

TEST_F(CheckTest, WorldReadableWarnsButPasses) {
  std::string path = Testdata("mullvad.conf");
  chmod(path.c_str(), 0644);
  CliRun r = Check({path});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err,
            path + ": warning: is world accessible (it holds a private key; chmod 600 it)\n");
}

TEST_F(CheckTest, JsonOutput) {
  std::string good = Testdata("ivpn.conf");
  std::string bad = Write("bad.conf", "[Interface]\nMTU = 1420x\n");
  CliRun r = Check({"--json", good, bad});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err, "");
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["valid"], true);
  EXPECT_EQ(j[0]["interface"]["name"], "wg0");
  EXPECT_EQ(j[0]["interface"]["public_key"], "768VoJVKw1UbqO+ac6LfcfIrZoGzN9Jy7JrQpar0+EI=");
  EXPECT_EQ(j[0]["interface"]["addresses"], nlohmann::json({"172.22.0.5/32"}));
  EXPECT_EQ(j[0]["interface"]["mtu"], nullptr);
  EXPECT_EQ(j[0]["peers"][0]["endpoint"], "nl1.wg.ivpn.example:2049");
  EXPECT_EQ(j[0]["peers"][0]["persistent_keepalive"], 25);
  EXPECT_EQ(j[0]["peers"][0]["preshared_key"], false);
  EXPECT_EQ(j[1]["valid"], false);
  EXPECT_FALSE(j[1].contains("interface"));
  ASSERT_EQ(j[1]["errors"].size(), 2u);
  EXPECT_EQ(j[1]["errors"][0]["line"], 2);
  EXPECT_EQ(j[1]["errors"][0]["message"], "MTU \"1420x\" has an unexpected trailing \"x\"");
  EXPECT_EQ(j[1]["errors"][1]["text"], bad + ":1: [Interface] has no PrivateKey");
  EXPECT_EQ(r.out.find("GI8pdgz4"), std::string::npos);
}

TEST_F(CheckTest, UsageErrors) {
  CliRun none = Check({});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_EQ(none.err.substr(0, none.err.find('\n')), "wgate check: no FILE given (and no --env)");
  CliRun typo = Check({"--jsn", "x.conf"});
  EXPECT_EQ(typo.code, kExitUsage);
  EXPECT_EQ(typo.err.substr(0, typo.err.find('\n')),
            "wgate check: unknown option \"--jsn\"; did you mean --json?");
  CliRun env_typo = Check({"--evn"});
  EXPECT_EQ(env_typo.err.substr(0, env_typo.err.find('\n')),
            "wgate check: unknown option \"--evn\"; did you mean --env?");
  // After "--", a dash-named file is a file.
  CliRun dash = Check({"--", "-odd.conf"});
  EXPECT_EQ(dash.code, kExitInvalid);
  EXPECT_EQ(dash.err.substr(0, dash.err.find('\n')), "-odd.conf: no such file");
}

constexpr char kPriv[] = "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=";
constexpr char kServer[] = "SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=";
constexpr char kPsk[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

config::Environment GluetunEnv() {
  return {{"WIREGUARD_PRIVATE_KEY", kPriv},
          {"WIREGUARD_ADDRESSES", "10.64.0.2/32,fd00:bbbb::2/128"},
          {"WIREGUARD_PUBLIC_KEY", kServer},
          {"WIREGUARD_PRESHARED_KEY", kPsk},
          {"VPN_ENDPOINT_IP", "198.51.100.114"},
          {"WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL", "25s"},
          {"WGATE_DNS", "10.64.0.1"},
          {"PATH", "/bin"}};
}

TEST_F(CheckTest, EnvSummaryPinned) {
  CliRun r = CheckEnv({"--env"}, GluetunEnv());
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "environment: valid\n"
            "interface: wg0\n"
            "  public key: 94rehC6DqxbyU+X8msmySDYWy3w8w5AUz8goj+jfnwQ=\n"
            "  private key: (hidden)\n"
            "  listening port: random\n"
            "  fwmark: off (wgate picks its own)\n"
            "  address: 10.64.0.2/32, fd00:bbbb::2/128\n"
            "  dns: 10.64.0.1\n"  // WGATE_DNS: what `wgate run` uses with this form
            "  mtu: auto (uplink MTU - 80)\n"
            "  table: auto\n"
            "\n"
            "peer: SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=\n"
            "  endpoint: 198.51.100.114:51820\n"
            "  allowed ips: 0.0.0.0/0, ::/0\n"
            "  preshared key: (hidden)\n"
            "  persistent keepalive: every 25 seconds\n");
  EXPECT_EQ(r.out.find("UCIke"), std::string::npos);
  EXPECT_EQ(r.out.find("AAECAwQF"), std::string::npos);
}

TEST_F(CheckTest, EnvSummaryUsesWgateInterfaceAndSecretFiles) {
  config::Environment env = GluetunEnv();
  env.erase("WIREGUARD_PRIVATE_KEY");
  env["WIREGUARD_PRIVATE_KEY_SECRETFILE"] = "/run/secrets/wg_key";
  env["WGATE_INTERFACE"] = "tun7";
  secrets_["/run/secrets/wg_key"] = std::string(kPriv) + "\n";
  CliRun r = CheckEnv({"--env"}, env);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find("  public key")), "environment: valid\ninterface: tun7\n");
}

TEST_F(CheckTest, EnvErrorsAndAliasWarningsAreListedLikeAFilesAndExit1) {
  config::Environment env = GluetunEnv();
  env["WIREGUARD_ADDRESSES"] = "10.0.0.1/33";
  env["VPN_ENDPOINT_PORT"] = "99999";
  env["WIREGUARD_PRESHARED_KEY"] = std::string(kPsk).substr(0, 43);  // padding lost
  env["FIREWALL_INPUT_PORTS"] = "8080";
  env["FIREWALL_OUTBOUND_SUBNETS"] = "192.168.1.0/33";
  env.erase("WIREGUARD_PUBLIC_KEY");
  CliRun r = CheckEnv({"--env"}, env);
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "FIREWALL_OUTBOUND_SUBNETS: \"192.168.1.0/33\" is not a CIDR: prefix length 33 is out "
            "of range 0-32\n"
            "environment: warning: FIREWALL_OUTBOUND_SUBNETS is gluetun's name; wgate reads it as "
            "WGATE_LAN_SUBNETS\n"
            "environment: warning: FIREWALL_INPUT_PORTS is gluetun's name; wgate reads it as "
            "WGATE_INPUT_PORTS\n"
            "WIREGUARD_ADDRESSES: \"10.0.0.1/33\" is not a CIDR: prefix length 33 is out of range "
            "0-32\n"
            "environment: WIREGUARD_PUBLIC_KEY is required with WIREGUARD_PRIVATE_KEY\n"
            "WIREGUARD_PRESHARED_KEY: not a valid key: is not 44 characters of base64 (a 32-byte "
            "key) (value not shown)\n"
            "VPN_ENDPOINT_PORT: \"99999\" is out of range 1-65535\n"
            "environment: 5 errors; the config was not accepted\n");
  EXPECT_EQ(r.err.find("AAECAwQF"), std::string::npos);
  EXPECT_EQ(r.err.find("UCIke"), std::string::npos);
}

TEST_F(CheckTest, EnvSettingsErrorAloneFailsTheCheck) {
  config::Environment env = GluetunEnv();
  env["WGATE_LAN_SUBNETS"] = "10.0.0.0/8";
  env["FIREWALL_OUTBOUND_SUBNETS"] = "192.168.0.0/16";
  CliRun r = CheckEnv({"--env"}, env);
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "FIREWALL_OUTBOUND_SUBNETS: \"192.168.0.0/16\" differs from WGATE_LAN_SUBNETS "
            "\"10.0.0.0/8\", wgate's name for it; set only one\n"
            "environment: 1 error; the config was not accepted\n");
}

TEST_F(CheckTest, EnvSaysWhenWgateConfigWouldWinInRun) {
  config::Environment env = GluetunEnv();
  env["WGATE_CONFIG"] = "/config/se.conf";
  CliRun r = CheckEnv({"--env"}, env);
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.err,
            "environment: warning: WGATE_CONFIG is set: `wgate run` reads /config/se.conf, not the "
            "WIREGUARD_* variables\n");
}

TEST_F(CheckTest, EnvWithoutTheWireguardVariables) {
  CliRun r = CheckEnv({"--env"}, {{"PATH", "/bin"}});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_EQ(r.err,
            "environment: WIREGUARD_PRIVATE_KEY (or WIREGUARD_PRIVATE_KEY_SECRETFILE) is not set: "
            "the environment holds no WireGuard config\n"
            "environment: 1 error; the config was not accepted\n");
}

TEST_F(CheckTest, EnvJsonAndFilesTogether) {
  std::string good = Testdata("ivpn.conf");
  config::Environment env = GluetunEnv();
  env["WIREGUARD_MTU"] = "1420x";
  CliRun r = CheckEnv({"--json", good, "--env"}, env);
  EXPECT_EQ(r.code, kExitInvalid);
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["source"], "environment");
  EXPECT_FALSE(j[0].contains("file"));
  EXPECT_EQ(j[0]["valid"], false);
  ASSERT_EQ(j[0]["errors"].size(), 1u);
  EXPECT_EQ(j[0]["errors"][0]["source"], "WIREGUARD_MTU");
  EXPECT_EQ(j[0]["errors"][0]["line"], 0);
  EXPECT_EQ(j[0]["errors"][0]["message"], "\"1420x\" has an unexpected trailing \"x\"");
  EXPECT_EQ(j[0]["errors"][0]["text"], "WIREGUARD_MTU: \"1420x\" has an unexpected trailing \"x\"");
  EXPECT_EQ(j[1]["file"], good);
  EXPECT_EQ(j[1]["source"], good);
  EXPECT_EQ(j[1]["valid"], true);

  env.erase("WIREGUARD_MTU");
  r = CheckEnv({"--json", "--env"}, env);
  EXPECT_EQ(r.code, kExitOk);
  j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["valid"], true);
  EXPECT_EQ(j[0]["interface"]["name"], "wg0");
  EXPECT_EQ(j[0]["interface"]["addresses"], nlohmann::json({"10.64.0.2/32", "fd00:bbbb::2/128"}));
  EXPECT_EQ(j[0]["peers"][0]["endpoint"], "198.51.100.114:51820");
  EXPECT_EQ(j[0]["peers"][0]["preshared_key"], true);
  EXPECT_EQ(j[0]["peers"][0]["persistent_keepalive"], 25);
  EXPECT_EQ(r.out.find("UCIke"), std::string::npos);
  EXPECT_EQ(r.out.find("AAECAwQF"), std::string::npos);
}

}  // namespace
}  // namespace wgate::cli
