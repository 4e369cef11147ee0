#include "config/value_parsers.h"

#include <cctype>

#include "base/strings.h"

namespace wgate::config {

namespace {

std::optional<uint64_t> ParseDigits(std::string_view text, int base, uint64_t min, uint64_t max,
                                    std::string* why) {
  auto digit = [base](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (base == 16 && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t i = 0;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < text.size() && digit(text[i]) >= 0; ++i) {
    uint64_t next = v * base + digit(text[i]);
    if (next / base != v) overflow = true;
    v = overflow ? max : next;
    if (v > max) overflow = true;
  }
  if (i == 0) {
    *why = "is not a number";
    return std::nullopt;
  }
  if (i < text.size()) {
    *why = StrCat("has an unexpected trailing \"", text.substr(i), "\"");
    return std::nullopt;
  }
  if (overflow || v < min || v > max) {
    *why = StrCat("is out of range ", min, "-", max);
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<uint64_t> ParseUnsigned(std::string_view text, uint64_t min, uint64_t max,
                                      std::string* why) {
  return ParseDigits(text, 10, min, max, why);
}

std::optional<uint64_t> ParseUnsignedAnyBase(std::string_view text, uint64_t max,
                                             std::string* why) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return ParseDigits(text.substr(2), 16, 0, max, why);
  }
  return ParseDigits(text, 10, 0, max, why);
}

bool IsDomainName(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  size_t label = 0;
  for (char c : text) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

}  // namespace wgate::config
