#include "daemon/config_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/temp_dir.h"

namespace wgate::daemon {
namespace {

TEST(ConfigSourceTest, Precedence) {
  TempDir dir;
  config::Environment none;
  EXPECT_EQ(FindConfig(std::string("/a.conf"), std::string("/b.conf"), none, dir.path()).path,
            "/a.conf");
  EXPECT_EQ(FindConfig(std::string("/a.conf"), std::string("/b.conf"), none, dir.path()).how,
            "--config");
  EXPECT_EQ(FindConfig(std::nullopt, std::string("/b.conf"), none, dir.path()).how, "WGATE_CONFIG");
  // Nothing there: the default path, which will fail to load with a clear message.
  EXPECT_EQ(FindConfig(std::nullopt, std::nullopt, none, dir.path()).path,
            dir.path() + "/wg0.conf");
  mkdir((dir.path() + "/wg_confs").c_str(), 0700);
  dir.Write("wg_confs/se-got.conf", "");
  dir.Write("wg_confs/nl-ams.conf", "");
  dir.Write("wg_confs/notes.txt", "");
  EXPECT_EQ(FindConfig(std::nullopt, std::nullopt, none, dir.path()).path,
            dir.path() + "/wg_confs/nl-ams.conf");
  dir.Write("wg0.conf", "");
  ConfigLocation file = FindConfig(std::nullopt, std::nullopt, none, dir.path());
  EXPECT_EQ(file.path, dir.path() + "/wg0.conf");
  EXPECT_FALSE(file.from_environment);
  EXPECT_EQ(file.warning, "");
}

TEST(ConfigSourceTest, EnvironmentFormComesAfterFlagAndWgateConfigBeforeDefaultFiles) {
  TempDir dir;
  config::Environment env = {{"WIREGUARD_PRIVATE_KEY", "k"}, {"WIREGUARD_ADDRESSES", "a"}};
  ConfigLocation e = FindConfig(std::nullopt, std::nullopt, env, dir.path());
  EXPECT_TRUE(e.from_environment);
  EXPECT_EQ(e.path, "environment");
  EXPECT_EQ(e.how, "environment");
  EXPECT_EQ(e.warning, "");
  // The secret-file form of the private key selects it too.
  EXPECT_TRUE(FindConfig(std::nullopt, std::nullopt,
                         {{"WIREGUARD_PRIVATE_KEY_SECRETFILE", "/run/secrets/k"}}, dir.path())
                  .from_environment);
  // ... over the default files, with a warning that names the ignored file.
  dir.Write("wg0.conf", "");
  e = FindConfig(std::nullopt, std::nullopt, env, dir.path());
  EXPECT_TRUE(e.from_environment);
  EXPECT_EQ(e.warning, dir.path() +
                           "/wg0.conf is ignored: the config comes from the WIREGUARD_* "
                           "variables, which take precedence over " +
                           dir.path() + " (set WGATE_CONFIG to use the file)");

  ConfigLocation flag = FindConfig(std::string("/a.conf"), std::string("/b.conf"), env, dir.path());
  EXPECT_FALSE(flag.from_environment);
  EXPECT_EQ(flag.path, "/a.conf");
  EXPECT_EQ(flag.warning,
            "WIREGUARD_ADDRESSES, WIREGUARD_PRIVATE_KEY are ignored: --config takes precedence "
            "over a config from the environment (reading /a.conf)");
  ConfigLocation wgate_config = FindConfig(std::nullopt, std::string("/b.conf"), env, dir.path());
  EXPECT_FALSE(wgate_config.from_environment);
  EXPECT_EQ(wgate_config.warning,
            "WIREGUARD_ADDRESSES, WIREGUARD_PRIVATE_KEY are ignored: WGATE_CONFIG takes "
            "precedence over a config from the environment (reading /b.conf)");
}

TEST(ConfigSourceTest, WireguardVariablesWithoutThePrivateKeyAreIgnoredWithAWarning) {
  TempDir dir;
  ConfigLocation l =
      FindConfig(std::nullopt, std::nullopt,
                 {{"VPN_ENDPOINT_IP", "192.0.2.1"}, {"WIREGUARD_PRIVATE_KEY", ""}}, dir.path());
  EXPECT_FALSE(l.from_environment);
  EXPECT_EQ(l.warning,
            "VPN_ENDPOINT_IP is ignored: a config comes from the environment only when "
            "WIREGUARD_PRIVATE_KEY or WIREGUARD_PRIVATE_KEY_SECRETFILE is set "
            "(reading " +
                dir.path() + "/wg0.conf)");
}

TEST(ConfigSourceTest, InterfaceName) {
  // config::ChooseInterfaceName (config_file_test.cc) decides; the environment form gets wg0.
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "/config/wg_confs/nl-ams.conf"), "nl-ams");
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "environment"), "wg0");
  EXPECT_FALSE(ChooseInterfaceName(std::string("this-name-is-too-long"), "environment").ok());
}

}  // namespace
}  // namespace wgate::daemon
