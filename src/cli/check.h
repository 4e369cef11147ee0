// `wgate check FILE...`: parse and validate wg-quick configs, print a summary or every error.
#pragma once

#include <string_view>
#include <vector>

#include "cli/cli.h"

namespace wgate::cli {

extern const char kCheckHelp[];
int RunCheck(const std::vector<std::string_view>& args, Io io);

}  // namespace wgate::cli
