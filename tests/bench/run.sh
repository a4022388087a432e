#!/bin/sh
# Runs every benchmark of a build: the compiled tests/bench/bench_* binaries, then every
# tests/bench/*.sh script but lib.sh (with $BUILD_DIR and $EGRESSGUARD set). Benchmarks print
# numbers and ratios; they are not pass/fail timing tests, but a benchmark that crashes fails the
# run.
# Usage: tests/bench/run.sh BUILD_DIR
set -u
build=${1:?usage: tests/bench/run.sh BUILD_DIR}
BUILD_DIR=$build
EGRESSGUARD=$(cd "$(dirname "$build/egressguard")" && pwd)/egressguard
export BUILD_DIR EGRESSGUARD
here=$(dirname "$0")
status=0

for b in "$build"/tests/bench/bench_*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    echo "== $b"
    "$b" || { echo "bench: $b exited with $?"; status=1; }
done

for s in "$here"/*.sh; do
    [ -f "$s" ] || continue
    case "$(basename "$s")" in run.sh | lib.sh) continue ;; esac
    echo "== $s"
    sh "$s" || { echo "bench: $s exited with $?"; status=1; }
done
exit $status
