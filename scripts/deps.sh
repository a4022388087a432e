#!/bin/sh
# Installs the Debian packages a make target needs, when run as root; otherwise says exactly what
# to install and fails. Usage: scripts/deps.sh GROUP... (build, bench, image, e2e, and inside the
# Dockerfile: image-build, the compile-only subset of build, and image-run, the runtime libraries)
set -eu

pkgs_for() {
    case "$1" in
    # python3: the fake Kubernetes API of the server suites; python3-yaml: parsing rendered YAML;
    # kubectl (kubernetes-client, only when none is installed): kustomize renders deploy/.
    build) echo "build-essential pkg-config libmicrohttpd-dev libgnutls28-dev libssl-dev libjansson-dev" \
                "libyaml-dev libcmocka-dev libcurl4-openssl-dev curl openssl clang libclang-rt-14-dev" \
                "python3 python3-yaml"
           command -v kubectl >/dev/null 2>&1 || pkgs_for e2e-kubectl ;;
    bench) echo "wrk nghttp2-client openssl curl" ;;
    image) echo "podman runc mmdebstrap uidmap iptables netavark" ;;
    image-build) echo "make gcc libc6-dev pkg-config libmicrohttpd-dev libgnutls28-dev libssl-dev" \
                      "libjansson-dev libyaml-dev libcurl4-openssl-dev" ;;
    image-run) echo "libmicrohttpd12 libgnutls30 libjansson4 libyaml-0-2 libssl3 libcurl4" ;;
    e2e)   echo "golang-go golang-github-modern-go-reflect2-dev etcd-server etcd-client dpkg-dev make rsync curl openssl" ;;
    e2e-kubectl) echo "kubernetes-client" ;;   # only when no kubectl is installed at all
    *) echo "deps.sh: unknown group '$1'" >&2; exit 2 ;;
    esac
}

missing=""
for group in "$@"; do
    for p in $(pkgs_for "$group"); do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
        fi
    done
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "egressguard: missing Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "egressguard: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
