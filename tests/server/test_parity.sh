#!/bin/sh
# check, review and serve agree: the same manifests (tests/data/parity) judged offline by `check`
# over the cluster's objects and the case, by `review --cluster` on an AdmissionReview of the
# case, and by `serve` with the fake API server (fake_kube.py) holding the cluster's objects.
# Each case names the verdict and a text every answer must carry. Then what serve alone can
# meet: kinds the API server serves but egressguard cannot list yet fail closed, saying which.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e24

D="$DATA/parity"
k="$tmp/kube"
mkdir -p "$k"
# The fake serves Namespaces from the start; the other kinds once served below (a CRD installed).
python3 -c 'import json,sys
items = json.load(open(sys.argv[1]))["items"]
print(json.dumps({"objects": [o for o in items if o["kind"] == "Namespace"]}))' \
    "$D/cluster.json" >"$k/seed.json"
start_fake "$k"
kubeconfig "$tmp/kubeconfig" "$kport" "{token: test-token}"
for r in networkpolicies:NetworkPolicy:true globalnetworkpolicies:GlobalNetworkPolicy:false \
    networksets:NetworkSet:true globalnetworksets:GlobalNetworkSet:false \
    hostendpoints:HostEndpoint:false; do
    IFS=: read -r res kind nsd <<EOF
$r
EOF
    ctl serve "{\"group\":\"projectcalico.org\",\"version\":\"v3\",\"resource\":\"$res\",\"kind\":\"$kind\",\"namespaced\":$nsd}"
done
ctl serve '{"group":"cilium.io","version":"v2","resource":"ciliumnetworkpolicies","kind":"CiliumNetworkPolicy","namespaced":true}'
ctl serve '{"group":"cilium.io","version":"v2","resource":"ciliumclusterwidenetworkpolicies","kind":"CiliumClusterwideNetworkPolicy","namespaced":false}'
ctl serve '{"group":"policy.networking.k8s.io","version":"v1alpha1","resource":"adminnetworkpolicies","kind":"AdminNetworkPolicy","namespaced":false}'
python3 -c 'import json,sys
for o in json.load(open(sys.argv[1]))["items"]:
    if o["kind"] != "Namespace":
        print(json.dumps(o))' "$D/cluster.json" | while IFS= read -r obj; do ctl apply "$obj"; done

# review_of CASE: an AdmissionReview (CREATE) of the case's object, in $tmp/CASE.review.json.
review_of() {
    python3 -c 'import json,sys
o = json.load(open(sys.argv[1]))
g, _, v = o["apiVersion"].rpartition("/")
plural = {"NetworkPolicy": "networkpolicies", "GlobalNetworkPolicy": "globalnetworkpolicies",
          "NetworkSet": "networksets", "CiliumClusterwideNetworkPolicy":
          "ciliumclusterwidenetworkpolicies", "AdminNetworkPolicy": "adminnetworkpolicies"}[o["kind"]]
m = o["metadata"]
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "u-" + m["name"], "kind": {"group": g, "version": v, "kind": o["kind"]},
    "resource": {"group": g, "version": v, "resource": plural},
    "namespace": m.get("namespace", ""), "name": m["name"], "operation": "CREATE",
    "userInfo": {"username": "alice"}, "object": o}}))' "$D/cases/$1.json" >"$tmp/$1.review.json"
}

# check_of CASE: check over the cluster and the case; "true"/"false" for the case's object, then
# its messages, in $out.
check_of() {
    "$EGRESSGUARD" check -p examples/policy.yaml -o json "$D/cluster.json" "$D/cases/$1.json" \
        >"$tmp/$1.check.json" 2>"$tmp/$1.check.err"
    out=$(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["file"] == sys.argv[2]:
        print("true" if r["allowed"] else "false")
        for f in r["findings"]:
            print(f["message"])' "$tmp/$1.check.json" "$D/cases/$1.json" 2>&1)
}

# answer_word: "true"/"false" from the AdmissionReview answer in $out.
answer_word() { printf '%s' "$out" | sed -n 's/.*"allowed": *\(true\|false\).*/\1/p' | head -1; }

# expect_case CASE VERDICT NEEDLE: the three agree on VERDICT ("true" admitted, "false" denied)
# and each answer says NEEDLE (when not empty).
expect_case() {
    review_of "$1"
    check_of "$1"
    got=$(printf '%s\n' "$out" | head -1)
    [ "$got" = "$2" ] && pass "parity_check_$1" || fail "parity_check_$1" "$got: $out $(cat "$tmp/$1.check.err")"
    [ -z "$3" ] || expect_in "parity_check_says_$1" "$out" "$3"
    run "$EGRESSGUARD" review -p examples/policy.yaml --cluster "$D/cluster.json" "$tmp/$1.review.json"
    got=$(answer_word)
    [ "$got" = "$2" ] && pass "parity_review_$1" || fail "parity_review_$1" "$got: $out $err"
    [ -z "$3" ] || expect_in "parity_review_says_$1" "$out" "$3"
    post /validate "$tmp/$1.review.json"
    got=$(answer_word)
    [ "$got" = "$2" ] && pass "parity_serve_$1" || fail "parity_serve_$1" "$got: $out"
    [ -z "$3" ] || expect_in "parity_serve_says_$1" "$out" "$3"
}

synced() { [ "$(metric "egressguard_watch_synced{kind=\"$1\"}")" = 1 ]; }
objects() { [ "$(metric "egressguard_model_objects{kind=\"$1\"}")" = "$2" ]; }

# 1. Served but not listable (the role lacks them): HostEndpoints and Namespaces unknown.
ctl forbid '{"resource":"hostendpoints","on":true}'
ctl forbid '{"resource":"namespaces","on":true}'
serve par --kubeconfig "$tmp/kubeconfig" --kube-discovery-interval 1 --no-audit \
    --namespace-labels-unknown=allow
until_ok 600 synced calico_networksets && until_ok 600 objects calico_networksets 3 &&
    pass parity_sets_listed || fail parity_sets_listed "$(cat "$tmp/par.log")"
synced calico_hostendpoints && fail parity_hostendpoints_unknown || pass parity_hostendpoints_unknown
review_of calico-none
post /validate "$tmp/calico-none.review.json"
[ "$(answer_word)" = false ] && pass parity_serve_hostendpoints_unknown_denied ||
    fail parity_serve_hostendpoints_unknown_denied "$out"
expect_in parity_serve_hostendpoints_unknown_says_which "$out" \
    "HostEndpoints are not listed from the API server yet"
# A selector that cannot reach HostEndpoints is not concerned by them.
review_of calico-registry
post /validate "$tmp/calico-registry.review.json"
[ "$(answer_word)" = true ] && pass parity_serve_namespaced_sets_known ||
    fail parity_serve_namespaced_sets_known "$out"
# A cluster-wide policy pinned to an ordinary namespace whose labels are not known: may be AI,
# denied even with --namespace-labels-unknown=allow (that reading is for the object's own
# namespace; a cluster-scoped object has none).
review_of gnp-web
post /validate "$tmp/gnp-web.review.json"
[ "$(answer_word)" = false ] && pass parity_serve_namespaces_unknown_denied ||
    fail parity_serve_namespaces_unknown_denied "$out"
expect_in parity_serve_namespaces_unknown_says_why "$out" "whose labels are unknown here"

# 2. Everything listed: the three agree.
ctl forbid '{"resource":"hostendpoints","on":false}'
ctl forbid '{"resource":"namespaces","on":false}'
until_ok 600 synced calico_hostendpoints && until_ok 600 synced namespaces &&
    pass parity_all_listed || fail parity_all_listed "$(cat "$tmp/par.log")"
expect_case calico-registry true ""
expect_case calico-world false "NetworkSet ml-a/world"
expect_case calico-none true ""
expect_case gnp-web true ""
expect_case ccnp-web true ""
expect_case anp-web true ""
expect_case ccnp-research false "namespace research, an AI namespace"
expect_case netset-web-partner false "NetworkSet web/partner, reached by"
expect_case netset-web-other true ""
# A layered pair over an address set: ml-b's Allow at order 100 reaches its NetworkSet registry
# through a selector, a Deny of every address follows at 200; an Allow of the world at 300 opens
# nothing more (Calico: the first matching rule by order decides, docs.tigera.io/calico/latest/
# reference/resources/networkpolicy#spec).
expect_case calico-layered-sets true ""
# What the cluster's own policies reach through sets counts the same offline and online: explain
# composes ml-b to the registry alone both ways, and deleting the Deny (leaving the Allow over
# the set) is admitted by review --cluster and serve, as what remains stays inside.
run "$EGRESSGUARD" explain ml-b -p examples/policy.yaml "$D/cluster.json"
expect_rc parity_explain_offline_sets 0
expect_in parity_explain_offline_sets_names "$out" "10.20.0.0/16"
run "$EGRESSGUARD" explain ml-b -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig"
expect_rc parity_explain_online_sets 0
expect_in parity_explain_online_sets_names "$out" "10.20.0.0/16"
python3 -c 'import json,sys
o = [o for o in json.load(open(sys.argv[1]))["items"] if o["metadata"]["name"] == "deny-rest"][0]
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "u-delete-deny-rest", "kind": {"group": "projectcalico.org", "version": "v3",
    "kind": "NetworkPolicy"}, "resource": {"group": "projectcalico.org", "version": "v3",
    "resource": "networkpolicies"}, "namespace": "ml-b", "name": "deny-rest",
    "operation": "DELETE", "userInfo": {"username": "alice"}, "object": None,
    "oldObject": o}}))' "$D/cluster.json" >"$tmp/delete-deny-rest.json"
run "$EGRESSGUARD" review -p examples/policy.yaml --cluster "$D/cluster.json" "$tmp/delete-deny-rest.json"
[ "$(answer_word)" = true ] && pass parity_review_delete_leaves_set_allow ||
    fail parity_review_delete_leaves_set_allow "$out $err"
post /validate "$tmp/delete-deny-rest.json"
[ "$(answer_word)" = true ] && pass parity_serve_delete_leaves_set_allow ||
    fail parity_serve_delete_leaves_set_allow "$out"

# 3. The kind's CRD removed: not served, so there are none (known), and the policy is admitted.
ctl unserve '{"group":"projectcalico.org","version":"v3","resource":"hostendpoints"}'
until_ok 600 sh -c "! curl -sS --cacert '$tmp/ca.crt' https://127.0.0.1:$port/metrics | grep -q 'egressguard_watch_synced{kind=\"calico_hostendpoints\"}'" &&
    pass parity_hostendpoints_not_served || fail parity_hostendpoints_not_served
post /validate "$tmp/calico-none.review.json"
[ "$(answer_word)" = true ] && pass parity_serve_not_served_known ||
    fail parity_serve_not_served_known "$out"
# explain --kubeconfig LISTs once and reads discovery the same way: a kind not served is known
# to hold nothing, so ml-b with a global() selector first in order (it reaches no
# GlobalNetworkSet, and HostEndpoints are not served) composes as offline.
to_none_b=$(sed 's/"namespace": "ml-a"}, "spec": {/"namespace": "ml-b"}, "spec": {"order": 50, /' "$D/cases/calico-none.json")
printf '%s\n' "$to_none_b" >"$tmp/to-none-b.json"
ctl apply "$to_none_b"
run "$EGRESSGUARD" explain ml-b -p examples/policy.yaml "$D/cluster.json" "$tmp/to-none-b.json"
expect_rc parity_explain_offline_not_served 0
expect_in parity_explain_offline_not_served_names "$out" "to-none"
run "$EGRESSGUARD" explain ml-b -p examples/policy.yaml --kubeconfig "$tmp/kubeconfig"
expect_rc parity_explain_online_not_served 0
expect_in parity_explain_online_not_served_names "$out" "to-none"
exit $t_failed
