#!/usr/bin/env bash
# Builds the container image localhost/wgate:latest with podman (as root), from the Containerfile
# at the repository root.
#
#   scripts/image.sh [--base IMAGE] [--tag TAG] [--force]
#
# The Containerfile's build stage starts from a builder base image (BUILDER_BASE). No registry is
# reachable on the project's machines, so unless --base names one, this script uses
# localhost/wgate-builder:bookworm and, when that is missing, makes it once per machine:
# `debootstrap --variant=minbase` of Debian bookworm with the build dependencies, imported with
# `podman import`. The base then holds everything the build needs, and the build runs with
# `--network none`.
#
# With Docker and a registry, the same image is simply (the build stage installs what is missing):
#   docker build -t wgate .
# and with podman:  podman build --format docker -t wgate .
#
# The image carries a hash of what it was built from (Containerfile, CMakeLists.txt, src/, the
# base's id) as the label io.wgate.source-hash; when the image present has the same hash, the
# build is skipped (the test suites that need the image each call this script). --force rebuilds.
#
# Podman settings come from scripts/podman.conf (CONTAINERS_CONF); nothing on the host changes.
# `--format docker` matters: the OCI format silently drops HEALTHCHECK.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

tag=localhost/wgate:latest
base=
force=
builder=${WGATE_BUILDER:-localhost/wgate-builder:bookworm}  # another tag: a base made anew
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=${2:?--base needs an image}; shift 2 ;;
    --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown option \"$1\" (--base IMAGE, --tag TAG, --force)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "image.sh: run as root (podman and debootstrap)" >&2
  exit 2
fi
export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/scripts/podman.conf}
# One build at a time on a machine: a second run waits, then finds the image up to date.
exec 9>/run/lock/wgate-image.lock
if ! flock -n 9; then
  echo "image.sh: another image build is running; waiting for it"
  flock 9
fi

# The build stage's dependencies: keep in step with the Containerfile's list.
build_deps=g++,make,cmake,ninja-build,pkg-config,binutils,libssl-dev,libsodium-dev,libnftables-dev,libmnl-dev,nlohmann-json3-dev,libc-ares-dev,busybox-static

debian_mirror() {
  local uri=
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

make_builder_base() {
  local dir mirror started
  dir=$(mktemp -d /var/tmp/wgate-builder-XXXXXX)
  mirror=$(debian_mirror)
  started=$(date +%s)
  echo "image.sh: making the builder base $builder (debootstrap bookworm from $mirror)"
  if ! debootstrap --variant=minbase --include="$build_deps" bookworm "$dir" "$mirror" \
      >"$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2
    rm -rf "$dir" "$dir.log"
    echo "image.sh: debootstrap failed" >&2
    return 1
  fi
  # What an image needs of it: no package caches, no apt lists.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc \
    "$dir"/usr/share/man "$dir"/usr/share/locale
  tar -C "$dir" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$builder" >/dev/null
  rm -rf "$dir" "$dir.log"
  echo "image.sh: builder base made in $(($(date +%s) - started)) s"
}

if [ -z "$base" ]; then
  base=$builder
  podman image exists "$base" || make_builder_base
elif ! podman image exists "$base"; then
  echo "image.sh: the builder base \"$base\" is not present (no registry is reachable to pull it)" >&2
  exit 1
fi

print_size() {
  local size
  size=$(podman image inspect --format '{{.Size}}' "$tag")
  echo "image.sh: image size $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f MB", s / 1e6 }'))"
}
# What the build stage reads (.containerignore), and the base.
source_hash=$({
  sha256sum Containerfile CMakeLists.txt
  find src -type f ! -path '*/testdata/*' -print0 | sort -z | xargs -0 sha256sum
  podman image inspect --format '{{.Id}}' "$base"
} | sha256sum | cut -d' ' -f1)
if [ -z "$force" ] && [ "$(podman image inspect --format '{{index .Labels "io.wgate.source-hash"}}' "$tag" 2>/dev/null)" = "$source_hash" ]; then
  echo "image.sh: $tag is up to date with the sources (io.wgate.source-hash $source_hash); not rebuilt (--force rebuilds)"
  print_size
  exit 0
fi

# Images that exist before the build: afterwards only the dangling ones that did not are removed.
before=$(mktemp)
podman images -a -q --no-trunc | sort -u >"$before"
previous=$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)

# A build leaves its build stage behind as untagged images (about 800 MB once the sources
# changed), a failed one its last layers: remove those this build made, never anything that was
# there before, except the previous image of the same tag, now untagged (unless a container still
# uses it). Removing one image can make its parent dangling: repeat while something goes.
removed=0
prune_ours() {
  local id gone
  while :; do
    gone=0
    while read -r id; do
      [ -n "$id" ] || continue
      if grep -qx "$id" "$before" && [ "$id" != "sha256:${previous#sha256:}" ]; then continue; fi
      podman rmi "$id" >/dev/null 2>&1 && gone=$((gone + 1))
    done < <(podman images -a -q --no-trunc --filter dangling=true | sort -u)
    removed=$((removed + gone))
    [ "$gone" -gt 0 ] || break
  done
}
trap 'prune_ours; rm -f "$before"' EXIT

started=$(date +%s)
echo "image.sh: building $tag from $base"
podman build --format docker --network none --pull=never --layers=false \
  --build-arg BUILDER_BASE="$base" --build-arg SOURCE_HASH="$source_hash" \
  -t "$tag" -f Containerfile . >&2 || {
  echo "image.sh: podman build failed" >&2
  exit 1
}
prune_ours
echo "image.sh: $tag built in $(($(date +%s) - started)) s; $removed intermediate image(s) removed"
print_size
