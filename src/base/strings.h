// Small string helpers (GCC 12 has no std::format).
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace wgate {

// Concatenates anything that streams: StrCat("port ", 70000, " out of range").
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// Strips ASCII whitespace (space, tab, CR, LF, VT, FF) at both ends.
std::string_view TrimSpace(std::string_view s);

// Splits on `sep`, trimming each piece; "a, b,,c" -> {"a", "b", "", "c"}. "" -> {""}.
std::vector<std::string_view> SplitTrimmed(std::string_view s, char sep);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The parts with `separator` between them ("" for none).
std::string Join(const std::vector<std::string>& parts, std::string_view separator);
std::string ToLower(std::string_view s);

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace wgate
