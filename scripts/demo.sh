#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine (as root): installs what it needs, builds wgate, and
# tells the story in network namespaces made for the occasion (removed at the end):
#   a local VPN server (Debian's wireguard-go), the gateway (`wgate run`), a consumer in the
#   gateway's namespace fetching a page through the tunnel; the tunnel killed and the consumer
#   blocked; the tunnel back; wgate itself SIGKILLed and the lockdown holding.
# A counter on the far side of the gateway's uplink counts every packet that is not WireGuard's
# encrypted UDP to the server: it must stay at zero.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: run as root (it creates network namespaces and firewall rules)" >&2
  exit 2
fi
scripts/setup.sh
scripts/build.sh release wgate >/dev/null
WGATE_BIN=$PWD/build/release/src/cli/wgate

source tests/lib.sh
trap wg_cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fetch() { consumer_fetch "${1:-3}" || true; }
show_fetch() {
  local seen
  seen=$(fetch "$@")
  echo "consumer> curl http://$SERVICE_ADDR:$SERVICE_PORT/  ->  ${seen:-(no answer: blocked)}"
}

say "Setting up: VPN server namespace $NS_SRV (wireguard-go), gateway namespace $NS_GW"
wg_setup "$WGATE_BIN"
echo "The service at $SERVICE_ADDR answers with the source address it sees:"
echo "  198.51.100.2 = through the tunnel, 192.0.2.2 = in the clear (a leak)."

say "The config the gateway will use"
in_gw "$WGATE_BIN" check "$WG_CONF"

say "wgate run: lockdown first, then the tunnel"
start=$(date +%s%N)
wg_start_gateway
wait_state connected
echo "connected in $((($(date +%s%N) - start) / 1000000)) ms (lockdown, config, engine, routes, first handshake)"
in_gw "$WGATE_BIN" status
show_fetch
echo "leaked packets so far: $(leaked)"

say "The VPN server dies: the consumer is blocked, nothing leaks"
wg_stop_server
sleep 1
show_fetch 2
echo "leaked packets: $(leaked)"

say "The VPN server comes back: the tunnel recovers by itself"
start=$(date +%s)
wg_start_server
until [ "$(fetch 2)" = 198.51.100.2 ]; do
  [ $(($(date +%s) - start)) -lt 60 ] || { echo "no recovery within 60 s"; exit 1; }
  sleep 1
done
echo "recovered after $(($(date +%s) - start)) s"
show_fetch

say "wgate itself is SIGKILLed: the rules outlive it"
kill -9 "$WGATE_PID"
wait "$WGATE_PID" 2>/dev/null || true
show_fetch 2
echo "leaked packets: $(leaked)"

say "A malformed config (the line that makes wg-quick fail open): wgate stays locked and says why"
sed -i 's/^Address = .*/Address/' "$WG_CONF"
wg_start_gateway
wait_state blocked
in_gw "$WGATE_BIN" status
show_fetch 2

say "The config is fixed: wgate notices the file change and connects"
wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" 192.0.2.1:51820
wait_state connected
show_fetch

say "Result"
total=$(leaked)
echo "packets that left the gateway in the clear during the whole demo: $total"
in_gw "$WGATE_BIN" down
[ "$total" = 0 ]
