# Golden reports of `egressguard check` in every format. UPDATE_GOLDEN=1 rewrites them (review the
# diff before committing: these files are what users and their tools see).
. "$(dirname "$0")/../lib.sh"
G=tests/data/check/golden
for f in text json yaml sarif junit; do
    got=$(mktemp)
    "$EGRESSGUARD" check -p tests/data/check/policy.yaml -o $f $G/input.yaml >"$got" 2>&1
    rc=$?
    [ "$rc" -eq 2 ] && pass "$f: exit 2 (one object is malformed)" || fail "$f: exit $rc, want 2"
    if [ -n "${UPDATE_GOLDEN:-}" ]; then
        cp "$got" "$G/expected.$f"
    fi
    if diff -u "$G/expected.$f" "$got" >/dev/null; then
        pass "$f report matches $G/expected.$f"
    else
        fail "$f report differs" "$(diff -u "$G/expected.$f" "$got" | head -40)"
    fi
    rm -f "$got"
done

# Pulumi files: findings named by URN (text), and as SARIF logical locations.
P=tests/data/pulumi
for f in text sarif; do
    got=$(mktemp)
    "$EGRESSGUARD" check -p tests/data/check/policy.yaml -o $f $P/preview.json $P/export.json >"$got" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] && pass "pulumi $f: exit 1 (denied)" || fail "pulumi $f: exit $rc, want 1"
    [ -n "${UPDATE_GOLDEN:-}" ] && cp "$got" "$P/expected.$f"
    if diff -u "$P/expected.$f" "$got" >/dev/null; then
        pass "pulumi $f report matches $P/expected.$f"
    else
        fail "pulumi $f report differs" "$(diff -u "$P/expected.$f" "$got" | head -40)"
    fi
    rm -f "$got"
done
exit $t_failed
