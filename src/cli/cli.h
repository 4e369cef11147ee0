// The `wgate` command line: a table of subcommands (like wireguard-tools' wg.c).
//
// RunCli is the whole program minus process set-up, so tests drive it with argument vectors and
// read what it printed.
#pragma once

#include <ostream>
#include <string_view>
#include <vector>

namespace wgate::cli {

struct Io {
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  std::string_view name;
  std::string_view summary;  // one line, for `wgate --help`
  std::string_view help;     // full text for `wgate NAME --help`, starting with the usage line
  int (*run)(const std::vector<std::string_view>& args, Io io);
};

const std::vector<Command>& Commands();

// argv[0] is the program name. Returns the exit code (cli/exit_codes.h).
int RunCli(const std::vector<std::string_view>& argv, Io io);

}  // namespace wgate::cli
