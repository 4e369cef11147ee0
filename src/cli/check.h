// `wgate check [--env] FILE...`: parse and validate wg-quick configs, or the config from the
// environment, print a summary or every error.
#pragma once

#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "config/env_config.h"
#include "config/settings.h"

namespace wgate::cli {

extern const char kCheckHelp[];
// Reads the process environment and the real secret files.
int RunCheck(const std::vector<std::string_view>& args, Io io);
// The same over a given environment and secret reader (for tests).
int RunCheckIn(const std::vector<std::string_view>& args, Io io, const config::Environment& env,
               const config::SecretReader& read_secret);

}  // namespace wgate::cli
