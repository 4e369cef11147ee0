#include "config/diagnostic.h"

#include <algorithm>

#include "base/strings.h"

namespace wgate::config {

std::string Diagnostic::ToString() const {
  std::string where = line > 0 ? StrCat(source, ":", line, ": ") : StrCat(source, ": ");
  return where + (is_error() ? "" : "warning: ") + message;
}

std::string RedactKeyLike(std::string_view text) {
  auto is_b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t run = 0;
    while (i + run < text.size() && is_b64(text[i + run])) ++run;
    if (run >= kKeyLikeRun) {
      out += "(key-like value not shown)";
      i += run;
      while (i < text.size() && text[i] == '=') ++i;
    } else if (run > 0) {
      out.append(text.substr(i, run));
      i += run;
    } else {
      out += text[i++];
    }
  }
  return out;
}

void Diagnostics::Error(std::string source, int line, std::string message) {
  items_.push_back({Diagnostic::Severity::kError, std::move(source), line, RedactKeyLike(message)});
}

void Diagnostics::Warning(std::string source, int line, std::string message) {
  items_.push_back(
      {Diagnostic::Severity::kWarning, std::move(source), line, RedactKeyLike(message)});
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.is_error(); });
}

void Diagnostics::Append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

}  // namespace wgate::config
