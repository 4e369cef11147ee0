#include "cli/check.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/exit_codes.h"
#include "cli/summary.h"
#include "config/config_file.h"
#include "config/env_config.h"
#include "config/settings.h"

extern char** environ;

namespace wgate::cli {

const char kCheckHelp[] =
    "usage: wgate check [--json] [--env] [FILE...]\n"
    "\n"
    "Parses and validates wg-quick configuration files, as `wgate run` would read them.\n"
    "With --env, validates the config from the environment (gluetun's WIREGUARD_* variables)\n"
    "and the settings (WGATE_*, and gluetun's FIREWALL_* names for them) the same way.\n"
    "On success prints a summary (interface addresses, DNS, MTU, peers with endpoint and\n"
    "allowed IPs, the public key derived from the private key; never a private or preshared\n"
    "key) and exits 0. Otherwise prints every error as FILE:LINE: message (VARIABLE: message\n"
    "for the environment) and exits 1.\n"
    "\n"
    "  --env    check the config from the environment and the settings, before any FILE\n"
    "  --json   print the results as a JSON array, one object per file (and the environment)\n";

namespace {

nlohmann::json DiagnosticsJson(const config::Diagnostics& d, bool errors) {
  nlohmann::json a = nlohmann::json::array();
  for (const config::Diagnostic& x : d.all()) {
    if (x.is_error() != errors) continue;
    a.push_back(
        {{"source", x.source}, {"line", x.line}, {"message", x.message}, {"text", x.ToString()}});
  }
  return a;
}

// One checked input: a file, or the environment.
struct Checked {
  std::string source;  // the file's path, or "environment"
  bool is_file = true;
  config::ParseResult result;
  std::string interface_name;
  bool valid() const { return result.config && !result.diagnostics.has_errors(); }
};

// The environment as `wgate run` reads it: settings first (an error there blocks the run as
// surely as one in the config), then the config from the WIREGUARD_* variables.
Checked CheckEnvironment(const config::Environment& env, const config::SecretReader& read_secret) {
  Checked c;
  c.source = config::kEnvironmentSource;
  c.is_file = false;
  config::SettingsResult settings = config::ReadSettings(env);
  config::ParseResult parsed = config::ParseEnvConfig(env, read_secret);
  c.result.diagnostics = std::move(settings.diagnostics);
  if (settings.settings.config_path) {
    c.result.diagnostics.Warning(
        config::kEnvironmentSource, 0,
        StrCat("WGATE_CONFIG is set: `wgate run` reads ", *settings.settings.config_path,
               ", not the WIREGUARD_* variables"));
  }
  c.result.diagnostics.Append(parsed.diagnostics);
  c.result.config = std::move(parsed.config);
  // The DNS `wgate run` uses for this form (WGATE_DNS), so that the summary shows it.
  if (c.result.config && c.result.config->interface.dns_servers.empty()) {
    c.result.config->interface.dns_servers = settings.settings.dns;
  }
  c.interface_name = settings.settings.interface.value_or("wg0");
  return c;
}

}  // namespace

int RunCheck(const std::vector<std::string_view>& args, Io io) {
  return RunCheckIn(args, io, config::WgateEnvironment(environ), config::ReadSecretFile);
}

int RunCheckIn(const std::vector<std::string_view>& args, Io io, const config::Environment& env,
               const config::SecretReader& read_secret) {
  bool json = false;
  bool check_env = false;
  std::vector<std::string> files;
  bool options_done = false;
  for (std::string_view a : args) {
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && a == "--json") {
      json = true;
    } else if (!options_done && a == "--env") {
      check_env = true;
    } else if (!options_done && (a == "--help" || a == "-h")) {
      io.out << kCheckHelp;
      return kExitOk;
    } else if (!options_done && a.size() > 1 && a[0] == '-') {
      std::string hint;
      for (std::string_view known : {"--json", "--env"}) {
        if (hint.empty() && EditDistance(a, known) <= 2)
          hint = StrCat("; did you mean ", known, "?");
      }
      io.err << "wgate check: unknown option \"" << a << "\"" << hint << "\n" << kCheckHelp;
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty() && !check_env) {
    io.err << "wgate check: no FILE given (and no --env)\n" << kCheckHelp;
    return kExitUsage;
  }

  std::vector<Checked> checked;
  if (check_env) checked.push_back(CheckEnvironment(env, read_secret));
  for (const std::string& path : files) {
    Checked& c = checked.emplace_back();
    c.source = path;
    c.result = config::LoadWgQuickFile(path);
    c.interface_name = config::InterfaceNameFromPath(path).value_or("");
  }

  bool all_valid = true;
  bool printed_summary = false;
  nlohmann::json results = nlohmann::json::array();
  for (const Checked& c : checked) {
    const config::ParseResult& r = c.result;
    all_valid &= c.valid();
    if (json) {
      nlohmann::json item = {{"source", c.source},
                             {"valid", c.valid()},
                             {"errors", DiagnosticsJson(r.diagnostics, true)},
                             {"warnings", DiagnosticsJson(r.diagnostics, false)}};
      if (c.is_file) item["file"] = c.source;
      if (c.valid()) item.update(SummaryJson(*r.config, c.interface_name));
      results.push_back(std::move(item));
      continue;
    }
    for (const config::Diagnostic& d : r.diagnostics.all()) io.err << d.ToString() << "\n";
    if (!c.valid()) {
      io.err << c.source << ": " << r.diagnostics.error_count()
             << (r.diagnostics.error_count() == 1 ? " error" : " errors")
             << "; the config was not accepted\n";
      continue;
    }
    if (printed_summary) io.out << "\n";
    printed_summary = true;
    io.out << c.source << ": valid\n" << FormatSummary(*r.config, c.interface_name);
  }
  if (json) io.out << results.dump(2) << "\n";
  return all_valid ? kExitOk : kExitInvalid;
}

}  // namespace wgate::cli
