#include "config/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/temp_dir.h"

namespace wgate::config {
namespace {

using ::testing::ElementsAre;

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    return dir_.Write(name, text, mode);
  }

  std::vector<std::string> Diags(const std::string& path) {
    std::vector<std::string> out;
    ParseResult r = LoadWgQuickFile(path);
    for (const Diagnostic& d : r.diagnostics.all()) out.push_back(d.ToString());
    return out;
  }

  TempDir dir_;
};

const char kConfig[] =
    "[Interface]\nPrivateKey = UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=\n"
    "[Peer]\nPublicKey = SpDEvPTe2EA3QkGy+Hxtiv20Pr3OmOrLLkv4i+p50SU=\n";

TEST_F(ConfigFileTest, PrivateFileLoadsWithoutWarning) {
  std::string path = Write("wg0.conf", kConfig, 0600);
  ParseResult r = LoadWgQuickFile(path);
  EXPECT_TRUE(r.config);
  EXPECT_TRUE(r.diagnostics.all().empty());
  EXPECT_EQ(r.config->source, path);
}

TEST_F(ConfigFileTest, WorldAccessibleFileWarnsLikeWgQuick) {
  std::string path = Write("wg0.conf", kConfig, 0644);
  EXPECT_THAT(
      Diags(path),
      ElementsAre(path + ": warning: is world accessible (it holds a private key; chmod 600 it)"));
  EXPECT_TRUE(LoadWgQuickFile(path).config);
}

TEST_F(ConfigFileTest, MissingDirectoryAndUnreadable) {
  EXPECT_THAT(Diags(dir_.path() + "/nope.conf"),
              ElementsAre(dir_.path() + "/nope.conf: no such file"));
  EXPECT_THAT(Diags(dir_.path()), ElementsAre(dir_.path() + ": is a directory, not a config file"));
  EXPECT_THAT(Diags("/dev/null"), ElementsAre("/dev/null: is not a regular file"));
  if (geteuid() != 0) {  // root reads anything
    std::string path = Write("locked.conf", kConfig, 0000);
    EXPECT_THAT(Diags(path), ElementsAre(path + ": cannot open: Permission denied"));
  }
}

TEST_F(ConfigFileTest, ErrorsCarryThePath) {
  std::string path = Write("bad.conf", "[Interface]\nAddress\n", 0600);
  EXPECT_THAT(
      Diags(path),
      ElementsAre(path + ":2: \"Address\" has no value (expected \"Address = ...\")",
                  path + ":1: [Interface] has no PrivateKey",
                  path + ":1: warning: no [Peer] section: the tunnel has nowhere to send traffic"));
}

TEST_F(ConfigFileTest, RefusesHugeFiles) {
  std::string path = Write("big.conf", std::string(kMaxConfigBytes + 1, '#'), 0600);
  EXPECT_THAT(Diags(path), ElementsAre(path + ": is 1048577 bytes; a config is at most 1048576"));
}

}  // namespace
}  // namespace wgate::config

namespace wgate::config {
namespace {

TEST_F(ConfigFileTest, SecretFileIsReadWhole) {
  std::string path = Write("wg_key", "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=\n", 0400);
  Result<std::string> r = ReadSecretFile(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "UCIkeUOWrC4VKeVnMYc4cPeagtd2DEdDeiqCryhfKlQ=\n");  // the caller trims
}

TEST_F(ConfigFileTest, SecretFileErrorsAreTheBareReason) {
  Result<std::string> missing = ReadSecretFile(dir_.path() + "/absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "No such file or directory");
  Result<std::string> dir = ReadSecretFile(dir_.path());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().message(), "Is a directory");
  std::string big = Write("big", std::string(kMaxSecretBytes + 1, 'x'), 0600);
  Result<std::string> large = ReadSecretFile(big);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().message(), "is larger than 65536 bytes");
}

TEST(InterfaceNameTest, SettingElseFileNameElseWg0) {
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "/config/wg_confs/nl-ams.conf"), "nl-ams");
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "/config/my vpn.conf"), "wg0");
  EXPECT_EQ(*ChooseInterfaceName(std::nullopt, "environment"), "wg0");
  EXPECT_EQ(*ChooseInterfaceName(std::string("tun7"), "/config/wg0.conf"), "tun7");
  auto bad = ChooseInterfaceName(std::string("no/slash"), "environment");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "WGATE_INTERFACE: \"no/slash\" is not an interface name (1-15 characters of letters, "
            "digits and _=+.-)");
}

TEST(InterfaceNameTest, FromPathAsWgQuick) {
  EXPECT_EQ(InterfaceNameFromPath("/config/wg0.conf"), "wg0");
  EXPECT_EQ(InterfaceNameFromPath("mullvad-se4.conf"), "mullvad-se4");
  EXPECT_FALSE(InterfaceNameFromPath("/config/wg0.txt"));
  EXPECT_FALSE(InterfaceNameFromPath("/config/.conf"));
  EXPECT_FALSE(InterfaceNameFromPath("/config/my vpn.conf"));
  EXPECT_FALSE(InterfaceNameFromPath("/config/a-very-long-name-x.conf"));
  EXPECT_TRUE(IsValidInterfaceName("wg_0=+.-"));
  EXPECT_FALSE(IsValidInterfaceName(".."));
}

}  // namespace
}  // namespace wgate::config
