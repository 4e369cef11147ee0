#!/usr/bin/env bash
# The leak suite (issue 5): `wgate run` in a gateway namespace, wireguard-go as the VPN server, a
# consumer inside the gateway namespace, and a counter on the far side of the uplink that counts
# every IP packet that is not the engine's encrypted UDP to the endpoint. Every scenario asserts
# zero such packets, plus the reachability it names.
#
# usage: tests/leak_suite.sh WGATE_BINARY [SCENARIO...]   (as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
trap wg_cleanup EXIT

WGATE=$(realpath "$1")
shift
passed=0
failed=0
failures=()

# check, eq, no_leaks: tests/lib.sh.

stop_gateway() {
  [ -n "${WGATE_PID:-}" ] || return 0
  kill "$WGATE_PID" 2>/dev/null
  wait "$WGATE_PID" 2>/dev/null
  WGATE_PID=
}

# A consumer that sends continuously (UDP to the service, and TCP connects) until stopped.
start_sender() {
  wg_spawn ip netns exec "$NS_GW" python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try: u.sendto(b"x" * 64, ("203.0.113.80", 9999))
    except OSError: pass
    try: socket.create_connection(("203.0.113.80", 8080), 0.05).close()
    except OSError: pass
    time.sleep(0.01)
' >/dev/null 2>&1
  SENDER_PID=${WG_PIDS[-1]}
}
stop_sender() { kill "$SENDER_PID" 2>/dev/null; wait "$SENDER_PID" 2>/dev/null; }

fresh_config() { wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" 192.0.2.1:51820 "${1:-}"; }

# ---- scenarios ----

scenario_healthy_tunnel() {
  fresh_config "PostUp = echo up %i >> $WG_DIR/hooks
PostUp = exit 3
PreDown = echo down %i >> $WG_DIR/hooks"
  wg_start_gateway
  check "connects" wait_state connected
  check "the service sees the tunnel address" eq "$(consumer_fetch)" 198.51.100.2
  check "healthy" gw_status --healthy
  check "PostUp ran with %i" eq "$(cat "$WG_DIR/hooks")" "up $WG_GW_IF"
  check "a failing hook is reported, not fatal" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'warning: PostUp hook 2 exited with status 3'"
  stop_gateway
  check "PreDown ran on SIGTERM" eq "$(tail -1 "$WG_DIR/hooks")" "down $WG_GW_IF"
  check "the lockdown stays after SIGTERM" bash -c "ip netns exec '$NS_GW' nft list table inet wgate | grep -q lockdown"
  check "no leaks" no_leaks
}

scenario_malformed_config() {
  fresh_config
  sed -i 's/^Address = .*/Address/' "$WG_CONF"
  wg_start_gateway
  check "blocked" wait_state blocked
  check "status quotes the line" bash -c "'$WGATE' status >/dev/null; ip netns exec '$NS_GW' '$WGATE' status | grep -q ':3: \"Address\" has no value'"
  check "consumer cannot reach the service" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  check "no leaks" no_leaks
}

scenario_missing_config() {
  rm -f "$WG_CONF"
  wg_start_gateway
  check "blocked" wait_state blocked
  check "status says no such file" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'no such file'"
  check "consumer blocked" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  # The file appears: wgate picks it up without a restart.
  fresh_config
  check "connects once the file exists" wait_state connected
  check "through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
}

scenario_wgate_down() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  check "wgate down succeeds" in_gw "$WGATE" down
  wait "$WGATE_PID" 2>/dev/null
  check "daemon exited 0" eq "$?" 0
  WGATE_PID=
  check "status: not running" bash -c "ip netns exec '$NS_GW' '$WGATE' status; [ \$? = 4 ]"
  check "consumer blocked after down" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  check "lockdown rules stay" bash -c "ip netns exec '$NS_GW' nft list table inet wgate | grep -q 'lockdown'"
  check "no leaks" no_leaks
}

scenario_sigkill() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  start_sender
  kill -9 "$WGATE_PID"
  wait "$WGATE_PID" 2>/dev/null
  WGATE_PID=
  sleep 2
  check "rules outlive the process" bash -c "ip netns exec '$NS_GW' nft list table inet wgate >/dev/null"
  check "consumer blocked after SIGKILL" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  # The next run re-applies the lockdown over the old rules and connects again.
  wg_start_gateway
  check "a new run connects" wait_state connected
  stop_sender
  check "through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
}

scenario_server_unreachable() {
  wg_stop_server
  fresh_config
  wg_start_gateway
  check "connecting, never connected" wait_state connecting
  sleep 3
  check "still not connected" bash -c "! ip netns exec '$NS_GW' '$WGATE' status --healthy"
  check "consumer blocked" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  check "no leaks" no_leaks
  stop_gateway
  wg_start_server
}

scenario_wrong_server_key() {
  wg_write_config "$WG_CONF" "$(wg genkey | wg pubkey)" 192.0.2.1:51820
  wg_start_gateway
  check "connecting" wait_state connecting
  sleep 3
  check "no handshake" bash -c "! ip netns exec '$NS_GW' '$WGATE' status --healthy"
  check "consumer blocked" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  check "no leaks" no_leaks
}

scenario_ipv6_probe_with_ipv4_config() {
  in_srv ip addr add fd00:2::1/64 dev "${WG_RUN}a" nodad 2>/dev/null
  in_gw ip addr add fd00:2::2/64 dev "$GW_UPLINK" nodad 2>/dev/null
  in_gw ip -6 route add default via fd00:2::1 2>/dev/null
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  reset_leaks
  check "IPv6 to the server refused" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 'http://[fd00:2::1]:$SERVICE_PORT/'"
  in_gw ping -6 -c 2 -W 1 fd00:2::1 >/dev/null 2>&1
  check "no leaks" no_leaks
}

scenario_dns_outside_the_tunnel() {
  fresh_config
  start_docker_dns_stub
  wg_start_gateway
  check "connects" wait_state connected
  check "Docker's resolver 127.0.0.11 is refused" eq "$(docker_dns_probe)" ""
  stop_gateway
  wg_start_gateway WGATE_ALLOW_DOCKER_DNS=true
  check "connects" wait_state connected
  check "and allowed with WGATE_ALLOW_DOCKER_DNS=true" eq "$(docker_dns_probe)" dns
  kill "$DOCKER_DNS_PID" 2>/dev/null
  reset_leaks
  check "resolv.conf points into the tunnel" bash -c "ip netns exec '$NS_GW' cat /etc/resolv.conf | grep -q 'nameserver 198.51.100.1'"
  for resolver in 192.0.2.1 127.0.0.11; do
    in_gw python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
try: s.sendto(b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01', ('$resolver', 53)); s.recv(512)
except OSError: pass
try: socket.create_connection(('$resolver', 53), 1)
except OSError: pass
" 2>/dev/null
  done
  check "no leaks" no_leaks
}

scenario_tunnel_deleted_from_outside() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  start_sender
  in_gw ip link del "$WG_GW_IF"
  sleep 3
  check "back to connected" wait_state connected
  stop_sender
  check "through the tunnel again" eq "$(consumer_fetch 5)" 198.51.100.2
  check "no leaks" no_leaks
}

scenario_reload_while_sending() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  start_sender
  fresh_config "MTU = 1380"
  kill -HUP "$WGATE_PID"
  sleep 3
  check "connected after the reload" wait_state connected
  check "the new MTU is in force" bash -c "ip netns exec '$NS_GW' ip link show '$WG_GW_IF' | grep -q 'mtu 1380'"
  stop_sender
  check "through the tunnel" eq "$(consumer_fetch 5)" 198.51.100.2
  check "no leaks" no_leaks
}

scenario_lan_and_published_port() {
  fresh_config
  # A consumer's web UI on 8081, published; 198.51.100.0/24 is not a LAN, 192.0.2.0/24 is.
  wg_spawn ip netns exec "$NS_GW" python3 "$WG_DIR/service.py" 8081 >/dev/null 2>&1
  for _ in $(seq 50); do in_gw ss -ltn | grep -q ':8081 ' && break; sleep 0.1; done
  wg_start_gateway WGATE_INPUT_PORTS=8081/tcp WGATE_LAN_SUBNETS=192.0.2.0/24
  check "connects" wait_state connected
  # Replies of the published port and traffic to the listed LAN are allowed holes: count them apart.
  in_srv nft insert rule netdev leak in ip saddr 192.0.2.2 tcp sport 8081 accept
  in_srv nft insert rule netdev leak in ip daddr 192.0.2.1 tcp dport "$SERVICE_PORT" accept
  reset_leaks
  check "a LAN client reaches the published port" eq \
    "$(in_srv curl -s --max-time 3 http://192.0.2.2:8081/)" 192.0.2.1
  check "an unpublished port stays closed" bash -c "! ip netns exec '$NS_SRV' curl -s --max-time 2 http://192.0.2.2:$SERVICE_PORT/"
  check "the consumer reaches the listed LAN directly" eq \
    "$(in_gw curl -s --max-time 3 http://192.0.2.1:$SERVICE_PORT/)" 192.0.2.2
  check "the consumer reaches the internet through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
  stop_gateway
  in_srv nft flush chain netdev leak in
  in_srv nft add rule netdev leak in meta protocol ip ip daddr 192.0.2.1 udp dport 51820 counter name tunnel accept
  in_srv nft add rule netdev leak in meta protocol '{ ip, ip6 }' counter name leaked
  # Without WGATE_LAN_SUBNETS the same LAN address is not reachable directly.
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  reset_leaks
  check "an unlisted LAN is not reachable directly" bash -c \
    "[ \"\$(ip netns exec '$NS_GW' curl -s --max-time 2 http://192.0.2.1:$SERVICE_PORT/)\" != 192.0.2.2 ]"
  check "no leaks" no_leaks
}

scenario_hostname_endpoint() {
  # The container's resolver (192.0.2.1, from /etc/resolv.conf) knows vpn.test; only wgate's marked
  # socket may ask it, and only while resolving.
  wg_spawn ip netns exec "$NS_SRV" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("192.0.2.1", 53))
while True:
    q, a = s.recvfrom(512)
    i = 12
    while q[i]: i += q[i] + 1
    qtype = q[i + 1] << 8 | q[i + 2]
    r = bytearray(q[:i + 5]); r[2] = 0x81; r[3] = 0x80; r[6:12] = bytes(6)
    if qtype == 1:
        r[7] = 1; r += bytes([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])
    s.sendto(bytes(r), a)
' >/dev/null 2>&1
  local dns_pid=${WG_PIDS[-1]}
  for _ in $(seq 50); do in_srv ss -lun | grep -q '192.0.2.1:53 ' && break; sleep 0.1; done
  in_srv nft insert rule netdev leak in ip daddr 192.0.2.1 meta l4proto '{ tcp, udp }' th dport 53 counter accept comment '"dns"'
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820
  reset_leaks
  wg_start_gateway
  check "connects to the resolved endpoint" wait_state connected
  check "status shows the resolved endpoint" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'endpoint: 192.0.2.1:51820'"
  local dns_before
  dns_before=$(in_srv nft list chain netdev leak in | sed -n 's/.*packets \([0-9]*\).*comment "dns".*/\1/p')
  check "the lookup went through the hole" bash -c "[ '${dns_before:-0}' -ge 1 ]"
  # After connecting, a consumer's query to the same resolver is refused: the hole is closed.
  in_gw python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
try: s.sendto(b'\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03vpn\x04test\x00\x00\x01\x00\x01', ('192.0.2.1', 53)); s.recv(512)
except OSError: pass
" 2>/dev/null
  local dns_after
  dns_after=$(in_srv nft list chain netdev leak in | sed -n 's/.*packets \([0-9]*\).*comment "dns".*/\1/p')
  check "no consumer query through the hole" eq "$dns_after" "$dns_before"
  check "through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  check "no other leaks" no_leaks
  kill "$dns_pid" 2>/dev/null
  in_srv nft delete rule netdev leak in handle "$(in_srv nft -a list chain netdev leak in | sed -n 's/.*comment "dns" # handle \([0-9]*\).*/\1/p')"
}

# ---- the endpoint lookup a consumer must not steer (issue 9) ----
# A DNS server at 192.0.2.1, the namespace's resolver in /etc/resolv.conf: vpn.test and vpn2.test
# are 192.0.2.1, other names NXDOMAIN; every name asked is logged to $DNS_LOG. Lookups through
# the hole are counted apart ("dns"); packets towards 203.0.113.66, the consumers' address,
# are counted by themselves ("to-evil") and as leaks.
EVIL=203.0.113.66
start_logging_dns() {
  DNS_LOG=$WG_DIR/dns-queries.log
  : >"$DNS_LOG"
  wg_spawn ip netns exec "$NS_SRV" python3 -c '
import socket, sys
log = open(sys.argv[1], "a")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("192.0.2.1", 53))
while True:
    q, a = s.recvfrom(512)
    i, labels = 12, []
    while q[i]: labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace")); i += q[i] + 1
    name = ".".join(labels); log.write(name + "\n"); log.flush()
    qtype = q[i + 1] << 8 | q[i + 2]
    r = bytearray(q[:i + 5]); r[2] = 0x81; r[3] = 0x80; r[6:12] = bytes(6)
    if name.lower() not in ("vpn.test", "vpn2.test"):
        r[3] = 0x83
    elif qtype == 1:
        r[7] = 1; r += bytes([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])
    s.sendto(bytes(r), a)
' "$DNS_LOG" >/dev/null 2>&1
  DNS_PID=${WG_PIDS[-1]}
  for _ in $(seq 50); do in_srv ss -lun | grep -q '192.0.2.1:53 ' && break; sleep 0.1; done
  in_srv nft insert rule netdev leak in ip daddr 192.0.2.1 meta l4proto '{ tcp, udp }' th dport 53 counter accept comment '"dns"'
  in_srv nft insert rule netdev leak in ip daddr "$EVIL" counter comment '"to-evil"'
}
stop_logging_dns() {
  kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null
  local c h
  for c in dns to-evil; do
    h=$(in_srv nft -a list chain netdev leak in | sed -n "s/.*comment \"$c\" # handle \([0-9]*\).*/\1/p")
    [ -n "$h" ] && in_srv nft delete rule netdev leak in handle "$h"
  done
}
packets_to_evil() { in_srv nft list chain netdev leak in | sed -n 's/.*packets \([0-9]*\).*comment "to-evil".*/\1/p'; }
endpoint_is() { gw_status | grep -q "endpoint: $1"; }
# Forgets the namespace's recorded original resolv.conf and the gateway's backup of it: a
# recreated gateway after another NET_ADMIN process flushed the ruleset, or a first start.
forget_resolv_origin() {
  in_gw nft delete table inet wgate_origin 2>/dev/null
  rm -f "/run/wgate/resolv-net$(in_gw stat -L -c %i /proc/self/ns/net).conf.orig"
}

scenario_hosts_file_poisoning() {
  start_logging_dns
  # `ip netns exec` bind-mounts /etc/netns/NAME/hosts over /etc/hosts: the file the gateway and
  # its consumers share, as Docker's service: containers do.
  printf '127.0.0.1 localhost\n' >"/etc/netns/$NS_GW/hosts"
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820
  wg_start_gateway
  check "connects to the resolved endpoint" wait_state connected
  reset_leaks
  # A root consumer points the endpoint's name at its own address; then the config is reloaded
  # twice (SIGHUP, and an edit that keeps the Endpoint).
  in_gw sh -c "echo '$EVIL vpn.test' >>/etc/hosts"
  kill -HUP "$WGATE_PID"
  sleep 1
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820 "MTU = 1380"
  sleep 2
  check "connected after the reloads" wait_state connected
  check "the endpoint is still the DNS answer" endpoint_is 192.0.2.1:51820
  check "the reload took effect" bash -c "ip netns exec '$NS_GW' ip link show '$WG_GW_IF' | grep -q 'mtu 1380'"
  check "not one packet to the hosts file's address" eq "$(packets_to_evil)" 0
  check "through the tunnel" eq "$(consumer_fetch 5)" 198.51.100.2
  check "no leaks" no_leaks
  stop_logging_dns
  rm -f "/etc/netns/$NS_GW/hosts"
}

scenario_search_domain_exfiltration() {
  start_logging_dns
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820
  wg_start_gateway
  check "connects" wait_state connected
  reset_leaks
  # A consumer rewrites the shared resolv.conf to carry its data out in wgate's own queries.
  in_gw sh -c 'printf "nameserver 192.0.2.1\nsearch secret-42.attacker.example\noptions ndots:9\n" >/etc/resolv.conf'
  kill -HUP "$WGATE_PID"
  sleep 1
  # A new Endpoint text makes wgate look up, with the consumer's file in place.
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn2.test:51820
  sleep 2
  check "connected after the reloads" wait_state connected
  check "the new name was looked up" grep -qx vpn2.test "$DNS_LOG"
  check "no query carried the search domain" eq "$(grep -c attacker "$DNS_LOG")" 0
  check "only the two names were asked" eq "$(sort -u "$DNS_LOG" | tr '\n' ' ')" "vpn.test vpn2.test "
  check "through the tunnel" eq "$(consumer_fetch 5)" 198.51.100.2
  check "no leaks" no_leaks
  stop_logging_dns
  printf 'nameserver 192.0.2.1\n' >"/etc/netns/$NS_GW/resolv.conf"
}

scenario_consumer_resolv_conf_on_first_start() {
  start_logging_dns
  local original
  original=$(cat "/etc/netns/$NS_GW/resolv.conf")
  # 1. A recreated gateway with no record of the original left: the shared file holds its
  # predecessor's rewrite. After the lockdown a consumer writes its own resolver there.
  forget_resolv_origin
  printf '# Written by wgate: DNS goes through the WireGuard tunnel.\nnameserver 198.51.100.1\n' \
    >"/etc/netns/$NS_GW/resolv.conf"
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820
  wg_start_gateway
  check "blocked" wait_state blocked
  check "saying no resolver was recorded at lockdown" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'no resolver was recorded at lockdown'"
  in_gw sh -c "echo 'nameserver $EVIL' >/etc/resolv.conf"
  kill -HUP "$WGATE_PID"
  sleep 6  # past the 5 s retry after a transient failure
  check "still blocked" wait_state blocked
  check "nothing asked the consumer's resolver" eq "$(packets_to_evil)" 0
  check "nothing asked at all" eq "$(wc -l <"$DNS_LOG")" 0
  check "no leaks" no_leaks
  stop_gateway
  # 2. A first start with a config without DNS (wgate never rewrites the file): the resolver
  # at lockdown is the one asked, whatever a consumer writes afterwards.
  forget_resolv_origin
  printf '%s\n' "$original" >"/etc/netns/$NS_GW/resolv.conf"
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn.test:51820
  sed -i '/^DNS = /d' "$WG_CONF"
  wg_start_gateway
  check "connects" wait_state connected
  in_gw sh -c "echo 'nameserver $EVIL' >/etc/resolv.conf"
  wg_write_config "$WG_CONF" "$(cat "$WG_DIR/srv.pub")" vpn2.test:51820
  sed -i '/^DNS = /d' "$WG_CONF"
  sleep 2
  check "connected with the new name" wait_state connected
  check "which the lockdown's resolver answered" grep -qx vpn2.test "$DNS_LOG"
  check "nothing asked the consumer's resolver" eq "$(packets_to_evil)" 0
  check "through the tunnel" eq "$(consumer_fetch 5)" 198.51.100.2
  check "no leaks" no_leaks
  stop_logging_dns
  printf '%s\n' "$original" >"/etc/netns/$NS_GW/resolv.conf"
}

scenario_ruleset_flushed_from_outside() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  start_sender
  in_gw nft flush ruleset
  sleep 2.5
  check "re-applied and reported" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_reapplied\": [1-9]'"
  check "the table is back" bash -c "ip netns exec '$NS_GW' nft list table inet wgate >/dev/null"
  check "verified again" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_verified\": true'"
  stop_sender
  check "through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
}

reapplied() { gw_status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rules_reapplied"])'; }

scenario_table_deleted_under_continuous_sender() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  check "status says the table is owned" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'protection: table ownership: on'"
  check "and that events are watched" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'protection: nftables events: watched'"
  start_sender
  # And to the uplink's own subnet, which the tunnel's policy routing leaves to the main table
  # (suppress_prefixlength 0): with no table at all these go straight out of the uplink.
  wg_spawn ip netns exec "$NS_GW" python3 -c '
import socket, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    try: u.sendto(b"x" * 64, ("192.0.2.1", 9999))
    except OSError: pass
    time.sleep(0.002)
' >/dev/null 2>&1
  local lan_sender=${WG_PIDS[-1]}
  sleep 0.5
  reset_leaks
  local before; before=$(reapplied)
  # Another NET_ADMIN process deletes wgate's table: the owned twin still blocks, and the daemon
  # puts the table back within milliseconds (its periodic check runs only every second).
  in_gw nft delete table inet wgate
  local t0; t0=$(date +%s%N)
  for _ in $(seq 200); do in_gw nft list table inet wgate >/dev/null 2>&1 && break; sleep 0.005; done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "the table is back within 200 ms (${ms} ms)" [ "$ms" -lt 200 ]
  wg_log "    table inet wgate deleted: back after ${ms} ms"
  sleep 0.3
  check "the re-apply is reported" bash -c "[ \"\$(ip netns exec '$NS_GW' '$WGATE' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"rules_reapplied\"])')\" -gt $before ]"
  check "verified again" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_verified\": true'"
  # The twin itself cannot be deleted, unhooked or flushed by another process.
  check "deleting the owned twin is refused" bash -c "! ip netns exec '$NS_GW' nft delete table inet wgate_owned 2>/dev/null"
  check "so is making it dormant" bash -c "! ip netns exec '$NS_GW' nft add table inet wgate_owned '{ flags dormant; }' 2>/dev/null"
  in_gw nft flush ruleset
  check "flush ruleset leaves the twin" bash -c "ip netns exec '$NS_GW' nft list table inet wgate_owned >/dev/null"
  in_gw nft add table inet wgate '{ flags dormant; }'
  sleep 0.5
  check "the table is back after the flush and the dormant flag" bash -c "ip netns exec '$NS_GW' nft list table inet wgate >/dev/null && ! ip netns exec '$NS_GW' nft list table inet wgate | grep -q dormant"
  check "verified" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_verified\": true'"
  stop_sender
  kill "$lan_sender" 2>/dev/null; wait "$lan_sender" 2>/dev/null
  check "no leaks" no_leaks
  check "the tunnel still works" eq "$(consumer_fetch)" 198.51.100.2
  # Three changes from outside (delete; flush; dormant: the last two may come as one burst), and
  # none of the daemon's own re-applies.
  check "the daemon heard of each change from outside, and only of those" bash -c "n=\$(grep -c 'another process changed wgate.s tables' '$WG_DIR/wgate.log'); [ \$n -ge 2 ] && [ \$n -le 3 ]"
}

scenario_unblock_opens() {
  fresh_config
  wg_start_gateway
  check "connects" wait_state connected
  check "wgate unblock says the namespace is open" bash -c "ip netns exec '$NS_GW' '$WGATE' unblock | grep -q OPEN"
  wait "$WGATE_PID" 2>/dev/null
  WGATE_PID=
  check "the table is gone" bash -c "! ip netns exec '$NS_GW' nft list table inet wgate 2>/dev/null"
  check "resolv.conf restored" bash -c "ip netns exec '$NS_GW' cat /etc/resolv.conf | grep -qx 'nameserver 192.0.2.1'"
  check "traffic now leaves in the clear, as asked" eq "$(consumer_fetch)" 192.0.2.2
}

scenario_blackhole_fallback_without_nftables() {
  fresh_config
  TEST_RUN_FLAGS=--test-without-nftables wg_start_gateway
  check "blocked" wait_state blocked
  start_sender
  check "status says the firewall is unavailable" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'firewall: blackhole fallback'"
  check "and why the tunnel stays down" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'nftables is unavailable'"
  check "every default route is a blackhole" bash -c "ip netns exec '$NS_GW' ip route show | grep -q '^blackhole default'"
  check "IPv6 is off (nothing can stop its link-local messages otherwise)" eq "$(in_gw sysctl -n net.ipv6.conf.all.disable_ipv6)" 1
  check "consumer blocked" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://$SERVICE_ADDR:$SERVICE_PORT/"
  check "the on-link host is refused too" bash -c "! ip netns exec '$NS_GW' curl -s --max-time 2 http://192.0.2.1:$SERVICE_PORT/"
  start_docker_dns_stub
  check "Docker's resolver is refused" eq "$(docker_dns_probe)" ""
  kill "$DOCKER_DNS_PID" 2>/dev/null
  stop_sender
  check "no leaks" no_leaks
  check "down --unblock removes the blackhole routes" bash -c \
    "ip netns exec '$NS_GW' '$WGATE' down --unblock >/dev/null && ! ip netns exec '$NS_GW' ip route show table all | grep -q blackhole"
  WGATE_PID=
  check "and turns IPv6 back on" eq "$(in_gw sysctl -n net.ipv6.conf.all.disable_ipv6)" 0
}

# A consumer without privileges (no marks, no raw sockets) that tries every way around routes:
# broadcast, limited broadcast and unicast naming the uplink with IP_UNICAST_IF, multicast out
# of the uplink (IP_MULTICAST_IF), and IPv6 link-local multicast. Prints how many sends the
# kernel accepted.
fallback_consumer() {
  in_gw python3 - "$1" <<'PY'
import socket, struct, sys, time
ifindex = int(sys.argv[1])
IP_UNICAST_IF = 50
sent = 0
def send(sock, data, addr):
    global sent
    try:
        sock.sendto(data, addr); sent += 1
    except OSError:
        pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.setsockopt(socket.IPPROTO_IP, IP_UNICAST_IF, struct.pack("!I", ifindex))
m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
m.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, struct.pack("4s4si", bytes(4), bytes(4), ifindex))
try:
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
except OSError:
    v6 = None
end = time.time() + 3
while time.time() < end:
    send(u, b"bcast", ("192.0.2.255", 9999))
    send(u, b"lbcast", ("255.255.255.255", 9999))
    send(u, b"unicast-if", ("192.0.2.1", 9999))
    send(m, b"mdns", ("224.0.0.251", 5353))
    if v6:
        send(v6, b"ll-mcast", ("ff02::1", 9999, 0, ifindex))
    time.sleep(0.01)
print(sent)
PY
}

scenario_fallback_with_broadcast_and_unicast_if() {
  # Only the fallback may hold the namespace: an nftables lockdown left by an earlier scenario
  # would stop these packets itself.
  in_gw "$WGATE" unblock >/dev/null 2>&1
  fresh_config
  TEST_RUN_FLAGS=--test-without-nftables wg_start_gateway
  check "blocked" wait_state blocked
  reset_leaks  # from the moment wgate holds the namespace (before, the kernel's IPv6 chatter)
  check "no nftables table helps" bash -c "! ip netns exec '$NS_GW' nft list table inet wgate >/dev/null 2>&1"
  local ifindex; ifindex=$(in_gw cat "/sys/class/net/$GW_UPLINK/ifindex")
  check "the uplink is down" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  check "and the status says so" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'its links are down'"
  local sent; sent=$(fallback_consumer "$ifindex")
  wg_log "    fallback: the kernel accepted $sent of the consumer's sends"
  check "broadcast, multicast, IP_UNICAST_IF and IPv6 link-local: none leaked" no_leaks
  # Another NET_ADMIN process brings the uplink up: the next tick takes it down again.
  in_gw ip link set "$GW_UPLINK" up
  sleep 2
  check "the uplink brought up from outside is down again" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  check "and the status says so" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'was brought up from outside and is down again'"
  stop_gateway
  check "the links stay down after the daemon stopped" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  check "no leaks for the whole scenario" no_leaks
  # `wgate unblock` without a daemon brings back what the fallback shut, from its record.
  local ino; ino=$(in_gw stat -L -c %i /proc/self/ns/net)
  check "the fallback's record is kept in /run/wgate" test -f "/run/wgate/fallback-net$ino.json"
  check "wgate unblock says the namespace is open" bash -c "ip netns exec '$NS_GW' '$WGATE' unblock | grep -q OPEN"
  check "the uplink is up again" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -q '[<,]UP[,>]'"
  check "the default route is back" bash -c "ip netns exec '$NS_GW' ip route show default | grep -q 'via 192.0.2.1'"
  check "no blackhole is left" bash -c "! ip netns exec '$NS_GW' ip route show table all | grep -q blackhole"
  check "IPv6 is back on" eq "$(in_gw sysctl -n net.ipv6.conf.all.disable_ipv6)" 0
  check "the record is gone" test ! -e "/run/wgate/fallback-net$ino.json"
  check "the server answers again (in the clear, as asked)" eq "$(consumer_fetch)" 192.0.2.2
}

# `wgate hold` in the fallback shuts the links the same way, keeps them down, and its unblock
# brings them back.
scenario_fallback_hold_keeps_the_links_down() {
  in_gw "$WGATE" unblock >/dev/null 2>&1
  wg_spawn ip netns exec "$NS_GW" "$WGATE" hold --test-without-nftables >>"$WG_DIR/hold.log" 2>&1
  local hold_pid=${WG_PIDS[-1]}
  for _ in $(seq 50); do hold_status 2>/dev/null | grep -q 'state: holding' && break; sleep 0.1; done
  reset_leaks
  check "the holder holds the fallback" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'its links are down'"
  check "the uplink is down" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  local sent; sent=$(fallback_consumer "$(in_gw cat "/sys/class/net/$GW_UPLINK/ifindex")")
  wg_log "    fallback, hold: the kernel accepted $sent of the consumer's sends"
  in_gw ip link set "$GW_UPLINK" up
  sleep 2
  check "the uplink brought up from outside is down again" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  check "and the holder says so" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'was brought up from outside and is down again'"
  check "no leaks" no_leaks
  check "wgate unblock opens" bash -c "ip netns exec '$NS_GW' '$WGATE' unblock | grep -q OPEN"
  sleep 1.5  # a tick of the unblocked holder
  check "the uplink is up again, and stays up" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -q '[<,]UP[,>]'"
  check "the default route is back" bash -c "ip netns exec '$NS_GW' ip route show default | grep -q 'via 192.0.2.1'"
  check "IPv6 is back on" eq "$(in_gw sysctl -n net.ipv6.conf.all.disable_ipv6)" 0
  kill "$hold_pid"; wait "$hold_pid" 2>/dev/null
}

# As in a container, /proc/sys is read-only: IPv6 cannot be switched off. The links being down
# is what keeps the consumer's IPv6 and the kernel's own router solicitations in.
scenario_fallback_with_read_only_proc_sys() {
  in_gw "$WGATE" unblock >/dev/null 2>&1
  in_gw sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
  fresh_config
  WGATE_PID=
  wg_spawn ip netns exec "$NS_GW" env WGATE_INTERFACE="$WG_GW_IF" unshare -m sh -c \
    'mount -o bind,ro /proc/sys /proc/sys && exec "$@"' sh \
    "$WGATE" run --config "$WG_CONF" --test-without-nftables >>"$WG_DIR/wgate.log" 2>&1
  WGATE_PID=${WG_PIDS[-1]}
  check "blocked" wait_state blocked
  reset_leaks
  check "IPv6 stays on" eq "$(in_gw sysctl -n net.ipv6.conf.all.disable_ipv6)" 0
  check "the status says so" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'IPv6 stays on'"
  check "the uplink is down" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -qv '[<,]UP[,>]'"
  local sent; sent=$(fallback_consumer "$(in_gw cat "/sys/class/net/$GW_UPLINK/ifindex")")
  wg_log "    fallback, read-only /proc/sys: the kernel accepted $sent of the consumer's sends"
  sleep 12  # 15 s in all: the kernel's router solicitations leaked 2 in 15 s before
  check "no leaks, IPv6 included" no_leaks
  stop_gateway
  check "wgate unblock opens" bash -c "ip netns exec '$NS_GW' '$WGATE' unblock | grep -q OPEN"
  check "the uplink is up again" bash -c "ip netns exec '$NS_GW' ip -o link show '$GW_UPLINK' | grep -q '[<,]UP[,>]'"
  check "the default route is back" bash -c "ip netns exec '$NS_GW' ip route show default | grep -q 'via 192.0.2.1'"
}

scenario_healthy_before_any_traffic() {
  # No PersistentKeepalive (Mullvad's and Proton's configs have none) and no consumer traffic:
  # wgate still makes its first handshake at once, so compose's service_healthy and Kubernetes'
  # startup probe can wait for it.
  fresh_config
  sed -i '/^PersistentKeepalive/d' "$WG_CONF"
  local t0; t0=$(date +%s%N)
  wg_start_gateway
  for _ in $(seq 100); do gw_status --healthy 2>/dev/null && break; sleep 0.02; done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "healthy within 1 s of the start, before any traffic (${ms} ms)" gw_status --healthy
  check "in ${ms} ms" [ "$ms" -lt 1000 ]
  wg_log "    start to healthy: ${ms} ms"
  check "no leaks" no_leaks
}

# A consumer with CAP_NET_RAW (Docker's default), root in the gateway namespace: marked UDP to
# the endpoint (as if it were the engine's), the same from a raw IP socket, and raw Ethernet
# frames written straight onto the uplink (with and without PACKET_QDISC_BYPASS), to the endpoint
# and to the service. Each carries source port 40000, which the engine never uses.
net_raw_consumer() {
  in_gw python3 - "$GW_UPLINK" <<'PY'
import socket, struct, sys
dev = sys.argv[1]
EP = ("192.0.2.1", 51820)
payload = b"LEAK" * 8
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
def ip_udp(dst, dport):
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton("192.0.2.2"), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + udp
for _ in range(20):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 51820)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        u.bind(("0.0.0.0", 40000)); u.sendto(payload, EP)
    except OSError: pass
    u.close()
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 51820)
    try: r.sendto(ip_udp(*EP), (EP[0], 0))
    except OSError: pass
    for bypass in (0, 1):
        p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        if bypass: p.setsockopt(263, 20, 1)  # SOL_PACKET, PACKET_QDISC_BYPASS
        p.bind((dev, 0))
        for dst, port in (EP, ("203.0.113.80", 9999)):
            try: p.send(b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip_udp(dst, port))
            except OSError: pass
PY
}
# Packets from source port 40000 that reached the server's side of the uplink.
raw_arrivals() { in_srv nft list counter netdev rawleak n | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

scenario_net_raw_consumer() {
  in_srv nft -f - <<NFT
table netdev rawleak {
  counter n {}
  chain in {
    type filter hook ingress device "${WG_RUN}a" priority -1;
    udp sport 40000 counter name n
  }
}
NFT
  fresh_config
  # wgate in a cgroup of its own, as in a container (the consumers stay in the root cgroup);
  # cgroup v2 mounted at /sys/fs/cgroup in its private mount namespace (this host is hybrid).
  local cg="wgate-$WG_RUN"
  WGATE_PID=
  wg_spawn ip netns exec "$NS_GW" unshare -m sh -c "mount -t cgroup2 none /sys/fs/cgroup && mkdir -p /sys/fs/cgroup/$cg && echo \$\$ > /sys/fs/cgroup/$cg/cgroup.procs && exec env WGATE_INTERFACE=$WG_GW_IF '$WGATE' run --config '$WG_CONF'" >>"$WG_DIR/wgate.log" 2>&1
  WGATE_PID=${WG_PIDS[-1]}
  check "connects" wait_state connected
  check "status: the engine's hole is matched by its cgroup" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'engine socket cgroup: active'"
  check "status: the uplink has a device-level filter" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'uplink egress filter: active'"
  net_raw_consumer
  sleep 0.5
  check "nothing from the NET_RAW consumer reached the far side" eq "$(raw_arrivals)" 0
  check "the tunnel still works" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
  stop_gateway
  # Without the gateway's own cgroup the protection is reported missing, not pretended.
  wg_start_gateway
  check "connects" wait_state connected
  check "status says the cgroup match is unavailable, and why" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'engine socket cgroup: unavailable'"
  stop_gateway
  in_srv nft delete table netdev rawleak
  unshare -m sh -c "mount -t cgroup2 none /sys/fs/cgroup && rmdir /sys/fs/cgroup/$cg"
}

# A consumer that fetches the service every 100 ms for as long as it runs, one process throughout,
# logging "ok|fail <epoch seconds>" per attempt to $WG_DIR/fetches.
start_fetcher() {
  : >"$WG_DIR/fetches"
  wg_spawn ip netns exec "$NS_GW" python3 -c '
import sys, time, urllib.request
log = open(sys.argv[1], "a", buffering=1)
while True:
    t = time.time()
    try:
        seen = urllib.request.urlopen("http://203.0.113.80:8080/", timeout=0.5).read().decode().strip()
        log.write(("ok" if seen == "198.51.100.2" else "wrong") + " %.3f\n" % t)
    except Exception:
        log.write("fail %.3f\n" % t)
    time.sleep(max(0, 0.1 - (time.time() - t)))
' "$WG_DIR/fetches" >/dev/null 2>&1
  FETCHER_PID=${WG_PIDS[-1]}
}
# Seconds from $1 (epoch) to the fetcher's first success after it; "none" if there is none.
first_ok_after() { awk -v t="$1" '$1 == "ok" && $2 >= t { printf "%.2f", $2 - t; found = 1; exit } END { if (!found) print "none" }' "$WG_DIR/fetches"; }
oks_after() { awk -v t="$1" '$1 == "ok" && $2 >= t' "$WG_DIR/fetches" | wc -l; }
within() { [ "$1" != none ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# Starts a new gateway and checks that the fetcher's traffic flows again within 5 s of its start.
start_gateway_and_expect_flow() {
  local t0 first
  t0=$(date +%s.%N)
  wg_start_gateway
  check "a new gateway connects ($1)" wait_state connected
  sleep 1
  first=$(first_ok_after "$t0")
  check "the same consumer flows again within 5 s ($1: $first s)" within "$first" 5
  wg_log "    hold: $1, the new gateway's traffic flowed ${first}s after its start"
}
hold_status() { in_gw "$WGATE" status "$@"; }  # no gateway running: the holder answers

scenario_hold_keeps_consumers_across_gateway_restarts() {
  # The holder starts on an open namespace, as in a fresh container, and locks it first.
  in_gw "$WGATE" unblock >/dev/null 2>&1
  wg_spawn ip netns exec "$NS_GW" "$WGATE" hold >>"$WG_DIR/hold.log" 2>&1
  local hold_pid=${WG_PIDS[-1]}
  for _ in $(seq 100); do in_gw nft list table inet wgate >/dev/null 2>&1 && break; sleep 0.05; done
  reset_leaks
  for _ in $(seq 50); do hold_status --healthy 2>/dev/null && break; sleep 0.1; done
  check "the holder alone is healthy" hold_status --healthy
  check "it says it holds the lockdown" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'state: holding (lockdown verified'"
  check "its status is the holder's" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"role\": \"hold\"'"
  start_fetcher
  sleep 1
  check "with only the holder, the consumer gets nothing out" eq "$(oks_after 0)" 0

  fresh_config
  local t0; t0=$(date +%s.%N)
  wg_start_gateway
  check "the gateway takes over" wait_state connected
  sleep 1
  local first; first=$(first_ok_after "$t0")
  check "the consumer's traffic flows through the tunnel ($first s after the gateway started)" within "$first" 5
  wg_log "    hold: first consumer success ${first}s after the first gateway started"
  check "the gateway's rules were never disturbed" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_reapplied\": 0'"

  # Recreated by SIGTERM (an image update): blocked meanwhile, back within 5 s, same consumer.
  stop_gateway
  sleep 1
  local gone; gone=$(date +%s.%N)
  sleep 1
  check "blocked while no gateway runs" eq "$(oks_after "$gone")" 0
  check "the holder holds its lockdown again" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'lockdown verified'"
  start_gateway_and_expect_flow "after SIGTERM"

  # Recreated after SIGKILL: the dead gateway's ruleset stays and fails closed.
  kill -9 "$WGATE_PID"; wait "$WGATE_PID" 2>/dev/null; WGATE_PID=
  sleep 2
  gone=$(date +%s.%N)
  sleep 1
  check "blocked after the gateway's SIGKILL" eq "$(oks_after "$gone")" 0
  # Its rules stay, but no running gateway vouches for them any more: unverified, then replaced
  # by the holder's exact lockdown once the grace (10 s) is over.
  check "the holder does not vouch for a dead gateway's rules" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'no running gateway vouches'"
  check "and is not healthy meanwhile" bash -c "! ip netns exec '$NS_GW' '$WGATE' status --healthy"
  for _ in $(seq 120); do hold_status --healthy 2>/dev/null && break; sleep 0.1; done
  check "then it puts its own lockdown back and is healthy" hold_status --healthy
  check "which is its exact lockdown" bash -c "ip netns exec '$NS_GW' '$WGATE' status | grep -q 'lockdown verified'"
  check "blocked all along" eq "$(oks_after "$gone")" 0
  start_gateway_and_expect_flow "after SIGKILL"
  check "the holder re-applied only over the dead gateway's rules" eq "$(grep -c 're-applying' "$WG_DIR/hold.log")" 1
  check "the consumer process was never restarted" kill -0 "$FETCHER_PID"
  check "never a wrong source address" eq "$(grep -c '^wrong' "$WG_DIR/fetches")" 0
  stop_gateway
  kill "$FETCHER_PID" 2>/dev/null; wait "$FETCHER_PID" 2>/dev/null
  check "no leaks" no_leaks
  # One NET_ADMIN command that unhooks every chain: the holder notices the shape and re-locks.
  in_gw nft add table inet wgate '{ flags dormant; }'
  sleep 1.5
  check "a dormant table is re-locked" bash -c "! ip netns exec '$NS_GW' nft list table inet wgate | grep -q dormant"
  check "and reported" bash -c "grep -q 'never sets: .flags dormant' '$WG_DIR/hold.log'"
  reset_leaks
  kill "$hold_pid"; wait "$hold_pid" 2>/dev/null
  check "the holder exits 0 on SIGTERM" eq "$?" 0
  check "and leaves the lockdown" bash -c "ip netns exec '$NS_GW' nft list table inet wgate | grep -q lockdown"
  check "no leaks" no_leaks
  # A recreated gateway's container has no backup of resolv.conf, only the gateways' rewrite in
  # the file it shares: the original comes back from the holder's record in the kernel.
  check "resolv.conf holds the gateway's rewrite" bash -c "grep -q 'Written by wgate' /etc/netns/$NS_GW/resolv.conf"
  local ino; ino=$(in_gw stat -L -c %i /proc/self/ns/net)
  rm -f "/run/wgate/resolv-net$ino.conf.orig"
  in_gw "$WGATE" unblock >/dev/null
  check "unblock restores the original from the record" eq "$(cat "/etc/netns/$NS_GW/resolv.conf")" "nameserver 192.0.2.1"
}

# Whoever forges the VPN server's address (anyone on the path or the LAN) must reach the engine's
# port and nothing else: not a consumer's UDP service. wireguard-go holds 192.0.2.1:51820 in the
# server's namespace, so a raw socket writes the forged headers.
scenario_spoofed_server_datagram_to_consumer_port() {
  fresh_config
  : >"$WG_DIR/consumer_heard"
  wg_spawn ip netns exec "$NS_GW" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        data, _ = s.recvfrom(2048)
        f.write(data + b"\n")
' "$WG_DIR/consumer_heard" >/dev/null 2>&1
  local listener=${WG_PIDS[-1]}
  for _ in $(seq 50); do in_gw ss -lun | grep -q ':5353 ' && break; sleep 0.1; done
  wg_start_gateway
  check "connects" wait_state connected
  reset_leaks
  in_srv python3 -c '
import socket, struct
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(20):
    payload = b"forged-%d" % i
    udp = struct.pack("!HHHH", 51820, 5353, 8 + len(payload), 0) + payload  # no checksum: allowed
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.2"))
    raw.sendto(ip + udp, ("192.0.2.2", 0))
'
  in_gw python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"control", ("127.0.0.1", 5353))'
  sleep 0.5
  check "the consumer's listener works (control over lo)" bash -c "grep -q control '$WG_DIR/consumer_heard'"
  check "no forged 'server' datagram reached the consumer" bash -c "! grep -q forged '$WG_DIR/consumer_heard'"
  check "the tunnel still works" eq "$(consumer_fetch)" 198.51.100.2
  check "no leaks" no_leaks
  kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
}

scenario_hook_deletes_table() {
  # PostUp hooks run beside the daemon's loop: one deletes wgate's tables (and the owned twin,
  # where there is one), one lists the descriptors it got, one runs for 30 s. A consumer sends
  # throughout.
  fresh_config "PostUp = nft delete table inet wgate 2>/dev/null && echo deleted >> $WG_DIR/hook || echo refused >> $WG_DIR/hook; nft delete table inet wgate_owned 2>/dev/null && echo owned deleted >> $WG_DIR/hook; true
PostUp = exec ls /proc/self/fd > $WG_DIR/hook-fds
PostUp = echo \$\$ > $WG_DIR/hook-sleep; exec sleep 30"
  start_sender
  wg_start_gateway
  # The third hook starts once bring-up is done: from then on, for 30 s, a hook runs.
  for _ in $(seq 100); do [ -s "$WG_DIR/hook-sleep" ] && break; sleep 0.05; done
  local sleeper; sleeper=$(cat "$WG_DIR/hook-sleep" 2>/dev/null)
  check "the 30 s hook is running" kill -0 "${sleeper:-0}"
  local worst=0 t0 ms
  for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    gw_status --json >/dev/null
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.2
  done
  wg_log "    wgate status while a hook runs: slowest of 5 answers ${worst} ms"
  check "status answers within 1 s while the hook runs (${worst} ms)" [ "$worst" -lt 1000 ]
  check "connects while the hook runs" wait_state connected
  check "the table-deleting hook ran" test -s "$WG_DIR/hook"
  wg_log "    the hook's nft delete table: $(tr '\n' ' ' <"$WG_DIR/hook" 2>/dev/null)"
  check "a hook gets stdin, stdout, stderr and nothing else (3: ls's own)" eq "$(tr '\n' ' ' <"$WG_DIR/hook-fds" 2>/dev/null)" "0 1 2 3 "
  check "the hook is still running" kill -0 "${sleeper:-0}"
  for _ in $(seq 30); do in_gw nft list table inet wgate >/dev/null 2>&1 && break; sleep 0.1; done
  check "the table is there" bash -c "ip netns exec '$NS_GW' nft list table inet wgate >/dev/null"
  if grep -q '^deleted' "$WG_DIR/hook" 2>/dev/null; then  # not refused by table ownership
    check "re-applied and reported" bash -c "ip netns exec '$NS_GW' '$WGATE' status --json | grep -q '\"rules_reapplied\": [1-9]'"
  fi
  check "through the tunnel" eq "$(consumer_fetch)" 198.51.100.2
  stop_sender
  # Until nftables events reach the loop, a deleted table stays gone until the next check (100 ms
  # while connecting): a freshly up uplink's own IPv6 reports can leave meanwhile.
  check "no leaks" no_leaks
  # SIGTERM while the hook runs: it is stopped, and so is the daemon, at once.
  t0=$(date +%s%N)
  stop_gateway
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  check "the daemon stops within 2 s though a hook ran (${ms} ms)" [ "$ms" -lt 2000 ]
  check "and the hook was stopped" bash -c "! kill -0 '${sleeper:-0}' 2>/dev/null || grep -q '^State:.*zombie' /proc/${sleeper:-0}/status"
  check "and the log says so" grep -q "PostUp hook 3 was stopped before it finished" "$WG_DIR/wgate.log"
  check "no leaks" no_leaks
  rm -f "$WG_DIR/hook" "$WG_DIR/hook-fds" "$WG_DIR/hook-sleep"
}

all=(healthy_tunnel malformed_config missing_config wgate_down sigkill server_unreachable wrong_server_key
     ipv6_probe_with_ipv4_config dns_outside_the_tunnel tunnel_deleted_from_outside reload_while_sending
     lan_and_published_port hostname_endpoint ruleset_flushed_from_outside unblock_opens
     blackhole_fallback_without_nftables healthy_before_any_traffic
     hold_keeps_consumers_across_gateway_restarts table_deleted_under_continuous_sender
     hosts_file_poisoning search_domain_exfiltration consumer_resolv_conf_on_first_start
     spoofed_server_datagram_to_consumer_port net_raw_consumer
     fallback_with_broadcast_and_unicast_if fallback_with_read_only_proc_sys
     fallback_hold_keeps_the_links_down hook_deletes_table)
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all[@]}")

wg_setup "$WGATE"
if [ -n "${LEAK_CAPTURE:-}" ]; then  # debugging: every non-tunnel packet from the gateway, to a file
  wg_spawn ip netns exec "$NS_SRV" tcpdump -U -Q in -ni "${WG_RUN}a" -w "$LEAK_CAPTURE" \
    "inbound and not (udp and dst port 51820)" >/dev/null 2>&1
  sleep 1
fi
for name in "${selected[@]}"; do
  scenario_ok=1
  started=$(date +%s.%N)
  reset_leaks
  in_gw nft list table inet wgate >/dev/null 2>&1 || RESET_AFTER_LOCKDOWN=1
  "scenario_$name"
  stop_gateway
  # The lockdown stays between scenarios, as it does across container restarts: the next run
  # takes over atomically. A scenario that ends with the namespace open makes the next one count
  # from its lockdown on (the kernel's own IPv6 link-local chatter goes out while it is open).
  elapsed=$(printf '%.1f' "$(echo "$(date +%s.%N) - $started" | bc)")
  if [ "$scenario_ok" = 1 ]; then
    echo "leak_suite: $name: ok (${elapsed}s)"
    passed=$((passed + 1))
  else
    echo "leak_suite: $name: FAILED (${elapsed}s); wgate log tail:"
    tail -15 "$WG_DIR/wgate.log" | sed 's/^/    /'
    failed=$((failed + 1))
    failures+=("$name")
  fi
  : >"$WG_DIR/wgate.log"
done
echo "leak_suite: $passed passed, $failed failed${failures:+ (${failures[*]})}"
[ "$failed" = 0 ]
