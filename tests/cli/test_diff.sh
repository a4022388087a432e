#!/bin/sh
# check --diff BASE HEAD: the egress each AI namespace gains and loses, on the lines that open it.
. "$(dirname "$0")/../lib.sh"
POLICY="$TESTS_DIR/../examples/policy.yaml"
BASE="$DATA/diff/base"
HEAD="$DATA/diff/head"

run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" "$HEAD"
expect_rc "a gain outside the allow-list fails" 1
expect_in "the gain is on the HEAD line that opens it" "$out" \
    "$HEAD/ml-a.yaml:26: NetworkPolicy ml-a/web-out: deny: spec.egress[0].to[1].ipBlock: ml-a: adds egress outside the allow-list: 198.51.100.0/24 opens 198.51.100.0/24 on TCP/443"
expect_in "a gain inside is a note" "$out" \
    "$HEAD/ml-a.yaml:35: CiliumNetworkPolicy ml-a/mirror: note: spec.egress[0].toFQDNs[0].matchName: ml-a: adds egress to fqdn pypi.internal.example.com on TCP/443 (inside the allow-list)"
expect_in "a loss is on the BASE line" "$out" \
    "$BASE/ml-a.yaml:28: NetworkPolicy ml-a/web-out: note: spec.egress[1].to[0].ipBlock: ml-a: removes egress to cidr 10.30.0.0/24 on TCP/8000"

run "$EGRESSGUARD" check -p "$POLICY" --diff "$HEAD" "$HEAD"
expect_rc "no change: passes" 0
expect_in "no change: nothing reported" "$out" "egressguard: 0 objects checked"

run "$EGRESSGUARD" check -p "$POLICY" --diff "$HEAD" "$BASE"
expect_rc "the way back only removes: passes" 0
expect_in "the way back removes the range" "$out" "removes egress to cidr 198.51.100.0/24 on TCP/443"

run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" -f sarif "$HEAD"
expect_in "sarif: the gain's file" "$out" "\"uri\": \"$HEAD/ml-a.yaml\""
expect_in "sarif: the gain's line" "$out" '"startLine": 26'
expect_in "sarif: rule egress.added" "$out" '"ruleId": "egress.added"'

run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" -f json "$HEAD"
expect_in "json: the gain is a violation" "$out" '"rule": "egress.added"'

# Deleting every egress policy: every pod, the workload's among them, gains every destination.
# Deleting the default deny alone: web-out still isolates web, but the namespace's other pods
# (none in the input, any the cluster runs later) lose their isolation.
nodeny=$(mktemp)
awk 'BEGIN{RS="---\n"; ORS="---\n"} !/kind: NetworkPolicy/' "$BASE/ml-a.yaml" >"$nodeny"
run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" "$nodeny"
expect_rc "losing isolation fails" 1
expect_in "losing isolation names the workload" "$out" \
    "EgressDiff ml-a: deny: ml-a: adds every destination: no policy with egress default deny selects the pods of the namespace (Deployment/web) any more"
awk 'BEGIN{RS="---\n"; ORS="---\n"} !/name: default-deny/' "$BASE/ml-a.yaml" >"$nodeny"
run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" "$nodeny"
expect_rc "the default deny alone: the other pods lose their isolation" 1
expect_in "the default deny alone: names the pods web-out does not select" "$out" \
    'ml-a: adds every destination: no policy with egress default deny selects pods app != "web" any more'
rm -f "$nodeny"

# No workload in the input: a policy that opens every destination to every pod, next to one
# that restricts app=trainer, adds egress outside the allow-list to the trainer pods.
NW="$DATA/diff/no-workloads"
run "$EGRESSGUARD" check -p "$POLICY" --diff "$NW/base" "$NW/head-open"
expect_rc "no workloads: a world-open policy fails" 1
expect_in "no workloads: the gain is on the open policy's line, for the trainer pods" "$out" \
    "$NW/head-open/ml-a.yaml:20: NetworkPolicy ml-a/open: deny: spec.egress[0]: ml-a: adds egress outside the allow-list: egress rule without \`to\` opens every destination"
expect_in "no workloads: names the pods that gain" "$out" '(for pods app == "trainer")'
run "$EGRESSGUARD" check -p "$POLICY" --diff "$NW/base" "$NW/head-registry"
expect_rc "no workloads: opening only allow-listed destinations passes" 0
case "$out" in *"deny:"*) fail "no workloads: nothing outside" "$out" ;; *) pass "no workloads: nothing outside" ;; esac
run "$EGRESSGUARD" check -p "$POLICY" --diff "$NW/head-open" "$NW/base"
expect_rc "no workloads: removing the open policy passes" 0

run "$EGRESSGUARD" check -p "$POLICY" --diff "$BASE" "$HEAD" "$HEAD"
expect_rc "--diff takes one HEAD" 2
exit $t_failed
