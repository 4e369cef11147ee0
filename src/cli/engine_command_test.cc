#include "cli/engine_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "cli/exit_codes.h"

namespace wgate::cli {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(EngineCommandTest, UsageErrors) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"wgate", "engine"}, Io{out, err}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("usage: wgate engine [-f|--foreground] INTERFACE"));
  err.str("");
  EXPECT_EQ(RunCli({"wgate", "engine", "-x", "wg0"}, Io{out, err}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("unknown option \"-x\""));
  err.str("");
  EXPECT_EQ(RunCli({"wgate", "engine", "-f", "wg0", "wg1"}, Io{out, err}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("one interface only"));
  EXPECT_EQ(RunCli({"wgate", "engine", "--help"}, Io{out, err}), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("/var/run/wireguard/INTERFACE.sock"));
}

TEST(EngineCommandTest, TestTimingsOverrideOnlyWhatTheyName) {
  std::string why;
  auto t = ParseTestTimings("rekey_after_time=2000, reject_after_time=3000,rekey_after_messages=10",
                            &why);
  ASSERT_TRUE(t.has_value()) << why;
  EXPECT_EQ(t->rekey_after_time, 2s);
  EXPECT_EQ(t->reject_after_time, 3s);
  EXPECT_EQ(t->rekey_after_messages, 10u);
  EXPECT_EQ(t->rekey_timeout, wg::kRekeyTimeout);
  EXPECT_EQ(t->keepalive_timeout, wg::kKeepaliveTimeout);
}

TEST(EngineCommandTest, TestTimingsErrors) {
  std::string why;
  EXPECT_FALSE(ParseTestTimings("rekey_after_time", &why));
  EXPECT_THAT(why, HasSubstr("not key=value"));
  EXPECT_FALSE(ParseTestTimings("rekey_after_time=2s", &why));
  EXPECT_THAT(why, HasSubstr("\"2s\" is not a number"));
  EXPECT_FALSE(ParseTestTimings("bogus=1", &why));
  EXPECT_THAT(why, HasSubstr("unknown timing \"bogus\""));
}

}  // namespace
}  // namespace wgate::cli
