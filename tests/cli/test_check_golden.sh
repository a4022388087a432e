# Golden reports of `egressguard check` in every format. UPDATE_GOLDEN=1 rewrites them (review the
# diff before committing: these files are what users and their tools see).
. "$(dirname "$0")/../lib.sh"

# golden NAME WANT_RC EXPECTED CHECK_ARGS...: `check CHECK_ARGS` exits WANT_RC and its report is
# EXPECTED (which UPDATE_GOLDEN replaces).
golden() {
    name=$1 want=$2 expected=$3
    shift 3
    got=$(mktemp)
    "$EGRESSGUARD" check "$@" >"$got" 2>&1
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

# One object is malformed: exit 2. --now fixes the clock that exemption lifetimes and report
# timestamps read.
G=tests/data/check/golden
for f in text json yaml sarif junit policyreport; do
    golden "$f" 2 "$G/expected.$f" -p tests/data/check/policy.yaml --now 2026-12-01 -o $f \
        $G/input.yaml
done

# CNI semantics (Calico, Cilium, AdminNetworkPolicy, address sets): the messages a person reads.
S=tests/data/check/semantics
golden semantics 1 "$S/expected.text" -v -p $S/policy.yaml $S/input.yaml

# Pulumi files: findings named by URN (text), and as SARIF logical locations.
P=tests/data/pulumi
for f in text sarif; do
    golden "pulumi $f" 1 "$P/expected.$f" -p tests/data/check/policy.yaml --now 2026-12-01 -o $f \
        $P/preview.json $P/export.json
done
exit $t_failed
