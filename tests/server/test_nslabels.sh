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
