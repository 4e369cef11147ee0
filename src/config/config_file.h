// Reads a wg-quick file from disk and parses it. The only part of src/config that does I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/wg_quick_parser.h"

namespace wgate::config {

// Files larger than this are refused: a config is a few hundred bytes, and reading /dev/zero
// must not hang the daemon.
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// Errors (all as diagnostics with the path as source): missing, unreadable, a directory, too
// large. Warns, like wg-quick, when the file is readable or writable by others.
ParseResult LoadWgQuickFile(const std::string& path);

// The interface name wg-quick derives from a config path: the file name without ".conf"
// (/config/wg0.conf -> wg0), when that is a valid interface name; else nullopt.
std::optional<std::string> InterfaceNameFromPath(std::string_view path);

// 1-15 characters of [a-zA-Z0-9_=+.-], as wg-quick requires (and never "." or "..").
bool IsValidInterfaceName(std::string_view name);

}  // namespace wgate::config
