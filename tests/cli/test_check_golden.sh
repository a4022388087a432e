# Golden reports of `egressguard check` in every format. UPDATE_GOLDEN=1 rewrites them (review the
# diff before committing: these files are what users and their tools see).
. "$(dirname "$0")/../lib.sh"
G=tests/data/check/golden
# --now fixes the clock that exemption lifetimes and report timestamps read.
for f in text json sarif junit policyreport; do
    got=$(mktemp)
    "$EGRESSGUARD" check -p tests/data/check/policy.yaml --now 2026-12-01 --format $f $G/input.yaml \
        >"$got" 2>&1
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
exit $t_failed
