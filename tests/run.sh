#!/bin/sh
# Runs every suite of a build: the cmocka unit binaries, then the shell suites (CLI, integration).
# Prints each suite's output and ends with "N passed, M failed". Usage: tests/run.sh BUILD_DIR
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
EGRESSGUARD=$(cd "$(dirname "$build/egressguard")" && pwd)/egressguard
export EGRESSGUARD BUILD_DIR="$build"
passed=0 failed=0 broken=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in $(find "$build/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
    echo "== $t"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
        failed=$((failed + 1))
        broken="$broken $t"
    fi
done

# Shell suites print "PASS: name" or "FAIL: name" per case.
for s in $(ls tests/cli/test_*.sh tests/server/test_*.sh tests/certs/test_*.sh tests/layout/test_*.sh 2>/dev/null | sort); do
    echo "== $s"
    sh "$s" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(grep -c '^PASS: ' "$log")
    f=$(grep -c '^FAIL: ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        broken="$broken $s"
    fi
done

[ -n "$broken" ] && echo "suites that exited non-zero without a counted failure:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
