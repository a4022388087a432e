#!/bin/sh
# deploy/: generated files are current, every kustomization renders, the Deployment is locked down.
. "$(dirname "$0")/../lib.sh"
root=$(cd "$TESTS_DIR/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run "$root/scripts/gen-deploy.sh" "$EGRESSGUARD" "$tmp"
expect_rc deploy_generate_exit 0
for f in base/policy-configmap.yaml cert-manager/webhooks.yaml; do
    if diff -u "$root/deploy/$f" "$tmp/$f" >"$tmp/diff" 2>&1; then
        pass "deploy_current_$f"
    else
        fail "deploy_current_$f" "stale: run scripts/gen-deploy.sh build/default/egressguard; $(head -20 "$tmp/diff")"
    fi
done

if ! command -v kubectl >/dev/null 2>&1; then
    fail deploy_kustomize "no kubectl: scripts/deps.sh build installs it (kubernetes-client)"
    exit $t_failed
fi
run kubectl kustomize "$root/deploy"
expect_rc deploy_kustomize_base 0
base=$out
for k in Namespace ServiceAccount ClusterRole ClusterRoleBinding ConfigMap Deployment \
    PodDisruptionBudget Service; do
    expect_in "deploy_base_has_$k" "$base" "kind: $k
"
done
case "$base" in *WebhookConfiguration*) fail deploy_base_no_webhooks ;; *) pass deploy_base_no_webhooks ;; esac
for want in "replicas: 2" "readOnlyRootFilesystem: true" "allowPrivilegeEscalation: false" \
    "runAsNonRoot: true" "runAsUser: 65532" "type: RuntimeDefault" "path: /readyz" "path: /healthz" \
    "scheme: HTTPS" "podAntiAffinity" "secretName: egressguard-tls" "name: egressguard-policy" \
    "mountPath: /etc/egressguard/tls"; do
    expect_in "deploy_deployment_$want" "$base" "$want"
done
# Drain: preStop, then SIGTERM with --shutdown-delay; the grace period covers both and the
# requests in flight.
expect_in deploy_prestop "$base" "preStop:
            exec:
              command:
              - /bin/sleep
              - \"5\""
expect_in deploy_shutdown_delay "$base" "- --shutdown-delay
        - 5s"
expect_in deploy_grace_period "$base" "terminationGracePeriodSeconds: 30"
expect_in deploy_drop_all "$base" "drop:
            - ALL"
expect_in deploy_service_port "$base" "port: 443
    protocol: TCP
    targetPort: https"
case "$base" in *subPath*) fail deploy_no_subpath ;; *) pass deploy_no_subpath ;; esac

# Least privilege: the base role reads (get, list, watch) and writes nothing; only the
# namespaced-mode overlay may write, and only NetworkPolicies.
role=$(printf '%s\n' "$base" | awk '/^kind: ClusterRole$/ {r = 1} r && /^---/ {exit} r')
case "$role" in *create*|*update*|*delete*|*patch*|*'"*"'*) fail deploy_base_role_read_only "$role" ;;
*) pass deploy_base_role_read_only ;; esac
for res in namespaces networkpolicies ciliumnetworkpolicies ciliumclusterwidenetworkpolicies \
    ciliumcidrgroups globalnetworkpolicies networksets globalnetworksets hostendpoints \
    adminnetworkpolicies baselineadminnetworkpolicies; do
    expect_in "deploy_base_role_reads_$res" "$role" "- $res"
done
n=$(printf '%s\n' "$role" | grep -c '^  - get$')
[ "$n" -eq 5 ] && pass deploy_base_role_get_list_watch_each_group || fail deploy_base_role_get_list_watch_each_group "$n"
run kubectl kustomize "$root/deploy/namespaced"
expect_rc deploy_kustomize_namespaced 0
expect_in deploy_namespaced_flag "$out" "- --namespaced-mode"
expect_in deploy_namespaced_writes "$out" "name: egressguard-namespaced-mode
rules:
- apiGroups:
  - networking.k8s.io
  resources:
  - networkpolicies
  verbs:
  - create
  - update
  - delete"

# Kubernetes 1.20: the same server, the PDB as policy/v1beta1, the namespace labelled.
run kubectl kustomize "$root/deploy/k8s-1.20"
expect_rc deploy_kustomize_1_20 0
expect_in deploy_1_20_pdb_v1beta1 "$out" "apiVersion: policy/v1beta1
kind: PodDisruptionBudget"
expect_in deploy_1_20_namespace_label "$out" "kubernetes.io/metadata.name: egressguard"
case "$out" in *"apiVersion: policy/v1
"*) fail deploy_1_20_no_policy_v1 ;; *) pass deploy_1_20_no_policy_v1 ;; esac
expect_in deploy_base_pdb_v1 "$base" "apiVersion: policy/v1
kind: PodDisruptionBudget"

# One image name and tag: the Deployment, make image and the install guide all say
# egressguard:VERSION, and nothing says another tag.
version=$(cat "$root/VERSION")
expect_in deploy_image_is_version "$base" "image: egressguard:$version
"
expect_in deploy_image_script_tag "$(cat "$root/scripts/image.sh")" 'tag=${1:-egressguard:$version}'
expect_in deploy_install_guide_tag "$(cat "$root/docs/install.md")" "egressguard:$version"
others=$(grep -rhoE 'egressguard:[0-9a-z][0-9a-z.]*' "$root/docs" "$root/deploy" "$root/README.md" \
    "$root/scripts" | grep -v "^egressguard:$version\$" | sort -u | tr '\n' ' ')
[ -z "$others" ] && pass deploy_no_other_image_tag || fail deploy_no_other_image_tag "found: $others"

run kubectl kustomize "$root/deploy/cert-manager"
expect_rc deploy_kustomize_cert_manager 0
n=$(printf '%s\n' "$out" | grep -c 'cert-manager.io/inject-ca-from: egressguard/egressguard-serving')
[ "$n" -eq 2 ] && pass deploy_cert_manager_inject_both || fail deploy_cert_manager_inject_both "found $n"
expect_in deploy_cert_manager_certificate "$out" "kind: Certificate"
expect_in deploy_cert_manager_issuer "$out" "kind: Issuer"
exit $t_failed
