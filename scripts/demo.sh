#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine (as root): installs what it needs, builds wgate, and
# runs it on an embedded default. For now: `wgate check` on a sample provider-style config, with
# a key pair made on the spot, then on the classic broken config that makes wg-quick fail open.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release wgate
wgate=build/release/src/cli/wgate

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
server_key=$(wg genkey)
cat >"$work/wg0.conf" <<CONF
[Interface]
PrivateKey = $(wg genkey)
Address = 10.64.114.74/32, fd00:64::74/128
DNS = 10.64.0.1

[Peer]
PublicKey = $(echo "$server_key" | wg pubkey)
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 198.51.100.178:51820
CONF
echo "== wgate check on a provider-style config"
"$wgate" check "$work/wg0.conf"

sed 's/^Address = .*/Address  # the malformed line that makes wg-quick fail open/' "$work/wg0.conf" >"$work/broken.conf"
echo
echo "== wgate check on the config that makes wg-quick fail open (exit code 1 expected)"
set +e
"$wgate" check "$work/broken.conf"
rc=$?
set -e
echo "exit code: $rc"
[ "$rc" = 1 ]
