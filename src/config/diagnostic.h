// Diagnostics: what the config layer says about its input, with where it came from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wgate::config {

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string source;  // file path, or the environment variable's name
  int line = 0;        // 1-based; 0 when the input has no lines (environment, a whole file)
  std::string message;

  bool is_error() const { return severity == Severity::kError; }
  // "wg0.conf:3: message", "wg0.conf: message" (line 0), "warning: " prefix for warnings.
  std::string ToString() const;
};

// Every run of 40 or more base64 characters (a WireGuard key is 43 and a '=') becomes
// "(key-like value not shown)": whatever path built a message, it never carries key material.
inline constexpr size_t kKeyLikeRun = 40;
std::string RedactKeyLike(std::string_view text);

// Collects diagnostics; messages pass through RedactKeyLike.
class Diagnostics {
 public:
  void Error(std::string source, int line, std::string message);
  void Warning(std::string source, int line, std::string message);
  const std::vector<Diagnostic>& all() const { return items_; }
  bool has_errors() const;
  size_t error_count() const;
  void Append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace wgate::config
