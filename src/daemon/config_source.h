// Where `wgate run` gets its config, and which interface name it gives the tunnel.
//
// Precedence, first match wins:
//  1. --config FILE
//  2. WGATE_CONFIG=FILE
//  3. the environment form (config/env_config.h: gluetun's WIREGUARD_* variables), when
//     WIREGUARD_PRIVATE_KEY or WIREGUARD_PRIVATE_KEY_SECRETFILE is set
//  4. /config/wg0.conf, when it exists
//  5. the first *.conf (by name) in /config/wg_confs/ (the layout of the linuxserver.io image)
//  6. else /config/wg0.conf, which then fails to load with "no such file"
// A file that wins while WIREGUARD_* or VPN_ENDPOINT_* variables are set gets one warning that
// they are ignored and why; the environment form winning over an existing default file gets one
// warning too. Either way the user learns which config is in effect.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "config/settings.h"

namespace wgate::daemon {

struct ConfigLocation {
  bool from_environment = false;  // the environment form: there is no file (to read or watch)
  std::string path;               // the file, or "environment" for the environment form
  std::string how;                // "--config", "WGATE_CONFIG", "environment", "default"
  std::string warning;            // empty, or what is ignored and why
};

// Never fails: with nothing found it returns the default path (and the daemon stays locked,
// waiting for it to appear). `config_env` is WGATE_CONFIG; `env` the whole environment.
ConfigLocation FindConfig(const std::optional<std::string>& flag,
                          const std::optional<std::string>& config_env,
                          const config::Environment& env,
                          const std::string& config_dir = "/config");

// WGATE_INTERFACE if set, else the config file's name as wg-quick derives it, else "wg0" (always
// for the environment form). An invalid WGATE_INTERFACE is an error quoting it.
Result<std::string> ChooseInterfaceName(const std::optional<std::string>& env,
                                        const std::string& config_path);

}  // namespace wgate::daemon
