#!/bin/sh
# egressguard render webhooks: exit codes, messages, and output that parses and carries the caBundle.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
eg() { run "$EGRESSGUARD" render "$@"; }

# parses NAME FILE: the YAML/JSON in FILE parses as Kubernetes objects (offline, via kustomize).
parses() {
    if command -v kubectl >/dev/null 2>&1; then
        mkdir -p "$tmp/k"
        cp "$2" "$tmp/k/objects.yaml"
        printf 'resources:\n  - objects.yaml\n' >"$tmp/k/kustomization.yaml"
        run kubectl kustomize "$tmp/k"
        expect_rc "$1" 0
        parsed=$out
    elif python3 -c 'import yaml' 2>/dev/null; then
        run python3 -c 'import sys, yaml; print(len(list(yaml.safe_load_all(open(sys.argv[1])))))' "$2"
        expect_rc "$1" 0
        parsed=$(cat "$2")
    else
        fail "$1" "neither kubectl nor PyYAML: scripts/deps.sh build installs them"
        parsed=$(cat "$2")
    fi
}

"$EGRESSGUARD" certs --service egressguard --namespace egressguard --out "$tmp/pki" >"$tmp/bundle" 2>/dev/null
bundle=$(cat "$tmp/bundle")
[ -n "$bundle" ] && pass render_setup_certs || fail render_setup_certs

eg --help
expect_rc render_help_exit 0
expect_in render_help_targets "$out" "webhooks"
expect_in render_help_pending "$out" "cilium"

eg
expect_rc render_no_target_exit 2
expect_in render_no_target_msg "$err" "which target?"

eg frobnicate
expect_rc render_unknown_target_exit 2
expect_in render_unknown_target_msg "$err" "unknown target 'frobnicate'"


eg webhooks --help
expect_rc render_webhooks_help_exit 0
expect_in render_webhooks_help_text "$out" "usage: egressguard render webhooks --ca-bundle FILE"

eg webhooks --service egressguard/egressguard
expect_rc render_webhooks_no_bundle_exit 2
expect_in render_webhooks_no_bundle_msg "$err" "--ca-bundle FILE is required"

eg webhooks --ca-bundle "$tmp/pki/ca.crt"
expect_rc render_webhooks_no_target_exit 2
expect_in render_webhooks_no_target_msg "$err" "give exactly one of --service NS/NAME and --url URL"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard --url https://x
expect_rc render_webhooks_both_exit 2

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard
expect_rc render_webhooks_bad_service_exit 2
expect_in render_webhooks_bad_service_msg "$err" "--service must be NAMESPACE/NAME, not 'egressguard'"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard --failure-policy Maybe
expect_rc render_webhooks_bad_policy_exit 2
expect_in render_webhooks_bad_policy_msg "$err" "--failure-policy: unknown failure policy 'Maybe'; one of: Fail, Ignore"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard --timeout 31
expect_rc render_webhooks_bad_timeout_exit 2
expect_in render_webhooks_bad_timeout_msg "$err" "--timeout: want a whole number of seconds from 1 to 30, got '31'"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --url http://127.0.0.1:8443
expect_rc render_webhooks_http_url_exit 2
expect_in render_webhooks_http_url_msg "$err" "--url must start with https://"

eg webhooks --ca-bundle "$tmp/pki/tls.key" --service egressguard/egressguard
expect_rc render_webhooks_garbage_bundle_exit 2
expect_in render_webhooks_garbage_bundle_msg "$err" "$tmp/pki/tls.key: no PEM certificate in it"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard
expect_rc render_webhooks_service_exit 0
printf '%s\n' "$out" >"$tmp/svc.yaml"
parses render_webhooks_service_parses "$tmp/svc.yaml"
out=$(cat "$tmp/svc.yaml")
expect_in render_webhooks_validating "$parsed" "kind: ValidatingWebhookConfiguration"
expect_in render_webhooks_mutating "$parsed" "kind: MutatingWebhookConfiguration"
n=$(printf '%s\n' "$out" | grep -c "caBundle: $bundle\$")
[ "$n" -eq 2 ] && pass render_webhooks_ca_bundle_twice || fail render_webhooks_ca_bundle_twice "found $n"
expect_in render_webhooks_validate_path "$out" "path: /validate"
expect_in render_webhooks_mutate_path "$out" "path: /mutate"
expect_in render_webhooks_fail "$out" "failurePolicy: Fail"
expect_in render_webhooks_timeout "$out" "timeoutSeconds: 5"
# Namespaced mode makes both webhooks create NetworkPolicies for admitted AI namespaces, never on
# a dry run: NoneOnDryRun is what is true.
n=$(printf '%s\n' "$out" | grep -c "sideEffects: NoneOnDryRun\$")
[ "$n" -eq 2 ] && pass render_webhooks_side_effects_none_on_dry_run || fail render_webhooks_side_effects_none_on_dry_run "found $n"
expect_in render_webhooks_review_versions "$out" "admissionReviewVersions:
  - v1
  - v1beta1"
expect_in render_webhooks_excludes "$out" "key: kubernetes.io/metadata.name
      operator: NotIn
      values:
      - kube-system
      - egressguard
      - calico-system
      - tigera-operator
      - cilium
      - kube-flannel
      - cert-manager
  matchPolicy"
for kind in pods namespaces deployments cronjobs replicationcontrollers podtemplates \
    ciliumclusterwidenetworkpolicies globalnetworkpolicies crd.projectcalico.org \
    networksets globalnetworksets hostendpoints ciliumcidrgroups adminnetworkpolicies \
    baselineadminnetworkpolicies policy.networking.k8s.io; do
    expect_in "render_webhooks_covers_$kind" "$out" "$kind"
done
# Address sets are validated only (no mutation), on CREATE and UPDATE.
expect_in render_webhooks_sets_validated "$out" "- CREATE
    - UPDATE
    resources:
    - networksets
    - globalnetworksets
    - hostendpoints"
expect_in render_webhooks_anp_delete "$out" "- DELETE
    resources:
    - adminnetworkpolicies"
mut=$(printf '%s\n' "$out" | sed -n '/kind: MutatingWebhookConfiguration/,$p')
case "$mut" in *networksets*|*hostendpoints*|*ciliumcidrgroups*) fail render_webhooks_sets_not_mutated ;;
    *) pass render_webhooks_sets_not_mutated ;; esac
expect_in render_webhooks_namespace_delete "$out" "- DELETE
    resources:
    - namespaces"
# kubectl debug: the ephemeral containers subresource, validated only, on UPDATE.
expect_in render_webhooks_ephemeral_containers "$out" "operations:
    - UPDATE
    resources:
    - pods/ephemeralcontainers"
n=$(printf '%s\n' "$out" | grep -c 'pods/ephemeralcontainers')
[ "$n" -eq 1 ] && pass render_webhooks_ephemeral_validate_only || fail render_webhooks_ephemeral_validate_only "found $n"

# --exclude-namespaces replaces the CNI/cert-manager list; kube-system and the own namespace stay.
eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard \
    --exclude-namespaces "cert-manager,,egressguard,my-cni"
expect_rc render_webhooks_exclude_exit 0
expect_in render_webhooks_exclude_list "$out" "values:
      - kube-system
      - egressguard
      - cert-manager
      - my-cni
  matchPolicy"
eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard --exclude-namespaces ""
expect_in render_webhooks_exclude_none "$out" "values:
      - kube-system
      - egressguard
  matchPolicy"
eg webhooks --ca-bundle "$tmp/pki/ca.crt" --service egressguard/egressguard --exclude-namespaces "CNI"
expect_rc render_webhooks_exclude_bad_exit 2
expect_in render_webhooks_exclude_bad_msg "$err" "invalid namespace \"CNI\" to exclude: want a DNS-1123 label"

eg webhooks --ca-bundle "$tmp/pki/ca.crt" --url https://127.0.0.1:8443/ --failure-policy Ignore \
    --timeout 3 --namespace eg-test -o json
expect_rc render_webhooks_url_exit 0
printf '%s\n' "$out" >"$tmp/url.json"
parses render_webhooks_url_json_parses "$tmp/url.json"
out=$(cat "$tmp/url.json")
expect_in render_webhooks_url_validate "$out" '"url": "https://127.0.0.1:8443/validate"'
expect_in render_webhooks_url_mutate "$out" '"url": "https://127.0.0.1:8443/mutate"'
expect_in render_webhooks_url_bundle "$out" "\"caBundle\": \"$bundle\""
expect_in render_webhooks_url_ignore "$out" '"failurePolicy": "Ignore"'
expect_in render_webhooks_url_timeout "$out" '"timeoutSeconds": 3'
expect_in render_webhooks_url_own_ns "$out" '"eg-test"'
case "$out" in *'"service"'*) fail render_webhooks_url_no_service ;; *) pass render_webhooks_url_no_service ;; esac

exit $t_failed
