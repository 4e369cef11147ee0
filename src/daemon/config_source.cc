#include "daemon/config_source.h"

#include <dirent.h>

#include <algorithm>
#include <vector>

#include "config/config_file.h"
#include "daemon/file_util.h"

namespace wgate::daemon {

ConfigLocation FindConfig(const std::optional<std::string>& flag,
                          const std::optional<std::string>& env, const std::string& config_dir) {
  if (flag) return {*flag, "--config"};
  if (env) return {*env, "WGATE_CONFIG"};
  std::string wg0 = config_dir + "/wg0.conf";
  if (FileExists(wg0)) return {wg0, "default"};
  std::string confs = config_dir + "/wg_confs";
  std::vector<std::string> names;
  if (DIR* d = opendir(confs.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0) names.push_back(n);
    }
    closedir(d);
  }
  if (!names.empty()) {
    std::sort(names.begin(), names.end());
    return {confs + "/" + names.front(), "default"};
  }
  return {wg0, "default"};
}

Result<std::string> ChooseInterfaceName(const std::optional<std::string>& env,
                                        const std::string& config_path) {
  if (env) {
    if (!config::IsValidInterfaceName(*env)) {
      return Error("WGATE_INTERFACE: \"" + *env +
                   "\" is not an interface name (1-15 characters of letters, digits and _=+.-)");
    }
    return *env;
  }
  return config::InterfaceNameFromPath(config_path).value_or("wg0");
}

}  // namespace wgate::daemon
