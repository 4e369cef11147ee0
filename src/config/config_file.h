// Reads a wg-quick file from disk and parses it. The only part of src/config that does I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "config/wg_quick_parser.h"

namespace wgate::config {

// Files larger than this are refused: a config is a few hundred bytes, and reading /dev/zero
// must not hang the daemon.
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// Errors (all as diagnostics with the path as source): missing, unreadable, a directory, too
// large. Warns, like wg-quick, when the file is readable or writable by others.
ParseResult LoadWgQuickFile(const std::string& path);

// A Docker secret (the file a *_SECRETFILE variable names) is at most this large.
inline constexpr size_t kMaxSecretBytes = 64 << 10;

// The content of a secret file, for ParseEnvConfig. The error is only the reason, to follow the
// quoted path: "No such file or directory", "Is a directory", "is larger than 65536 bytes".
Result<std::string> ReadSecretFile(const std::string& path);

// The interface name wg-quick derives from a config path: the file name without ".conf"
// (/config/wg0.conf -> wg0), when that is a valid interface name; else nullopt.
std::optional<std::string> InterfaceNameFromPath(std::string_view path);

// What follows a quoted bad interface name in an error.
inline constexpr char kNotAnInterfaceName[] =
    "is not an interface name (1-15 characters of letters, digits and _=+.-)";

// WGATE_INTERFACE (`setting`) if set, else the config's file name as wg-quick derives it, else
// "wg0". An invalid WGATE_INTERFACE is an error quoting it.
Result<std::string> ChooseInterfaceName(const std::optional<std::string>& setting,
                                        std::string_view config_path);

// 1-15 characters of [a-zA-Z0-9_=+.-], as wg-quick requires (and never "." or "..").
bool IsValidInterfaceName(std::string_view name);

}  // namespace wgate::config
