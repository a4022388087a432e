#!/bin/sh
# egressguard explain: a namespace's effective egress, policy by policy, and one destination.
. "$(dirname "$0")/../lib.sh"
POLICY="$TESTS_DIR/../examples/policy.yaml"
DD="$DATA/effective/default-deny-per-app.yaml"
LAYERED="$DATA/context/layered-cilium.yaml"

run "$EGRESSGUARD" explain ml-a -p "$POLICY" "$DD"
expect_rc "a workload escapes: exit 1" 1
expect_in "one section per workload" "$out" "namespace ml-a (an AI namespace): 2 workloads in the input"
expect_in "what isolates the web frontend" "$out" \
    "isolated for egress by NetworkPolicy ml-a/default-deny-egress ($DD:27)"
expect_in "each policy's rules" "$out" "allow spec.egress[0] TCP/443 to cidr 10.20.0.0/16"

run "$EGRESSGUARD" explain ml-a -p "$POLICY" --to 8.8.8.8:443 "$DD"
expect_in "the web frontend reaches the address" "$out" \
    "to 8.8.8.8:443/TCP: reachable yes, outside the allow-list: VIOLATION"
expect_in "the trainer does not" "$out" "to 8.8.8.8:443/TCP: reachable no, outside the allow-list: ok"
expect_in "the default deny decides for the trainer" "$out" \
    "decided by: default deny: no rule opens it, and NetworkPolicy ml-a/default-deny-egress"

run "$EGRESSGUARD" explain ml-a -p "$POLICY" --pod app=trainer --to 10.20.3.4:443 -o json "$DD"
expect_rc "a pod inside the allow-list: exit 0" 0
expect_in "json: the pod basis" "$out" '"basis": "pod"'
expect_in "json: inside, and which entry" "$out" '"allowedBy": "model-registry"'
expect_in "json: the rule that decides" "$out" \
    '"decidedBy": "allowed by spec.egress[0] of NetworkPolicy ml-a/trainer-registry'

run "$EGRESSGUARD" explain ml-a -p "$POLICY" --to 8.8.8.8:443 "$LAYERED"
expect_rc "the layered pair: exit 0" 0
expect_in "the deny takes precedence" "$out" \
    "decided by: denied by spec.egressDeny[0] of CiliumNetworkPolicy ml-a/deny-outside-allow-list"

run "$EGRESSGUARD" explain ml-a -p "$POLICY" --to "10.0.0.1:99999" "$DD"
expect_rc "a bad destination is a usage error" 2
expect_in "the bad destination is named" "$err" "port must be 1-65535"
run "$EGRESSGUARD" explain -p "$POLICY"
expect_rc "no namespace is a usage error" 2
run "$EGRESSGUARD" explain --help
expect_rc "help" 0
expect_in "help names --to" "$out" "--to DEST"

# As a kubectl plugin (make install links kubectl-egressguard): the same commands.
plug=$(mktemp -d)
ln -s "$EGRESSGUARD" "$plug/kubectl-egressguard"
run "$plug/kubectl-egressguard" explain ml-a -p "$POLICY" "$DD"
expect_rc "the plugin name runs explain" 1
expect_in "the plugin explains" "$out" "namespace ml-a (an AI namespace)"
rm -rf "$plug"
exit $t_failed
