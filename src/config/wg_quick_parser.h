// The wg-quick configuration format -> WgConfig. Pure: text in, config and diagnostics out; no I/O,
// so it is fuzzable.
//
// Accepts what wg-quick and `wg setconf` accept: case-insensitive keys and section names, `#`
// comments, blank lines, surrounding spaces, CRLF line ends, a UTF-8 byte order mark. Collects
// every error rather than stopping at the first. Messages quote the offending value, except key
// material, which is never quoted (a PublicKey line may hold a pasted private key).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/diagnostic.h"
#include "config/wg_config.h"

namespace wgate::config {

struct ParseResult {
  std::optional<WgConfig> config;  // set only when there is no error
  Diagnostics diagnostics;         // errors and warnings, in line order
};

// `source` names the input in diagnostics (usually the file path).
ParseResult ParseWgQuick(std::string_view text, std::string source);

}  // namespace wgate::config
