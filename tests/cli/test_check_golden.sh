# Golden reports of `egressguard check` in every format. UPDATE_GOLDEN=1 rewrites them (review the
# diff before committing: these files are what users and their tools see).
. "$(dirname "$0")/../lib.sh"

# golden NAME WANT_RC EXPECTED CHECK_ARGS...: the report of `check CHECK_ARGS` is EXPECTED.
golden() {
    name=$1 want=$2 expected=$3
    shift 3
    got=$(mktemp)
    "$EGRESSGUARD" check -p tests/data/check/policy.yaml "$@" >"$got" 2>&1
    rc=$?
    [ "$rc" -eq "$want" ] && pass "$name: exit $want" || fail "$name: exit $rc, want $want"
    [ -n "${UPDATE_GOLDEN:-}" ] && cp "$got" "$expected"
    if diff -u "$expected" "$got" >/dev/null; then
        pass "$name report matches $expected"
    else
        fail "$name report differs" "$(diff -u "$expected" "$got" | head -40)"
    fi
    rm -f "$got"
}

# One object is malformed: exit 2.
G=tests/data/check/golden
for f in text json yaml sarif junit; do
    golden "$f" 2 "$G/expected.$f" -o $f $G/input.yaml
done

# Pulumi files: findings named by URN (text), and as SARIF logical locations.
P=tests/data/pulumi
for f in text sarif; do
    golden "pulumi $f" 1 "$P/expected.$f" -o $f $P/preview.json $P/export.json
done
exit $t_failed
