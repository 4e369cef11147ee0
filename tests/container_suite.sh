#!/usr/bin/env bash
# The container suite (issue 8): the image (scripts/image.sh, its builder base reused) run in real
# podman containers. The server namespace of tests/lib.sh stands for the internet (wireguard-go as
# the VPN server, the echo service on 203.0.113.80:8080, the leak counter); every scenario makes
# its own "uplink" namespaces, each a veth to the server namespace with the leak counter on its
# far end, that a namespace-owning container joins with `--network ns:/run/netns/NAME`:
#   hold layout:   holder (`wgate hold`) owns the namespace; the gateway (`wgate run`) and the
#                  consumers join it with `--network container:HOLDER`;
#   simple layout: the gateway owns the namespace; consumers join it.
# Consumers are busybox shells of the same image (`--entrypoint /bin/sh`; bookworm's busybox wget
# has no -T and crashes on it: `timeout N wget`), with NET_RAW dropped;
# the image needs no network to build. Every scenario asserts zero leaked packets, counted from
# the moment wgate holds the namespace. No bridge network, no published port, nothing connected
# to the machine's own network; addresses from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24.
#
# usage: tests/container_suite.sh WGATE_SOURCE_DIR [SCENARIO...]   (as root)
#   WGATE_IMAGE=IMAGE     use this image as it is instead of building localhost/wgate:latest
#   LEAK_CAPTURE=PREFIX   debugging: capture what each uplink sends but the tunnel to PREFIX.<uplink>
#   RECREATE_GAP=S        scenario 3: seconds without a gateway (default 2)
#   HEALTH_WAIT=S         scenario 2: how long to wait for unhealthy (default 50; 45 s is the limit)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ] || [ ! -f "$1/Containerfile" ]; then
  echo "usage: tests/container_suite.sh WGATE_SOURCE_DIR [SCENARIO...]" >&2
  exit 2
fi
SRC=$(realpath "$1")
shift
if [ "$(id -u)" != 0 ]; then
  echo "container_suite: run as root (namespaces, podman)" >&2
  exit 2
fi
source "$here/lib.sh"
export CONTAINERS_CONF=$SRC/scripts/podman.conf
IMAGE=${WGATE_IMAGE:-localhost/wgate:latest}
CTRS=()      # every container this run made, in creation order
UPLINKS=()   # every uplink namespace this run made
UPLINK_SEQ=0
RECREATE_GAP=${RECREATE_GAP:-2}  # scenario 3: seconds between removing the gateway and the new run
HEALTH_WAIT=${HEALTH_WAIT:-50}   # scenario 2: how long to wait for unhealthy (45 s is the limit)
passed=0
failed=0
failures=()

# ---- containers, uplinks, cleanup ----

# Removes one container and its anonymous volume (/config); dependents must be gone first.
ctr_rm() { podman rm -f -v -t "${2:-3}" "$1" >/dev/null 2>&1; }
# Removes a container this run made and forgets it.
ctr_forget() {
  local c=$1 kept=() x
  ctr_rm "$c" "${2:-3}"
  for x in "${CTRS[@]}"; do [ "$x" = "$c" ] || kept+=("$x"); done
  CTRS=("${kept[@]}")
}
uplink_del() {
  local up=$1
  in_srv nft delete chain netdev leak "$up" 2>/dev/null
  ip netns del "$up" 2>/dev/null
  ip link del "${up}v" 2>/dev/null  # the server's end, should the namespace live on
}
suite_cleanup() {
  set +e
  local i up
  # Dependents first: consumers and gateways were made after what they join.
  for ((i = ${#CTRS[@]} - 1; i >= 0; i--)); do ctr_rm "${CTRS[i]}" 1; done
  CTRS=()
  for up in "${UPLINKS[@]}"; do uplink_del "$up"; done
  wg_cleanup
}
trap suite_cleanup EXIT

# mk_uplink: a new uplink namespace, printed as its name (UPLINK_NS). Its eth0 is 192.0.2.N/24
# with the default route via 192.0.2.1 (the server), and the server counts what arrives from it.
mk_uplink() {
  UPLINK_SEQ=$((UPLINK_SEQ + 1))
  local up="${WG_RUN}u$UPLINK_SEQ" addr=192.0.2.$((10 + UPLINK_SEQ))
  ip netns add "$up"
  ip link add "${up}v" netns "$NS_SRV" type veth peer name "${up}e" netns "$up"
  ip netns exec "$up" ip link set lo up
  ip netns exec "$up" ip link set "${up}e" name eth0
  ip netns exec "$up" ip addr add "$addr/24" dev eth0
  ip netns exec "$up" ip link set eth0 up
  ip netns exec "$up" ip route add default via 192.0.2.1
  in_srv ip addr add 192.0.2.1/32 dev "${up}v"
  in_srv ip link set "${up}v" up
  in_srv ip route add "$addr/32" dev "${up}v"
  in_srv nft add chain netdev leak "$up" "{ type filter hook ingress device \"${up}v\" priority 0; }"
  in_srv nft add rule netdev leak "$up" meta protocol ip ip daddr 192.0.2.1 udp dport 51820 counter name tunnel accept
  in_srv nft add rule netdev leak "$up" meta protocol '{ ip, ip6 }' counter name leaked
  if [ -n "${LEAK_CAPTURE:-}" ]; then  # debugging: what arrives from the uplink but the tunnel
    wg_spawn ip netns exec "$NS_SRV" tcpdump -U -Q in -ni "${up}v" -w "$LEAK_CAPTURE.$up" \
      "inbound and not (udp and dst port 51820)" >/dev/null 2>&1
    sleep 1
  fi
  UPLINKS+=("$up")
  UPLINK_NS=$up
  UPLINK_ADDR=$addr
}
in_up() { local up=$1; shift; ip netns exec "$up" "$@"; }

# Waits until wgate's table is in the namespace (the holder's or a gateway's lockdown), then
# starts counting leaks from zero.
count_from_lockdown() {
  local up=$1
  for _ in $(seq 200); do in_up "$up" nft list table inet wgate >/dev/null 2>&1 && break; sleep 0.05; done
  in_up "$up" nft list table inet wgate >/dev/null 2>&1 || { wg_log "    no lockdown in $up"; return 1; }
  reset_leaks
}

# run_holder NAME UPLINK: the namespace holder (`wgate hold`) owning the uplink namespace.
run_holder() {
  CTRS+=("$1")
  podman run -d --name "$1" --network "ns:/run/netns/$2" --dns 192.0.2.1 \
    --cap-add NET_ADMIN --device /dev/net/tun "$IMAGE" hold >/dev/null 2>>"$WG_DIR/podman.log"
}
# run_gateway NAME NETWORK [podman run options...]: `wgate run` with the config in CONF_DIR.
run_gateway() {
  local name=$1 net=$2
  shift 2
  CTRS+=("$name")
  local dns=()
  [[ "$net" == ns:* ]] && dns=(--dns 192.0.2.1)
  podman run -d --name "$name" --network "$net" "${dns[@]}" \
    --cap-add NET_ADMIN --device /dev/net/tun \
    -e WGATE_INTERFACE="$WG_GW_IF" "$@" "$IMAGE" run >/dev/null 2>>"$WG_DIR/podman.log"
}
# run_consumer NAME NETWORK: a busybox shell that fetches the echo page every 100 ms, never
# restarted, logging "UPTIME ok ADDRESS" or "UPTIME fail" per try to $WG_DIR/NAME.log
# (/proc/uptime: 10 ms resolution, the same clock as the host's).
run_consumer() {
  local name=$1 net=$2
  CTRS+=("$name")
  : >"$WG_DIR/$name.log"
  podman run -d --name "$name" --network "$net" --cap-drop NET_RAW -v "$WG_DIR:/out" \
    --entrypoint /bin/sh "$IMAGE" -c "
      exec 2>/dev/null  # the shell's 'Terminated' for each wget that timeout stopped
      while :; do
        t=\$(cut -d' ' -f1 /proc/uptime)
        if r=\$(timeout 1 wget -q -O - http://$SERVICE_ADDR:$SERVICE_PORT/ 2>/dev/null); then
          echo \"\$t ok \$r\"
        else
          echo \"\$t fail\"
        fi >>/out/$name.log
        sleep 0.1
      done" >/dev/null 2>>"$WG_DIR/podman.log"
}
# fetch CONSUMER [TIMEOUT]: one fetch from inside a consumer; prints what the service saw.
fetch() { podman exec "$1" timeout "${2:-3}" wget -q -O - "http://$SERVICE_ADDR:$SERVICE_PORT/" 2>/dev/null; }
uptime_now() { cut -d' ' -f1 /proc/uptime; }
ctr_pid() { podman inspect --format '{{.State.Pid}}' "$1" 2>/dev/null; }
# status CONTAINER ARGS...: `wgate status` inside a container (the holder's or the gateway's).
status() { local c=$1; shift; podman exec "$c" /usr/bin/wgate status "$@"; }
# wait_healthy CONTAINER [SECONDS]: until `wgate status --healthy` exits 0 in it.
wait_healthy() {
  local c=$1 deadline=$(($(date +%s) + ${2:-20}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    status "$c" --healthy >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  wg_log "    $c never became healthy; status:"
  status "$c" 2>&1 | sed 's/^/      /' >&2
  podman logs --tail 15 "$c" 2>&1 | sed 's/^/      log: /' >&2
  return 1
}
# The consumer log's successes that came after uptime T (prints the first's time, or nothing).
first_ok_after() { awk -v t="$2" '$1 > t && $2 == "ok" && $3 == "198.51.100.2" { print $1; exit }' "$WG_DIR/$1.log"; }
last_ok_before() { awk -v t="$2" '$1 <= t && $2 == "ok" { last = $1 } END { if (last != "") print last }' "$WG_DIR/$1.log"; }
oks_after() { awk -v t="$2" '$1 > t && $2 == "ok" { n++ } END { print n + 0 }' "$WG_DIR/$1.log"; }
# Everything but the tunnel's own address seen by the service is a leak of the consumer.
bad_oks() { awk '$2 == "ok" && $3 != "198.51.100.2" { n++ } END { print n + 0 }' "$WG_DIR/$1.log"; }

# check, eq, no_leaks: tests/lib.sh's.
gateway_config() {
  CONF_DIR=$WG_DIR/config-$1
  mkdir -p "$CONF_DIR"
  wg_write_config "$CONF_DIR/wg0.conf" "$(cat "$WG_DIR/srv.pub")" 192.0.2.1:51820
}
# Removes the scenario's containers (dependents first) and uplinks.
scenario_teardown() {
  local i up
  for ((i = ${#CTRS[@]} - 1; i >= 0; i--)); do ctr_rm "${CTRS[i]}" 1; done
  CTRS=()
  for up in "${UPLINKS[@]}"; do uplink_del "$up"; done
  UPLINKS=()
}
bc_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# ---- scenarios ----

# 1. holder + gateway + consumer: the consumer's traffic leaves through the tunnel.
scenario_tunnel() {
  local hold=${WG_RUN}-hold1 gw=${WG_RUN}-gw1 c=${WG_RUN}-c1
  mk_uplink; local up=$UPLINK_NS
  gateway_config 1
  check "the holder starts" run_holder "$hold" "$up"
  check "the holder locks the namespace" count_from_lockdown "$up"
  check "the gateway starts" run_gateway "$gw" "container:$hold" -v "$CONF_DIR:/config:ro"
  check "the gateway becomes healthy" wait_healthy "$gw"
  check "the consumer starts" run_consumer "$c" "container:$hold"
  check "the service sees the tunnel address" eq "$(fetch "$c")" 198.51.100.2
  check "the gateway's status says connected" bash -c "podman exec '$gw' /usr/bin/wgate status | grep -q connected"
  check "resolv.conf points into the tunnel" bash -c "podman exec '$c' cat /etc/resolv.conf | grep -q 'nameserver 198.51.100.1'"
  sleep 1
  check "the consumer never saw another address" eq "$(bad_oks "$c")" 0
  check "no leaks" no_leaks
}

# 2. The VPN server dies and comes back; the gateway's HEALTHCHECK follows.
scenario_server_loss() {
  local hold=${WG_RUN}-hold2 gw=${WG_RUN}-gw2 c=${WG_RUN}-c2
  mk_uplink; local up=$UPLINK_NS
  gateway_config 2
  run_holder "$hold" "$up"
  check "the holder locks the namespace" count_from_lockdown "$up"
  run_gateway "$gw" "container:$hold" -v "$CONF_DIR:/config:ro"
  check "healthy" wait_healthy "$gw"
  run_consumer "$c" "container:$hold"
  check "through the tunnel" eq "$(fetch "$c")" 198.51.100.2
  check "HEALTHCHECK: healthy" podman healthcheck run "$gw"
  wg_stop_server
  local lost; lost=$(date +%s)
  local unhealthy_after=
  while [ $(($(date +%s) - lost)) -lt "$HEALTH_WAIT" ]; do
    if ! podman healthcheck run "$gw" >/dev/null 2>&1; then unhealthy_after=$(($(date +%s) - lost)); break; fi
    sleep 1
  done
  echo "    server down: HEALTHCHECK unhealthy after ${unhealthy_after:-more than $HEALTH_WAIT} s;" \
    "status: $(status "$gw" 2>&1 | head -1)"
  check "HEALTHCHECK unhealthy within 45 s" bash -c "[ -n '$unhealthy_after' ] && [ '$unhealthy_after' -le 45 ]"
  check "the consumer is blocked" eq "$(fetch "$c" 2)" ""
  check "no leaks while the server is gone" no_leaks
  wg_start_server
  local back t_back; back=$(date +%s); t_back=$(uptime_now)
  local healthy_after=
  while [ $(($(date +%s) - back)) -lt 60 ]; do
    if podman healthcheck run "$gw" >/dev/null 2>&1; then healthy_after=$(($(date +%s) - back)); break; fi
    sleep 1
  done
  echo "    server back: HEALTHCHECK healthy after ${healthy_after:-more than 60} s"
  check "HEALTHCHECK healthy again" test -n "$healthy_after"
  check "podman's health status follows" eq "$(podman inspect --format '{{.State.Health.Status}}' "$gw")" healthy
  local first=
  for _ in $(seq 600); do first=$(first_ok_after "$c" "$t_back"); [ -n "$first" ] && break; sleep 0.1; done
  echo "    server back: the consumer's first success after ${first:+$(bc_sub "$first" "$t_back")} s"
  check "the consumer gets through again within 60 s" test -n "$first"
  check "through the tunnel again" eq "$(fetch "$c" 5)" 198.51.100.2
  check "the consumer never saw another address" eq "$(bad_oks "$c")" 0
  check "no leaks" no_leaks
}

# 3. The gateway container is recreated (an image update) while a consumer sends continuously.
scenario_recreate_gateway() {
  local hold=${WG_RUN}-hold3 gw=${WG_RUN}-gw3a gw2=${WG_RUN}-gw3b c=${WG_RUN}-c3
  mk_uplink; local up=$UPLINK_NS
  gateway_config 3
  run_holder "$hold" "$up"
  check "the holder locks the namespace" count_from_lockdown "$up"
  run_gateway "$gw" "container:$hold" -v "$CONF_DIR:/config:ro"
  check "healthy" wait_healthy "$gw"
  run_consumer "$c" "container:$hold"
  local cpid; cpid=$(ctr_pid "$c")
  local t0; t0=$(uptime_now)
  for _ in $(seq 50); do [ -n "$(first_ok_after "$c" "$t0")" ] && break; sleep 0.1; done
  check "the consumer gets through before" test -n "$(first_ok_after "$c" "$t0")"
  sleep 1
  local t_rm; t_rm=$(uptime_now)
  check "podman rm -f of the gateway" ctr_forget "$gw" 10
  local t_gone; t_gone=$(uptime_now)
  if [ "$RECREATE_GAP" != 0 ]; then
    sleep "$RECREATE_GAP"  # no gateway for a while: the holder keeps the namespace locked
    check "nothing gets through while no gateway runs" eq "$(oks_after "$c" "$t_gone")" 0
    check "the holder is healthy without a gateway" status "$hold" --healthy
  fi
  local t_start; t_start=$(uptime_now)
  run_gateway "$gw2" "container:$hold" -v "$CONF_DIR:/config:ro"
  local first=
  for _ in $(seq 100); do first=$(first_ok_after "$c" "$t_start"); [ -n "$first" ] && break; sleep 0.1; done
  local last; last=$(last_ok_before "$c" "$t_rm")
  if [ -n "$first" ] && [ -n "$last" ]; then
    RECREATE_PAUSE=$(bc_sub "$first" "$last")
    RECREATE_FIRST=$(bc_sub "$first" "$t_start")
    echo "    blocked pause (last success before rm -> first success after): $RECREATE_PAUSE s" \
      "(rm -f took $(bc_sub "$t_gone" "$t_rm") s, then ${RECREATE_GAP} s without a gateway);" \
      "new gateway start -> first success: $RECREATE_FIRST s"
  fi
  check "the same consumer process gets through within 5 s of the new gateway's start" \
    bash -c "[ -n '$first' ] && awk -v f='$first' -v s='$t_start' 'BEGIN { exit !(f - s <= 5) }'"
  check "the consumer was never restarted" eq "$(ctr_pid "$c")" "$cpid"
  check "the new gateway is healthy" wait_healthy "$gw2" 5
  check "the consumer never saw another address" eq "$(bad_oks "$c")" 0
  check "no leaks" no_leaks
}

# 4. The holder alone: healthy, and nothing gets out.
scenario_holder_alone() {
  local hold=${WG_RUN}-hold4 c=${WG_RUN}-c4
  mk_uplink; local up=$UPLINK_NS
  run_holder "$hold" "$up"
  check "the holder locks the namespace" count_from_lockdown "$up"
  check "wgate status --healthy in the holder" wait_healthy "$hold" 10
  check "its status reports the holder" bash -c "podman exec '$hold' /usr/bin/wgate status --json | grep -q '\"role\": \"hold\"'"
  run_consumer "$c" "container:$hold"
  check "the consumer gets nothing" eq "$(fetch "$c" 2)" ""
  # The on-link server and a few other ways out.
  check "nor from the on-link host" eq "$(podman exec "$c" timeout 2 wget -q -O - http://192.0.2.1:$SERVICE_PORT/ 2>/dev/null)" ""
  podman exec "$c" ping -c 2 -W 1 192.0.2.1 >/dev/null 2>&1
  podman exec "$c" nslookup example.com 192.0.2.1 >/dev/null 2>&1
  sleep 2
  check "the consumer's loop never got through" eq "$(oks_after "$c" 0)" 0
  check "no leaks" no_leaks
}

# 5. The simple layout: the gateway owns the namespace, consumers join it; then the gateway is
# recreated as Docker recreates it (a new container, a new namespace).
scenario_simple_layout() {
  local gw=${WG_RUN}-gw5a gw2=${WG_RUN}-gw5b c=${WG_RUN}-c5 d=${WG_RUN}-d5 e=${WG_RUN}-e5
  mk_uplink; local up=$UPLINK_NS
  gateway_config 5
  run_gateway "$gw" "ns:/run/netns/$up" -v "$CONF_DIR:/config:ro"
  check "the gateway locks the namespace" count_from_lockdown "$up"
  check "healthy" wait_healthy "$gw"
  run_consumer "$c" "container:$gw"
  check "a consumer of the gateway gets through" eq "$(fetch "$c")" 198.51.100.2
  # podman (unlike Docker) refuses to remove a container that others joined.
  local out
  out=$(podman rm -f -t 3 "$gw" 2>&1)
  echo "    podman rm -f of a gateway with a consumer: $(echo "$out" | tail -1)"
  check "podman refuses: the consumer depends on it" bash -c "podman container exists '$gw' && [ \"\$(podman inspect --format '{{.State.Running}}' '$gw')\" = true ]"
  ctr_forget "$c" 1
  # Docker's network_mode "service:" resolves to the gateway's namespace when the consumer
  # starts; a consumer joined by the namespace itself behaves the same here.
  run_consumer "$d" "ns:/proc/$(ctr_pid "$gw")/ns/net"
  sleep 1
  check "the consumer gets through" eq "$(fetch "$d")" 198.51.100.2
  local ino_d; ino_d=$(stat -L -c %i "/proc/$(ctr_pid "$d")/ns/net")
  check "podman rm -f of the gateway" ctr_forget "$gw" 10
  local t_gone; t_gone=$(uptime_now)
  sleep 2
  check "in the old namespace the lockdown outlives the gateway: blocked" eq "$(fetch "$d" 2)" ""
  check "no leaks from the old namespace" no_leaks
  # The runtime drops the removed container's namespace and uplink; the consumer keeps it alive.
  uplink_del "$up"
  mk_uplink; local up2=$UPLINK_NS
  local t_start; t_start=$(uptime_now)
  run_gateway "$gw2" "ns:/run/netns/$up2" -v "$CONF_DIR:/config:ro"
  check "the new gateway locks its namespace" count_from_lockdown "$up2"
  check "the new gateway is healthy" wait_healthy "$gw2"
  run_consumer "$e" "container:$gw2"
  check "a consumer started after it gets through" eq "$(fetch "$e")" 198.51.100.2
  sleep 5
  local ino_gw2; ino_gw2=$(stat -L -c %i "/proc/$(ctr_pid "$gw2")/ns/net")
  check "the old consumer is still in the old namespace" bash -c "[ '$ino_d' != '$ino_gw2' ] && [ \"\$(stat -L -c %i /proc/$(ctr_pid "$d")/ns/net)\" = '$ino_d' ]"
  check "the old consumer is stuck: nothing since the gateway was removed" eq "$(oks_after "$d" "$t_gone")" 0
  echo "    simple layout: consumer stuck in the dead namespace; $(grep -c fail "$WG_DIR/$d.log") failed tries, 0 successes since the old gateway was removed"
  check "the consumers never saw another address" eq "$(($(bad_oks "$d") + $(bad_oks "$e")))" 0
  check "no leaks" no_leaks
}

# 6. A malformed config in the environment form (gluetun's WIREGUARD_* variables).
scenario_malformed_env() {
  local hold=${WG_RUN}-hold6 gw=${WG_RUN}-gw6 c=${WG_RUN}-c6
  mk_uplink; local up=$UPLINK_NS
  run_holder "$hold" "$up"
  check "the holder locks the namespace" count_from_lockdown "$up"
  run_gateway "$gw" "container:$hold" \
    -e WIREGUARD_PRIVATE_KEY="$(cat "$WG_DIR/gw.key")" \
    -e WIREGUARD_PUBLIC_KEY="$(cat "$WG_DIR/srv.pub")" \
    -e WIREGUARD_ADDRESSES=198.51.100.2/33 \
    -e VPN_ENDPOINT_IP=192.0.2.1 -e VPN_ENDPOINT_PORT=51820
  run_consumer "$c" "container:$hold"
  local st=
  for _ in $(seq 50); do
    st=$(status "$gw" 2>&1)
    echo "$st" | grep -q blocked && break
    sleep 0.2
  done
  echo "$st" | sed 's/^/    status: /'
  check "blocked" bash -c "echo \"\$1\" | grep -q blocked" _ "$st"
  check "the status names the variable" bash -c "echo \"\$1\" | grep -q 'WIREGUARD_ADDRESSES'" _ "$st"
  check "the key is not in the status" bash -c "! echo \"\$1\" | grep -qF \"\$2\"" _ "$st" "$(cat "$WG_DIR/gw.key")"
  check "the key is not in the log" bash -c "! podman logs '$gw' 2>&1 | grep -qF \"\$1\"" _ "$(cat "$WG_DIR/gw.key")"
  check "not healthy" bash -c "! podman exec '$gw' /usr/bin/wgate status --healthy"
  check "the consumer gets nothing" eq "$(fetch "$c" 2)" ""
  sleep 1
  check "the consumer's loop never got through" eq "$(oks_after "$c" 0)" 0
  check "no leaks" no_leaks
}

# bench/container_figures.sh sources this file for its helpers and scenario 3.
[ -n "${CONTAINER_SUITE_LIB:-}" ] && return 0

all=(tunnel server_loss recreate_gateway holder_alone simple_layout malformed_env)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all[@]}")

suite_started=$(date +%s)
if [ -z "${WGATE_IMAGE:-}" ]; then
  echo "container_suite: building the image (scripts/image.sh)"
  if ! "$SRC/scripts/image.sh" 2>"$WG_DIR/image.log"; then
    tail -30 "$WG_DIR/image.log"
    echo "container_suite: 0 passed, 1 failed (image build)"
    exit 1
  fi
fi
podman image exists "$IMAGE" || { echo "container_suite: no image $IMAGE"; echo "container_suite: 0 passed, 1 failed"; exit 1; }
wg_setup /nonexistent   # the server namespace, keys and service; wgate runs only in containers
# lib.sh's own gateway namespace is not used here (each scenario makes its uplinks): unlocked, its
# kernel would chatter (IPv6 router solicitations, MLD reports) into the counter.
in_gw ip link set "$GW_UPLINK" down
in_srv nft delete chain netdev leak in
for name in "${selected[@]}"; do
  scenario_ok=1
  started=$(date +%s.%N)
  reset_leaks
  echo "container_suite: $name ..."
  "scenario_$name"
  if [ "$scenario_ok" != 1 ]; then
    for x in "${CTRS[@]}"; do
      echo "    --- podman logs $x (tail)"; podman logs --tail 8 "$x" 2>&1 | sed 's/^/    /'
    done
  fi
  scenario_teardown
  elapsed=$(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)")
  if [ "$scenario_ok" = 1 ]; then
    echo "container_suite: $name: PASS (${elapsed}s)"
    passed=$((passed + 1))
  else
    echo "container_suite: $name: FAIL (${elapsed}s)"
    failed=$((failed + 1))
    failures+=("$name")
  fi
done
echo "container_suite: whole run $(($(date +%s) - suite_started)) s"
echo "container_suite: $passed passed, $failed failed${failures:+ (${failures[*]})}"
[ "$failed" = 0 ]
