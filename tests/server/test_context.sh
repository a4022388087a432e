#!/bin/sh
# Network-policy changes judged online among the cluster model's objects, as `check` judges them
# among its input files: the other policies come from the model (LIST and WATCH of the fake API,
# tests/server/fake_kube.py), never from the request. The layered Cilium pair: an allow to the
# world on TCP/443, and a deny of everything outside the allow-list ("Deny policies take
# precedence over allow policies", docs.cilium.io/en/latest/security/policy/deny/).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e22

k="$tmp/kube"
mkdir -p "$k"
printf '{"objects": [%s]}' "$(ns_json ml-a)" >"$k/seed.json"
start_fake "$k"
kubeconfig "$tmp/kubeconfig" "$kport" "{token: test-token}"
ctl serve '{"group":"cilium.io","version":"v2","resource":"ciliumnetworkpolicies","kind":"CiliumNetworkPolicy","namespaced":true}'

ALLOW='{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"allow-https","namespace":"ml-a"},"spec":{"endpointSelector":{},"egress":[{"toEntities":["world"],"toPorts":[{"ports":[{"port":"443","protocol":"TCP"}]}]}]}}'
DENY='{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"deny-outside","namespace":"ml-a"},"spec":{"endpointSelector":{},"egressDeny":[{"toCIDRSet":[{"cidr":"0.0.0.0/0","except":["10.20.0.0/16","10.30.0.0/24"]},{"cidr":"::/0","except":["fd00:20::/64"]}]}]}}'

# review FILE OP OBJECT: a CiliumNetworkPolicy AdmissionReview (DELETE: OBJECT as oldObject).
review() {
    if [ "$2" = DELETE ]; then body="\"object\":null,\"oldObject\":$3"; else body="\"object\":$3"; fi
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-%s","kind":{"group":"cilium.io","version":"v2","kind":"CiliumNetworkPolicy"},"resource":{"group":"cilium.io","version":"v2","resource":"ciliumnetworkpolicies"},"namespace":"ml-a","name":"x","operation":"%s","userInfo":{"username":"alice"},%s}}' \
        "$2" "$2" "$body" >"$1"
}
allowed() { printf '%s' "$out" | grep -q '"allowed": *true'; }
refused() { printf '%s' "$out" | grep -q '"allowed": *false'; }
cnps() { [ "$(metric 'egressguard_model_objects{kind="ciliumnetworkpolicies"}')" = "$1" ]; }

serve ctx --kubeconfig "$tmp/kubeconfig"
until_ok 300 sh -c "curl -fsS --cacert '$tmp/ca.crt' https://127.0.0.1:$port/readyz" &&
    pass test_context_ready || fail test_context_ready "$(cat "$tmp/ctx.log")"

# 1. The allow alone opens the world on TCP/443 for an AI namespace: refused.
review "$tmp/allow.json" CREATE "$ALLOW"
post /validate "$tmp/allow.json"
refused && pass test_context_allow_alone_refused || fail test_context_allow_alone_refused "$out"

# 2. With the deny in the cluster, the same allow is admitted (deny first) ...
ctl apply "$DENY"
until_ok 300 cnps 1 && pass test_context_model_sees_deny || fail test_context_model_sees_deny
post /validate "$tmp/allow.json"
allowed && pass test_context_allow_after_deny_admitted || fail test_context_allow_after_deny_admitted "$out"

# ... and the deny next to the allow (allow first).
ctl delete '{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","namespace":"ml-a","name":"deny-outside"}'
ctl apply "$ALLOW"
until_ok 300 sh -c "curl -sS --cacert '$tmp/ca.crt' https://127.0.0.1:$port/metrics | grep -q 'egressguard_model_objects{kind=\"ciliumnetworkpolicies\"} 1'" &&
    pass test_context_model_sees_allow || fail test_context_model_sees_allow
review "$tmp/deny.json" CREATE "$DENY"
post /validate "$tmp/deny.json"
allowed && pass test_context_deny_after_allow_admitted || fail test_context_deny_after_allow_admitted "$out"

# 3. With both in the cluster, deleting the deny would open the world: refused.
ctl apply "$DENY"
until_ok 300 cnps 2 && pass test_context_model_sees_both || fail test_context_model_sees_both
review "$tmp/delete.json" DELETE "$DENY"
post /validate "$tmp/delete.json"
refused && pass test_context_delete_deny_refused || fail test_context_delete_deny_refused "$out"
expect_in test_context_delete_deny_says_why "$out" "widens the egress of its pods in ml-a"
review "$tmp/delete-allow.json" DELETE "$ALLOW"
post /validate "$tmp/delete-allow.json"
allowed && pass test_context_delete_allow_admitted || fail test_context_delete_allow_admitted "$out"

# 4. A request is a claim: a forged review carrying a deny does not make the allow pass when
#    the cluster has no deny.
ctl delete '{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","namespace":"ml-a","name":"deny-outside"}'
until_ok 300 cnps 1 && pass test_context_model_sees_delete || fail test_context_model_sees_delete
post /validate "$tmp/deny.json"
post /validate "$tmp/allow.json"
refused && pass test_context_forged_deny_ignored || fail test_context_forged_deny_ignored "$out"

# 4b. The model holds no pods, so a deny that selects only some of the allow's pods takes nothing
#    from it: the pods it leaves out (any the namespace may run) would still reach the world.
NARROW=$(printf '%s' "$DENY" | sed 's/"deny-outside"/"deny-web"/; s/"endpointSelector":{}/"endpointSelector":{"matchLabels":{"app":"web"}}/')
ctl apply "$NARROW"
until_ok 300 cnps 2 && pass test_context_model_sees_narrow_deny || fail test_context_model_sees_narrow_deny
post /validate "$tmp/allow.json"
refused && pass test_context_narrow_deny_does_not_admit || fail test_context_narrow_deny_does_not_admit "$out"
ctl delete '{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","namespace":"ml-a","name":"deny-web"}'
until_ok 300 cnps 1 && pass test_context_model_sees_narrow_delete || fail test_context_model_sees_narrow_delete

# 5. explain --kubeconfig: the same composition over the cluster LISTed once (no watch, no wait).
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig"
expect_rc test_context_explain_allow_alone_escapes 1
expect_in test_context_explain_names_allow "$out" "allow-https"
ctl apply "$DENY"
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig" -o json
expect_rc test_context_explain_pair_inside 0
expect_in test_context_explain_names_deny "$out" "deny-outside"
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig" --to 203.0.113.9:443
expect_rc test_context_explain_to_denied_by_deny 0
# Only the namespace's own policies are LISTed (a namespaced policy selects pods of its own
# namespace alone): another namespace's allow to the world neither shows nor counts.
ctl apply "$(printf '%s' "$ALLOW" | sed 's/"allow-https","namespace":"ml-a"/"open-b","namespace":"ml-b"/')"
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig"
expect_rc test_context_explain_other_namespace_ignored 0
case "$out" in *open-b*) fail test_context_explain_other_namespace_not_shown "$out" ;;
*) pass test_context_explain_other_namespace_not_shown ;; esac
grep -q "^GET /apis/cilium.io/v2/namespaces/ml-a/ciliumnetworkpolicies?limit=500 " "$k/requests" &&
    pass test_context_explain_lists_namespace_only ||
    fail test_context_explain_lists_namespace_only "$(grep ciliumnetworkpolicies "$k/requests" | tail -3)"
run "$EGRESSGUARD" explain ml-b -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig"
expect_in test_context_explain_other_namespace_own "$out" "open-b"
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig" x.yaml
expect_rc test_context_explain_kubeconfig_no_files 2
kubeconfig "$tmp/kubeconfig-down" 1 "{token: test-token}"
run "$EGRESSGUARD" explain ml-a -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig-down"
expect_rc test_context_explain_api_down 2
exit $t_failed
