#!/usr/bin/env bash
# Two wgate daemons in two network namespaces of one host at the same time, each with its own VPN
# server: their control sockets (per namespace), UAPI sockets (per interface) and resolv.conf
# backups (per namespace) must not collide. Runs two leak suites side by side; both must pass.
# usage: tests/two_gateways.sh WGATE_BINARY   (as root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scenarios=(healthy_tunnel reload_while_sending wgate_down)
WG_RUN=x$$a bash "$here/leak_suite.sh" "$1" "${scenarios[@]}" >"/tmp/two-gateways-$$-a.log" 2>&1 &
a=$!
WG_RUN=x$$b bash "$here/leak_suite.sh" "$1" "${scenarios[@]}" >"/tmp/two-gateways-$$-b.log" 2>&1 &
b=$!
wait "$a"; rc_a=$?
wait "$b"; rc_b=$?
for side in a b; do sed "s/^/[$side] /" "/tmp/two-gateways-$$-$side.log"; rm -f "/tmp/two-gateways-$$-$side.log"; done
ok=$(( (rc_a == 0) + (rc_b == 0) ))
echo "two_gateways: $ok passed, $((2 - ok)) failed"
[ "$ok" = 2 ]
