# Golden reports of `egressguard check` in every format. UPDATE_GOLDEN=1 rewrites them (review the
# diff before committing: these files are what users and their tools see).
. "$(dirname "$0")/../lib.sh"
G=tests/data/check/golden

# golden NAME EXPECTED GOT: GOT (a file, removed) matches EXPECTED, or replaces it under
# UPDATE_GOLDEN.
golden() {
    if [ -n "${UPDATE_GOLDEN:-}" ]; then
        cp "$3" "$2"
    fi
    if diff -u "$2" "$3" >/dev/null; then
        pass "$1 report matches $2"
    else
        fail "$1 report differs" "$(diff -u "$2" "$3" | head -40)"
    fi
    rm -f "$3"
}

# --now fixes the clock that exemption lifetimes and report timestamps read.
for f in text json sarif junit policyreport; do
    got=$(mktemp)
    "$EGRESSGUARD" check -p tests/data/check/policy.yaml --now 2026-12-01 --format $f $G/input.yaml \
        >"$got" 2>&1
    rc=$?
    [ "$rc" -eq 2 ] && pass "$f: exit 2 (one object is malformed)" || fail "$f: exit $rc, want 2"
    golden "$f" "$G/expected.$f" "$got"
done

# CNI semantics (Calico, Cilium, AdminNetworkPolicy, address sets): the messages a person reads.
S=tests/data/check/semantics
got=$(mktemp)
"$EGRESSGUARD" check -v -p $S/policy.yaml $S/input.yaml >"$got" 2>&1
rc=$?
[ "$rc" -eq 1 ] && pass "semantics: exit 1 (violations)" || fail "semantics: exit $rc, want 1"
golden semantics "$S/expected.text" "$got"
exit $t_failed
