// gluetun's WireGuard variables -> WgConfig: a config for people who keep everything in compose.
//
// The result is what ParseWgQuick makes of the equivalent file (one [Interface], one [Peer] with
// an Endpoint), so everything downstream is the same; its source is "environment". DNS is not
// part of it: WGATE_DNS supplies it, as for a file without a DNS line.
//
//   WIREGUARD_PRIVATE_KEY       required; the interface's key
//   WIREGUARD_ADDRESSES         required; comma-separated CIDRs of the interface
//   WIREGUARD_PUBLIC_KEY        required; the server's key
//   WIREGUARD_PRESHARED_KEY     optional
//   WIREGUARD_ENDPOINT_IP       required (alias VPN_ENDPOINT_IP); an IP address or a host name
//   VPN_ENDPOINT_PORT           default 51820 (alias WIREGUARD_ENDPOINT_PORT)
//   WIREGUARD_ALLOWED_IPS       default 0.0.0.0/0,::/0
//   WIREGUARD_MTU               default: from the uplink
//   WIREGUARD_PERSISTENT_KEEPALIVE_INTERVAL  default 0 (off); seconds or a Go duration (25s, 1m)
// The first four also come as NAME_SECRETFILE (Docker secrets): the variable holds a path and the
// file's content, surrounding whitespace trimmed, is the value. Setting both forms is an error, as
// are the two names of the endpoint (or of its port) with different values.
//
// Diagnostics about one variable have that variable as source and quote the value
// (`VPN_ENDPOINT_PORT: "99999" is out of range 1-65535`), or, for a value read from a secret
// file, the path (`WIREGUARD_ADDRESSES_SECRETFILE: "/run/secrets/a": "10.0.0.1/33" is not...`).
// Key material is never quoted: `WIREGUARD_PRIVATE_KEY: not a valid key: is all zeros (value not
// shown)`. Diagnostics about several variables have the source "environment". Every error is
// collected, not just the first. Unknown WIREGUARD_* and VPN_ENDPOINT_* names are warned about.
//
// Pure: the environment is passed in and secret files are read through `read_secret`, so tests
// pass a fake and the fuzzer runs it; the daemon and the CLI pass config::ReadSecretFile.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "config/settings.h"
#include "config/wg_quick_parser.h"

namespace wgate::config {

// The source of a config from the environment, and of diagnostics about several variables.
inline constexpr char kEnvironmentSource[] = "environment";

// A secret file's content, or the reason it cannot be read ("No such file or directory").
using SecretReader = std::function<Result<std::string>(const std::string& path)>;

// True when WIREGUARD_PRIVATE_KEY or WIREGUARD_PRIVATE_KEY_SECRETFILE is set (and not empty):
// then the environment holds a config.
bool HasEnvConfig(const Environment& env);

// The variables of the environment form that are set (WIREGUARD_*, VPN_ENDPOINT_*), by name.
std::vector<std::string> EnvConfigVariablesSet(const Environment& env);

ParseResult ParseEnvConfig(const Environment& env, const SecretReader& read_secret);

}  // namespace wgate::config
