// libFuzzer target: the wg-quick parser, the settings reader and the environment form (gluetun's
// WIREGUARD_* variables) take any bytes without crashing, and their results keep their
// invariants; the environment form never shows its private key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/strings.h"
#include "config/env_config.h"
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

  // Secret files: a path names another variable of the input, whose value is the content.
  auto read_secret = [&env](const std::string& path) -> wgate::Result<std::string> {
    auto it = env.find(path);
    if (it == env.end()) return wgate::Error("No such file or directory");
    return it->second;
  };
  wgate::config::ParseResult e = wgate::config::ParseEnvConfig(env, read_secret);
  WGATE_CHECK(e.config.has_value() == !e.diagnostics.has_errors());
  if (e.config) {
    WGATE_CHECK(e.config->source == "environment");
    WGATE_CHECK(e.config->peers.size() == 1);
    WGATE_CHECK(e.config->peers[0].endpoint && e.config->peers[0].endpoint->port != 0);
    WGATE_CHECK(!e.config->interface.addresses.empty());
    for (const auto& prefix : e.config->peers[0].allowed_ips)
      WGATE_CHECK(prefix.Network() == prefix);
  }
  // A key-like private key (16+ base64 characters) that no other variable holds never appears in
  // a diagnostic: no fixed text has such a run, so finding it means the key was quoted.
  auto key = env.find("WIREGUARD_PRIVATE_KEY");
  std::string_view k = key == env.end() ? "" : wgate::TrimSpace(key->second);
  bool key_like = k.size() >= 16 && k.find_first_not_of(
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                        "qrstuvwxyz0123456789+/=") == std::string_view::npos;
  for (const auto& [name, value] : env) {
    if (name != "WIREGUARD_PRIVATE_KEY" &&
        (name.find(k) != std::string::npos || value.find(k) != std::string::npos)) {
      key_like = false;
    }
  }
  for (const auto& d : e.diagnostics.all()) {
    std::string text = d.ToString();
    if (key_like) WGATE_CHECK(text.find(k) == std::string::npos);
  }
  return 0;
}
