#!/bin/sh
# Builds kube-apiserver from Debian's src:kubernetes (full upstream source with vendor/) once, caches
# it outside the repository keyed by the Debian version, and prints the binary's path on stdout.
# Everything else (progress, errors) goes to stderr. Idempotent: a cached binary is reused.
#
# Environment: KUBE_DEB_VERSION (default below), XDG_CACHE_HOME, EGRESSGUARD_KUBE_APISERVER (use this
# binary instead of building one).
set -eu

VERSION=${KUBE_DEB_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}
REPO=$(cd "$(dirname "$0")/../.." && pwd)

# Without git metadata the binary would call itself v0.0.0-master (on /version too): stamp the
# upstream version (1.20.5+really1.20.2-... → v1.20.2) into the variables hack/lib/version.sh
# sets (kube::version::ldflags: gitVersion, gitMajor, gitMinor, gitTreeState, buildDate, in
# both k8s.io/client-go/pkg/version and k8s.io/component-base/version, under the vendor/
# prefix of a GOPATH build). "archive" is the tree state upstream uses for a source tarball.
upstream=${VERSION#*really}
upstream=${upstream%%-*}
major=${upstream%%.*}
minor=${upstream#*.}
minor=${minor%%.*}
STAMP="v$upstream archive"
ldflags=""
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    x="-X k8s.io/kubernetes/vendor/$pkg"
    ldflags="$ldflags $x.gitVersion=v$upstream $x.gitMajor=$major $x.gitMinor=$minor $x.gitTreeState=archive"
    ldflags="$ldflags $x.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done

# The cache key is the Debian version and the stamp, so that a binary built without the stamp
# (or another one) is never reused; cached_ok checks what the binary says as well.
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/egressguard
CACHE=$CACHE_ROOT/kube-apiserver-$VERSION-$(echo "$STAMP" | tr ' ' -)
BIN=$CACHE/kube-apiserver
SRC_LIST=/etc/apt/sources.list.d/egressguard-deb-src.sources
REFLECT2_SYS=/usr/share/gocode/src/github.com/modern-go/reflect2

log() { echo "kube-apiserver.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [ -n "${EGRESSGUARD_KUBE_APISERVER:-}" ]; then
    [ -x "$EGRESSGUARD_KUBE_APISERVER" ] || die "EGRESSGUARD_KUBE_APISERVER=$EGRESSGUARD_KUBE_APISERVER is not executable"
    echo "$EGRESSGUARD_KUBE_APISERVER"
    exit 0
fi

cached_ok() { [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "Kubernetes v$upstream" ]; }

"$REPO/scripts/deps.sh" e2e >&2
if cached_ok; then echo "$BIN"; exit 0; fi

mkdir -p "$CACHE"
# Two concurrent runs must not build into the same work dir: the second waits for the first.
exec 9>"$CACHE/.lock"
flock 9
if cached_ok; then echo "$BIN"; exit 0; fi

# Source entries: apt-get source needs a deb-src line for bookworm main. Only root may add one; it
# goes in a file this script owns, built from the system's own Debian entry (same URI and key).
have_deb_src() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
if ! have_deb_src; then
    [ "$(id -u)" -eq 0 ] || die "no deb-src entry for bookworm; add one (see tests/e2e/kube-apiserver.sh) or run as root"
    uri=http://deb.debian.org/debian
    key=/usr/share/keyrings/debian-archive-keyring.gpg
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        # First stanza whose Suites include plain "bookworm".
        found=$(awk 'BEGIN{RS=""; FS="\n"} /Suites:[^\n]*bookworm( |\n|$)/ {
                    u=""; k=""; for (i = 1; i <= NF; i++) {
                        if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, a, " "); u = a[1] }
                        if ($i ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", $i); k = $i } }
                    if (u != "") { print u " " k; exit } }' /etc/apt/sources.list.d/debian.sources)
        if [ -n "$found" ]; then
            uri=${found%% *}
            k=${found#* }
            [ -n "$k" ] && [ "$k" != "$found" ] && key=$k
        fi
    fi
    log "adding deb-src entry $SRC_LIST ($uri bookworm main)"
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' \
        "$uri" "$key" >"$SRC_LIST"
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
fi

WORK=$CACHE/work
rm -rf "$WORK"
mkdir -p "$WORK/dl"
# apt-get source downloads as _apt when that user can write the directory (no sandbox warning).
[ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$WORK/dl"
start=$(date +%s)
log "downloading src:kubernetes=$VERSION"
(cd "$WORK/dl" && apt-get source -qq --download-only "kubernetes=$VERSION") >&2 ||
    die "apt-get source --download-only kubernetes=$VERSION failed (is deb-src for bookworm main configured?)"
orig=$(ls "$WORK"/dl/kubernetes_*.orig.tar.gz 2>/dev/null | head -n 1)
[ -n "$orig" ] || die "no orig tarball in $WORK/dl"

TREE=$WORK/gopath/src/k8s.io/kubernetes
mkdir -p "$TREE"
log "unpacking $(basename "$orig")"
tar -xzf "$orig" -C "$TREE" --strip-components=1
rm -rf "$WORK/dl"
[ -d "$TREE/cmd/kube-apiserver" ] || die "unexpected tarball layout: no cmd/kube-apiserver"

# Fix 1: vendored reflect2 v1.0.1 crashes on Go >= 1.18; Debian's packaged copy does not.
[ -d "$REFLECT2_SYS" ] || die "$REFLECT2_SYS missing (golang-github-modern-go-reflect2-dev)"
vr=$TREE/vendor/github.com/modern-go/reflect2
rm -f "$vr"/*.go "$vr"/*.s
for f in "$REFLECT2_SYS"/*.go "$REFLECT2_SYS"/*.s; do
    [ -e "$f" ] || continue
    case "$f" in *_test.go) continue ;; esac
    cp "$f" "$vr/"
done

# Fix 2: the generated OpenAPI definitions are not in the tarball.
log "make gen_openapi"
(cd "$TREE" && env -u GOPATH -u GOFLAGS -u GOCACHE make gen_openapi) >"$WORK/gen_openapi.log" 2>&1 ||
    { tail -n 30 "$WORK/gen_openapi.log" >&2; die "make gen_openapi failed (log: $WORK/gen_openapi.log)"; }
[ -f "$TREE/pkg/generated/openapi/zz_generated.openapi.go" ] || die "gen_openapi produced no zz_generated.openapi.go"

log "go build ./cmd/kube-apiserver v$upstream (GOPATH mode; several minutes cold)"
(cd "$TREE" && env GO111MODULE=off GOPATH="$WORK/gopath" CGO_ENABLED=0 GOPROXY=off GOFLAGS= \
    go build -tags selinux,notest -ldflags "$ldflags" -o "$CACHE/kube-apiserver.new" ./cmd/kube-apiserver) >&2 ||
    die "go build failed"
stamped=$("$CACHE/kube-apiserver.new" --version 2>&1) || die "built binary does not run"
[ "$stamped" = "Kubernetes v$upstream" ] || die "built binary says '$stamped', not 'Kubernetes v$upstream'"
mv -f "$CACHE/kube-apiserver.new" "$BIN"
# The source tree is ~1 GB; the Go build cache (GOCACHE) keeps a rebuild fast anyway.
rm -rf "$WORK"
log "built $("$BIN" --version) in $(( $(date +%s) - start ))s"
echo "$BIN"
