#!/bin/sh
# Builds the container image with podman (no registry, no Docker engine needed) and runs --help in it.
# Everything podman keeps (storage, run state, config, the base image tarball) lives under
# build/image/, so the host's containers configuration is neither needed nor touched.
# Usage: scripts/image.sh [TAG]   (default egressguard:dev; run as root; `make image` calls it)
set -eu
cd "$(dirname "$0")/.."
tag=${1:-egressguard:dev}
base=docker.io/library/debian:bookworm-slim

scripts/deps.sh image

scratch=$(pwd)/build/image
mkdir -p "$scratch/storage" "$scratch/run"
cat >"$scratch/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
cat >"$scratch/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$scratch/storage"
runroot = "$scratch/run"
CONF
export CONTAINERS_CONF="$scratch/containers.conf" CONTAINERS_STORAGE_CONF="$scratch/storage.conf"

# debian:bookworm-slim cannot be pulled here: build an equivalent minbase once and reuse it.
if ! podman image exists "$base"; then
    if [ ! -s "$scratch/base.tar" ]; then
        echo "image: building the $base base image with mmdebstrap (once)" >&2
        # Merge /usr with mmdebstrap's hook instead of the usrmerge package, which pulls in perl.
        merged=""
        [ -d /usr/share/mmdebstrap/hooks/merged-usr ] && merged=--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
        # Like the official -slim images: no manuals, docs or locales, no apt caches.
        # shellcheck disable=SC2086
        mmdebstrap --variant=minbase --mode=root --format=tar --quiet $merged \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
            --dpkgopt='path-exclude=/usr/share/lintian/*' \
            --customize-hook='if [ -f /etc/apt/sources.list.d/debian.sources ]; then cp /etc/apt/sources.list.d/debian.sources "$1/etc/apt/sources.list.d/"; rm -f "$1/etc/apt/sources.list"; fi' \
            --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
            bookworm "$scratch/base.tar.tmp" "${mirror:-http://deb.debian.org/debian}"
        mv "$scratch/base.tar.tmp" "$scratch/base.tar"
    fi
    podman import "$scratch/base.tar" "$base" >/dev/null
fi

start=$(date +%s)
podman build --pull=never --network host --build-arg BASE="$base" -t "$tag" .
echo "image: built $tag in $(($(date +%s) - start)) s" >&2

out=$(podman run --rm --network none "$tag" --help)
printf '%s\n' "$out" | grep -q '^usage: egressguard' || {
    echo "image: '$tag --help' did not print the usage:" >&2
    printf '%s\n' "$out" >&2
    exit 1
}
user=$(podman image inspect --format '{{.Config.User}}' "$tag")
size=$(podman image inspect --format '{{.Size}}' "$tag")
case "$user" in
"" | 0 | 0:* | root | root:*) echo "image: $tag runs as root ('$user')" >&2; exit 1 ;;
esac
echo "image: $tag ok: runs as user $user, $((size / 1000000)) MB"
