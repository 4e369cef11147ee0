// The wgate binary: process set-up only; everything else is in RunCli.
#include <iostream>
#include <string_view>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv, argv + argc);
  return wgate::cli::RunCli(args, {std::cout, std::cerr});
}
