#!/bin/sh
# One AdmissionReview of a NetworkPolicy whose rule has N ipBlocks (all outside the allow-list,
# so every one escapes) through `egressguard review`, the server's decision path, at 1k, 10k and
# 100k peers: CPU (user + system, median of BENCH_ROUNDS) and peak RSS, and how each grows with
# ten times the peers (about 10x is linear; the grouping by peer was quadratic: 100x), beside
# the floor of parsing the same JSON.
# Usage: BUILD_DIR=build/default EGRESSGUARD=build/default/egressguard tests/bench/peers.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$root/scripts/deps.sh" bench || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sizes="1000 10000 100000"
for n in $sizes; do
    awk -v n="$n" 'BEGIN {
        printf "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        printf "{\"uid\":\"peers-%d\",\"kind\":{\"group\":\"networking.k8s.io\",\"version\":\"v1\",", n
        printf "\"kind\":\"NetworkPolicy\"},\"operation\":\"CREATE\",\"namespace\":\"ml-team\","
        printf "\"object\":{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
        printf "\"metadata\":{\"name\":\"big\",\"namespace\":\"ml-team\"},\"spec\":{\"podSelector\":{},"
        printf "\"policyTypes\":[\"Egress\"],\"egress\":[{\"ports\":[{\"protocol\":\"TCP\",\"port\":443}],\"to\":["
        for (i = 0; i < n; i++)
            printf "%s{\"ipBlock\":{\"cidr\":\"%d.%d.%d.0/24\"}}", i ? "," : "", 20 + int(i / 65536) % 200, int(i / 256) % 256, i % 256
        printf "]}]}}}}"
    }' >"$tmp/peers$n.json"
done

: >"$tmp/results"
# measure NAME REPEAT CMD...: CPU per run and peak RSS from getrusage(RUSAGE_CHILDREN), to the
# microsecond; "NAME cpu max_rss_kib wall_max". CMD must answer a denial (exit 1) or be the floor.
measure() {
    python3 - "$@" >>"$tmp/results" <<'PY' || return 1
import resource, subprocess, sys, tempfile, time
name, repeat, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
wall = rss = 0
review = "review" in cmd
with tempfile.NamedTemporaryFile() as t:
    for _ in range(repeat):
        t0 = time.monotonic()
        # GNU time reports the command's own peak RSS (python's, forked before exec, is not)
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd, capture_output=True)
        wall = max(wall, time.monotonic() - t0)
        if (review and (p.returncode != 1 or b'"allowed":false' not in p.stdout)) or \
                (not review and p.returncode):
            sys.exit("peers.sh: %s: exit %d: %s" % (name, p.returncode, (p.stdout + p.stderr)[:300]))
        rss = max(rss, int(open(t.name).read().split()[-1]))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%s %.6f %d %.3f" % (name, (u.ru_utime + u.ru_stime) / repeat, rss, wall))
PY
}
r=1
while [ $r -le "$ROUNDS" ]; do
    for n in $sizes; do
        rep=$((100000 / n)); [ $rep -gt 10 ] && rep=10
        measure "floor.$n" $rep "$BUILD_DIR/tests/bench/floor_stream" --json "$tmp/peers$n.json" || exit 1
        measure "review.$n" $rep "$EGRESSGUARD" review -p "$root/examples/policy.yaml" "$tmp/peers$n.json" || exit 1
    done
    r=$((r + 1))
done
echo "peers bench: one NetworkPolicy AdmissionReview, N escaping ipBlocks, egressguard review, $ROUNDS rounds"
echo "(floor: the same file parsed by jansson into one tree and freed)"
awk -v sizes="$sizes" '
    function median(k,   m, a, b, t, v) {
        m = c[k]
        for (a = 0; a < m; a++) v[a] = cpu[k, a]
        for (a = 0; a < m; a++) for (b = a + 1; b < m; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
        return m % 2 ? v[int(m / 2)] : (v[m / 2 - 1] + v[m / 2]) / 2
    }
    { cpu[$1, c[$1]++] = $2; if ($3 > rss[$1]) rss[$1] = $3; if ($4 > wall[$1]) wall[$1] = $4 }
    END {
        k = split(sizes, s, " ")
        printf "  %8s %10s %8s %10s %12s %12s %10s\n", "peers", "review s", "growth", "floor s", "review MiB", "floor MiB", "wall max s"
        for (i = 1; i <= k; i++) {
            n = s[i]; med[n] = median("review." n)
            g = (i > 1 && med[s[i - 1]] > 0) ? sprintf("%.1fx", med[n] / med[s[i - 1]]) : "-"
            printf "  %8d %10.4f %8s %10.4f %12.1f %12.1f %10.2f\n", n, med[n], g, median("floor." n),
                   rss["review." n] / 1024, rss["floor." n] / 1024, wall["review." n]
        }
        printf "  100,000 peers answered in %.2f s at most (target: well inside 10 s)\n", wall["review." s[k]]
    }' "$tmp/results"
