#include "config/diagnostic.h"

#include <algorithm>

#include "base/strings.h"

namespace wgate::config {

std::string Diagnostic::ToString() const {
  std::string where = line > 0 ? StrCat(source, ":", line, ": ") : StrCat(source, ": ");
  return where + (is_error() ? "" : "warning: ") + message;
}

void Diagnostics::Error(std::string source, int line, std::string message) {
  items_.push_back({Diagnostic::Severity::kError, std::move(source), line, std::move(message)});
}

void Diagnostics::Warning(std::string source, int line, std::string message) {
  items_.push_back({Diagnostic::Severity::kWarning, std::move(source), line, std::move(message)});
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
