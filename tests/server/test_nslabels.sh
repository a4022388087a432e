#!/bin/sh
# Namespace labels online: a pod with hostNetwork in a namespace that is an AI namespace only by
# its label (egressguard.io/ai-workload: "true"; "research" matches no aiWorkloads.namespaces.names
# glob) must be denied by the server as by `check`. The labels come from the cluster model (LIST
# and WATCH of a fake Kubernetes API, tests/server/fake_kube.py) or, for a namespace the model
# does not have, from a GET; an AdmissionReview posted to /validate never teaches the server
# anything. When the labels cannot be known, a verdict that depends on them is denied and says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e02

k="$tmp/kube"
mkdir -p "$k"
printf '{"objects": [%s, %s]}' "$(ns_json research "$AI")" "$(ns_json web)" >"$k/seed.json"
start_fake "$k"
kubeconfig "$tmp/kubeconfig" "$kport" "{token: test-token}"
# Nothing listens on port 1 of loopback: connections are refused at once.
kubeconfig "$tmp/kubeconfig-down" 1 "{token: test-token}"

# The offline path, for reference: the Namespace in the input makes the pod's namespace AI.
cat >"$tmp/research.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata:
  name: research
  labels: {egressguard.io/ai-workload: "true"}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: research, labels: {data-classification: internal}}
spec:
  hostNetwork: true
  containers: [{name: c, image: busybox}]
Y
run "$EGRESSGUARD" check -p examples/policy.yaml "$tmp/research.yaml"
expect_in test_nslabels_check_denies "$out" "hostNetwork"
[ "$rc" -ne 0 ] && pass test_nslabels_check_exit || fail test_nslabels_check_exit "exit $rc"

# 1. Labels from the model: denied; no GET of the namespace (the model has it).
serve api --kubeconfig "$tmp/kubeconfig"
expect_in test_nslabels_api_mode_logged "$(cat "$tmp/api.log")" "namespace labels: from the cluster model watched at https://127.0.0.1:$kport"
until_ok 300 sh -c "curl -fsS --cacert '$tmp/ca.crt' https://127.0.0.1:$port/readyz" &&
    pass test_nslabels_ready || fail test_nslabels_ready "$(cat "$tmp/api.log")"
pod research
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_model_label_denies "$out" '"allowed":false'
expect_in test_nslabels_model_label_reason "$out" "hostNetwork: true puts the pod on the node's network"
n=$(grep -c "^GET /api/v1/namespaces/research " "$k/requests")
[ "$n" -eq 0 ] && pass test_nslabels_model_no_get || fail test_nslabels_model_no_get "$n GETs"
allowed web && pass test_nslabels_unlabelled_allowed || fail test_nslabels_unlabelled_allowed "$out"

# 2. A forged Namespace review straight to /validate changes no later verdict: neither a CREATE
# that labels "web" as AI nor a DELETE of "research".
forged() { # forged NAME OPERATION LABELS
    member=object; [ "$2" = DELETE ] && member=oldObject
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"f-%s","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"%s","operation":"%s","userInfo":{"username":"mallory"},"%s":%s}}' \
        "$1" "$1" "$2" "$member" "$(ns_json "$1" "$3")" >"$tmp/forged-$1-$2.json"
    post /validate "$tmp/forged-$1-$2.json"
}
forged web CREATE "$AI"
forged web UPDATE "$AI"
forged research DELETE "$AI"
allowed web && pass test_nslabels_forged_create_changes_nothing ||
    fail test_nslabels_forged_create_changes_nothing "$out"
denied research && pass test_nslabels_forged_delete_changes_nothing ||
    fail test_nslabels_forged_delete_changes_nothing "$out"

# 3. The model follows the cluster: labelled later → denied; label removed → allowed again.
ctl apply "$(ns_json late)"
until_ok 100 sh -c "grep -q 'GET /api/v1/namespaces?watch' '$k/requests'"
ctl apply "$(ns_json late "$AI")"
until_ok 100 denied late && pass test_nslabels_labelled_later_denied ||
    fail test_nslabels_labelled_later_denied "$out"
ctl apply "$(ns_json late)"
until_ok 100 allowed late && pass test_nslabels_label_removed_allowed ||
    fail test_nslabels_label_removed_allowed "$out"

# 4. A namespace that neither the model nor the API knows: the verdict depends on its labels,
# so it fails closed, and says why.
pod ghost
post /validate "$tmp/pod-ghost.json"
expect_in test_nslabels_unknown_denied "$out" '"allowed":false'
expect_in test_nslabels_unknown_says_why "$out" 'the labels of namespace \"ghost\" are unknown (not in the cluster model: no such namespace has been watched; GET of the Namespace: the API server says it does not exist)'
pod ghost false
post /validate "$tmp/pod-ghost.json"
expect_in test_nslabels_unknown_harmless_allowed "$out" '"allowed":true'
[ "$(metric 'egressguard_namespace_api_requests_total{result="not_found"}')" -ge 1 ] &&
    pass test_nslabels_get_on_miss_counted || fail test_nslabels_get_on_miss_counted

# 5. The API is unreachable from the start: nothing is known, label-dependent verdicts fail
# closed, and the server is not ready.
serve down --namespace-labels-from-api --kubeconfig "$tmp/kubeconfig-down"
denied research && pass test_nslabels_down_denied || fail test_nslabels_down_denied "$out"
expect_in test_nslabels_down_says_why "$out" 'the labels of namespace \"research\" are unknown (not in the cluster model: namespaces are not listed yet; GET of the Namespace: '
denied research
expect_in test_nslabels_down_warned "$(cat "$tmp/down.log")" '"level":"warn","msg":"namespace research: labels unknown (not in the cluster model: namespaces are not listed yet; GET of the Namespace: GET /api/v1/namespaces/research: '
n=$(grep -c "namespace research: labels unknown" "$tmp/down.log")
[ "$n" -eq 1 ] && pass test_nslabels_down_warned_once || fail test_nslabels_down_warned_once "$n warnings"
get /readyz
[ "$code" = 503 ] && pass test_nslabels_down_not_ready || fail test_nslabels_down_not_ready "$code $out"
expect_in test_nslabels_down_not_ready_why "$out" "the API server's kinds are not discovered yet"
until_ok 100 sh -c "grep -q 'API discovery: ' '$tmp/down.log'" && pass test_nslabels_down_discovery_logged ||
    fail test_nslabels_down_discovery_logged "$(cat "$tmp/down.log")"

# 6. No API at all: fail closed, or judged by name with the opt-out.
serve noapi --no-namespace-lookup
expect_in test_nslabels_noapi_mode_logged "$(cat "$tmp/noapi.log")" "namespace labels: unknown (--no-namespace-lookup): verdicts that depend on them fail closed"
denied research && pass test_nslabels_noapi_denied || fail test_nslabels_noapi_denied "$out"
expect_in test_nslabels_noapi_says_why "$out" "egressguard has no access to the Kubernetes API"
get /readyz
[ "$code" = 200 ] && pass test_nslabels_noapi_ready || fail test_nslabels_noapi_ready "$code"
serve optout --no-namespace-lookup --namespace-labels-unknown=allow
allowed research && pass test_nslabels_optout_allowed || fail test_nslabels_optout_allowed "$out"
denied ml-train && pass test_nslabels_optout_names_still_count || fail test_nslabels_optout_names_still_count "$out"

# 4. Scope, alike in check, review and serve: while rules.pods.aiWorkloadsOutsideAI keeps AI pods
# in AI namespaces, a policy in a namespace known not to be one governs no AI workload; one in a
# namespace that is AI by label is judged; an AI-labelled pod outside AI namespaces is refused.
np() { # np NS: an AdmissionReview of a NetworkPolicy opening every destination, in $tmp/np-NS.json
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"np-%s","kind":{"group":"networking.k8s.io","version":"v1","kind":"NetworkPolicy"},"resource":{"group":"networking.k8s.io","version":"v1","resource":"networkpolicies"},"namespace":"%s","name":"open","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"open","namespace":"%s"},"spec":{"podSelector":{},"egress":[{}]}}}}' \
        "$1" "$1" "$1" >"$tmp/np-$1.json"
}
aipod() { # aipod NS: an AI-labelled pod in $tmp/aipod-NS.json
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"a-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"%s","name":"a","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"%s","labels":{"egressguard.io/ai-workload":"true","data-classification":"internal"}},"spec":{"containers":[{"name":"c","image":"vllm"}]}}}}' \
        "$1" "$1" "$1" >"$tmp/aipod-$1.json"
}
np web; np research; aipod web
cat >"$tmp/scope.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Namespace
metadata: {name: research, labels: {egressguard.io/ai-workload: "true"}}
Y
for n in web research; do
    printf -- '---\n' >>"$tmp/scope.yaml"
    sed -n 's/.*"object":\(.*\)}}$/\1/p' "$tmp/np-$n.json" >>"$tmp/scope.yaml"
    echo >>"$tmp/scope.yaml"
done
printf -- '---\n' >>"$tmp/scope.yaml"
sed -n 's/.*"object":\(.*\)}}$/\1/p' "$tmp/aipod-web.json" >>"$tmp/scope.yaml"
echo >>"$tmp/scope.yaml"
run "$EGRESSGUARD" check -p examples/policy.yaml "$tmp/scope.yaml"
expect_in test_nslabels_scope_check_web_not_judged "$out" "NetworkPolicy web/open: note: not evaluated: it governs no AI workload: namespace web is not an AI namespace (by name and labels); rule pods.aiWorkloadsOutsideAI keeps AI workloads out of it"
expect_in test_nslabels_scope_check_research_judged "$out" "NetworkPolicy research/open: deny: "
expect_in test_nslabels_scope_check_ai_pod_refused "$out" "Pod web/a: deny: metadata.labels: labels match aiWorkloads.pods.selectors[0]"
run "$EGRESSGUARD" review -p examples/policy.yaml -n web= "$tmp/np-web.json"
expect_in test_nslabels_scope_review_web_allowed "$out" '"allowed":true'
run "$EGRESSGUARD" review -p examples/policy.yaml -n research=egressguard.io/ai-workload=true "$tmp/np-research.json"
expect_in test_nslabels_scope_review_research_denied "$out" '"allowed":false'
run "$EGRESSGUARD" review -p examples/policy.yaml -n web= "$tmp/aipod-web.json"
expect_in test_nslabels_scope_review_ai_pod_refused "$out" 'labels match aiWorkloads.pods.selectors[0], so this is an AI workload, but namespace \"web\" is not an AI namespace:'
# Without the labels, review fails closed, as check does without the Namespace: as a policy of an
# AI namespace it would be refused.
run "$EGRESSGUARD" review -p examples/policy.yaml "$tmp/np-web.json"
expect_in test_nslabels_scope_review_unknown_judged "$out" 'the labels of namespace \"web\" are unknown (egressguard review knows no cluster; give them with -n): if they make it an AI namespace (aiWorkloads.namespaces.selectors), it is refused as one'
run "$EGRESSGUARD" review -p examples/policy.yaml --namespace-labels-unknown=allow "$tmp/np-web.json"
expect_in test_nslabels_scope_review_unknown_opted_out "$out" '"allowed":true'
serve scope --kubeconfig "$tmp/kubeconfig"
post /validate "$tmp/np-web.json"
expect_in test_nslabels_scope_serve_web_allowed "$out" '"allowed":true'
post /validate "$tmp/np-research.json"
expect_in test_nslabels_scope_serve_research_denied "$out" '"allowed":false'
post /validate "$tmp/aipod-web.json"
expect_in test_nslabels_scope_serve_ai_pod_refused "$out" 'labels match aiWorkloads.pods.selectors[0], so this is an AI workload, but namespace \"web\" is not an AI namespace:'

# review --namespace-labels: the hostNetwork pod of "research" (AI by label only) is denied as
# check and serve deny it; without the labels, review fails closed and says so.
run "$EGRESSGUARD" review -p examples/policy.yaml -n research=egressguard.io/ai-workload=true "$tmp/pod-research.json"
expect_in test_nslabels_review_labels_deny "$out" '"allowed":false'
expect_in test_nslabels_review_labels_reason "$out" "hostNetwork"
run "$EGRESSGUARD" review -p examples/policy.yaml "$tmp/pod-research.json"
expect_in test_nslabels_review_no_labels_denied "$out" 'the labels of namespace \"research\" are unknown'
run "$EGRESSGUARD" review -p examples/policy.yaml -n research "$tmp/pod-research.json"
expect_rc test_nslabels_review_bad_spec 2
expect_in test_nslabels_review_bad_spec_msg "$err" 'invalid --namespace-labels "research"'

# Without credentials, the default is the same, and says why.
serve auto
expect_in test_nslabels_auto_without_credentials "$(cat "$tmp/auto.log")" "namespace labels: unknown (no API credentials: give --kubeconfig)"

# Flags.
run env -u KUBERNETES_SERVICE_HOST "$EGRESSGUARD" serve --listen 127.0.0.1:0 -p examples/policy.yaml \
    --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --namespace-labels-from-api
expect_rc test_nslabels_from_api_needs_credentials 2
expect_in test_nslabels_from_api_needs_credentials_msg "$err" "namespace labels: not in a cluster (KUBERNETES_SERVICE_HOST is unset): give --kubeconfig FILE"
run "$EGRESSGUARD" serve -p examples/policy.yaml --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --namespace-labels-from-api --no-namespace-lookup
expect_rc test_nslabels_flags_exclusive 2
run "$EGRESSGUARD" serve -p examples/policy.yaml --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --namespace-cache-ttl 0
expect_rc test_nslabels_ttl_range 2
run "$EGRESSGUARD" serve -p examples/policy.yaml --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --namespace-labels-unknown=maybe
expect_rc test_nslabels_unknown_flag_values 2
run "$EGRESSGUARD" serve --help
expect_in test_nslabels_help "$out" "--namespace-labels-unknown deny|allow"
exit $t_failed
