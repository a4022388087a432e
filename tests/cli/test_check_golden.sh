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
# CNI semantics (Calico, Cilium, AdminNetworkPolicy, address sets): the messages a person reads.
S=tests/data/check/semantics
got=$(mktemp)
"$EGRESSGUARD" check -v -p $S/policy.yaml $S/input.yaml >"$got" 2>&1
rc=$?
[ "$rc" -eq 1 ] && pass "semantics: exit 1 (violations)" || fail "semantics: exit $rc, want 1"
if [ -n "${UPDATE_GOLDEN:-}" ]; then
    cp "$got" "$S/expected.text"
fi
if diff -u "$S/expected.text" "$got" >/dev/null; then
    pass "semantics report matches $S/expected.text"
else
    fail "semantics report differs" "$(diff -u "$S/expected.text" "$got" | head -40)"
fi
rm -f "$got"
exit $t_failed
