# Shared by the benchmark scripts (sourced, not run, after setting $here to their directory):
# the paths they use, and statistics over "$tmp/results", whose lines are "NAME VALUE ..." with
# the i-th line of each NAME from the i-th interleaved round.

root=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build/default}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$root/$BUILD_DIR" ;; esac
EGRESSGUARD=${EGRESSGUARD:-$BUILD_DIR/egressguard}
ROUNDS=${BENCH_ROUNDS:-3}

# ratio A B: the median over rounds of A's value over B's.
ratio() {
    awk -v a="$1" -v b="$2" '
        $1 == a { x[na++] = $2 } $1 == b { y[nb++] = $2 }
        END {
            for (i = 0; i < na && i < nb; i++) r[i] = (y[i] > 0) ? x[i] / y[i] : 0
            n = i
            for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
            printf "%.2f", n ? (n % 2 ? r[int(n / 2)] : (r[n / 2 - 1] + r[n / 2]) / 2) : 0
        }' "$tmp/results"
}

# spread A B: the smallest and the largest per-round ratio of A over B ("min-max"): on a shared
# machine the median alone hides how far the rounds disagree.
spread() {
    awk -v a="$1" -v b="$2" '
        $1 == a { x[na++] = $2 } $1 == b { y[nb++] = $2 }
        END {
            for (i = 0; i < na && i < nb; i++) {
                r = (y[i] > 0) ? x[i] / y[i] : 0
                if (i == 0 || r < lo) lo = r
                if (i == 0 || r > hi) hi = r
            }
            printf "%.2f-%.2f", lo, hi
        }' "$tmp/results"
}

# verdict VALUE TARGET: "met" when VALUE <= TARGET.
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "met" : "NOT met" }'; }
