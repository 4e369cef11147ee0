// Which config file `wgate run` reads, and which interface name it gives the tunnel.
//
// Order: --config FILE, else WGATE_CONFIG, else /config/wg0.conf, else the first *.conf (by name)
// in /config/wg_confs/ (the layout of the popular linuxserver.io image).
#pragma once

#include <optional>
#include <string>

#include "base/error.h"

namespace wgate::daemon {

struct ConfigLocation {
  std::string path;
  std::string how;  // "--config", "WGATE_CONFIG", "default"
};

// Never fails: with nothing found it returns the default path, which then fails to load with
// "no such file" (and the daemon stays locked, waiting for it to appear).
ConfigLocation FindConfig(const std::optional<std::string>& flag,
                          const std::optional<std::string>& env,
                          const std::string& config_dir = "/config");

// WGATE_INTERFACE if set, else the config file's name as wg-quick derives it, else "wg0".
// An invalid WGATE_INTERFACE is an error quoting it.
Result<std::string> ChooseInterfaceName(const std::optional<std::string>& env,
                                        const std::string& config_path);

}  // namespace wgate::daemon
