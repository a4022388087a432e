#!/bin/sh
# check --effective: every policy selecting an AI namespace's workloads, taken together.
. "$(dirname "$0")/../lib.sh"
POLICY="$TESTS_DIR/../examples/policy.yaml"
IN="$DATA/effective/world-and-registry.yaml"

run "$EGRESSGUARD" check -p "$POLICY" "$IN"
expect_rc "without --effective the per-object verdicts only" 1
case "$out" in
*EffectiveEgress*) fail "no effective item without --effective" ;;
*) pass "no effective item without --effective" ;;
esac

run "$EGRESSGUARD" check -p "$POLICY" --effective "$IN"
expect_rc "--effective fails on the escape" 1
expect_in "--effective names the namespace" "$out" "EffectiveEgress ml-a: deny:"
expect_in "--effective names the escaping policy and its place" "$out" \
    "CiliumClusterwideNetworkPolicy world ($IN:22): entity world opens"

run "$EGRESSGUARD" check -p "$POLICY" -e -f json "$IN"
expect_in "--effective in json carries the rule" "$out" '"egress.effective"'
exit $t_failed
