#include "cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/exit_codes.h"

namespace wgate::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string_view> args) {
  std::ostringstream out, err;
  args.insert(args.begin(), "wgate");
  int code = RunCli(args, {out, err});
  return {code, out.str(), err.str()};
}

TEST(CliTest, Version) {
  CliRun r = Cli({"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.rfind("wgate ", 0), 0u);
}

TEST(CliTest, HelpListsCommands) {
  CliRun r = Cli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("  check     validate wg-quick config files"), std::string::npos) << r.out;
  CliRun c = Cli({"help", "check"});
  EXPECT_EQ(c.code, kExitOk);
  EXPECT_EQ(c.out.rfind("usage: wgate check [--json] [--env] [FILE...]", 0), 0u);
  EXPECT_EQ(Cli({"check", "--help"}).out, c.out);
}

TEST(CliTest, UsageErrorsExit2) {
  CliRun none = Cli({});
  EXPECT_EQ(none.code, kExitUsage);
  EXPECT_NE(none.err.find("usage: wgate <command>"), std::string::npos);
  CliRun typo = Cli({"chek"});
  EXPECT_EQ(typo.code, kExitUsage);
  EXPECT_EQ(typo.err.substr(0, typo.err.find('\n')),
            "wgate: unknown command \"chek\"; did you mean \"check\"?");
  EXPECT_EQ(Cli({"help", "nope"}).code, kExitUsage);
}

}  // namespace
}  // namespace wgate::cli
