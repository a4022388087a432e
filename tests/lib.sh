# Shared helpers for the shell suites. Source it; each check prints "PASS: name" or "FAIL: name".
: "${EGRESSGUARD:?run through tests/run.sh or set EGRESSGUARD}"
TESTS_DIR=$(cd "$(dirname "$0")/.." && pwd)
DATA="$TESTS_DIR/data"
t_failed=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+ — $2}"; t_failed=1; }

# run CMD...: runs it, keeps stdout in $out, stderr in $err, status in $rc.
run() {
    _o=$(mktemp); _e=$(mktemp)
    "$@" >"$_o" 2>"$_e"; rc=$?
    out=$(cat "$_o"); err=$(cat "$_e")
    rm -f "$_o" "$_e"
}

# expect_rc NAME WANT: checks $rc.
expect_rc() {
    if [ "$rc" -eq "$2" ]; then pass "$1"; else fail "$1" "exit $rc, want $2; stderr: $err"; fi
}

# expect_in NAME HAYSTACK NEEDLE: checks that the text contains the needle.
expect_in() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1" "missing \"$3\" in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
