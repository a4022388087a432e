#!/bin/sh
# Namespace labels online: a pod with hostNetwork in a namespace that is an AI namespace only by
# its label (egressguard.io/ai-workload: "true"; "research" matches no aiWorkloads.namespaces.names
# glob) must be denied by the server as by `check`. The labels come from the Kubernetes API (a
# fake one, tests/server/fake_kube.py, on loopback) or from Namespace admissions; when they cannot
# be known the pod is admitted, with a warning logged once and the failure counted in /metrics.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
# python3 runs the fake Kubernetes API; scripts/deps.sh installs it with the build packages.
command -v python3 >/dev/null || { fail "python3 is needed (scripts/deps.sh build installs it)"; exit 1; }
make_server_cert 5e02

# The fake API knows "research" (AI by label) and "web" (no labels).
k="$tmp/kube"
mkdir -p "$k"
printf '{"egressguard.io/ai-workload": "true", "team": "r"}' >"$k/ns-research"
touch "$k/ns-web"
python3 "$TESTS_DIR/server/fake_kube.py" "$tmp/srv.crt" "$tmp/srv.key" "$k" 2>"$tmp/fake.log" &
pids="$pids $!"
i=0; while [ ! -s "$k/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$k/port" ] || { fail test_nslabels_fake_api_starts "$(cat "$tmp/fake.log")"; exit 1; }
kubeconfig() { # kubeconfig FILE PORT
    cat >"$1" <<K
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$2", certificate-authority: "$tmp/ca.crt"}
users:
- name: eg
  user: {token: test-token}
contexts:
- name: test
  context: {cluster: fake, user: eg}
K
}
kubeconfig "$tmp/kubeconfig" "$(cat "$k/port")"
# Nothing listens on port 1 of loopback: connections are refused at once.
kubeconfig "$tmp/kubeconfig-down" 1

# serve NAME ARGS...: starts a server (no in-cluster detection), its port in $port.
serve() {
    name=$1; shift
    serve_tls "$name" -p examples/policy.yaml "$@" && pass "test_nslabels_${name}_starts" ||
        { fail "test_nslabels_${name}_starts" "$(cat "$tmp/$name.log")"; exit 1; }
}
post() { # post PATH FILE: the reply in $out
    out=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$2" "https://127.0.0.1:$port$1")
}
metric() { # metric NAME: its value now
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" "https://127.0.0.1:$port/metrics" |
        sed -n "s/^$1 \([0-9]*\)$/\1/p"
}
pod() { # pod NS: a hostNetwork pod's AdmissionReview in $tmp/pod-NS.json
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"p-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"%s","name":"p","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s","labels":{"data-classification":"internal"}},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"busybox"}]}}}}' \
        "$1" "$1" "$1" >"$tmp/pod-$1.json"
}
ns() { # ns NAME OPERATION DRYRUN: a Namespace AdmissionReview (AI by label) in $tmp/ns-NAME-OP.json
    obj="{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\",\"labels\":{\"egressguard.io/ai-workload\":\"true\",\"egressguard.io/enforced\":\"true\"}}}"
    member=object; [ "$2" = DELETE ] && member=oldObject
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"n-%s","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"%s","operation":"%s","dryRun":%s,"userInfo":{"username":"alice"},"%s":%s}}' \
        "$1" "$1" "$2" "$3" "$member" "$obj" >"$tmp/ns-$1-$2.json"
}
pod research
pod web

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

# 1. The API knows the label: denied, with one GET for any number of pods (the cache).
serve api --kubeconfig "$tmp/kubeconfig" --namespace-cache-ttl 1
expect_in test_nslabels_api_mode_logged "$(cat "$tmp/api.log")" "namespace labels: from admitted Namespaces and the Kubernetes API at https://127.0.0.1:"
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_api_label_denies "$out" '"allowed":false'
expect_in test_nslabels_api_label_reason "$out" "hostNetwork"
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_api_cached_denies "$out" '"allowed":false'
n=$(grep -c "^GET /api/v1/namespaces/research Bearer test-token" "$k/requests")
[ "$n" -eq 1 ] && pass test_nslabels_api_one_get || fail test_nslabels_api_one_get "$n GETs"
post /validate "$tmp/pod-web.json"
expect_in test_nslabels_api_unlabelled_allowed "$out" '"allowed":true'
[ "$(metric 'egressguard_namespace_api_requests_total{result="ok"}')" = 2 ] &&
    pass test_nslabels_api_requests_counted || fail test_nslabels_api_requests_counted "$(metric 'egressguard_namespace_api_requests_total{result="ok"}')"

# The API goes down and the entry expires (TTL 1 s): the old labels keep serving, with a warning.
touch "$k/down"
sleep 1.2
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_stale_still_denies "$out" '"allowed":false'
expect_in test_nslabels_stale_warned "$(cat "$tmp/api.log")" "namespace research: its labels could not be refreshed (GET /api/v1/namespaces/research: HTTP 503); using those from 1 s ago"
[ "$(metric egressguard_namespace_lookup_stale_total)" = 1 ] && pass test_nslabels_stale_counted ||
    fail test_nslabels_stale_counted "$(metric egressguard_namespace_lookup_stale_total)"
[ "$(metric 'egressguard_namespace_api_requests_total{result="error"}')" = 1 ] &&
    pass test_nslabels_api_error_counted || fail test_nslabels_api_error_counted
rm -f "$k/down"

# 2. The API is unreachable: nothing known, the pod is admitted (by name only), warned once.
serve down --namespace-labels-from-api --kubeconfig "$tmp/kubeconfig-down"
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_down_allowed "$out" '"allowed":true'
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_down_allowed_again "$out" '"allowed":true'
expect_in test_nslabels_down_warned "$(cat "$tmp/down.log")" '"level":"warn","msg":"namespace research: labels unknown (GET /api/v1/namespaces/research: '
n=$(grep -c "namespace research: labels unknown" "$tmp/down.log")
[ "$n" -eq 1 ] && pass test_nslabels_down_warned_once || fail test_nslabels_down_warned_once "$n warnings"
[ "$(metric egressguard_namespace_lookup_failures_total)" = 2 ] &&
    pass test_nslabels_down_failures_counted ||
    fail test_nslabels_down_failures_counted "$(metric egressguard_namespace_lookup_failures_total)"
# The failed GET is not retried at once (back-off): one API error for two pods.
[ "$(metric 'egressguard_namespace_api_requests_total{result="error"}')" = 1 ] &&
    pass test_nslabels_down_backoff || fail test_nslabels_down_backoff

# 3. No API at all: the Namespace admitted by /validate teaches the label.
serve noapi --no-namespace-lookup
expect_in test_nslabels_noapi_mode_logged "$(cat "$tmp/noapi.log")" "namespace labels: from admitted Namespaces only (--no-namespace-lookup)"
ns research CREATE true
post /validate "$tmp/ns-research-CREATE.json"
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_noapi_dry_run_not_learned "$out" '"allowed":true'
ns research CREATE false
post /validate "$tmp/ns-research-CREATE.json"
expect_in test_nslabels_noapi_namespace_allowed "$out" '"allowed":true'
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_noapi_admission_fed_denies "$out" '"allowed":false'
expect_in test_nslabels_noapi_admission_fed_reason "$out" "hostNetwork"
ns research DELETE false
post /validate "$tmp/ns-research-DELETE.json"
post /validate "$tmp/pod-research.json"
expect_in test_nslabels_noapi_delete_forgets "$out" '"allowed":true'

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
# Without the labels, review judges web conservatively, as check does without the Namespace.
run "$EGRESSGUARD" review -p examples/policy.yaml "$tmp/np-web.json"
expect_in test_nslabels_scope_review_unknown_judged "$out" 'namespace web may be an AI namespace: its labels'
serve scope --kubeconfig "$tmp/kubeconfig"
post /validate "$tmp/np-web.json"
expect_in test_nslabels_scope_serve_web_allowed "$out" '"allowed":true'
post /validate "$tmp/np-research.json"
expect_in test_nslabels_scope_serve_research_denied "$out" '"allowed":false'
post /validate "$tmp/aipod-web.json"
expect_in test_nslabels_scope_serve_ai_pod_refused "$out" 'labels match aiWorkloads.pods.selectors[0], so this is an AI workload, but namespace \"web\" is not an AI namespace:'

# review --namespace-labels: the hostNetwork pod of "research" (AI by label only) is denied as
# check and serve deny it; without the labels, review knows only the name.
run "$EGRESSGUARD" review -p examples/policy.yaml -n research=egressguard.io/ai-workload=true "$tmp/pod-research.json"
expect_in test_nslabels_review_labels_deny "$out" '"allowed":false'
expect_in test_nslabels_review_labels_reason "$out" "hostNetwork"
run "$EGRESSGUARD" review -p examples/policy.yaml "$tmp/pod-research.json"
expect_in test_nslabels_review_no_labels_allowed "$out" '"allowed":true'
run "$EGRESSGUARD" review -p examples/policy.yaml -n research "$tmp/pod-research.json"
expect_rc test_nslabels_review_bad_spec 2
expect_in test_nslabels_review_bad_spec_msg "$err" 'invalid --namespace-labels "research"'

# Without credentials, the default is the same, and says why.
serve auto
expect_in test_nslabels_auto_without_credentials "$(cat "$tmp/auto.log")" "namespace labels: from admitted Namespaces only (no API credentials: give --kubeconfig)"

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
run "$EGRESSGUARD" serve --help
expect_in test_nslabels_help "$out" "--no-namespace-lookup"
exit $t_failed
