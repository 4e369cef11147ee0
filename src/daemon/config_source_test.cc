#include "daemon/config_source.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/temp_dir.h"

namespace wgate::daemon {
namespace {

TEST(ConfigSourceTest, Precedence) {
  TempDir dir;
  EXPECT_EQ(FindConfig(std::string("/a.conf"), std::string("/b.conf"), dir.path()).path, "/a.conf");
  EXPECT_EQ(FindConfig(std::string("/a.conf"), std::string("/b.conf"), dir.path()).how, "--config");
  EXPECT_EQ(FindConfig(std::nullopt, std::string("/b.conf"), dir.path()).how, "WGATE_CONFIG");
  // Nothing there: the default path, which will fail to load with a clear message.
  EXPECT_EQ(FindConfig(std::nullopt, std::nullopt, dir.path()).path, dir.path() + "/wg0.conf");
  mkdir((dir.path() + "/wg_confs").c_str(), 0700);
  dir.Write("wg_confs/se-got.conf", "");
  dir.Write("wg_confs/nl-ams.conf", "");
  dir.Write("wg_confs/notes.txt", "");
  EXPECT_EQ(FindConfig(std::nullopt, std::nullopt, dir.path()).path,
            dir.path() + "/wg_confs/nl-ams.conf");
  dir.Write("wg0.conf", "");
  EXPECT_EQ(FindConfig(std::nullopt, std::nullopt, dir.path()).path, dir.path() + "/wg0.conf");
}

TEST(ConfigSourceTest, InterfaceName) {
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "/config/wg_confs/nl-ams.conf"), "nl-ams");
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "/config/my vpn.conf"), "wg0");
  EXPECT_EQ(*ChooseInterfaceName(std::string("tun7"), "/config/wg0.conf"), "tun7");
  auto bad = ChooseInterfaceName(std::string("this-name-is-too-long"), "/config/wg0.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "WGATE_INTERFACE: \"this-name-is-too-long\" is not an interface name (1-15 characters "
            "of letters, "
            "digits and _=+.-)");
}

}  // namespace
}  // namespace wgate::daemon
