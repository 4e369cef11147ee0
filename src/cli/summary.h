// What `wgate check` shows of a valid config: never the private or preshared key.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/wg_config.h"

namespace wgate::cli {

// Text in the spirit of `wg show`: an "interface:" block then one "peer:" block per peer.
// `interface_name` may be empty when the file name gives none.
std::string FormatSummary(const config::WgConfig& config, const std::string& interface_name);

// The same facts as JSON: {"interface": {...}, "peers": [...]}.
nlohmann::json SummaryJson(const config::WgConfig& config, const std::string& interface_name);

}  // namespace wgate::cli
