#include "cli/check.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/exit_codes.h"
#include "cli/summary.h"
#include "config/config_file.h"

namespace wgate::cli {

const char kCheckHelp[] =
    "usage: wgate check [--json] FILE...\n"
    "\n"
    "Parses and validates wg-quick configuration files, as `wgate run` would read them.\n"
    "On success prints a summary (interface addresses, DNS, MTU, peers with endpoint and\n"
    "allowed IPs, the public key derived from the private key; never a private or preshared\n"
    "key) and exits 0. Otherwise prints every error as FILE:LINE: message and exits 1.\n"
    "\n"
    "  --json   print the results as a JSON array, one object per file\n";

namespace {

nlohmann::json DiagnosticsJson(const config::Diagnostics& d, bool errors) {
  nlohmann::json a = nlohmann::json::array();
  for (const config::Diagnostic& x : d.all()) {
    if (x.is_error() != errors) continue;
    a.push_back({{"line", x.line}, {"message", x.message}, {"text", x.ToString()}});
  }
  return a;
}

}  // namespace

int RunCheck(const std::vector<std::string_view>& args, Io io) {
  bool json = false;
  std::vector<std::string> files;
  bool options_done = false;
  for (std::string_view a : args) {
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && a == "--json") {
      json = true;
    } else if (!options_done && (a == "--help" || a == "-h")) {
      io.out << kCheckHelp;
      return kExitOk;
    } else if (!options_done && a.size() > 1 && a[0] == '-') {
      io.err << "wgate check: unknown option \"" << a << "\""
             << (EditDistance(a, "--json") <= 2 ? "; did you mean --json?" : "") << "\n"
             << kCheckHelp;
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.empty()) {
    io.err << "wgate check: no FILE given\n" << kCheckHelp;
    return kExitUsage;
  }

  bool all_valid = true;
  bool printed_summary = false;
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& path : files) {
    config::ParseResult r = config::LoadWgQuickFile(path);
    std::string name = config::InterfaceNameFromPath(path).value_or("");
    all_valid &= r.config.has_value();
    if (json) {
      nlohmann::json item = {{"file", path},
                             {"valid", r.config.has_value()},
                             {"errors", DiagnosticsJson(r.diagnostics, true)},
                             {"warnings", DiagnosticsJson(r.diagnostics, false)}};
      if (r.config) item.update(SummaryJson(*r.config, name));
      results.push_back(std::move(item));
      continue;
    }
    for (const config::Diagnostic& d : r.diagnostics.all()) io.err << d.ToString() << "\n";
    if (!r.config) {
      io.err << path << ": " << r.diagnostics.error_count()
             << (r.diagnostics.error_count() == 1 ? " error" : " errors")
             << "; the config was not accepted\n";
      continue;
    }
    if (printed_summary) io.out << "\n";
    printed_summary = true;
    io.out << path << ": valid\n" << FormatSummary(*r.config, name);
  }
  if (json) io.out << results.dump(2) << "\n";
  return all_valid ? kExitOk : kExitInvalid;
}

}  // namespace wgate::cli
