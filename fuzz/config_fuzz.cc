// libFuzzer target: the wg-quick parser and the settings reader take any bytes without crashing,
// and their results keep their invariants.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "config/settings.h"
#include "config/wg_quick_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  wgate::config::ParseResult r = wgate::config::ParseWgQuick(text, "fuzz.conf");
  // A config comes back exactly when there is no error.
  WGATE_CHECK(r.config.has_value() == !r.diagnostics.has_errors());
  for (const auto& d : r.diagnostics.all()) (void)d.ToString();
  if (r.config) {
    WGATE_CHECK(r.config->interface.line > 0);
    for (const auto& p : r.config->peers) {
      for (const auto& prefix : p.allowed_ips) WGATE_CHECK(prefix.Network() == prefix);
    }
  }

  // The same bytes as NAME=value lines for the environment reader.
  wgate::config::Environment env;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    size_t eq = line.find('=');
    if (eq != std::string_view::npos)
      env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  wgate::config::SettingsResult s = wgate::config::ReadSettings(env);
  for (const auto& d : s.diagnostics.all()) (void)d.ToString();
  return 0;
}
