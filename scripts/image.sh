#!/bin/sh
# Builds the container image with podman (no registry, no Docker engine needed), runs --help in
# it and the containerized `certs` as docs/install.md does, and saves it as a docker-archive
# (build/image/egressguard-VERSION.tar) that `podman load`, `docker load`, `kind load
# image-archive` and `ctr images import` take, under the name deploy/ runs: egressguard:VERSION.
# Everything podman keeps (storage, run state, config, the base image tarball) lives under
# build/image/, so the host's containers configuration is neither needed nor touched.
# Usage: scripts/image.sh [TAG]   (default egressguard:$(cat VERSION); run as root; `make image`)
set -eu
cd "$(dirname "$0")/.."
version=$(cat VERSION)
tag=${1:-egressguard:$version}
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

# docs/install.md's containerized certs: as the invoking user, into a mounted directory. Run as
# a user other than root too (the image's own 65532 could not write there: "Permission denied").
pki=$(mktemp -d "$scratch/pki.XXXXXX")
chown 1234:1234 "$pki"
podman run --rm --network none --user 1234:1234 -v "$pki:/w" -w /w "$tag" \
    certs --service egressguard --namespace egressguard --out ./egressguard-pki >/dev/null
owner=$(stat -c %u:%g "$pki/egressguard-pki/tls.key")
[ "$owner" = 1234:1234 ] || { echo "image: containerized certs wrote as $owner, not 1234:1234" >&2; exit 1; }
rm -rf "$pki"

# The archive, named as docker, containerd and the kubelet spell "egressguard:VERSION"
# (docker.io/library/...); podman finds that name for the short one as well.
archive=build/image/egressguard-$version.tar
case "${tag#localhost/}" in
*/*) full=$tag ;;                               # a registry's name already
*) full=docker.io/library/${tag#localhost/} ;;
esac
podman tag "$tag" "$full"
rm -f "$archive"
podman save --format docker-archive -o "$archive" "$full"
echo "image: $tag ok: runs as user $user, $((size / 1000000)) MB; saved as $archive"
