#!/bin/sh
# `egressguard check` against the floor of a streaming reader (floor_stream: libyaml events into
# one jansson tree per document, freed; no positions, no decisions) on the same files, at 1k,
# 10k and 100k objects of a cluster-like input (bench_check --write: network policies of three
# CNIs, pods and workloads, one policy in ten escaping). CPU is user + system time of the
# process (getrusage), interleaved over BENCH_ROUNDS rounds; each ratio is the median of its
# per-round ratios. Peak RSS is the largest maximum resident set size seen.
# Usage: BUILD_DIR=build/default EGRESSGUARD=build/default/egressguard tests/bench/check.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$root/scripts/deps.sh" bench || exit 1
for b in "$EGRESSGUARD" "$BUILD_DIR/tests/bench/floor_stream" "$BUILD_DIR/tests/bench/bench_check"; do
    [ -x "$b" ] || { echo "check.sh: $b is missing (make bench builds it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sizes="1000 10000 100000"
for n in $sizes; do
    (cd "$root" && "$BUILD_DIR/tests/bench/bench_check" --write "$n" "$tmp/in$n.yaml") || exit 1
done

# measure NAME REPEAT CMD...: runs CMD REPEAT times; appends "NAME cpu_seconds_per_run max_rss_kib"
# to $tmp/results. CPU and RSS from getrusage(RUSAGE_CHILDREN), to the microsecond (GNU time's
# 10 ms would be most of a 1,000-object run).
measure() {
    python3 - "$@" >>"$tmp/results" <<'PY' || return 1
import os, resource, subprocess, sys, tempfile
name, repeat, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rss = 0
with tempfile.NamedTemporaryFile() as t:
    for _ in range(repeat):
        # GNU time reports the command's own peak RSS (python's, forked before exec, is not)
        rc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
        if rc > 1:
            sys.exit("check.sh: %s exited %d" % (name, rc))
        rss = max(rss, int(open(t.name).read().split()[-1]))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%s %.6f %d" % (name, (u.ru_utime + u.ru_stime) / repeat, rss))
PY
}

echo "check bench: cluster-like input, $ROUNDS interleaved rounds, $(nproc) cores"
: >"$tmp/results"
r=1
while [ $r -le "$ROUNDS" ]; do
    for n in $sizes; do
        rep=$((1000000 / n)); [ $rep -gt 20 ] && rep=20
        measure "floor.$n" $rep "$BUILD_DIR/tests/bench/floor_stream" "$tmp/in$n.yaml" || exit 1
        measure "check.$n" $rep "$EGRESSGUARD" check -p "$root/examples/policy.yaml" "$tmp/in$n.yaml" || exit 1
    done
    r=$((r + 1))
done

# median_cpu NAME, max_rss NAME: median CPU and largest RSS of NAME's runs (lib.sh: ratio).
median_cpu() { awk -v k="$1" '$1 == k { v[n++] = $2 } END { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } printf "%.3f", n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2 }' "$tmp/results"; }
max_rss() { awk -v k="$1" '$1 == k && $3 > m { m = $3 } END { printf "%.1f", m / 1024 }' "$tmp/results"; }
printf '  %8s %10s %12s %12s %8s %11s %12s\n' objects "MiB of YAML" "floor CPU s" "check CPU s" ratio rounds "check RSS MiB"
for n in $sizes; do
    printf '  %8s %10.1f %12s %12s %7sx %11s %12s\n' "$n" "$(wc -c <"$tmp/in$n.yaml" | awk '{ print $1 / 1048576 }')" \
        "$(median_cpu "floor.$n")" "$(median_cpu "check.$n")" "$(ratio "check.$n" "floor.$n")" \
        "$(spread "check.$n" "floor.$n")" "$(max_rss "check.$n")"
done
x=$(ratio check.100000 floor.100000)
m=$(max_rss check.100000)
printf '  check / streaming floor at 100,000 objects: %sx (rounds %s; target <= 1.3x: %s); peak RSS %s MiB (target <= 128 MiB: %s)\n' \
    "$x" "$(spread check.100000 floor.100000)" "$(verdict "$x" 1.3)" "$m" "$(verdict "$m" 128)"

# Where check's CPU goes at 100,000 objects: the functions that spend it themselves.
# (perf record exits as check does: 1 when it finds something, as on this input)
command -v perf >/dev/null 2>&1 &&
    perf record -F 499 -g -o "$tmp/perf.data" -- "$EGRESSGUARD" check -p "$root/examples/policy.yaml" \
        "$tmp/in100000.yaml" >/dev/null 2>&1
if [ -s "$tmp/perf.data" ]; then
    echo "perf: top consumers of check's CPU at 100,000 objects (self, by function)"
    perf report -i "$tmp/perf.data" --no-children --stdio --sort dso,sym -g none 2>/dev/null |
        awk '/^ *[0-9.]+%/ { printf "  %s\n", $0; if (++n == 15) exit }'
else
    echo "perf: not permitted here (kernel.perf_event_paranoid?), skipped"
fi
