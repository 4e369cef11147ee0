// `wgate run`, `wgate hold`, `wgate status`, `wgate down`, `wgate unblock`: the gateway daemon,
// the namespace holder and their controls.
#pragma once

#include <string_view>
#include <vector>

#include "cli/cli.h"

namespace wgate::cli {

extern const char kRunHelp[];
extern const char kHoldHelp[];
extern const char kStatusHelp[];
extern const char kDownHelp[];
extern const char kUnblockHelp[];

int RunRun(const std::vector<std::string_view>& args, Io io);
int RunHold(const std::vector<std::string_view>& args, Io io);
int RunStatus(const std::vector<std::string_view>& args, Io io);
int RunDown(const std::vector<std::string_view>& args, Io io);
int RunUnblock(const std::vector<std::string_view>& args, Io io);

}  // namespace wgate::cli
