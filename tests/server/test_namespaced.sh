#!/bin/sh
# Namespaced mode against a fake Kubernetes API (tests/server/fake_kube.py): egressguard keeps
# the rendered NetworkPolicies in every AI namespace of its cluster model, and only there.
# Asserts the writes (create, update on drift and on a policy reload, delete of what is no longer
# wanted, nothing for what is not egressguard's), that pods in an AI namespace are held until the
# policies are in the model, that a namespace deleted and created again gets them back, that two
# replicas at once leave exactly one set, and that admission requests set nothing in motion.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e01

NP=/apis/networking.k8s.io/v1/namespaces
MB='"labels": {"app.kubernetes.io/managed-by": "egressguard"}'
k="$tmp/kube"
mkdir -p "$k"
# ml-old: AI by name, its allow policy drifted (empty spec), an obsolete managed policy and a
# user's own. research: AI by label. web: neither.
cat >"$k/seed.json" <<J
{"objects": [
 $(ns_json ml-old), $(ns_json research "$AI"), $(ns_json web),
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "egressguard-allow-egress", "namespace": "ml-old", $MB},
  "spec": {"podSelector": {}}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "egressguard-obsolete", "namespace": "ml-old", $MB},
  "spec": {"podSelector": {}}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"name": "users-own", "namespace": "ml-old"}, "spec": {"podSelector": {}}}
]}
J
start_fake "$k"
kubeconfig "$tmp/kubeconfig" "$kport" "{token: test-token}"
R="$k/requests"
ctl fail-posts '{"n": 1}' # the first POST answers 500: the client retries
cp examples/policy.yaml "$tmp/policy.yaml"

serve_tls a -p "$tmp/policy.yaml" --namespaced-mode --kubeconfig "$tmp/kubeconfig" &&
    pass test_namespaced_serve_starts || { fail test_namespaced_serve_starts "$(cat "$tmp/a.log")"; exit 1; }
spid=$(echo $pids | awk '{print $NF}')

has() { grep -qF -- "$1" "$R"; }
count() { grep -c -- "$1" "$R"; }
logged() { grep -qF -- "$1" "$tmp/a.log"; }

# Start-up: ml-old reconciled from the model.
until_ok 200 logged "namespace ml-old: created NetworkPolicy egressguard-default-deny-egress" &&
    pass test_namespaced_creates_missing || fail test_namespaced_creates_missing "$(cat "$tmp/a.log")"
until_ok 200 logged "namespace ml-old: updated NetworkPolicy egressguard-allow-egress" &&
    pass test_namespaced_repairs_drift || fail test_namespaced_repairs_drift
until_ok 200 logged "namespace ml-old: deleted NetworkPolicy egressguard-obsolete" &&
    pass test_namespaced_drops_unwanted || fail test_namespaced_drops_unwanted
has "DELETE $NP/ml-old/networkpolicies/users-own" && fail test_namespaced_leaves_others_alone ||
    pass test_namespaced_leaves_others_alone
[ "$(count "^POST $NP/ml-old/networkpolicies ")" -eq 2 ] && pass test_namespaced_post_retried_after_500 ||
    fail test_namespaced_post_retried_after_500 "$(grep POST "$R")"
until_ok 200 logged "namespace research: created NetworkPolicy egressguard-allow-egress" &&
    pass test_namespaced_ai_by_label || fail test_namespaced_ai_by_label
has "$NP/web/" && fail test_namespaced_plain_namespace_untouched || pass test_namespaced_plain_namespace_untouched
has "GET /api/v1/namespaces?labelSelector" && fail test_namespaced_no_label_selector_list ||
    pass test_namespaced_no_label_selector_list

# A new AI namespace whose policies cannot be written (every POST fails): its pods are held,
# with the reason; once writes work again, they come, and the pods pass.
ctl fail-posts '{"n": 100000}'
ctl apply "$(ns_json ml-new)"
until_ok 200 sh -c "grep -q 'POST $NP/ml-new/networkpolicies' '$R'"
pod ml-new false
post /validate "$tmp/pod-ml-new.json"
expect_in test_namespaced_pod_held "$out" '"allowed":false'
expect_in test_namespaced_pod_held_why "$out" "the egress NetworkPolicies of namespace ml-new are not in place yet (missing: egressguard-default-deny-egress, egressguard-allow-egress)"
ctl fail-posts '{"n": 0}'
pod_passes() { post /validate "$tmp/pod-ml-new.json"; case "$out" in *'"allowed":true'*) return 0 ;; esac; return 1; }
until_ok 400 pod_passes && pass test_namespaced_pod_after_in_place || fail test_namespaced_pod_after_in_place "$out"
pod web false
post /validate "$tmp/pod-web.json"
expect_in test_namespaced_non_ai_not_gated "$out" '"allowed":true'

# Deleted and created again under the same name: the policies come back, pods held till then.
ctl fail-posts '{"n": 100000}'
ctl delete-namespace '{"name": "ml-new"}'
posts=$(count "^POST $NP/ml-new/networkpolicies ")
ctl apply "$(ns_json ml-new)"
until_ok 200 sh -c "[ \$(grep -c '^POST $NP/ml-new/networkpolicies ' '$R') -gt $posts ]"
post /validate "$tmp/pod-ml-new.json"
expect_in test_namespaced_recreated_pod_held "$out" "not in place yet"
ctl fail-posts '{"n": 0}'
until_ok 400 pod_passes && pass test_namespaced_recreated_gets_policies ||
    fail test_namespaced_recreated_gets_policies "$out"

# Drift by hand (as if the webhook had been bypassed): repaired.
puts=$(count "^PUT $NP/ml-new/networkpolicies/egressguard-allow-egress ")
ctl apply "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"egressguard-allow-egress\", \"namespace\": \"ml-new\", $MB}, \"spec\": {\"podSelector\": {}, \"egress\": [{}]}}"
until_ok 200 sh -c "[ \$(grep -c '^PUT $NP/ml-new/networkpolicies/egressguard-allow-egress ' '$R') -gt $puts ]" &&
    pass test_namespaced_hand_drift_repaired || fail test_namespaced_hand_drift_repaired

# A policy reload (a new hash in the annotation): re-applied everywhere.
puts=$(count "^PUT $NP/ml-old/networkpolicies/")
sed 's/^  name: example-ai-egress/  name: example-ai-egress-v2/' examples/policy.yaml >"$tmp/policy.yaml.new"
mv "$tmp/policy.yaml.new" "$tmp/policy.yaml"
kill -HUP "$spid"
until_ok 300 sh -c "[ \$(grep -c '^PUT $NP/ml-old/networkpolicies/' '$R') -ge \$(( $puts + 2 )) ]" &&
    pass test_namespaced_reapplied_after_reload || fail test_namespaced_reapplied_after_reload "$(tail -5 "$tmp/a.log")"

# No longer an AI namespace: egressguard's policies there go.
ctl apply "$(ns_json research)"
until_ok 200 logged "namespace research: deleted NetworkPolicy egressguard-allow-egress" &&
    pass test_namespaced_no_longer_ai_dropped || fail test_namespaced_no_longer_ai_dropped
grep -q "DELETE $NP/research/networkpolicies/egressguard-default-deny-egress" "$R" &&
    pass test_namespaced_no_longer_ai_both_dropped || fail test_namespaced_no_longer_ai_both_dropped

# Admission requests set nothing in motion: a forged Namespace review, dry run or not.
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-f","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"ml-forged","operation":"CREATE","dryRun":false,"userInfo":{"username":"mallory"},"object":%s}}' \
    "$(ns_json ml-forged)" >"$tmp/forged.json"
post /validate "$tmp/forged.json"
post /mutate "$tmp/forged.json"
expect_in test_mutate_endpoint_patch_type "$out" '"patchType":"JSONPatch"'
patch=$(printf '%s' "$out" | python3 -c 'import sys,json,base64; print(base64.b64decode(json.load(sys.stdin)["response"]["patch"]).decode())')
expect_in test_mutate_endpoint_patch "$patch" '{"op":"add","path":"/metadata/labels/egressguard.io~1enforced","value":"true"}'
# (a bounded look: the reconciler acts on model events within a round; ml-forged never has one)
ctl apply "$(ns_json marker)"
until_ok 100 sh -c "curl -sS --cacert '$tmp/ca.crt' https://127.0.0.1:$port/metrics | grep -q 'egressguard_model_objects{kind=\"namespaces\"} 5'"
grep -q "ml-forged" "$R" && fail test_namespaced_forged_review_no_writes "$(grep ml-forged "$R")" ||
    pass test_namespaced_forged_review_no_writes

# The namespace controller may delete egressguard's policies (so that deleting a namespace
# completes); others may not.
del() { # del USER
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"d","kind":{"group":"networking.k8s.io","version":"v1","kind":"NetworkPolicy"},"resource":{"group":"networking.k8s.io","version":"v1","resource":"networkpolicies"},"namespace":"ml-old","name":"egressguard-allow-egress","operation":"DELETE","userInfo":{"username":"%s"},"oldObject":{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"egressguard-allow-egress","namespace":"ml-old",%s},"spec":{"podSelector":{}}}}}' \
        "$1" "$MB" >"$tmp/del.json"
    post /validate "$tmp/del.json"
}
del system:serviceaccount:kube-system:namespace-controller
expect_in test_namespaced_namespace_controller_may_delete "$out" '"allowed":true'
del system:serviceaccount:kube-system:generic-garbage-collector
expect_in test_namespaced_garbage_collector_may_delete "$out" '"allowed":true'
del bob
expect_in test_namespaced_others_may_not_delete "$out" '"allowed":false'

# Two replicas at once: a new AI namespace ends up with exactly one set, conflicts answered 409
# and left for the next round, no failed write.
aport=$port
serve_tls b -p "$tmp/policy.yaml" --namespaced-mode --kubeconfig "$tmp/kubeconfig" ||
    fail test_namespaced_second_replica_starts "$(cat "$tmp/b.log")"
port=$aport
until_ok 200 sh -c "grep -q 'namespaced mode: waiting\|watch networkpolicies: listed' '$tmp/b.log'"
ctl apply "$(ns_json ml-multi)"
two() {
    n=$(curl -sS --cacert "$tmp/ca.crt" -H 'Authorization: Bearer test-token' \
        "https://127.0.0.1:$kport$NP/ml-multi/networkpolicies" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["items"]))')
    [ "$n" = 2 ]
}
until_ok 300 two && pass test_namespaced_two_replicas_one_set || fail test_namespaced_two_replicas_one_set "$n"
grep -q "namespace ml-multi: cannot" "$tmp/a.log" "$tmp/b.log" &&
    fail test_namespaced_two_replicas_no_failure "$(grep -h 'ml-multi: cannot' "$tmp/a.log" "$tmp/b.log")" ||
    pass test_namespaced_two_replicas_no_failure
exit $t_failed
