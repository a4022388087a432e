#!/bin/sh
# The continuous audit of serve against a fake Kubernetes API (tests/server/fake_kube.py): a
# violating NetworkPolicy present before the server starts appears in its namespace's
# PolicyReport; fixing it removes the result; labelling a namespace as AI makes its violating
# policy appear; without the PolicyReport CRDs the audit says so in a metric and writes once
# they are served; one replica at a time writes, holding a coordination.k8s.io Lease, and another
# takes over once it stops. The audit follows the server's watches: it lists nothing itself, and
# judges running Pods too. Every wait is a bounded poll (the Lease and the CRDs are asked for every
# second here).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e07

# np_json NS NAME CIDR [PORTS-JSON]: a NetworkPolicy whose pods may reach CIDR (on any port, or
# on PORTS). Its pods are labelled so that examples/policy.yaml's aiWorkloads.pods selectors
# cannot match them: it matters only in an AI namespace.
np_json() {
    printf '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"%s","namespace":"%s"},"spec":{"podSelector":{"matchLabels":{"egressguard.io/ai-workload":"false","app.kubernetes.io/component":"web"}},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"%s"}}]%s}]}}' \
        "$2" "$1" "$3" "${4:+,\"ports\":$4}"
}

k="$tmp/kube"
mkdir -p "$k"
# The Lease lives in POD_NAMESPACE (the Deployment sets it from the downward API).
export POD_NAMESPACE=eg-system
printf '{"objects": [%s, %s, %s, %s, %s]}' "$(ns_json eg-system)" "$(ns_json research "$AI")" "$(ns_json web)" \
    "$(np_json research open 0.0.0.0/0)" "$(np_json web open 0.0.0.0/0)" >"$k/seed.json"
start_fake "$k"
ctl serve '{"group":"coordination.k8s.io","version":"v1","resource":"leases","kind":"Lease","namespaced":true}'
# Pods: an AI workload (by its labels) in batch, which is no AI namespace, running before the
# server starts. Its image, command and volumes are nothing the pod rules read.
ctl serve '{"group":"","version":"v1","resource":"pods","kind":"Pod","namespaced":true}'
ctl apply "$(ns_json batch)"
pod_json() {
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"batch","labels":%s},"spec":{"containers":[{"name":"c","image":"trainer:1","command":["python","train.py"]}],"volumes":[{"name":"v","emptyDir":{}}]},"status":{"phase":"Running"}}' "$1" "$2"
}
ctl apply "$(pod_json trainer "$AI")"
ctl apply "$(pod_json web '{"app":"web"}')"
kubeconfig "$tmp/kubeconfig" "$kport" "{token: test-token}"

# report NS: the PolicyReport of NS as the API has it, in $rep ("" when absent).
report() {
    rep=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -f \
        "https://127.0.0.1:$kport/apis/wgpolicyk8s.io/v1alpha2/namespaces/$1/policyreports/egressguard" 2>/dev/null)
}
# fails NS NAME: the report of NS has a fail result for the NetworkPolicy NAME.
fails() {
    report "$1" && printf '%s' "$rep" | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if any(x["result"] == "fail" and any(s["name"] == sys.argv[1] and s["kind"] == "NetworkPolicy"
                  for s in x.get("resources", [])) for x in r.get("results", [])) else 1)' "$2"
}
# clean NS: the report of NS exists and has no fail result.
clean() {
    report "$1" && printf '%s' "$rep" | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if not any(x["result"] == "fail" for x in r.get("results", [])) else 1)'
}

# 1. No CRDs yet: the audit runs, counts, and writes nothing.
serve a --kubeconfig "$tmp/kubeconfig" --audit-interval 1
crd_missing() { [ "$(metric egressguard_audit_crd_missing)" = 1 ]; }
until_ok 300 crd_missing && pass test_audit_crd_missing_metric ||
    fail test_audit_crd_missing_metric "$(curl -sS --cacert "$tmp/ca.crt" "https://127.0.0.1:$port/metrics" | grep audit)"
[ "$(grep -c 'PolicyReport CRDs' "$tmp/a.log")" -eq 1 ] && pass test_audit_crd_missing_logged_once ||
    fail test_audit_crd_missing_logged_once "$(cat "$tmp/a.log")"
# research's 0.0.0.0/0 is two egress violations: spec.deny's metadata address, and the rest
violations() { [ "$(metric 'egressguard_audit_violations{namespace="research",rule="egress"}')" = 2 ]; }
until_ok 300 violations && pass test_audit_violations_metric || fail test_audit_violations_metric
[ -z "$(metric 'egressguard_audit_violations{namespace="web",rule="egress"}')" ] &&
    pass test_audit_non_ai_not_counted || fail test_audit_non_ai_not_counted
[ -n "$(metric egressguard_audit_last_run_timestamp_seconds)" ] &&
    [ -n "$(metric egressguard_audit_last_duration_seconds)" ] && pass test_audit_run_metrics ||
    fail test_audit_run_metrics
! grep -q 'policyreports' "$k/requests" && pass test_audit_no_writes_without_crd ||
    fail test_audit_no_writes_without_crd "$(grep policyreports "$k/requests")"

# 2. The CRDs are installed: the next discovery sees them and the reports are written.
ctl serve '{"group":"wgpolicyk8s.io","version":"v1alpha2","resource":"policyreports","kind":"PolicyReport","namespaced":true}'
ctl serve '{"group":"wgpolicyk8s.io","version":"v1alpha2","resource":"clusterpolicyreports","kind":"ClusterPolicyReport","namespaced":false}'
until_ok 300 fails research open && pass test_audit_preexisting_violation_reported ||
    fail test_audit_preexisting_violation_reported "$rep $(tail -5 "$tmp/a.log")"
crd_found() { [ "$(metric egressguard_audit_crd_missing)" = 0 ]; }
until_ok 60 crd_found && pass test_audit_crd_found ||
    fail test_audit_crd_found "egressguard_audit_crd_missing $(metric egressguard_audit_crd_missing)"
until_ok 100 clean web && pass test_audit_non_ai_clean || fail test_audit_non_ai_clean "$rep"

# Pods are audited: the AI workload outside an AI namespace is reported, the web pod is not.
pod_fails() {
    report batch && printf '%s' "$rep" | python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = [s["name"] for x in r.get("results", []) if x["result"] == "fail" for s in x.get("resources", [])
       if s["kind"] == "Pod" and x["rule"] == "pod.aiWorkloadOutsideAI"]
sys.exit(0 if bad == ["trainer"] else 1)'
}
until_ok 300 pod_fails && pass test_audit_pod_reported || fail test_audit_pod_reported "$rep"
pod_metric() { [ "$(metric 'egressguard_audit_violations{namespace="batch",rule="pod.aiWorkloadOutsideAI"}')" = 1 ]; }
until_ok 100 pod_metric && pass test_audit_pod_metric || fail test_audit_pod_metric

# Passes without changes write nothing (a report is PUT only when its results change), and the
# audit lists nothing: the only LISTs are the watches' first ones.
puts=$(grep -c '^PUT .*policyreports' "$k/requests")
passes=$(metric egressguard_audit_passes_total)
more_passes() { [ "$(metric egressguard_audit_passes_total)" -ge $((passes + 3)) ]; }
until_ok 300 more_passes
[ "$(grep -c '^PUT .*policyreports' "$k/requests")" -eq "$puts" ] && pass test_audit_unchanged_not_rewritten ||
    fail test_audit_unchanged_not_rewritten "$puts → $(grep -c '^PUT .*policyreports' "$k/requests")"
lists=$(grep -c '^GET /api[^ ]*?limit' "$k/requests")
watches=$(grep -c ': listed at resourceVersion' "$tmp/a.log")
[ "$lists" -eq "$watches" ] && pass test_audit_lists_nothing ||
    fail test_audit_lists_nothing "$lists LISTs, $watches by the watches"

# The pod is moved out (deleted): its result goes, without any LIST.
ctl delete '{"apiVersion":"v1","kind":"Pod","namespace":"batch","name":"trainer"}'
pod_gone() { report batch && ! printf '%s' "$rep" | grep -q trainer; }
until_ok 300 pod_gone && pass test_audit_pod_deleted || fail test_audit_pod_deleted "$rep"

# 3. Fixing the policy removes the result.
ctl apply "$(np_json research open 10.20.0.0/16 '[{"protocol":"TCP","port":443}]')"
until_ok 300 clean research && pass test_audit_fixed_removed || fail test_audit_fixed_removed "$rep"
novio() { [ -z "$(metric 'egressguard_audit_violations{namespace="research",rule="egress"}')" ]; }
until_ok 100 novio && pass test_audit_fixed_metric || fail test_audit_fixed_metric

# 4. Labelling a namespace AI makes its violating policy appear.
ctl apply "$(ns_json web "$AI")"
until_ok 300 fails web open && pass test_audit_labelled_ai_reported || fail test_audit_labelled_ai_reported "$rep"

# 5. The namespace's last audited object deleted: its report is deleted too.
ctl delete '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","namespace":"web","name":"open"}'
no_report() { ! report "$1"; }
until_ok 300 no_report web && pass test_audit_deleted_removed || fail test_audit_deleted_removed "$rep"
clean research && pass test_audit_other_report_kept || fail test_audit_other_report_kept "$rep"

# 6. A second replica: the first holds the Lease, so it only counts; once the first stops and
# the Lease is not renewed for its duration (15 s), the second takes over and writes.
a_pid=$pid a_port=$port
POD_NAME=replica-b serve b --kubeconfig "$tmp/kubeconfig" --audit-interval 1
b_port=$port
b_ran() { [ -n "$(metric egressguard_audit_last_run_timestamp_seconds)" ]; }
until_ok 300 b_ran
[ "$(metric egressguard_audit_lease_held)" = 0 ] && pass test_audit_second_replica_waits ||
    fail test_audit_second_replica_waits "$(tail -3 "$tmp/b.log")"
port=$a_port
[ "$(metric egressguard_audit_lease_held)" = 1 ] && pass test_audit_first_replica_holds ||
    fail test_audit_first_replica_holds
holder() {
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" \
        "https://127.0.0.1:$kport/apis/coordination.k8s.io/v1/namespaces/eg-system/leases/egressguard-audit" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["holderIdentity"])'
}
case "$(holder)" in replica-b_*) fail test_audit_lease_one_holder "$(holder)" ;; *) pass test_audit_lease_one_holder ;; esac
kill "$a_pid"
wait_exit "$a_pid" 30
port=$b_port
b_holds() { [ "$(metric egressguard_audit_lease_held)" = 1 ]; }
until_ok 600 b_holds && pass test_audit_takeover || fail test_audit_takeover "$(tail -3 "$tmp/b.log")"
case "$(holder)" in replica-b_*) pass test_audit_takeover_lease ;; *) fail test_audit_takeover_lease "$(holder)" ;; esac
ctl apply "$(np_json research open2 0.0.0.0/0)"
until_ok 300 fails research open2 && pass test_audit_takeover_writes || fail test_audit_takeover_writes "$rep"

# --no-audit: no audit requests, no audit metrics.
serve n --kubeconfig "$tmp/kubeconfig" --no-audit --audit-interval 1
ready() { get /readyz; [ "$code" = 200 ]; }
until_ok 300 ready
[ -z "$(metric egressguard_audit_crd_missing)" ] && pass test_audit_off || fail test_audit_off
exit $t_failed
