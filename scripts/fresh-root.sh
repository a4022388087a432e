#!/bin/sh
# The README's two commands on a clean machine: builds a minimal Debian bookworm root with
# mmdebstrap (nothing but git, make and CA certificates added), puts a fresh `git clone` of this
# repository in it, and runs there, as root:
#   make run    started, waited for until it serves, tried with its own curl command, stopped;
#   make test   to the end.
# Prints the tail of each and exits non-zero when either failed. Not part of CI (it downloads a
# few hundred MB from Debian's mirror and takes minutes).
#
# The root shares the host's network (apt needs the mirror), so `make run` gets PORT set to a port
# that is free on the host. Everything else runs in its own mount and PID namespaces: the mounts
# (/proc, /dev, /sys) and every process started inside vanish with them, nothing is left behind.
#
# Usage (as root): scripts/fresh-root.sh [COMMIT (default HEAD)]
# Environment: KEEP=1 keeps the work directory (the root, the logs); FRESH_TIMEOUT (seconds,
# default 3600) bounds the wait for `make run` to serve.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=${1:-HEAD}
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: run as root (mmdebstrap, chroot, mounts)" >&2; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || {
    echo "fresh-root: installing mmdebstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq mmdebstrap >&2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/egressguard-fresh.XXXXXX")
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then echo "fresh-root: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
root=$work/root

# The host's Debian mirror when it has one (the same choice as scripts/image.sh).
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
start=$(date +%s)
echo "fresh-root: mmdebstrap bookworm (minbase + git, make) into $root" >&2
mmdebstrap --variant=minbase --mode=root --quiet --include=git,make,ca-certificates \
    bookworm "$root" "${mirror:-http://deb.debian.org/debian}"
cp /etc/resolv.conf "$root/etc/resolv.conf"

git -C "$repo" rev-parse --verify -q "$commit^{commit}" >/dev/null ||
    { echo "fresh-root: no commit $commit" >&2; exit 2; }
git clone -q --no-hardlinks "$repo" "$root/root/egressguard"
git -C "$root/root/egressguard" checkout -q --detach "$(git -C "$repo" rev-parse "$commit")"
echo "fresh-root: clone of $(git -C "$root/root/egressguard" log -1 --format='%h %s')" >&2

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Runs inside the new root: make run (in its own session, so that stopping it stops its server),
# wait for the line it prints when it serves, run the curl command it suggests, stop it; then
# make test. Logs go to /root/*.log inside the root.
cat >"$root/root/fresh.sh" <<'INNER'
#!/bin/sh
set -u
cd /root/egressguard
port=$1 timeout=$2
echo "== make run (PORT=$port)"
setsid env PORT="$port" make run >/root/run.log 2>&1 &
run=$!
i=0 served=""
while [ $i -lt "$timeout" ] && kill -0 $run 2>/dev/null; do
    grep -q '^egressguard dev server: https://' /root/run.log && { served=yes; break; }
    sleep 1
    i=$((i + 1))
done
try=$(sed -n 's/^  try: //p' /root/run.log | head -1)
if [ -n "$served" ] && [ -n "$try" ]; then
    echo "$ $try"
    sh -c "$try" >/root/curl.out 2>&1
    curl_rc=$?
    head -c 600 /root/curl.out; echo
else
    curl_rc=1
fi
kill -TERM -$run 2>/dev/null
wait $run
tail -n 12 /root/run.log
[ -n "$served" ] || echo "make run: did not serve within ${timeout}s"
echo "== make test"
make test >/root/test.log 2>&1
test_rc=$?
tail -n 5 /root/test.log
grep -E '^(SKIP|FAIL)' /root/test.log | head -20
echo "make run served: ${served:-no}, curl exit $curl_rc; make test exit $test_rc"
[ -n "$served" ] && [ $curl_rc -eq 0 ] && [ $test_rc -eq 0 ]
INNER
chmod +x "$root/root/fresh.sh"

set +e
unshare --mount --pid --fork --propagation private sh -c '
    set -e
    r=$1
    mount -t proc proc "$r/proc"
    mount --bind /dev "$r/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
    mount -t sysfs sysfs "$r/sys"
    exec chroot "$r" /root/fresh.sh "$2" "$3"
' fresh "$root" "$port" "${FRESH_TIMEOUT:-3600}"
rc=$?
set -e
echo "fresh-root: $(( $(date +%s) - start ))s, exit $rc" >&2
exit $rc
