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

// Saturating arithmetic for durations: anything past kSaturated is out of range anyway.
constexpr uint64_t kSaturated = uint64_t{1} << 62;
uint64_t SatMul(uint64_t a, uint64_t b) {
  return b != 0 && a > kSaturated / b ? kSaturated : a * b;
}
uint64_t SatAdd(uint64_t a, uint64_t b) { return a + b > kSaturated ? kSaturated : a + b; }

// The nanoseconds of a Go duration unit at the start of `text`; sets *length.
uint64_t DurationUnit(std::string_view text, size_t* length) {
  static constexpr struct {
    std::string_view name;
    uint64_t nanos;
  } kUnits[] = {{"ns", 1},           {"us", 1000},      {"\xC2\xB5s", 1000},  // U+00B5 micro sign
                {"\xCE\xBCs", 1000},                                          // U+03BC Greek mu
                {"ms", 1000000},     {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000}};
  for (const auto& u : kUnits) {
    if (text.substr(0, u.name.size()) == u.name) {
      *length = u.name.size();
      return u.nanos;
    }
  }
  return 0;
}

}  // namespace

std::optional<uint64_t> ParseSeconds(std::string_view text, uint64_t max, std::string* why) {
  bool bare = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (bare) {
    auto v = ParseUnsigned(text, 0, max, why);
    if (!v && why->rfind("is out of range", 0) == 0) *why += " seconds";
    return v;
  }
  constexpr uint64_t kNanosPerSecond = 1000000000;
  const std::string syntax =
      "is not a duration (expected seconds, or a number and a unit such as 25s or 1m)";
  uint64_t total = 0;
  bool whole = true;
  size_t i = 0;
  if (text.empty()) {
    *why = syntax;
    return std::nullopt;
  }
  while (i < text.size()) {
    uint64_t integer = 0;
    size_t start = i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      integer = SatAdd(SatMul(integer, 10), static_cast<uint64_t>(text[i] - '0'));
    }
    bool has_integer = i > start;
    // Up to 9 fraction digits are kept exactly (frac9 is the fraction in billionths); a non-zero
    // digit past them cannot make a whole number of seconds with any unit.
    uint64_t frac9 = 0;
    bool has_fraction = false;
    if (i < text.size() && text[i] == '.') {
      ++i;
      uint64_t scale = 100000000;
      for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        has_fraction = true;
        if (scale > 0) {
          frac9 += static_cast<uint64_t>(text[i] - '0') * scale;
          scale /= 10;
        } else if (text[i] != '0') {
          whole = false;
        }
      }
    }
    size_t unit_length = 0;
    uint64_t unit = i < text.size() ? DurationUnit(text.substr(i), &unit_length) : 0;
    if ((!has_integer && !has_fraction) || unit == 0) {
      *why = syntax;
      return std::nullopt;
    }
    i += unit_length;
    uint64_t frac_nanos;
    if (unit >= kNanosPerSecond) {
      frac_nanos = frac9 * (unit / kNanosPerSecond);
    } else {
      frac_nanos = frac9 * unit / kNanosPerSecond;
      if (frac9 * unit % kNanosPerSecond != 0) whole = false;
    }
    total = SatAdd(total, SatAdd(SatMul(integer, unit), frac_nanos));
  }
  bool too_large = total / kNanosPerSecond > max;  // also when saturated
  if (!too_large && (!whole || total % kNanosPerSecond != 0)) {
    *why = "is not a whole number of seconds";
    return std::nullopt;
  }
  if (too_large) {
    *why = StrCat("is out of range 0-", max, " seconds");
    return std::nullopt;
  }
  return total / kNanosPerSecond;
}

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
