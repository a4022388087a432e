#!/bin/sh
# Namespaced mode and /mutate end to end: egressguard serve --namespaced-mode against a fake
# Kubernetes API (tests/server/fake_kube.py, HTTPS on a free loopback port, test CA made here).
# Asserts the exact requests (start-up LIST, GET then POST, PUT on drift, retry after a 500,
# nothing for dryRun) and that pods in an AI namespace are denied until its policies are confirmed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
# python3 runs the fake Kubernetes API; scripts/deps.sh installs it with the build packages.
command -v python3 >/dev/null || { fail "python3 is needed (scripts/deps.sh build installs it)"; exit 1; }
make_server_cert 5e01

# The fake API: ml-old exists and is labeled; its allow policy has drifted (empty spec).
k="$tmp/kube"
mkdir -p "$k"
touch "$k/ns-ml-old-labeled"
cat >"$k/seed.json" <<'J'
{"ml-old/egressguard-allow-egress": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "egressguard-allow-egress", "namespace": "ml-old", "resourceVersion": "1",
              "labels": {"app.kubernetes.io/managed-by": "egressguard"}},
 "spec": {"podSelector": {}}}}
J
python3 "$TESTS_DIR/server/fake_kube.py" "$tmp/srv.crt" "$tmp/srv.key" "$k" 2>"$tmp/fake.log" &
pids="$pids $!"
i=0; while [ ! -s "$k/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kport=$(cat "$k/port")
cat >"$tmp/kubeconfig" <<K
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$kport", certificate-authority: "$tmp/ca.crt"}
users:
- name: eg
  user: {token: test-token}
contexts:
- name: test
  context: {cluster: fake, user: eg}
K

serve_tls serve -p examples/policy.yaml --namespaced-mode --kubeconfig "$tmp/kubeconfig" &&
    pass test_namespaced_serve_starts || { fail test_namespaced_serve_starts "$(cat "$tmp/serve.log")"; exit 1; }

# until_in SECONDS FILE TEXT: waits (bounded) until FILE contains TEXT.
until_in() {
    i=0; while ! grep -qF -- "$3" "$2" 2>/dev/null && [ $i -lt $(($1 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    grep -qF -- "$3" "$2" 2>/dev/null
}
review() { # review FILE: POSTs an AdmissionReview to $1 path; reply in $out
    out=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$2" "https://127.0.0.1:$port$1")
}
ns_review() { # ns_review NAME DRYRUN
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-%s","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"%s","operation":"CREATE","dryRun":%s,"userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}}}' \
        "$1" "$1" "$2" "$1" >"$tmp/ns-$1.json"
}
pod_review() {
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"p-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"%s","name":"p","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s","labels":{"data-classification":"internal"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' \
        "$1" "$1" "$1" >"$tmp/pod-$1.json"
}

# Start-up: LIST by label, then ml-old reconciled: deny policy POSTed (after a 500 retry),
# drifted allow policy PUT.
R="$k/requests"
until_in 15 "$tmp/serve.log" "namespace ml-old: NetworkPolicies confirmed" &&
    pass test_namespaced_startup_confirmed || fail test_namespaced_startup_confirmed "$(cat "$tmp/serve.log")"
expect_in test_namespaced_list_by_label "$(head -1 "$R")" "GET /api/v1/namespaces?labelSelector=egressguard.io/enforced%3Dtrue Bearer test-token"
np=/apis/networking.k8s.io/v1/namespaces/ml-old/networkpolicies
want="GET /api/v1/namespaces/ml-old
GET $np/egressguard-default-deny-egress
POST $np
POST $np
GET $np/egressguard-allow-egress
PUT $np/egressguard-allow-egress"
got=$(sed -n '2,7p' "$R" | cut -d' ' -f1,2)
[ "$got" = "$want" ] && pass test_namespaced_startup_requests_exact || fail test_namespaced_startup_requests_exact "$got"

# /mutate for a new AI namespace: the patch, and the namespace queued; the API does not have
# it yet, so the pod is denied with the reason.
ns_review ml-new false
review /mutate "$tmp/ns-ml-new.json"
expect_in test_mutate_endpoint_patch_type "$out" '"patchType":"JSONPatch"'
patch=$(printf '%s' "$out" | python3 -c 'import sys,json,base64; print(base64.b64decode(json.load(sys.stdin)["response"]["patch"]).decode())')
expect_in test_mutate_endpoint_patch "$patch" '{"op":"add","path":"/metadata/labels","value":{"egressguard.io/enforced":"true"}}'
pod_review ml-new
review /validate "$tmp/pod-ml-new.json"
expect_in test_namespaced_pod_denied_until_confirmed "$out" '"allowed":false'
expect_in test_namespaced_pod_denied_message "$out" "NetworkPolicies of namespace ml-new are not confirmed yet"
until_in 5 "$R" "GET /api/v1/namespaces/ml-new" && pass test_namespaced_waits_for_namespace ||
    fail test_namespaced_waits_for_namespace
touch "$k/ns-ml-new"
until_in 15 "$tmp/serve.log" "namespace ml-new: NetworkPolicies confirmed" &&
    pass test_namespaced_new_confirmed || fail test_namespaced_new_confirmed "$(tail -5 "$tmp/serve.log")"
grep -q "POST /apis/networking.k8s.io/v1/namespaces/ml-new/networkpolicies" "$R" &&
    pass test_namespaced_new_posted || fail test_namespaced_new_posted
[ "$(grep -c "^POST /apis/networking.k8s.io/v1/namespaces/ml-new/networkpolicies " "$R")" -eq 2 ] &&
    pass test_namespaced_new_two_policies || fail test_namespaced_new_two_policies "$(cat "$R")"
review /validate "$tmp/pod-ml-new.json"
case "$out" in *"not confirmed"*) fail test_namespaced_pod_after_confirmed "$out" ;;
*) pass test_namespaced_pod_after_confirmed ;; esac

# Idempotent: the same namespace again → GETs only, no POST/PUT.
before=$(grep -c '^P' "$R")
ns_review ml-new false
touch "$k/ns-ml-again"
review /mutate "$tmp/ns-ml-new.json"
sleep 1
[ "$(grep -c '^P' "$R")" -eq "$before" ] && pass test_namespaced_idempotent || fail test_namespaced_idempotent

# dryRun: no request about the namespace at all.
ns_review ml-dry true
review /mutate "$tmp/ns-ml-dry.json"
expect_in test_mutate_dry_run_still_patched "$out" '"patchType":"JSONPatch"'
sleep 1
grep -q "ml-dry" "$R" && fail test_namespaced_dry_run_no_requests "$(grep ml-dry "$R")" ||
    pass test_namespaced_dry_run_no_requests

# A pod outside AI namespaces is not gated.
pod_review web
review /validate "$tmp/pod-web.json"
case "$out" in *"not confirmed"*) fail test_namespaced_non_ai_not_gated "$out" ;;
*) pass test_namespaced_non_ai_not_gated ;; esac
exit $t_failed
