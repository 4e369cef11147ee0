#!/usr/bin/env bash
# Installs everything wgate's build, tests and demo need on a fresh Debian 12 machine (as root).
# Idempotent: skips apt when every package is already present.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-dev
  libssl-dev libsodium-dev libnftables-dev libmnl-dev nlohmann-json3-dev libc-ares-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # runtime of tests and demo: the kernel firewall, the independent WireGuard peer, traffic tools
  nftables iproute2 wireguard-go wireguard-tools iperf3 tcpdump curl python3 procps
  # the container image and its tests (scripts/image.sh, tests/container_suite.sh): podman with
  # runc (crun fails on hybrid cgroups), debootstrap for the builder base, busybox's static build
  podman runc catatonit debootstrap busybox-static
  # tests/compose_run.py reads the compose example
  python3-yaml bc
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"
