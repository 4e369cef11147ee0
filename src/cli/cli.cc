#include "cli/cli.h"

#include <string>

#include "base/strings.h"
#include "cli/check.h"
#include "cli/engine_command.h"
#include "cli/exit_codes.h"
#include "cli/gateway_commands.h"

#ifndef WGATE_VERSION
#define WGATE_VERSION "0.0.0-dev"
#endif

namespace wgate::cli {

namespace {

const char kProgramHelp[] =
    "wgate: a fail-closed WireGuard gateway for containers\n"
    "\n"
    "usage: wgate <command> [options]\n"
    "       wgate --version\n"
    "       wgate help [command]\n"
    "\n"
    "commands:\n";

void PrintProgramHelp(std::ostream& out) {
  out << kProgramHelp;
  for (const Command& c : Commands()) {
    out << "  " << c.name << std::string(10 - std::min<size_t>(c.name.size(), 9), ' ') << c.summary
        << "\n";
  }
  out << "\nRun `wgate <command> --help` for a command's options.\n";
}

const Command* Find(std::string_view name) {
  for (const Command& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Suggest(std::string_view name) {
  for (const Command& c : Commands()) {
    if (EditDistance(name, c.name) <= 2) return StrCat("; did you mean \"", c.name, "\"?");
  }
  return "";
}

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"check", "validate wg-quick config files and summarise them", kCheckHelp, &RunCheck},
      {"run", "run the gateway: lockdown first, then the tunnel", kRunHelp, &RunRun},
      {"hold", "hold the namespace locked for gateways and consumers that join it", kHoldHelp,
       &RunHold},
      {"status", "show the running gateway's state", kStatusHelp, &RunStatus},
      {"down", "stop the gateway; the namespace stays locked", kDownHelp, &RunDown},
      {"unblock", "remove wgate's rules: open the namespace", kUnblockHelp, &RunUnblock},
      {"engine", "run only the userspace WireGuard engine (like wireguard-go)", kEngineHelp,
       &RunEngine},
  };
  return kCommands;
}

int RunCli(const std::vector<std::string_view>& argv, Io io) {
  if (argv.size() < 2) {
    PrintProgramHelp(io.err);
    return kExitUsage;
  }
  std::string_view first = argv[1];
  if (first == "--version" || first == "-V" || first == "version") {
    io.out << "wgate " << WGATE_VERSION << "\n";
    return kExitOk;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    if (argv.size() > 2) {
      if (const Command* c = Find(argv[2])) {
        io.out << c->help;
        return kExitOk;
      }
      io.err << "wgate help: unknown command \"" << argv[2] << "\"" << Suggest(argv[2]) << "\n";
      return kExitUsage;
    }
    PrintProgramHelp(io.out);
    return kExitOk;
  }
  const Command* command = Find(first);
  if (!command) {
    io.err << "wgate: unknown command \"" << first << "\"" << Suggest(first) << "\n\n";
    PrintProgramHelp(io.err);
    return kExitUsage;
  }
  std::vector<std::string_view> args(argv.begin() + 2, argv.end());
  return command->run(args, io);
}

}  // namespace wgate::cli
