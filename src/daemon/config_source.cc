#include "daemon/config_source.h"

#include <dirent.h>

#include <algorithm>
#include <vector>

#include "base/strings.h"
#include "config/config_file.h"
#include "config/env_config.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

namespace {

// The default file in `config_dir`, if there is one.
std::optional<std::string> DefaultFile(const std::string& config_dir) {
  std::string wg0 = config_dir + "/wg0.conf";
  if (FileExists(wg0)) return wg0;
  std::string confs = config_dir + "/wg_confs";
  std::vector<std::string> names;
  if (DIR* d = opendir(confs.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0) names.push_back(n);
    }
    closedir(d);
  }
  if (names.empty()) return std::nullopt;
  return confs + "/" + *std::min_element(names.begin(), names.end());
}

// "WIREGUARD_A, WIREGUARD_B are ignored: why (reading FILE)", or "" with none set.
std::string IgnoredWarning(const config::Environment& env, std::string_view why,
                           const std::string& path) {
  std::vector<std::string> names = config::EnvConfigVariablesSet(env);
  if (names.empty()) return "";
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return StrCat(list, names.size() == 1 ? " is" : " are", " ignored: ", why, " (reading ", path,
                ")");
}

}  // namespace

ConfigLocation FindConfig(const std::optional<std::string>& flag,
                          const std::optional<std::string>& config_env,
                          const config::Environment& env, const std::string& config_dir) {
  constexpr std::string_view kOverEnv = " takes precedence over a config from the environment";
  if (flag) {
    return {false, *flag, "--config", IgnoredWarning(env, StrCat("--config", kOverEnv), *flag)};
  }
  if (config_env) {
    return {false, *config_env, "WGATE_CONFIG",
            IgnoredWarning(env, StrCat("WGATE_CONFIG", kOverEnv), *config_env)};
  }
  std::optional<std::string> file = DefaultFile(config_dir);
  if (config::HasEnvConfig(env)) {
    std::string warning =
        file ? StrCat(*file,
                      " is ignored: the config comes from the WIREGUARD_* variables, which take "
                      "precedence over ",
                      config_dir, " (set WGATE_CONFIG to use the file)")
             : "";
    return {true, config::kEnvironmentSource, "environment", warning};
  }
  std::string path = file.value_or(config_dir + "/wg0.conf");
  return {false, path, "default",
          IgnoredWarning(env,
                         "a config comes from the environment only when WIREGUARD_PRIVATE_KEY or "
                         "WIREGUARD_PRIVATE_KEY_SECRETFILE is set",
                         path)};
}

Result<std::string> ChooseInterfaceName(const std::optional<std::string>& env,
                                        const std::string& config_path) {
  return config::ChooseInterfaceName(env, config_path);
}

}  // namespace wgate::daemon
