// `wgate engine [-f] INTERFACE`: run only the userspace WireGuard engine on a new TUN interface,
// configured through the UAPI socket (wg set / wg setconf), like `wireguard-go [-f] INTERFACE`.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "wg/constants.h"

namespace wgate::cli {

extern const char kEngineHelp[];
int RunEngine(const std::vector<std::string_view>& args, Io io);

// TEST ONLY. Parses WGATE_TEST_TIMINGS ("rekey_after_time=2000,reject_after_time=3000,..."; keys
// are wg::Timings field names, durations in milliseconds, rekey_after_messages and
// reject_after_messages as counts) over the spec defaults. nullopt and *why on a bad entry.
std::optional<wg::Timings> ParseTestTimings(std::string_view text, std::string* why);

}  // namespace wgate::cli
