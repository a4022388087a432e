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
    "CiliumClusterwideNetworkPolicy world ($IN:22): for the pods it may select, entity world opens"

run "$EGRESSGUARD" check -p "$POLICY" -e -f json "$IN"
expect_in "--effective in json carries the rule" "$out" '"egress.effective"'

# Per workload: every Deployment with its own policy is isolated and inside the allow-list.
SHOP="$DATA/effective/shop-per-app.yaml"
run "$EGRESSGUARD" check -p "$POLICY" --effective "$SHOP"
expect_rc "each app with its own policy passes" 0
expect_in "per-workload note" "$out" \
    "EffectiveEgress ml-shop: note: each of the 6 workloads of this namespace in the input stays inside the allow-list with the 6 network policies that select them"
run "$EGRESSGUARD" check -p "$POLICY" --effective -f json "$SHOP"
expect_in "json carries the basis" "$out" '"basis": "workloads"'
expect_in "json carries each workload" "$out" '"name": "redis-cart"'
expect_in "json names what isolates a workload" "$out" \
    '"isolatedBy": "NetworkPolicy ml-shop/redis-cart-egress ('"$SHOP"':'

# A default deny plus per-app allows: only the app that opens the internet is named.
DD="$DATA/effective/default-deny-per-app.yaml"
run "$EGRESSGUARD" check -p "$POLICY" --effective "$DD"
expect_rc "the internet-facing app fails" 1
expect_in "the escape names its workload" "$out" "(reached by Deployment/web)"
case "$out" in
*"CronJob/trainer"*) fail "the trainer stays inside and is not named" ;;
*) pass "the trainer stays inside and is not named" ;;
esac

# Namespace-less manifests are in default, for --effective as for check.
NL="$DATA/effective/namespaceless.yaml"
run "$EGRESSGUARD" check -p "$POLICY" --effective -n default=egressguard.io/ai-workload=true "$NL"
expect_rc "namespace-less workloads are judged" 1
expect_in "default gets its effective item" "$out" \
    "EffectiveEgress default: deny: StatefulSet/worker is not selected by any policy with egress default deny"
exit $t_failed
