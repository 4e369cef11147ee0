#!/usr/bin/env bash
# The examples users copy, run for real with podman (as root):
#   examples/compose/compose.yaml      through tests/compose_run.py (plain `podman run` per service)
#   examples/kubernetes/pod.yaml       through `podman kube play`
#
#   tests/examples_suite.sh WGATE_SOURCE_DIR
#
# It builds the image with scripts/image.sh first (a no-op when nothing changed), unless
# WGATE_IMAGE_PREBUILT is set and localhost/wgate:latest exists.
#
# The topology is tests/lib.sh's: a server namespace (wireguard-go VPN server, the echo service on
# 203.0.113.80:8080 that answers with the source address it sees, a leak counter on the link from
# the gateway's uplink) and the uplink namespace the compose file's first service (hold) joins, or
# the pod's namespace is wired to. A LAN namespace behind the server stands for the user's LAN:
# 203.0.113.2 in 203.0.113.0/28, reaching the published web UIs by routing, as a LAN client
# reaches ports Docker publishes. No bridge network, no published host port, nothing connected to
# the machine's own network. Every name carries the run's prefix; cleanup removes containers
# dependents first, then pods, images, volumes and namespaces, and stops only our own PIDs.
#
# What this podman (4.3.1) cannot do, and what the test does instead, is printed as it happens.
set -uo pipefail

SRC=$(cd "${1:?usage: examples_suite.sh WGATE_SOURCE_DIR}" && pwd)
if [ "$(id -u)" != 0 ]; then echo "examples_suite: run as root" >&2; exit 2; fi
export CONTAINERS_CONF=${CONTAINERS_CONF:-$SRC/scripts/podman.conf}
# What it needs beyond the leak suite's packages (Debian names): podman and runc; catatonit, the
# pause process podman builds a pod's infra container from; python3-yaml for compose_run.py.
missing=
for cmd in podman runc catatonit wireguard-go wg curl nft; do
  command -v "$cmd" >/dev/null || missing="$missing $cmd"
done
python3 -c 'import yaml' 2>/dev/null || missing="$missing python3-yaml"
if [ -n "$missing" ]; then
  echo "FAIL prerequisites: missing$missing"
  echo "examples_suite: 0 passed, 1 failed"
  exit 1
fi
WG_RUN=${WG_RUN:-x$$}
# shellcheck source=tests/lib.sh
source "$SRC/tests/lib.sh"

IMAGE=localhost/wgate:latest
STANDIN=localhost/wgate-examples-standin:$WG_RUN
PROJECT=${WG_RUN}c                 # compose project: containers ${PROJECT}-SERVICE
POD=${WG_RUN}-qbittorrent          # the pod's name in the test's copy of pod.yaml
NS_LAN=${WG_RUN}-lan
NS_POD=${WG_RUN}-pod
WORK=$(mktemp -d /tmp/wgate-examples-XXXXXX)
PASSED=0
FAILED=0
STARTED=$(date +%s)

log() { printf 'examples_suite: %s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
failed() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; }
# check NAME COMMAND...: one assertion.
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else failed "$name"; fi
}
eq() { [ "$1" = "$2" ] || { log "expected \"$2\", got \"$1\""; return 1; }; }
contains() { case "$1" in *"$2"*) return 0 ;; esac; log "expected \"$2\" in \"$1\""; return 1; }
no_leaks() { local n; n=$(leaked); [ "$n" = 0 ] || { log "$n packet(s) leaked"; return 1; }; }

cleanup() {
  set +e
  [ -f "$WORK/compose/compose.yaml" ] &&
    python3 "$SRC/tests/compose_run.py" down "$WORK/compose/compose.yaml" --project "$PROJECT" >/dev/null 2>&1
  # Whatever compose_run left: podman refuses to remove a container others join, so each round
  # removes the dependents and the next one what they joined.
  local c round
  for round in 1 2 3; do
    for c in $(podman ps -a --filter "label=io.wgate.examples.project=$PROJECT" --format '{{.Names}}' 2>/dev/null); do
      podman rm -f -v -t 0 "$c" >/dev/null 2>&1
    done
  done
  if podman pod exists "$POD" 2>/dev/null; then
    [ -f "$WORK/pod.yaml" ] && podman kube down "$WORK/pod.yaml" >/dev/null 2>&1
    podman pod rm -f "$POD" >/dev/null 2>&1
  fi
  # kube play makes a named volume for each claim and for the secret.
  podman volume rm -f "$WG_RUN-qbittorrent-config" "$WG_RUN-qbittorrent-downloads" \
    "$WG_RUN-wgate-config" >/dev/null 2>&1
  podman secret rm "$WG_RUN-wgate-config" >/dev/null 2>&1
  podman rmi "$STANDIN" >/dev/null 2>&1
  ip netns del "$NS_POD" 2>/dev/null
  ip netns del "$NS_LAN" 2>/dev/null
  wg_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- images ---------------------------------------------------------------------------------
if [ -n "${WGATE_IMAGE_PREBUILT:-}" ] && podman image exists "$IMAGE"; then
  log "using the $IMAGE present (WGATE_IMAGE_PREBUILT is set)"
  : >"$WORK/image.log"
else
  log "building $IMAGE (scripts/image.sh; reuses its builder base)"
fi
if [ -z "${WGATE_IMAGE_PREBUILT:-}" ] && ! bash "$SRC/scripts/image.sh" >"$WORK/image.log" 2>&1; then
  tail -20 "$WORK/image.log"
  failed "the image builds"
  echo "examples_suite: $PASSED passed, $FAILED failed"
  exit 1
fi
grep '^image.sh:' "$WORK/image.log"

# The consumers' images (qBittorrent, Firefox) cannot be pulled here: no registry is reachable.
# A stand-in built on wgate's image serves a small page on the real image's web UI ports with
# busybox httpd (plain HTTP on every port, also where Firefox would serve HTTPS).
mkdir -p "$WORK/standin"
cat >"$WORK/standin/Containerfile" <<'EOF'
FROM localhost/wgate:latest
HEALTHCHECK NONE
ENTRYPOINT ["/bin/sh", "-c", "mkdir -p /www && echo \"$STANDIN_NAME stand-in\" >/www/index.html && for p in $STANDIN_PORTS; do httpd -p \"$p\" -h /www || exit 1; done; trap 'exit 0' TERM; while :; do sleep 1; done"]
EOF
if ! podman build --format docker --network none --pull=never -t "$STANDIN" "$WORK/standin" >"$WORK/standin.log" 2>&1; then
  tail -20 "$WORK/standin.log"
  failed "the stand-in image builds"
  echo "examples_suite: $PASSED passed, $FAILED failed"
  exit 1
fi
log "stand-in for the consumers' images: $STANDIN (busybox httpd on the web UI ports)"

# --- topology -------------------------------------------------------------------------------
wg_setup wgate-runs-in-the-containers
# The LAN: a client namespace behind the server (which routes), in 203.0.113.0/28.
ip netns add "$NS_LAN"
ip link add "${WG_RUN}l" netns "$NS_SRV" type veth peer name "${WG_RUN}m" netns "$NS_LAN"
in_srv ip addr add 203.0.113.1/28 dev "${WG_RUN}l"
in_srv ip link set "${WG_RUN}l" up
in_lan() { ip netns exec "$NS_LAN" "$@"; }
in_lan ip link set lo up
in_lan ip addr add 203.0.113.2/28 dev "${WG_RUN}m"
in_lan ip link set "${WG_RUN}m" up
in_lan ip route add default via 203.0.113.1
wg_spawn ip netns exec "$NS_LAN" python3 "$WG_DIR/service.py" 8080 >/dev/null 2>&1
for _ in $(seq 50); do in_lan ss -ltn | grep -q ':8080 ' && break; sleep 0.1; done
# Allowed holes, counted apart from leaks: replies of the published web UIs to the LAN client,
# and the consumers' own traffic to the listed LAN (WGATE_LAN_SUBNETS).
in_srv nft insert rule netdev leak in ip saddr 192.0.2.2 ip daddr 203.0.113.0/28 tcp sport '{ 8080, 3000, 3001 }' accept
in_srv nft insert rule netdev leak in ip saddr 192.0.2.2 ip daddr 203.0.113.0/28 tcp dport 8080 accept

# --- compose ----------------------------------------------------------------------------------
# A copy of examples/compose as a user would have it: the files unchanged, plus .env and the key.
mkdir -p "$WORK/compose"
cp -r "$SRC/examples/compose/." "$WORK/compose/"
cat >"$WORK/compose/.env" <<EOF
WIREGUARD_ADDRESSES=198.51.100.2/32
WIREGUARD_PUBLIC_KEY=$(cat "$WG_DIR/srv.pub")
WIREGUARD_ENDPOINT_IP=192.0.2.1
VPN_ENDPOINT_PORT=51820
WGATE_DNS=198.51.100.1
LAN_SUBNETS=203.0.113.0/28
EOF
(umask 077; cp "$WG_DIR/gw.key" "$WORK/compose/secrets/wg_private_key")
check "compose.yaml is the example, unchanged" cmp -s "$WORK/compose/compose.yaml" "$SRC/examples/compose/compose.yaml"

compose_up() {
  python3 "$SRC/tests/compose_run.py" up "$WORK/compose/compose.yaml" --project "$PROJECT" \
    --first-network "ns:/run/netns/$NS_GW" --standin "$STANDIN" --health-timeout 30 \
    >"$WORK/compose.log" 2>&1
}
up_started=$(date +%s.%N)
compose_up &
up_pid=$!
# Count leaks from the moment the holder has locked the namespace (the kernel's own IPv6
# solicitations go out before that; see DESIGN.md).
for _ in $(seq 300); do
  podman healthcheck run "$PROJECT-hold" >/dev/null 2>&1 && break
  sleep 0.1
done
reset_leaks
wait "$up_pid"
up_rc=$?
up_took=$(awk -v a="$up_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
sed 's/^/  /' "$WORK/compose.log"
check "compose: every service started in order, each after its dependency was healthy (${up_took} s)" eq "$up_rc" 0

hc() { podman healthcheck run "$1" >/dev/null 2>&1; }
in_ctr() { local c=$1; shift; podman exec "$c" "$@" 2>/dev/null; }
# http_get CONTAINER HOST PORT: the body of GET / from inside a container, with busybox nc (the
# image's busybox 1.35 wget dies of SIGSEGV as soon as it is given a timeout, -T; nc -w works).
http_get() {
  in_ctr "$1" sh -c "printf 'GET / HTTP/1.0\r\nHost: $2\r\n\r\n' | nc -w 5 $2 $3" | tr -d '\r' | sed '1,/^$/d'
}
fetch_from() { http_get "$1" "$SERVICE_ADDR" "$SERVICE_PORT"; }
caps_of() { podman inspect --format '{{.EffectiveCaps}}' "$1" 2>/dev/null; }

check "compose: the holder is healthy (lockdown verified)" hc "$PROJECT-hold"
check "compose: the holder's own status reports the holder" contains \
  "$(in_ctr "$PROJECT-hold" wgate status --json)" '"role": "hold"'
check "compose: the gateway is healthy (tunnel connected, rules verified)" hc "$PROJECT-wgate"
check "compose: the gateway's config came from the environment and the secret" contains \
  "$(in_ctr "$PROJECT-wgate" wgate status --json)" '"config": "environment"'
check "compose: qbittorrent reaches the service through the tunnel" eq "$(fetch_from "$PROJECT-qbittorrent")" 198.51.100.2
check "compose: firefox reaches the service through the tunnel" eq "$(fetch_from "$PROJECT-firefox")" 198.51.100.2
check "compose: the consumers run without NET_RAW" bash -c \
  "! podman inspect --format '{{.EffectiveCaps}}' '$PROJECT-qbittorrent' '$PROJECT-firefox' | grep -q NET_RAW"
check "compose: a LAN client reaches qBittorrent's web UI on the holder's published 8080" contains \
  "$(in_lan curl -s --max-time 5 http://192.0.2.2:8080/)" "qbittorrent stand-in"
check "compose: a LAN client reaches Firefox's web UI on the holder's published 3000" contains \
  "$(in_lan curl -s --max-time 5 http://192.0.2.2:3000/)" "firefox stand-in"
check "compose: a consumer reaches the LAN directly (WGATE_LAN_SUBNETS)" eq \
  "$(http_get "$PROJECT-qbittorrent" 203.0.113.2 8080)" 192.0.2.2
check "compose: no leaks" no_leaks
# The holder leaves a gateway's ruleset alone while it fails closed, and the gateway takes over the
# holder's lockdown: neither may find the other's rules "altered" and put its own back.
check "compose: the holder and the gateway never re-apply over each other" bash -c \
  "! podman logs '$PROJECT-hold' '$PROJECT-wgate' 2>&1 | grep -q 'rules altered'"
if [ "$FAILED" -gt 0 ]; then
  log "gateway log (first lines):"; podman logs "$PROJECT-wgate" 2>&1 | head -6 | cut -c1-400 | sed 's/^/  /'
  log "holder log (first lines):"; podman logs "$PROJECT-hold" 2>&1 | head -4 | cut -c1-400 | sed 's/^/  /'
fi
python3 "$SRC/tests/compose_run.py" down "$WORK/compose/compose.yaml" --project "$PROJECT" | sed 's/^/  /'
check "compose: down removed every container" eq \
  "$(podman ps -a --filter "label=io.wgate.examples.project=$PROJECT" --format '{{.Names}}' | wc -l)" 0

# --- kubernetes -------------------------------------------------------------------------------
# podman 4.3.1 cannot run pod.yaml as written; each limit below was found by trying it, and the
# first two are shown again on every run:
#   - `podman kube play --network ns:PATH` fails: "pods presently do not support network mode path";
#   - an init container with a startupProbe/readinessProbe/livenessProbe is refused ("cannot
#     create an init container that has either of lifecycle, livenessProbe, readinessProbe, or
#     startupProbe set");
#   - `restartPolicy: Always` on an init container (a native sidecar) is ignored: podman runs it
#     as a run-once init container, waits for it to exit before starting the app, then removes it.
# So the test plays a copy with the minimal substitutions, each printed, and wires the pod's own
# namespace (made by podman with --network none) to the test topology itself.
kube_copy() {  # kube_copy STAGE OUT: names (unique names, stand-in image) or full (also the sidecar)
  python3 - "$SRC/examples/kubernetes/pod.yaml" "$2" "$WG_RUN" "$STANDIN" "$1" <<'PY'
import sys, yaml
src, dst, run, standin, stage = sys.argv[1:]
pod = yaml.safe_load(open(src))
def sub(what):
    print(f"examples_suite: kubernetes: substitution: {what}", flush=True)
spec = pod["spec"]
old = pod["metadata"]["name"]; pod["metadata"]["name"] = f"{run}-{old}"
sub(f"pod name {old} -> {run}-{old} (unique per run)")
for v in spec["volumes"]:
    if "secret" in v:
        old = v["secret"]["secretName"]; v["secret"]["secretName"] = f"{run}-{old}"
        sub(f"secret {old} -> {run}-{old} (unique per run)")
    if "persistentVolumeClaim" in v:
        old = v["persistentVolumeClaim"]["claimName"]
        v["persistentVolumeClaim"]["claimName"] = f"{run}-{old}"
        sub(f"volume claim {old} -> {run}-{old} (unique per run)")
for c in spec.get("initContainers", []) + spec["containers"]:
    if "ports" in c:
        sub(f"{c['name']}: ports dropped (podman publishes containerPort on the host, never "
            f"done here, and refuses it outside bridge networks)")
        del c["ports"]
    if c["image"].startswith("lscr.io/linuxserver/qbittorrent"):
        port = next((e["value"] for e in c.get("env", []) if e["name"] == "WEBUI_PORT"), "8080")
        sub(f"{c['name']}: image {c['image']} -> {standin} (no registry reachable; serves HTTP on {port})")
        c["image"] = standin
        c["imagePullPolicy"] = "IfNotPresent"
        c.setdefault("env", []).extend([{"name": "STANDIN_NAME", "value": c["name"]},
                                        {"name": "STANDIN_PORTS", "value": port}])
if stage == "full":
    sidecars = [c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"]
    for c in sidecars:
        spec["initContainers"].remove(c)
        del c["restartPolicy"]
        sub(f"native sidecar {c['name']}: moved from initContainers to the front of containers, "
            f"restartPolicy dropped (podman has no sidecars; the test runs its startupProbe "
            f"command before it uses the app, as the kubelet would before starting the app)")
        kept = [p for p in ("startupProbe", "readinessProbe") if p in c]
        if kept:
            print(f"examples_suite: kubernetes: note: {c['name']}: {' and '.join(kept)} kept; "
                  f"podman 4.3.1 accepts them on a container but does not run them (only "
                  f"livenessProbe becomes its healthcheck), so the test runs the command itself",
                  flush=True)
    if not spec.get("initContainers"):
        spec.pop("initContainers", None)
    spec["containers"] = sidecars + spec["containers"]
yaml.safe_dump(pod, open(dst, "w"), sort_keys=False)
PY
}
# The Secret the README says to create (kubectl create secret generic ... --from-file=wg0.conf):
# for podman, a kube Secret document stored as a podman secret of that name. Podman 4.3.1 reads
# it its own way: it writes the values of `data` into the volume verbatim, not base64-decoded,
# ignores `stringData`, and ignores the volume's defaultMode (the file is 0644, which wgate warns
# about). So the test's Secret carries the config as plain text under `data`.
python3 - "$WG_CONF" "$WG_RUN-wgate-config" >"$WORK/secret.yaml" <<'PY'
import sys, yaml
conf, name = sys.argv[1:]
print(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                      "type": "Opaque", "data": {"wg0.conf": open(conf).read()}}))
PY
chmod 600 "$WORK/secret.yaml"
podman secret create "$WG_RUN-wgate-config" "$WORK/secret.yaml" >/dev/null

kube_copy names "$WORK/pod-names.yaml"
log "kubernetes: the manifest with unique names only: podman kube play --network ns:/run/netns/$NS_GW"
podman kube play --start=false --network "ns:/run/netns/$NS_GW" "$WORK/pod-names.yaml" >"$WORK/kube-ns.log" 2>&1
log "kubernetes: podman says: $(grep -m1 -i error "$WORK/kube-ns.log")"
check "kubernetes: this podman refuses a pod in a given namespace (ns:PATH), as expected" \
  grep -q "do not support network mode path" "$WORK/kube-ns.log"
podman pod rm -f "$POD" >/dev/null 2>&1
log "kubernetes: the same with --network none"
podman kube play --start=false --network none "$WORK/pod-names.yaml" >"$WORK/kube-none.log" 2>&1
log "kubernetes: podman says: $(grep -m1 -i error "$WORK/kube-none.log")"
check "kubernetes: this podman refuses probes on the sidecar (an init container), as expected" \
  grep -q "cannot create an init container" "$WORK/kube-none.log"
podman pod rm -f "$POD" >/dev/null 2>&1
kube_copy full "$WORK/pod.yaml"

kube_ok=0
kube_started=$(date +%s.%N)
log "kubernetes: podman kube play --start=false --network none (the pod gets its own namespace)"
if podman kube play --start=false --network none "$WORK/pod.yaml" >"$WORK/kube.log" 2>&1; then
  # Start only the infra (pause) container: it owns the pod's namespace. Wire that namespace to
  # the topology as the uplink (the link the leak counter watches, moved over from the compose
  # part's namespace), then start the pod's containers.
  infra=$(podman pod inspect --format '{{.InfraContainerID}}' "$POD")
  podman start "$infra" >/dev/null
  ip netns attach "$NS_POD" "$(podman inspect --format '{{.State.Pid}}' "$infra")"
  ip -n "$NS_GW" link set "$GW_UPLINK" netns "$NS_POD"
  ip -n "$NS_POD" link set lo up
  ip -n "$NS_POD" addr add 192.0.2.2/24 dev "$GW_UPLINK"
  ip -n "$NS_POD" link set "$GW_UPLINK" up
  ip -n "$NS_POD" route add default via 192.0.2.1
  log "kubernetes: the pod's namespace is $NS_POD, uplink $GW_UPLINK 192.0.2.2/24"
  kube_started=$(date +%s.%N)
  podman pod start "$POD" >>"$WORK/kube.log" 2>&1 && kube_ok=1
else
  sed 's/^/  /' "$WORK/kube.log"
fi
check "kubernetes: podman kube play of the copy starts the pod" eq "$kube_ok" 1

SIDE=$POD-wgate
APP=$POD-qbittorrent
# Leaks count from the lockdown (wgate's first act; its control socket answers after it).
deadline=$(($(date +%s) + 20))
while [ "$(date +%s)" -lt "$deadline" ]; do in_ctr "$SIDE" wgate status >/dev/null && break; sleep 0.1; done
reset_leaks
healthy=1
deadline=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt "$deadline" ]; do in_ctr "$SIDE" wgate status --healthy && { healthy=0; break; }; sleep 0.1; done
kube_took=$(awk -v a="${kube_started:-0}" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "kubernetes: the sidecar's startupProbe command succeeds (${kube_took} s after pod start)" eq "$healthy" 0
check "kubernetes: the sidecar reads the Secret mounted at /config" contains \
  "$(in_ctr "$SIDE" wgate status --json)" '"config": "/config/wg0.conf"'
check "kubernetes: the app reaches the service only through the tunnel" eq "$(fetch_from "$APP")" 198.51.100.2
check "kubernetes: the app runs without NET_RAW" bash -c "! podman inspect --format '{{.EffectiveCaps}}' '$APP' | grep -q NET_RAW"
check "kubernetes: the sidecar has NET_ADMIN" contains "$(caps_of "$SIDE")" NET_ADMIN
check "kubernetes: no leaks" no_leaks
if [ "$FAILED" -gt 0 ]; then
  log "sidecar log:"; podman logs "$SIDE" 2>&1 | tail -20 | sed 's/^/  /'
fi
podman kube down "$WORK/pod.yaml" >/dev/null 2>&1
podman pod rm -f "$POD" >/dev/null 2>&1
check "kubernetes: kube down removed the pod" bash -c "! podman pod exists '$POD'"

echo "examples_suite: took $(($(date +%s) - STARTED)) s"
echo "examples_suite: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
