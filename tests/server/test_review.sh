#!/bin/sh
# `egressguard review`: one AdmissionReview (or bare AdmissionRequest, JSON or YAML) in, the
# server's answer out, exit 0 allowed / 1 denied / 2 input error.
. "$(dirname "$0")/../lib.sh"

AD="$DATA/admission"
SD="$DATA/server"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

run "$EGRESSGUARD" review "$AD/pod-v1.json"
expect_rc "test_review_allowed_exit_0" 0
expect_in "test_review_allowed_uid" "$out" '"response":{"uid":"7f0c1d2e-0001-4c3b-9a55-000000000001","allowed":true'

run "$EGRESSGUARD" review -p "$SD/deny-unknown.yaml" "$AD/configmap-v1.json"
expect_rc "test_review_denied_exit_1" 1
expect_in "test_review_denied_403" "$out" '"allowed":false,"status":{"code":403,"message":"egressguard denied ConfigMap ml-train/settings: '

# The same decision path as `check`: a hostNetwork AI pod is denied, naming the field.
run "$EGRESSGUARD" review "$AD/pod-hostnetwork-v1.json"
expect_rc "test_review_pod_host_network_denied" 1
expect_in "test_review_pod_host_network_field" "$out" '"message":"egressguard denied Pod ml-train/trainer: spec.hostNetwork: '

# No cluster: the labels of "research" are unknown, and as an AI namespace (by label) it would
# refuse the pod. Denied as the server denies it, until the labels are given (or opted out).
sed 's/ml-train/research/g' "$AD/pod-hostnetwork-v1.json" >"$tmp/pod-research.json"
run "$EGRESSGUARD" review "$tmp/pod-research.json"
expect_rc "test_review_unknown_labels_denied" 1
expect_in "test_review_unknown_labels_why" "$out" 'the labels of namespace \"research\" are unknown (egressguard review knows no cluster; give them with -n)'
run "$EGRESSGUARD" review -n research=egressguard.io/ai-workload=true "$tmp/pod-research.json"
expect_rc "test_review_given_labels_ai" 1
expect_in "test_review_given_labels_ai_rule" "$out" 'spec.hostNetwork: hostNetwork: true puts the pod'
run "$EGRESSGUARD" review --namespace-labels research=team=web "$tmp/pod-research.json"
expect_rc "test_review_given_labels_plain" 0
run "$EGRESSGUARD" review --namespace-labels-unknown allow "$tmp/pod-research.json"
expect_rc "test_review_unknown_opt_out" 0
run "$EGRESSGUARD" review --namespace-labels-unknown=maybe "$tmp/pod-research.json"
expect_rc "test_review_unknown_flag_values" 2

# A DELETE carries only oldObject: egressguard's own NetworkPolicy may not be deleted by a user.
run "$EGRESSGUARD" review "$AD/delete-managed-netpol-v1.json"
expect_rc "test_review_delete_managed_denied" 1
expect_in "test_review_delete_managed_reason" "$out" 'NetworkPolicy ml-train/egressguard-default is managed by egressguard'

# An exemption from the policy file passes, and its reason comes back as a warning. Its lifetime
# is judged at --now: the example's legacy exemption has 2027-01-31 as its last day.
run "$EGRESSGUARD" review -p examples/policy.yaml --now 2026-12-01 "$AD/exempt-netpol-v1.json"
expect_rc "test_review_exempt_allowed" 0
expect_in "test_review_exempt_warning" "$out" '"warnings":["egressguard: exempt by the policy: INC-1234: migration window until 2027-01-31"]'
# Within exemptionWarningDays (14) of its end: still exempt, and the requester is warned.
run "$EGRESSGUARD" review -p examples/policy.yaml --now 2027-01-31 "$AD/exempt-netpol-v1.json"
expect_rc "test_review_exempt_expiring_allowed" 0
expect_in "test_review_exempt_expiring_warning" "$out" '"egressguard: exemption ends after 2027-01-31 (UTC): fix the object or renew the exemption (line 81 of the policy fil..."'
# The day after: evaluated like any other object (an allow-all egress is denied), and told why.
run "$EGRESSGUARD" review -p examples/policy.yaml --now 2027-02-01 "$AD/exempt-netpol-v1.json"
expect_rc "test_review_exempt_expired_denied" 1
expect_in "test_review_exempt_expired_warning" "$out" '"egressguard: exemption expired after 2027-01-31 (UTC): the object is evaluated as if it did not exist (line 81 of th..."'
run "$EGRESSGUARD" review -p examples/policy.yaml --now 2027-02-01T00:00:00+01:00 "$AD/exempt-netpol-v1.json"
expect_rc "test_review_exempt_now_offset" 0
run "$EGRESSGUARD" review -p examples/policy.yaml --now tomorrow "$AD/exempt-netpol-v1.json"
expect_rc "test_review_now_invalid" 2
expect_in "test_review_now_invalid_message" "$err" '--now: "tomorrow" is neither a date (YYYY-MM-DD) nor an RFC 3339 time'

# kubectl debug: an UPDATE of pods/ephemeralcontainers carries the whole Pod (Kubernetes 1.22+),
# judged by the pod rules like any Pod; a privileged debugger in an AI pod is denied.
run "$EGRESSGUARD" review "$AD/pod-ephemeral-v1.json"
expect_rc "test_review_ephemeral_container_denied" 1
expect_in "test_review_ephemeral_container_field" "$out" 'egressguard denied Pod ml-train/trainer: spec.ephemeralContainers[0].securityContext.privileged: '

# --namespace-labels, as check has it: "research" is an AI namespace by its label only.
run "$EGRESSGUARD" review "$AD/pod-research-hostnetwork-v1.json"
expect_rc "test_review_no_namespace_labels_fail_closed" 1
run "$EGRESSGUARD" review --namespace-labels research=egressguard.io/ai-workload=true "$AD/pod-research-hostnetwork-v1.json"
expect_rc "test_review_namespace_labels_denied" 1
expect_in "test_review_namespace_labels_reason" "$out" 'spec.hostNetwork: hostNetwork: true'
# A policy in a namespace known to carry no AI label governs no AI workload; unknown, it may.
run "$EGRESSGUARD" review --namespace-labels=web=team=web "$AD/netpol-web-open-v1.json"
expect_rc "test_review_scope_known_not_ai_allowed" 0
run "$EGRESSGUARD" review "$AD/netpol-web-open-v1.json"
expect_rc "test_review_scope_unknown_denied" 1
expect_in "test_review_scope_unknown_reason" "$out" 'the labels of namespace \"web\" are unknown (egressguard review knows no cluster; give them with -n): if they make it an AI namespace (aiWorkloads.namespaces.selectors), it is refused as one'
expect_in "test_review_spec_deny_named" "$out" 'opens 169.254.169.254/32, fd00:ec2::254/128 on any protocol/port, which the policy file always denies (spec.deny: cloud-metadata)'

# The old name of rules.pods.aiWorkloadsOutsideAI: a positioned note on stderr, the same answer.
sed 's/aiWorkloadsOutsideAI: true /acceleratorsOutsideAI: true/' examples/policy.yaml >"$tmp/old-key.yaml"
line=$(grep -n 'acceleratorsOutsideAI: true' "$tmp/old-key.yaml" | cut -d: -f1)
run "$EGRESSGUARD" review -p "$tmp/old-key.yaml" "$AD/pod-v1.json"
expect_rc "test_review_old_key_exit_0" 0
expect_in "test_review_old_key_note" "$err" "egressguard review: $tmp/old-key.yaml:$line:30: note: spec.rules.pods.acceleratorsOutsideAI is the old name of aiWorkloadsOutsideAI"

run sh -c "'$EGRESSGUARD' review -p '$SD/deny-unknown.yaml' - < '$AD/configmap-v1.json'"
expect_rc "test_review_stdin" 1

run "$EGRESSGUARD" review "$AD/pod-v1beta1.json"
expect_in "test_review_v1beta1_answered_in_v1beta1" "$out" '"apiVersion":"admission.k8s.io/v1beta1"'

run "$EGRESSGUARD" review --mutate "$AD/namespace-v1.json"
expect_in "test_review_mutate_patch" "$out" '"patchType":"JSONPatch"'

printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}' >"$tmp/nouid.json"
run "$EGRESSGUARD" review "$tmp/nouid.json"
expect_rc "test_review_missing_uid_exit_2" 2
expect_in "test_review_missing_uid_reason" "$err" "missing request.uid"
printf '{"apiVersion": ' >"$tmp/broken.json"
run "$EGRESSGUARD" review "$tmp/broken.json"
expect_rc "test_review_malformed_exit_2" 2
expect_in "test_review_malformed_reason" "$err" "malformed JSON at line 1"
run "$EGRESSGUARD" review "$tmp/absent.json"
expect_rc "test_review_missing_file_exit_2" 2
run "$EGRESSGUARD" review
expect_rc "test_review_no_input_exit_2" 2
run "$EGRESSGUARD" review -p "$SD/invalid.yaml" "$AD/pod-v1.json"
expect_rc "test_review_invalid_policy_exit_2" 2
expect_in "test_review_invalid_policy_position" "$err" "invalid.yaml:4:9"

# Every kubewarden payload (bare AdmissionRequests and full reviews): uid echoed, allowed boolean;
# the few whose parts contradict each other (third column) are refused with that reason.
bad=0; n=0; refused=0
while IFS="$(printf '\t')" read -r f uid why; do
    run "$EGRESSGUARD" review "$AD/$f"
    n=$((n + 1))
    case "$why:$rc $out" in
    ':'[01]' {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"'"$uid"'","allowed":'[tf]*) ;;
    "parts disagree:2 ") case "$err" in *"parts disagree: "*) refused=$((refused + 1)) ;; *) bad=$((bad + 1)) ;; esac ;;
    *) bad=$((bad + 1)); echo "review: $f: rc=$rc $out $err" | head -c 400; echo ;;
    esac
done <"$AD/kubewarden-uids.tsv"
if [ "$bad" -eq 0 ] && [ "$n" -gt 170 ] && [ "$refused" -eq 5 ]; then pass "test_review_corpus_kubewarden ($n, $refused refused)"; else fail "test_review_corpus_kubewarden" "$bad of $n, $refused refused"; fi

# gatekeeper-library's samples are YAML AdmissionReview v1beta1 without a uid: give them one.
bad=0; n=0
for f in "$AD"/gatekeeper/*.yaml; do
    n=$((n + 1))
    sed "s/^request:\$/request:\\n  uid: gk-$n/" "$f" >"$tmp/gk.yaml"
    run "$EGRESSGUARD" review "$tmp/gk.yaml"
    case "$rc $out" in
    [01]' {"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":"gk-'"$n"'","allowed":'[tf]*) ;;
    *) bad=$((bad + 1)); echo "review: $f: rc=$rc $out $err" | head -c 400; echo ;;
    esac
done
if [ "$bad" -eq 0 ] && [ "$n" -ge 19 ]; then pass "test_review_corpus_gatekeeper_yaml ($n)"; else fail "test_review_corpus_gatekeeper_yaml" "$bad of $n"; fi
# Without a uid, the YAML is refused like the server refuses it.
run "$EGRESSGUARD" review "$AD/gatekeeper/library__pod-security-policy__fsgroup__samples__psp-fsgroup__update.yaml"
expect_rc "test_review_yaml_without_uid_exit_2" 2
expect_in "test_review_yaml_without_uid_reason" "$err" "missing request.uid"

exit $t_failed
