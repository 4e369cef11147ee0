# Shared by the leak suite and the demo: a "server" namespace standing for the internet (a
# wireguard-go VPN server, an HTTP service that reports the source address it sees, a leak counter
# on the link from the gateway), a "gateway" namespace running `wgate run`, consumers started inside
# the gateway namespace. Addresses: 192.0.2.0/24 uplink, 198.51.100.0/24 tunnel, 203.0.113.80 the
# service. Every name carries a per-run prefix; cleanup stops only our own PIDs.
#
# Use: source tests/lib.sh; wg_setup WGATE_BINARY; ...; wg_cleanup (also on EXIT).

WG_RUN=${WG_RUN:-w$$}
NS_SRV=${WG_RUN}-srv
NS_GW=${WG_RUN}-gw
WG_SRV_IF=${WG_RUN}s        # the server's WireGuard interface (wireguard-go)
WG_GW_IF=${WG_RUN}g         # the gateway's tunnel interface (wgate)
WG_DIR=$(mktemp -d /tmp/wgate-ns-XXXXXX)
WG_PIDS=()
SERVICE_ADDR=203.0.113.80
SERVICE_PORT=8080

wg_log() { printf '%s\n' "$*" >&2; }

wg_cleanup() {
  set +e  # best effort: an already-gone process or namespace is fine
  local pid
  for pid in "${WG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${WG_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  WG_PIDS=()
  # wgate's resolv.conf backup is keyed by the namespace's inode, which the kernel reuses.
  local ino
  ino=$(ip netns exec "$NS_GW" stat -L -c %i /proc/self/ns/net 2>/dev/null) && rm -f "/run/wgate/resolv-net$ino.conf.orig" "/run/wgate/fallback-net$ino.json"
  ip netns del "$NS_GW" 2>/dev/null
  ip netns del "$NS_SRV" 2>/dev/null
  rm -rf "/etc/netns/$NS_GW" "$WG_DIR"
  rm -f "/var/run/wireguard/$WG_SRV_IF.sock" "/var/run/wireguard/$WG_GW_IF.sock"
  return 0
}

# Starts a background process and remembers its PID. Give it a command that execs (ip netns
# exec, env), never a shell function: the PID must be the process itself.
wg_spawn() {
  "$@" &
  WG_PIDS+=("$!")
}

in_gw() { ip netns exec "$NS_GW" "$@"; }
in_srv() { ip netns exec "$NS_SRV" "$@"; }

# wg_setup WGATE: namespaces, link, server, service, leak counter, keys, gateway config at $WG_CONF.
wg_setup() {
  WGATE=$1
  umask 077
  ip netns add "$NS_SRV"
  ip netns add "$NS_GW"
  ip link add "${WG_RUN}a" netns "$NS_SRV" type veth peer name "${WG_RUN}b" netns "$NS_GW"
  in_srv ip link set lo up
  in_gw ip link set lo up
  in_srv ip addr add 192.0.2.1/24 dev "${WG_RUN}a"
  in_srv ip link set "${WG_RUN}a" up
  in_gw ip addr add 192.0.2.2/24 dev "${WG_RUN}b"
  in_gw ip link set "${WG_RUN}b" name eth0 2>/dev/null && GW_UPLINK=eth0 || GW_UPLINK="${WG_RUN}b"
  in_gw ip link set "$GW_UPLINK" up
  in_gw ip route add default via 192.0.2.1
  in_srv ip addr add "$SERVICE_ADDR/32" dev lo
  in_srv sysctl -qw net.ipv4.ip_forward=1

  # The container's resolv.conf, as Docker writes it; `ip netns exec` bind-mounts it.
  mkdir -p "/etc/netns/$NS_GW"
  printf 'nameserver 192.0.2.1\n' >"/etc/netns/$NS_GW/resolv.conf"

  # Keys and the VPN server (wireguard-go, configured with wg).
  wg genkey >"$WG_DIR/srv.key"; wg pubkey <"$WG_DIR/srv.key" >"$WG_DIR/srv.pub"
  wg genkey >"$WG_DIR/gw.key"; wg pubkey <"$WG_DIR/gw.key" >"$WG_DIR/gw.pub"
  wg_start_server
  # The service: reports the source address of each request.
  cat >"$WG_DIR/service.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.client_address[0] + "\n").encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
PY
  wg_spawn ip netns exec "$NS_SRV" python3 "$WG_DIR/service.py" "$SERVICE_PORT" >/dev/null 2>&1
  # Leak counter: every IP packet arriving from the gateway that is not UDP to the endpoint.
  in_srv nft -f - <<NFT
table netdev leak {
  counter leaked {}
  counter tunnel {}
  chain in {
    type filter hook ingress device "${WG_RUN}a" priority 0;
    meta protocol ip ip daddr 192.0.2.1 udp dport 51820 counter name tunnel accept
    meta protocol { ip, ip6 } counter name leaked
  }
}
NFT
  WG_CONF="$WG_DIR/$WG_GW_IF.conf"
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" 192.0.2.1:51820
  for _ in $(seq 50); do in_srv python3 -c "import socket;socket.create_connection(('127.0.0.1',$SERVICE_PORT),1)" 2>/dev/null && break; sleep 0.1; done
}

wg_start_server() {
  WG_SERVER_PID=
  wg_spawn ip netns exec "$NS_SRV" wireguard-go -f "$WG_SRV_IF" >"$WG_DIR/wireguard-go.log" 2>&1
  WG_SERVER_PID=${WG_PIDS[-1]}
  for _ in $(seq 50); do [ -S "/var/run/wireguard/$WG_SRV_IF.sock" ] && break; sleep 0.1; done
  in_srv wg set "$WG_SRV_IF" listen-port 51820 private-key "$WG_DIR/srv.key" \
    peer "$(cat "$WG_DIR/gw.pub")" allowed-ips 198.51.100.2/32
  in_srv ip addr add 198.51.100.1/24 dev "$WG_SRV_IF" 2>/dev/null
  in_srv ip link set "$WG_SRV_IF" up
}

wg_stop_server() {
  kill "$WG_SERVER_PID" 2>/dev/null
  wait "$WG_SERVER_PID" 2>/dev/null
}

# wg_write_config FILE SERVER_PUBKEY ENDPOINT [EXTRA_INTERFACE_LINES]
wg_write_config() {
  cat >"$1" <<CONF
[Interface]
PrivateKey = $(cat "$WG_DIR/gw.key")
Address = 198.51.100.2/32
DNS = 198.51.100.1
${4:-}

[Peer]
PublicKey = $2
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = $3
PersistentKeepalive = 25
CONF
  chmod 600 "$1"
}

# Starts `wgate run` in the gateway namespace; env: extra WGATE_* settings.
wg_start_gateway() {
  WGATE_PID=
  wg_spawn ip netns exec "$NS_GW" env WGATE_INTERFACE="$WG_GW_IF" "$@" "$WGATE" run --config "$WG_CONF" \
    ${TEST_RUN_FLAGS:-} \
    >>"$WG_DIR/wgate.log" 2>&1
  WGATE_PID=${WG_PIDS[-1]}
  if [ -n "${RESET_AFTER_LOCKDOWN:-}" ]; then
    # Count from the moment the namespace is locked (see the leak suite's loop).
    for _ in $(seq 100); do in_gw nft list table inet wgate >/dev/null 2>&1 && break; sleep 0.05; done
    reset_leaks
    RESET_AFTER_LOCKDOWN=
  fi
}

gw_status() { in_gw "$WGATE" status "$@"; }

# Waits until `wgate status` shows STATE (blocked, connecting, connected); 20 s at most.
wait_state() {
  for _ in $(seq 200); do
    gw_status --json 2>/dev/null | grep -q "\"state\": \"$1\"" && return 0
    sleep 0.1
  done
  wg_log "state never became $1; status:"; gw_status >&2; tail -20 "$WG_DIR/wgate.log" >&2
  return 1
}

# Assertions for the suites that source this file (a suite may define its own after sourcing):
# check DESCRIPTION COMMAND... runs one assertion and, when it fails, says so and clears
# scenario_ok.
check() {
  if "${@:2}"; then return 0; fi
  wg_log "    FAILED: $1"
  scenario_ok=0
}
eq() { [ "$1" = "$2" ] || { wg_log "    expected \"$2\", got \"$1\""; return 1; }; }
no_leaks() { eq "$(leaked)" 0; }

leaked() { in_srv nft -j list counter netdev leak leaked | python3 -c 'import json,sys; print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'; }
reset_leaks() { in_srv nft reset counter netdev leak leaked >/dev/null; }

# Docker's embedded resolver, played by a TCP listener on 127.0.0.11:53 in the gateway namespace
# that greets every client with "dns".
start_docker_dns_stub() {
  in_gw ip addr add 127.0.0.11/8 dev lo 2>/dev/null
  wg_spawn ip netns exec "$NS_GW" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.11", 53)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"dns"); c.close()
' >/dev/null 2>&1
  DOCKER_DNS_PID=${WG_PIDS[-1]}
  for _ in $(seq 50); do in_gw ss -ltn | grep -q '127.0.0.11:53 ' && break; sleep 0.1; done
}
# Prints what a consumer gets from 127.0.0.11:53 ("dns", or nothing when refused).
docker_dns_probe() {
  in_gw python3 -c '
import socket
try:
    c = socket.create_connection(("127.0.0.11", 53), 1); print(c.recv(8).decode())
except OSError: pass
' 2>/dev/null
}

# A consumer: fetches the service from inside the gateway namespace; prints what the service saw.
consumer_fetch() { in_gw curl -s --max-time "${1:-3}" "http://$SERVICE_ADDR:$SERVICE_PORT/"; }
