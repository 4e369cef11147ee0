#!/usr/bin/env bash
# End-to-end throughput and latency of the userspace engine, in one run on this machine:
#   (a) wgate <-> wgate   (b) wireguard-go <-> wireguard-go   (c) the bare veth
# Single-stream TCP (iperf3, both directions) and ICMP echo RTT through each, then the ratios.
# The issue's floor: (a) >= 2 x (b).
#
# Never part of the test run. Needs root, iproute2, iperf3, wireguard-go, wg, python3.
#   bench/throughput.sh [-t SECONDS] [-b WGATE_BINARY]
# WGATE_BINARY defaults to build/release/src/cli/wgate (scripts/build.sh release).
# Everything lives in two namespaces made here (prefix wgb<pid>), removed on exit; only processes
# started here are stopped, by PID; addresses come from 192.0.2.0/24, 198.51.100.0/24 and fd00::/8.
set -euo pipefail
umask 077
cd "$(dirname "$0")/.."

seconds=10
wgate=build/release/src/cli/wgate
while getopts "t:b:" opt; do
  case "$opt" in
    t) seconds=$OPTARG ;;
    b) wgate=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-b WGATE_BINARY]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "$0: run as root" >&2; exit 2; }
[ -x "$wgate" ] || { echo "$0: no $wgate (scripts/build.sh release)" >&2; exit 2; }
for tool in ip iperf3 wireguard-go wg python3; do
  command -v "$tool" >/dev/null || { echo "$0: missing $tool" >&2; exit 2; }
done

prefix="wgb$$"
nsa="${prefix}-a"
nsb="${prefix}-b"
work=$(mktemp -d)
pids=()

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  ip netns del "$nsa" 2>/dev/null
  ip netns del "$nsb" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ip netns add "$nsa"
ip netns add "$nsb"
ip -n "$nsa" link set lo up
ip -n "$nsb" link set lo up
ip -n "$nsa" link add va type veth peer name vb netns "$nsb"
ip -n "$nsa" addr add 192.0.2.1/24 dev va
ip -n "$nsb" addr add 192.0.2.2/24 dev vb
ip -n "$nsa" link set va up
ip -n "$nsb" link set vb up

wg genkey >"$work/a.key"
wg genkey >"$work/b.key"
pub_a=$(wg pubkey <"$work/a.key")
pub_b=$(wg pubkey <"$work/b.key")

# ICMP echo RTT in milliseconds (average of 50), with a raw socket: this machine has no ping.
rtt() {  # ns addr
  ip netns exec "$1" python3 - "$2" <<'PY'
import socket, struct, sys, time
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
times = []
for seq in range(1, 51):
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"x" * 56
    pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    t0 = time.perf_counter()
    s.sendto(pkt, (dst, 0))
    while True:
        data = s.recv(2048)
        ihl = (data[0] & 0x0f) * 4
        if data[ihl] == 0 and struct.unpack("!HH", data[ihl + 4:ihl + 8]) == (0x4242, seq):
            break
    times.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.01)
times.sort()
print("%.3f" % (sum(times[5:45]) / 40))
PY
}

# Single-stream TCP in Mbit/s: client in ns a to addr in ns b; "-R" for b -> a.
tcp() {  # addr [-R]
  ip netns exec "$nsb" iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
  local server=$!
  pids+=("$server")
  sleep 0.3
  ip netns exec "$nsa" iperf3 -c "$1" -t "$seconds" -J ${2:-} >"$work/iperf.json" || true
  wait "$server" 2>/dev/null || true
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.0f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' "$work/iperf.json" 2>/dev/null || echo 0
}

start_pair() {  # kind ("wgate" or "wggo")
  local i=0
  for side in a b; do
    local ns="${prefix}-$side" ifname="${prefix}${side}"
    if [ "$1" = wgate ]; then
      ip netns exec "$ns" "$wgate" engine -f "$ifname" >"$work/$ifname.log" 2>&1 &
    else
      WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=error \
        ip netns exec "$ns" wireguard-go -f "$ifname" >"$work/$ifname.log" 2>&1 &
    fi
    pids+=("$!")
    for _ in $(seq 100); do [ -S "/var/run/wireguard/$ifname.sock" ] && break; sleep 0.05; done
    i=$((i + 1))
  done
  ip netns exec "$nsa" wg set "${prefix}a" private-key "$work/a.key" listen-port 51820 \
    peer "$pub_b" endpoint 192.0.2.2:51821 allowed-ips 198.51.100.2/32
  ip netns exec "$nsb" wg set "${prefix}b" private-key "$work/b.key" listen-port 51821 \
    peer "$pub_a" allowed-ips 198.51.100.1/32
  ip -n "$nsa" addr add 198.51.100.1/24 dev "${prefix}a"
  ip -n "$nsb" addr add 198.51.100.2/24 dev "${prefix}b"
  ip -n "$nsa" link set "${prefix}a" up
  ip -n "$nsb" link set "${prefix}b" up
}

stop_pair() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

declare -A up down lat
measure() {  # label addr
  rtt "$nsa" "$2" >/dev/null  # warm up (handshake)
  lat[$1]=$(rtt "$nsa" "$2")
  up[$1]=$(tcp "$2")
  down[$1]=$(tcp "$2" -R)
  echo "$1: a->b ${up[$1]} Mbit/s, b->a ${down[$1]} Mbit/s, rtt ${lat[$1]} ms" >&2
}

start_pair wgate
measure wgate 198.51.100.2
stop_pair
start_pair wggo
measure wggo 198.51.100.2
stop_pair
measure veth 192.0.2.2

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b) if b else 'n/a')" "$1" "$2"; }
echo
printf "%-22s %12s %12s %10s\n" "path (${seconds}s, 1 stream)" "a->b Mbit/s" "b->a Mbit/s" "rtt ms"
for k in wgate wggo veth; do
  printf "%-22s %12s %12s %10s\n" "$k" "${up[$k]}" "${down[$k]}" "${lat[$k]}"
done
echo
echo "wgate / wireguard-go: a->b $(ratio "${up[wgate]}" "${up[wggo]}")x, b->a $(ratio "${down[wgate]}" "${down[wggo]}")x, rtt $(ratio "${lat[wgate]}" "${lat[wggo]}")x"
echo "wgate / veth:         a->b $(ratio "${up[wgate]}" "${up[veth]}")x, b->a $(ratio "${down[wgate]}" "${down[veth]}")x"
echo "wireguard-go / veth:  a->b $(ratio "${up[wggo]}" "${up[veth]}")x, b->a $(ratio "${down[wggo]}" "${down[veth]}")x"
