#!/usr/bin/env bash
# The container figures of issue 8, measured with real podman containers in the topology of
# tests/container_suite.sh (whose helpers it sources): a server namespace with wireguard-go and
# the echo service, an uplink namespace per layout, the holder and the gateway from
# localhost/wgate:latest. Never part of the test run.
#
#   bench/container_figures.sh [--runs N] [--pauses N]     (as root)
#
# Prints:
#   image size              podman image inspect --format '{{.Size}}', and `podman images`
#   idle RSS                VmRSS of `wgate run` (and of `wgate hold`) in the connected hold
#                           layout, read from /proc/PID/status after 10 s with no traffic
#   start to healthy        from `podman run` of the gateway (joining a running holder) to the
#                           first `wgate status --healthy` that exits 0 inside it, polled every
#                           10 ms with nsenter into the container's network, mount and PID namespaces;
#                           median of N runs (default 5), no consumer traffic
#   blocked pause           tests/container_suite.sh's scenario 3 with no gap (what an image
#                           update does: rm -f, then run): last success before the removal ->
#                           first success after, for one consumer that fetches every 100 ms;
#                           median of N runs (default 3)
# The image is built with scripts/image.sh unless it exists (WGATE_IMAGE names another).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=5
pauses=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --pauses) pauses=$2; shift 2 ;;
    *) echo "container_figures.sh: unknown option \"$1\" (--runs N, --pauses N)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "container_figures.sh: run as root" >&2; exit 2; fi

CONTAINER_SUITE_LIB=1 source "$repo/tests/container_suite.sh" "$repo"
if ! podman image exists "$IMAGE"; then
  "$repo/scripts/image.sh" >&2 || exit 1
fi
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "== image size"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "podman image inspect --format '{{.Size}}' $IMAGE: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f MB, %.1f MiB", s / 1e6, s / 1048576 }'))"
podman images "$IMAGE"

wg_setup /nonexistent
in_gw ip link set "$GW_UPLINK" down
in_srv nft delete chain netdev leak in

echo "== idle RSS (hold layout, connected, no traffic for 10 s)"
mk_uplink
hold=${WG_RUN}-bhold
gateway_config b
run_holder "$hold" "$UPLINK_NS"
count_from_lockdown "$UPLINK_NS" || exit 1
gw=${WG_RUN}-bgw
run_gateway "$gw" "container:$hold" -v "$CONF_DIR:/config:ro"
wait_healthy "$gw" || exit 1
sleep 10
gw_pid=$(ctr_pid "$gw")
hold_pid=$(ctr_pid "$hold")
rss() {  # VmRSS, and its anonymous / file-backed (shared libraries) parts, and the thread count
  awk '/^VmRSS|^RssAnon|^RssFile|^Threads/ { sub(":", "", $1); printf "%s %s%s  ", $1, $2, ($3 ? " " $3 : "") }' /proc/"$1"/status
}
echo "wgate run  (pid $gw_pid, $(tr '\0' ' ' </proc/"$gw_pid"/cmdline)): $(rss "$gw_pid")"
echo "wgate hold (pid $hold_pid, $(tr '\0' ' ' </proc/"$hold_pid"/cmdline)): $(rss "$hold_pid")"
ctr_forget "$gw"

echo "== start to healthy (podman run of a gateway joining the running holder -> first wgate status --healthy = 0), $runs runs"
results=()
for i in $(seq "$runs"); do
  name=${WG_RUN}-bgw$i
  t0=$(date +%s%N)
  run_gateway "$name" "container:$hold" -v "$CONF_DIR:/config:ro"
  returned=$(ms_since "$t0")
  pid=$(ctr_pid "$name")
  healthy=
  for _ in $(seq 1000); do
    if nsenter -t "$pid" -n -m -p /usr/bin/wgate status --healthy >/dev/null 2>&1; then healthy=$(ms_since "$t0"); break; fi
    sleep 0.01
  done
  own=$(podman logs "$name" 2>&1 | sed -n 's/.*connected: first handshake \([0-9]*\) ms after start.*/\1/p' | head -1)
  echo "run $i: healthy after ${healthy:-never} ms (podman run returned after $returned ms; wgate's own log: first handshake ${own:-?} ms after its start)"
  [ -n "$healthy" ] && results+=("$healthy")
  ctr_forget "$name"
done
if [ ${#results[@]} -gt 0 ]; then
  echo "start to healthy, median of ${#results[@]}: $(printf '%s\n' "${results[@]}" | median) ms"
fi
scenario_teardown

echo "== blocked pause when the gateway container is recreated (scenario 3, rm -f then run, no gap), $pauses runs"
RECREATE_GAP=0
p=()
f=()
for i in $(seq "$pauses"); do
  scenario_ok=1
  RECREATE_PAUSE=
  RECREATE_FIRST=
  reset_leaks
  scenario_recreate_gateway >"$WG_DIR/pause$i.log" 2>&1
  scenario_teardown
  echo "run $i: blocked pause ${RECREATE_PAUSE:-?} s, new gateway start -> first success ${RECREATE_FIRST:-?} s, leaks $(leaked), assertions $([ "$scenario_ok" = 1 ] && echo passed || echo FAILED)"
  [ "$scenario_ok" = 1 ] || sed 's/^/    /' "$WG_DIR/pause$i.log"
  [ -n "$RECREATE_PAUSE" ] && p+=("$RECREATE_PAUSE") && f+=("$RECREATE_FIRST")
done
if [ ${#p[@]} -gt 0 ]; then
  echo "blocked pause, median of ${#p[@]}: $(printf '%s\n' "${p[@]}" | median) s; new gateway start -> first success, median: $(printf '%s\n' "${f[@]}" | median) s"
fi
