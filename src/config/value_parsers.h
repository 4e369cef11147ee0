// Parsers for the value types shared by the config file and the environment: numbers, ports,
// CIDR lists, DNS names. Each returns nullopt and a reason phrase that the caller puts after the
// quoted value (`MTU "1420x" has an unexpected trailing "x"`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip.h"

namespace wgate::config {

// Unsigned decimal in [min, max]. why: `is not a number`, `has an unexpected trailing "x"`,
// `is out of range 1-65535`.
std::optional<uint64_t> ParseUnsigned(std::string_view text, uint64_t min, uint64_t max,
                                      std::string* why);

// Decimal or 0x-prefixed hexadecimal unsigned in [0, max].
std::optional<uint64_t> ParseUnsignedAnyBase(std::string_view text, uint64_t max, std::string* why);

// Whole seconds in [0, max], written as a bare number ("25") or as a Go duration, the form
// gluetun takes ("25s", "1m", "1m30s", "1.5h", "0"; units h, m, s, ms, us, µs, ns). why:
// `is not a duration (expected seconds, or a number and a unit such as 25s or 1m)`,
// `is not a whole number of seconds`, `is out of range 0-65535 seconds`.
std::optional<uint64_t> ParseSeconds(std::string_view text, uint64_t max, std::string* why);

// A host name or DNS search domain: dot-separated labels of letters, digits, '-' and '_', each
// 1-63 characters, 253 in all; one trailing dot allowed.
bool IsDomainName(std::string_view text);

}  // namespace wgate::config
