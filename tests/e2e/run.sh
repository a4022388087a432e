#!/bin/bash
# End-to-end tests: egressguard as the admission webhook of a real kube-apiserver (built once from
# Debian's source by tests/e2e/kube-apiserver.sh and cached), with etcd, all on loopback with free
# ports, driven by kubectl. Prints "PASS: name" / "FAIL: name" per case and "N passed, M failed";
# exits non-zero on any failure. Every process it starts is stopped by PID on exit.
#
# Usage: tests/e2e/run.sh BUILD_DIR
# Environment: E2E_KEEP=1 keeps the state dir (logs, certs, kubeconfig); E2E_TIMEOUT (seconds,
# default 60) bounds each readiness wait; EGRESSGUARD_KUBE_APISERVER uses that binary.
set -u

build=${1:?usage: tests/e2e/run.sh BUILD_DIR}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
E2E=$REPO/tests/e2e
M=$E2E/manifests
EG=$(cd "$build" && pwd)/egressguard
POLICY=$REPO/examples/policy.yaml
TIMEOUT=${E2E_TIMEOUT:-60}
started_at=$(date +%s)

passed=0 failed=0 failed_names=()
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1${2:+ — $2}"; failed=$((failed + 1)); failed_names+=("$1"); }
summary() {
    echo "e2e: $(($(date +%s) - started_at))s"
    [ "$failed" -gt 0 ] && printf 'failed: %s\n' "${failed_names[@]}"
    echo "$passed passed, $failed failed"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/egressguard-e2e.XXXXXX") || exit 1
declare -A pid_of=() # role → PID of a process this script started

# Stops one started process by its PID: TERM, a bounded wait, then KILL.
stop_role() {
    local role=$1 pid=${pid_of[$1]:-} i
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    unset "pid_of[$role]"
}
cleanup() {
    stop_role egressguard
    stop_role kube-apiserver
    stop_role etcd
    if [ "${E2E_KEEP:-0}" = 1 ]; then echo "e2e: state kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Gives up on the whole run: the cases that need what failed cannot run.
abort() {
    fail "$1" "$2"
    local log
    for log in "${@:3}"; do
        [ -f "$log" ] && { echo "--- last lines of $(basename "$log"):"; tail -n 25 "$log"; }
    done
    summary
    exit 1
}

# free_port VAR: sets VAR to a TCP port nobody listens on right now, never one handed out earlier
# in this run (runs in this shell, not a subshell, so the record of used ports persists).
used_ports=" "
free_port() {
    local p i
    for i in $(seq 1 50); do
        if command -v python3 >/dev/null 2>&1; then
            p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        else
            p=$((20000 + RANDOM % 40000))
            ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
        fi
        case "$used_ports" in *" $p "*) continue ;; esac
        used_ports="$used_ports$p "
        printf -v "$1" %s "$p"
        return 0
    done
    return 1
}

# wait_for SECONDS CMD...: polls CMD every 0.25 s until it succeeds; 1 on timeout.
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.25
    done
}

k() { kubectl --kubeconfig "$T/kubeconfig" --cache-dir "$T/kubecache" --request-timeout=30s "$@"; }
ka() { k --context alice "$@"; }
knsc() { k --context nsc "$@"; }

# run CMD...: stdout in $T/out, stderr in $T/err, status in $rc.
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
excerpt() { tr '\n' ' ' <"$1" | head -c 500; }

# expect_admitted NAME CMD...: the command succeeds.
expect_admitted() {
    local name=$1
    shift
    run "$@"
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "rejected: $(excerpt "$T/err")"; fi
}

# expect_denied NAME REGEX CMD...: the command fails because an egressguard webhook denied it,
# and the message matches REGEX (extended, case-insensitive).
expect_denied() {
    local name=$1 re=$2
    shift 2
    run "$@"
    if [ "$rc" -eq 0 ]; then
        fail "$name" "admitted: $(excerpt "$T/out")"
    elif ! grep -qE 'admission webhook "[^"]*egressguard[^"]*" denied the request' "$T/err"; then
        fail "$name" "not denied by egressguard: $(excerpt "$T/err")"
    elif ! grep -qiE "$re" "$T/err"; then
        fail "$name" "message does not match /$re/: $(excerpt "$T/err")"
    else
        pass "$name"
    fi
}

# expect_absent NAME RESOURCE OBJ [NS]: the object does not exist.
expect_absent() {
    local name=$1 res=$2 obj=$3 ns=${4:-}
    run k get "$res" "$obj" ${ns:+-n "$ns"} -o name
    if [ "$rc" -ne 0 ] && grep -q NotFound "$T/err"; then pass "$name"; else
        fail "$name" "exists or lookup failed: $(excerpt "$T/out") $(excerpt "$T/err")"
    fi
}
expect_present() {
    local name=$1 res=$2 obj=$3 ns=${4:-}
    run k get "$res" "$obj" ${ns:+-n "$ns"} -o name
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "$(excerpt "$T/err")"; fi
}

# ns_label NS KEY: the label's value ("" when absent).
ns_label() {
    k get namespace "$1" -o jsonpath="{.metadata.labels.${2//./\\.}}" 2>/dev/null
}

# A manifest's object: "RESOURCE NAME NAMESPACE" for the get/delete helpers.
declare -A RES=(
    [NetworkPolicy]=networkpolicies.networking.k8s.io
    [CiliumNetworkPolicy]=ciliumnetworkpolicies.cilium.io
    [CiliumClusterwideNetworkPolicy]=ciliumclusterwidenetworkpolicies.cilium.io
    [crd.projectcalico.org/NetworkSet]=networksets.crd.projectcalico.org
    [crd.projectcalico.org/NetworkPolicy]=networkpolicies.crd.projectcalico.org
    [crd.projectcalico.org/GlobalNetworkPolicy]=globalnetworkpolicies.crd.projectcalico.org
    [projectcalico.org/NetworkPolicy]=networkpolicies.projectcalico.org
    [Pod]=pods
    [Deployment]=deployments.apps
    [Namespace]=namespaces
)
manifest_ref() {
    local f=$1 api kind name ns
    api=$(sed -n 's/^apiVersion: *//p' "$f" | head -n 1)
    kind=$(sed -n 's/^kind: *//p' "$f" | head -n 1)
    name=$(sed -n 's/^  name: *//p' "$f" | head -n 1)
    ns=$(sed -n 's/^  namespace: *//p' "$f" | head -n 1)
    case "$api" in *projectcalico.org/*) kind=${api%/*}/$kind ;; esac
    echo "${RES[$kind]:?no resource for $kind} $name $ns"
}

# The verdict on one manifest, asked both ways: a server-side dry run first (same verdict, nothing
# stored), then for real. bad: denied with a message matching REGEX, nothing stored. ok: stored.
case_bad() {
    local f=$M/$1 re=$2 ref
    ref=$(manifest_ref "$f")
    expect_denied "dry-run denies $1" "$re" k apply --dry-run=server -f "$f"
    expect_denied "denies $1" "$re" k apply -f "$f"
    # shellcheck disable=SC2086
    expect_absent "denied $1 is not stored" $ref
}
case_ok() {
    local f=$M/$1 ref
    ref=$(manifest_ref "$f")
    expect_admitted "dry-run admits $1" k apply --dry-run=server -f "$f"
    # shellcheck disable=SC2086
    expect_absent "dry-run of $1 stores nothing" $ref
    expect_admitted "admits $1" k apply -f "$f"
    # shellcheck disable=SC2086
    expect_present "admitted $1 is stored" $ref
}

echo "e2e: state in $T"
mkdir -p "$T/pki" "$T/kubecache"

# ---------------------------------------------------------------------------------------------
# The API server: build or reuse, PKI, etcd, kube-apiserver.
[ -x "$EG" ] || abort "setup: egressguard binary" "$EG is missing (run make first)"
APISERVER=$("$E2E/kube-apiserver.sh") || abort "setup: kube-apiserver build" "tests/e2e/kube-apiserver.sh failed"
command -v etcd >/dev/null || abort "setup: etcd" "etcd not installed (scripts/deps.sh e2e)"
command -v kubectl >/dev/null || "$REPO/scripts/deps.sh" e2e-kubectl >&2 ||
    abort "setup: kubectl" "kubectl not installed (scripts/deps.sh e2e-kubectl)"

for v in ETCD_PORT ETCD_PEER API_PORT HOOK_PORT; do
    free_port "$v" || abort "setup: free ports" "no free port found"
done

token() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
ADMIN_TOKEN=$(token) ALICE_TOKEN=$(token) EG_TOKEN=$(token) NSC_TOKEN=$(token)
(
    set -e
    cd "$T/pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
        -days 2 -subj /CN=egressguard-e2e-ca
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout apiserver.key \
        -out apiserver.csr -subj /CN=kube-apiserver
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile apiserver.ext -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    # The API server's client certificate for the webhook (docs/install.md, "Only the API server
    # may call the webhook"): its own CA, extended key usage clientAuth.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client-ca.key \
        -out client-ca.crt -days 2 -subj /CN=egressguard-e2e-client-ca
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout webhook-client.key \
        -out webhook-client.csr -subj /CN=kube-apiserver
    printf 'extendedKeyUsage=clientAuth\n' >webhook-client.ext
    openssl x509 -req -in webhook-client.csr -CA client-ca.crt -CAkey client-ca.key -CAcreateserial \
        -days 2 -extfile webhook-client.ext -out webhook-client.crt
    {
        echo "$ADMIN_TOKEN,e2e-admin,e2e-admin-uid,\"system:masters\""
        echo "$ALICE_TOKEN,alice,alice-uid,\"e2e-developers\""
        echo "$EG_TOKEN,system:serviceaccount:egressguard:egressguard,egressguard-uid,\"system:serviceaccounts,system:serviceaccounts:egressguard\""
        # No kube-controller-manager runs here: the tests act as its namespace controller.
        echo "$NSC_TOKEN,system:serviceaccount:kube-system:namespace-controller,nsc-uid,\"system:serviceaccounts,system:serviceaccounts:kube-system\""
    } >tokens.csv
) >"$T/pki.log" 2>&1 || abort "setup: PKI" "openssl failed" "$T/pki.log"

# kubeconfig FILE USER TOKEN [USER TOKEN]...: one context per user, the first one current.
kubeconfig() {
    local f=$1 first=$2
    shift
    {
        echo "apiVersion: v1"
        echo "kind: Config"
        echo "clusters:"
        echo "  - name: e2e"
        echo "    cluster: {server: \"https://127.0.0.1:$API_PORT\", certificate-authority: \"$T/pki/ca.crt\"}"
        echo "users:"
        local a=("$@") i
        for ((i = 0; i < ${#a[@]}; i += 2)); do
            echo "  - name: ${a[i]}"
            echo "    user: {token: ${a[i + 1]}}"
        done
        echo "contexts:"
        for ((i = 0; i < ${#a[@]}; i += 2)); do
            echo "  - name: ${a[i]}"
            echo "    context: {cluster: e2e, user: ${a[i]}}"
        done
        echo "current-context: $first"
    } >"$f"
}
# The AdmissionConfiguration that makes the API server present that certificate to the webhook:
# the kubeconfig user is named after the host:port of the webhooks' --url.
cat >"$T/webhook-client.kubeconfig" <<K
apiVersion: v1
kind: Config
users:
  - name: 127.0.0.1:$HOOK_PORT
    user:
      client-certificate: $T/pki/webhook-client.crt
      client-key: $T/pki/webhook-client.key
K
cat >"$T/admission.yaml" <<K
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: ValidatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: $T/webhook-client.kubeconfig
  - name: MutatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: $T/webhook-client.kubeconfig
K
kubeconfig "$T/kubeconfig" admin "$ADMIN_TOKEN" alice "$ALICE_TOKEN" nsc "$NSC_TOKEN"
kubeconfig "$T/egressguard.kubeconfig" egressguard "$EG_TOKEN"

etcd --name e2e --data-dir "$T/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER" --log-level warn >"$T/etcd.log" 2>&1 &
pid_of[etcd]=$!
etcd_healthy() { curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_for "$TIMEOUT" etcd_healthy || abort "setup: etcd ready" "no health within ${TIMEOUT}s" "$T/etcd.log"

"$APISERVER" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --secure-port="$API_PORT" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --tls-cert-file="$T/pki/apiserver.crt" --tls-private-key-file="$T/pki/apiserver.key" \
    --client-ca-file="$T/pki/ca.crt" --token-auth-file="$T/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$T/pki/sa.pub" --service-account-signing-key-file="$T/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --disable-admission-plugins=ServiceAccount --allow-privileged=true \
    --enable-priority-and-fairness=false --cert-dir="$T/apiserver-certs" \
    --admission-control-config-file="$T/admission.yaml" \
    >"$T/kube-apiserver.log" 2>&1 &
pid_of[kube-apiserver]=$!
api_ready() { k get --raw /readyz; }
wait_for "$TIMEOUT" api_ready || abort "setup: kube-apiserver ready" "no /readyz within ${TIMEOUT}s" "$T/kube-apiserver.log"
echo "e2e: kube-apiserver ready on 127.0.0.1:$API_PORT after $(($(date +%s) - started_at))s"

# alice may do anything RBAC allows a cluster admin, but is no policy identity (not system:masters).
expect_admitted "setup: RBAC for alice and egressguard" k apply -f - <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-egressguard}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: egressguard, namespace: egressguard}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-namespace-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: namespace-controller, namespace: kube-system}]
EOF

# ---------------------------------------------------------------------------------------------
# CRDs for the CNI policy kinds.
expect_admitted "CRDs for Cilium and Calico policies apply" k apply -f "$E2E/crds/"
expect_admitted "CRDs become established" k wait --for condition=established --timeout="${TIMEOUT}s" -f "$E2E/crds/"

# ---------------------------------------------------------------------------------------------
# egressguard: certificates, the server, the webhook registration.
CERTS=$T/egressguard-certs
mkdir -p "$CERTS"
run "$EG" certs --service egressguard --namespace egressguard --out "$CERTS" --ip 127.0.0.1
if [ "$rc" -eq 0 ] && [ -s "$CERTS/ca.crt" ] && [ -s "$CERTS/tls.crt" ] && [ -s "$CERTS/tls.key" ]; then
    pass "egressguard certs writes CA and serving certificate"
else
    fail "egressguard certs writes CA and serving certificate" "exit $rc: $(excerpt "$T/err")"
fi

# Only the API server may call /validate and /mutate: every case below passes through its client
# certificate. egressguard always runs with API credentials: its cluster model (LIST+WATCH of
# namespaces and every policy kind served) is where namespace labels come from.
start_egressguard() { # extra serve options...
    POD_NAMESPACE=default "$EG" serve --audit-interval 2 --policy "$POLICY" --listen "127.0.0.1:$HOOK_PORT" \
        --tls-cert "$CERTS/tls.crt" --tls-key "$CERTS/tls.key" --client-ca "$T/pki/client-ca.crt" \
        --kubeconfig "$T/egressguard.kubeconfig" --kube-discovery-interval 5 "$@" \
        >>"$T/egressguard.log" 2>&1 &
    pid_of[egressguard]=$!
}
hook_healthy() { curl -fsS --max-time 2 --cacert "$CERTS/ca.crt" "https://127.0.0.1:$HOOK_PORT/healthz"; }
hook_ready() { curl -fsS --max-time 2 --cacert "$CERTS/ca.crt" "https://127.0.0.1:$HOOK_PORT/readyz"; }
hook_metric() { # hook_metric NAME-WITH-LABELS: its value now
    curl -fsS --max-time 5 --cacert "$CERTS/ca.crt" "https://127.0.0.1:$HOOK_PORT/metrics" |
        awk -v n="$1" '$1 == n { print $2 }'
}
# The continuous audit: the PolicyReport CRDs of deploy/policyreport, and a violating policy that
# predates egressguard (no webhook yet), in an AI namespace.
expect_admitted "PolicyReport CRDs apply" k apply -f "$REPO/deploy/policyreport/crds.yaml"
expect_admitted "PolicyReport CRDs become established" k wait --for condition=established \
    --timeout="${TIMEOUT}s" -f "$REPO/deploy/policyreport/crds.yaml"
audit_np() { # audit_np CIDR PORTS-JSON: the policy of the audit cases
    printf '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"open","namespace":"audit-e2e"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"%s"}}],"ports":%s}]}}' "$1" "$2" >"$T/audit-np.json"
}
k create namespace audit-e2e >/dev/null 2>&1
k label namespace audit-e2e egressguard.io/ai-workload=true >/dev/null 2>&1
audit_np 0.0.0.0/0 '[{"protocol":"TCP","port":22}]'
expect_admitted "a violating policy exists before egressguard starts" k apply -f "$T/audit-np.json"

start_egressguard
if wait_for "$TIMEOUT" hook_healthy; then pass "egressguard serve answers /healthz over TLS on 127.0.0.1"; else
    fail "egressguard serve answers /healthz over TLS on 127.0.0.1" "$(tail -n 5 "$T/egressguard.log" | tr '\n' ' ')"
fi
if wait_for "$TIMEOUT" hook_ready; then pass "egressguard is ready once its cluster model is listed"; else
    fail "egressguard is ready once its cluster model is listed" "$(tail -n 5 "$T/egressguard.log" | tr '\n' ' ')"
fi
for kind in namespaces networkpolicies ciliumnetworkpolicies ciliumclusterwidenetworkpolicies \
    calico_networkpolicies calico_globalnetworkpolicies; do
    if [ "$(hook_metric "egressguard_watch_synced{kind=\"$kind\"}")" = 1 ]; then
        pass "the model watches $kind (served by the API server or its CRDs)"
    else
        fail "the model watches $kind (served by the API server or its CRDs)" "$(hook_metric "egressguard_watch_synced{kind=\"$kind\"}")"
    fi
done
audit_fails() { # yes|no: the PolicyReport of audit-e2e has a fail result for NetworkPolicy open
    k get policyreports.wgpolicyk8s.io egressguard -n audit-e2e -o json >"$T/audit-report.json" 2>/dev/null || return 1
    got=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print("yes" if any(x.get("result") == "fail" and any(o.get("name") == "open" for o in x.get("resources", []))
                   for x in r.get("results", [])) else "no")' "$T/audit-report.json")
    [ "$got" = "$1" ]
}
if wait_for "$TIMEOUT" audit_fails yes; then pass "audit: the pre-existing violating policy is in its namespace's PolicyReport"; else
    fail "audit: the pre-existing violating policy is in its namespace's PolicyReport" "$(cat "$T/audit-report.json" 2>/dev/null | head -c 300) $(grep audit "$T/egressguard.log" | tail -n 3 | tr '\n' ' ')"
fi
audit_np 10.20.0.0/16 '[{"protocol":"TCP","port":443}]'
expect_admitted "audit: the policy is fixed" k apply -f "$T/audit-np.json"
if wait_for "$TIMEOUT" audit_fails no; then pass "audit: the fixed policy's result leaves the PolicyReport"; else
    fail "audit: the fixed policy's result leaves the PolicyReport" "$(cat "$T/audit-report.json" | head -c 300)"
fi
code=$(curl -sS --max-time 5 --cacert "$CERTS/ca.crt" -o "$T/noclient.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "@$REPO/tests/data/admission/pod-v1.json" \
    "https://127.0.0.1:$HOOK_PORT/validate")
if [ "$code" = 403 ] && grep -q "no client certificate" "$T/noclient.out"; then
    pass "egressguard refuses an admission caller without the API server's client certificate"
else
    fail "egressguard refuses an admission caller without the API server's client certificate" "$code $(cat "$T/noclient.out")"
fi

run "$EG" render webhooks --ca-bundle "$CERTS/ca.crt" --url "https://127.0.0.1:$HOOK_PORT"
cp "$T/out" "$T/webhooks.yaml"
if [ "$rc" -eq 0 ] && grep -q ValidatingWebhookConfiguration "$T/webhooks.yaml" &&
    grep -q MutatingWebhookConfiguration "$T/webhooks.yaml"; then
    pass "render webhooks gives both configurations"
else
    fail "render webhooks gives both configurations" "exit $rc: $(excerpt "$T/err")"
fi
expect_admitted "webhook configurations register" k apply -f "$T/webhooks.yaml"

# The API server picks registrations up asynchronously: wait until the mutation shows on a dry run.
mutation_active() {
    k create namespace ml-e2e-probe --dry-run=server -o yaml | grep -q 'egressguard.io/enforced'
}
wait_for 30 mutation_active || echo "e2e: the mutating webhook did not take effect within 30s"

# ---------------------------------------------------------------------------------------------
# Namespaces and the mutation.
expect_admitted "creates AI namespace ml-e2e" k apply -f "$M/ns-ml.yaml"
if [ "$(ns_label ml-e2e egressguard.io/enforced)" = true ]; then pass "mutation labels AI namespace ml-e2e"; else
    fail "mutation labels AI namespace ml-e2e" "labels: $(k get ns ml-e2e --show-labels 2>&1 | tail -n 1)"
fi
expect_admitted "creates AI namespace research-e2e (by label)" k apply -f "$M/ns-labelled.yaml"
if [ "$(ns_label research-e2e egressguard.io/enforced)" = true ]; then pass "mutation labels AI namespace selected by label"; else
    fail "mutation labels AI namespace selected by label" "labels: $(k get ns research-e2e --show-labels 2>&1 | tail -n 1)"
fi
expect_admitted "creates plain namespace web-e2e" k apply -f "$M/ns-plain.yaml"
if [ -z "$(ns_label web-e2e egressguard.io/enforced)" ]; then pass "plain namespace is not mutated"; else
    fail "plain namespace is not mutated" "it has egressguard.io/enforced"
fi
run k create namespace ml-e2e-dryrun --dry-run=server -o yaml
if [ "$rc" -eq 0 ] && grep -q 'egressguard.io/enforced: "true"' "$T/out"; then pass "dry-run namespace shows the mutation"; else
    fail "dry-run namespace shows the mutation" "$(excerpt "$T/out") $(excerpt "$T/err")"
fi
expect_absent "dry-run namespace is not stored" namespaces ml-e2e-dryrun

# Removing the enforcement label: denied for alice (cluster-admin by RBAC, but no policy identity),
# admitted for system:masters (an identity in the policy).
expect_denied "removing the enforcement label is denied" 'egressguard.io/enforced' \
    ka label namespace ml-e2e egressguard.io/enforced-
if [ "$(ns_label ml-e2e egressguard.io/enforced)" = true ]; then pass "enforcement label survives the attempt"; else
    fail "enforcement label survives the attempt" "label is gone"
fi
expect_denied "dry-run removal of the enforcement label is denied" 'egressguard.io/enforced' \
    ka label namespace ml-e2e egressguard.io/enforced- --dry-run=server
expect_admitted "unrelated label change on an AI namespace is admitted" ka label namespace ml-e2e team=research
expect_admitted "creates AI namespace ai-e2e" k create namespace ai-e2e
expect_admitted "a policy identity (system:masters) may remove the enforcement label" \
    k label namespace ai-e2e egressguard.io/enforced-

# ---------------------------------------------------------------------------------------------
# Kubernetes NetworkPolicy.
case_ok np-ok-dns.yaml
case_ok np-ok-registry.yaml
case_bad np-bad-allow-all.yaml 'opens'
case_bad np-bad-cidr.yaml '203\.0\.113\.0/24'
case_bad np-bad-port.yaml 'TCP/80'
case_bad np-bad-labelled-ns.yaml 'opens'
case_ok np-plain-allow-all.yaml

# Cilium.
case_ok cnp-ok.yaml
case_bad cnp-bad-world.yaml 'entity world opens'
case_bad cnp-bad-fqdn.yaml 'exfil\.example\.net opens'
case_ok ccnp-ok.yaml
case_bad ccnp-bad-cidr.yaml '198\.51\.100\.0/24 opens'

# Calico (crd.projectcalico.org/v1 as stored by Calico, projectcalico.org/v3 as users write it).
case_ok calico-np-ok.yaml
case_bad calico-np-bad.yaml 'opens .*any protocol'
case_ok calico-gnp-ok.yaml
case_bad calico-gnp-bad.yaml '192\.0\.2\.0/24'
case_ok calico-v3-np-ok.yaml
case_bad calico-v3-np-bad.yaml 'TCP/22'

# In context: a network-policy change is judged among the policies the cluster model holds (never
# those a request claims). The model learns of an object through its watch: each case waits
# (bounded) until the model counts what was created.
cnp_count() { hook_metric 'egressguard_model_objects{kind="ciliumnetworkpolicies"}'; }
model_has_cnps() { [ "$(cnp_count)" = "$1" ]; }
layer_ns() { # layer_ns NS FILE: FILE's object in namespace NS, in $T/NS-FILE
    sed "s/namespace: ml-e2e-layer$/namespace: $1/" "$M/$2" >"$T/$1-$2"
}
expect_admitted "creates AI namespaces ml-e2e-layer and ml-e2e-layer2" \
    k create namespace ml-e2e-layer
k create namespace ml-e2e-layer2 >/dev/null 2>&1
# Deny first, then the allow: both admitted.
n=$(cnp_count)
expect_admitted "layered pair, deny first: the deny is admitted" k apply -f "$M/layer-deny.yaml"
wait_for "$TIMEOUT" model_has_cnps $((n + 1)) || echo "e2e: the model did not count the deny"
expect_admitted "layered pair, deny first: the allow to the world on TCP/443 is admitted" \
    k apply -f "$M/layer-allow.yaml"
wait_for "$TIMEOUT" model_has_cnps $((n + 2)) || echo "e2e: the model did not count the allow"
# Allow first: refused while alone (it would open the world until the deny comes), the deny is
# admitted, and the allow then is.
layer_ns ml-e2e-layer2 layer-allow.yaml
layer_ns ml-e2e-layer2 layer-deny.yaml
expect_denied "layered pair, allow first: the allow alone is refused" 'entity world opens' \
    k apply -f "$T/ml-e2e-layer2-layer-allow.yaml"
expect_admitted "layered pair, allow first: the deny is admitted" \
    k apply -f "$T/ml-e2e-layer2-layer-deny.yaml"
wait_for "$TIMEOUT" model_has_cnps $((n + 3)) || echo "e2e: the model did not count the deny"
expect_admitted "layered pair, allow first: the allow is admitted next to the deny" \
    k apply -f "$T/ml-e2e-layer2-layer-allow.yaml"
# The refusal names the policy deleted and the one whose escape its loss would open.
expect_denied "deleting the deny of a layered pair is refused, naming the allow it holds back" \
    'deleting CiliumNetworkPolicy ml-e2e-layer/deny-outside widens the egress of its pods in ml-e2e-layer .*with it gone, CiliumNetworkPolicy ml-e2e-layer/allow-https' \
    k delete -n ml-e2e-layer ciliumnetworkpolicies.cilium.io deny-outside
expect_present "the deny of the layered pair is still there" ciliumnetworkpolicies.cilium.io deny-outside ml-e2e-layer
# explain over the cluster (LISTed through egressguard's own credentials): for the layered pair's
# namespace and an address outside the allow-list, the deny decides; inside, the allow does.
run "$EG" explain ml-e2e-layer -p "$POLICY" --kubeconfig "$T/egressguard.kubeconfig" --to 8.8.8.8:443
if [ "$rc" -eq 0 ] && grep -q 'to 8.8.8.8:443/TCP: reachable no' "$T/out" &&
    grep -q 'decided by: denied by spec.egressDeny\[0\] of CiliumNetworkPolicy ml-e2e-layer/deny-outside' "$T/out"; then
    pass "explain --kubeconfig: an address outside the allow-list is denied by the layered pair's deny"
else
    fail "explain --kubeconfig: an address outside the allow-list is denied by the layered pair's deny" \
        "exit $rc: $(excerpt "$T/out") $(excerpt "$T/err")"
fi
run "$EG" explain ml-e2e-layer -p "$POLICY" --kubeconfig "$T/egressguard.kubeconfig" --to 10.20.1.5:443 -o json
if [ "$rc" -eq 0 ] && grep -q '"reachable": "yes"' "$T/out" && grep -q '"verdict": "ok"' "$T/out" &&
    grep -q 'allowed by spec.egress\[0\] of CiliumNetworkPolicy ml-e2e-layer/allow-https' "$T/out"; then
    pass "explain --kubeconfig: an address inside the allow-list is reached through the layered pair's allow"
else
    fail "explain --kubeconfig: an address inside the allow-list is reached through the layered pair's allow" \
        "exit $rc: $(excerpt "$T/out") $(excerpt "$T/err")"
fi
# A NetworkSet holding 0.0.0.0/0 that a policy of the AI namespace reaches. The model knows every
# address set once each set kind is listed or not served (this API server serves NetworkSets;
# GlobalNetworkSets, HostEndpoints and CiliumCIDRGroups have no CRD here, so there are none): a
# Calico policy whose selector reaches no set opens nothing and is admitted. The NetworkSet is
# then refused through that policy: the message names it and the range that escapes (the set
# rule of an AI namespace says the same first, and the message carries both).
calico_np_count() { hook_metric 'egressguard_model_objects{kind="calico_networkpolicies"}'; }
model_has_calico_nps() { [ "$(calico_np_count)" = "$1" ]; }
n=$(calico_np_count)
expect_admitted "a Calico policy reaching sets by selector is admitted when no set matches" \
    k apply -f "$M/calico-np-partners.yaml"
wait_for "$TIMEOUT" model_has_calico_nps $((n + 1)) || echo "e2e: the model did not count to-partners"
expect_denied "a NetworkSet with 0.0.0.0/0 in an AI namespace, reached by its policy, is refused" \
    "reached by selector role == 'partners' in NetworkPolicy.projectcalico.org ml-e2e-layer/to-partners .*opens 0\\.0\\.0\\.0/5" \
    k apply -f "$M/networkset-world.yaml"
expect_absent "the refused NetworkSet is not stored" networksets.crd.projectcalico.org partners ml-e2e-layer
expect_admitted "a NetworkSet with 0.0.0.0/0 in an ordinary namespace that no AI policy reaches is admitted" \
    k apply -f "$M/networkset-plain-world.yaml"
expect_present "the admitted NetworkSet is stored" networksets.crd.projectcalico.org partners web-e2e

# Pods in an AI namespace (no nodes here: admitted pods stay Pending, which is all we need).
case_ok pod-ok.yaml
case_bad pod-bad-hostnetwork.yaml 'hostNetwork'
case_bad pod-bad-privileged.yaml 'privileged'
case_bad pod-bad-netadmin.yaml 'NET_ADMIN'
case_bad pod-bad-nolabel.yaml 'data-classification'
case_bad pod-bad-labelled-ns.yaml 'hostNetwork'
case_ok pod-plain-hostnetwork.yaml
# Workload templates: the same pod rules through a Deployment's template.
case_bad deploy-bad-hostnetwork.yaml 'hostNetwork'
# That denial came from egressguard, so the API server's certificate was accepted: the only 403
# in the log is the one for the caller without a certificate.
n403=$(grep -c '"HTTP 403: ' "$T/egressguard.log")
if [ "$n403" = 1 ]; then pass "the API server presents its client certificate (AdmissionConfiguration)"; else
    fail "the API server presents its client certificate (AdmissionConfiguration)" "$n403 refusals: $(grep '"HTTP 403' "$T/egressguard.log" | head -3)"
fi

# ---------------------------------------------------------------------------------------------
# failurePolicy: with egressguard down, the API server applies each webhook's failurePolicy.
stop_role egressguard
fp=$(k get validatingwebhookconfigurations -o jsonpath='{range .items[*].webhooks[*]}{.failurePolicy}{"\n"}{end}' |
    sort -u | tr '\n' ' ')
echo "e2e: validating webhooks' failurePolicy: $fp"
sed 's/name: ok-dns/name: ok-while-down/' "$M/np-ok-dns.yaml" >"$T/np-while-down.yaml"
run k apply -f "$T/np-while-down.yaml"
case "$fp" in
"Fail ")
    if [ "$rc" -ne 0 ] && grep -qE 'failed calling webhook "[^"]*egressguard' "$T/err"; then
        pass "failurePolicy Fail rejects while egressguard is down"
    else
        fail "failurePolicy Fail rejects while egressguard is down" "exit $rc: $(excerpt "$T/out") $(excerpt "$T/err")"
    fi
    expect_absent "nothing stored while egressguard is down" networkpolicies.networking.k8s.io ok-while-down ml-e2e
    ;;
"Ignore ")
    if [ "$rc" -eq 0 ]; then pass "failurePolicy Ignore admits while egressguard is down"; else
        fail "failurePolicy Ignore admits while egressguard is down" "$(excerpt "$T/err")"
    fi
    k delete -f "$T/np-while-down.yaml" >/dev/null 2>&1
    ;;
*) fail "failurePolicy is one value for all validating webhooks" "got: $fp" ;;
esac

# Restarted: the model is built again from the API.
start_egressguard
if wait_for "$TIMEOUT" hook_ready; then pass "egressguard restarts"; else
    fail "egressguard restarts" "$(tail -n 5 "$T/egressguard.log" | tr '\n' ' ')"
fi
recovered() { k apply -f "$T/np-while-down.yaml"; }
if wait_for 30 recovered; then pass "compliant policy admitted again after restart"; else
    fail "compliant policy admitted again after restart" "$(k apply -f "$T/np-while-down.yaml" 2>&1 | tr '\n' ' ')"
fi
expect_denied "violating policy denied again after restart" 'entity world opens' k apply -f "$M/cnp-bad-world.yaml"
sed 's/name: bad-internet/name: bad-internet-2/' "$M/np-bad-labelled-ns.yaml" >"$T/np-labelled-2.yaml"
expect_denied "after restart, AI-by-label namespace known from the model" '0\.0\.0\.0/0' \
    k apply --dry-run=server -f "$T/np-labelled-2.yaml"
n_ns=$(hook_metric 'egressguard_model_objects{kind="namespaces"}')
if [ "${n_ns:-0}" -ge 5 ] 2>/dev/null; then pass "after restart, the model holds the cluster's namespaces ($n_ns)"; else
    fail "after restart, the model holds the cluster's namespaces" "egressguard_model_objects{namespaces} = '${n_ns:-}'"
fi

# ---------------------------------------------------------------------------------------------
# The cluster model is the truth, and requests are claims.
# A namespace labelled AI after its creation: a hostNetwork pod there is denied within 2 s of the
# label (polled; the latency is printed).
expect_admitted "creates plain namespace late-e2e" k create namespace late-e2e
sed -e 's/namespace: web-e2e/namespace: late-e2e/' "$M/pod-plain-hostnetwork.yaml" >"$T/pod-late.yaml"
expect_admitted "hostNetwork pod in the plain namespace is admitted (dry run)" k apply --dry-run=server -f "$T/pod-late.yaml"
expect_admitted "labels late-e2e as an AI namespace" k label namespace late-e2e egressguard.io/ai-workload=true
labelled_at=$(date +%s%N)
late_denied=""
while [ $(( ($(date +%s%N) - labelled_at) / 1000000 )) -lt 2000 ]; do
    if ! k apply --dry-run=server -f "$T/pod-late.yaml" >/dev/null 2>"$T/err" &&
        grep -q 'hostNetwork' "$T/err"; then
        late_denied=$(( ($(date +%s%N) - labelled_at) / 1000000 ))
        break
    fi
    sleep 0.05
done
if [ -n "$late_denied" ]; then pass "labelled AI after creation: hostNetwork pod denied within 2 s (${late_denied} ms)"; else
    fail "labelled AI after creation: hostNetwork pod denied within 2 s" "$(excerpt "$T/err")"
fi
# A forged Namespace review POSTed straight to /validate (as anyone who reaches the Service could
# without --client-ca, or with the API server's client certificate in hand): labelling web-e2e as
# AI, deleting research-e2e. No later verdict changes.
forge() { # forge NAME OPERATION
    local member=object obj
    [ "$2" = DELETE ] && member=oldObject
    obj="{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\",\"labels\":{\"egressguard.io/ai-workload\":\"true\"}}}"
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"forged-%s","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"%s","operation":"%s","userInfo":{"username":"mallory"},"%s":%s}}' \
        "$1" "$1" "$2" "$member" "$obj" |
        curl -fsS --max-time 5 --cacert "$CERTS/ca.crt" -H 'Content-Type: application/json' \
            --cert "$T/pki/webhook-client.crt" --key "$T/pki/webhook-client.key" \
            --data-binary @- "https://127.0.0.1:$HOOK_PORT/validate" >/dev/null
}
forge web-e2e CREATE && forge web-e2e UPDATE && forge research-e2e DELETE
expect_admitted "after a forged Namespace review, web-e2e is still not AI" \
    k apply --dry-run=server -f "$M/pod-plain-hostnetwork.yaml"
expect_denied "after a forged Namespace DELETE, research-e2e is still AI" 'hostNetwork' \
    k apply --dry-run=server -f "$M/pod-bad-labelled-ns.yaml"

# ---------------------------------------------------------------------------------------------
# Namespaced mode: egressguard creates its enforcement policies in each new AI namespace, and holds
# pods back until they exist.
stop_role egressguard
start_egressguard --namespaced-mode
if wait_for "$TIMEOUT" hook_ready; then pass "egressguard serves in namespaced mode"; else
    fail "egressguard serves in namespaced mode" "$(tail -n 5 "$T/egressguard.log" | tr '\n' ' ')"
fi
expect_admitted "namespaced mode: creates AI namespace ml-e2e-managed" k create namespace ml-e2e-managed
managed_policies() {
    k get networkpolicies.networking.k8s.io -n ml-e2e-managed -o name | grep -q .
}
if wait_for 30 managed_policies; then pass "namespaced mode: enforcement policies appear in the new namespace"; else
    fail "namespaced mode: enforcement policies appear in the new namespace" "none within 30s"
fi
# A dry run must not set the enforcer to work (it would log reconciling the namespace).
k create namespace ml-e2e-dryns --dry-run=server >/dev/null 2>&1
sleep 2
acted='"msg":"(namespaced mode: namespace ml-e2e-dryns|kube: [A-Z]+ [^ ]*/ml-e2e-dryns)'
if grep -qE "$acted" "$T/egressguard.log"; then
    fail "namespaced mode: a dry-run namespace gets no policies" "egressguard acted on it: $(grep -E "$acted" "$T/egressguard.log" | tail -n 2 | tr '\n' ' ')"
else
    pass "namespaced mode: a dry-run namespace gets no policies"
fi
echo "e2e: managed policies: $(k get networkpolicies -n ml-e2e-managed -o name 2>&1 | tr '\n' ' ')"
sed 's/namespace: ml-e2e$/namespace: ml-e2e-managed/' "$M/pod-ok.yaml" >"$T/pod-managed.yaml"
expect_admitted "namespaced mode: compliant pod admitted once the policies exist" k apply -f "$T/pod-managed.yaml"

# Held back: while egressguard may not write NetworkPolicies (its RBAC binding removed), a new AI
# namespace gets none and its pods are denied; once the binding is back, the pods pass.
eg_can_write() { # yes|no
    [ "$(k auth can-i create networkpolicies.networking.k8s.io -n ml-e2e-held \
        --as=system:serviceaccount:egressguard:egressguard 2>/dev/null)" = "$1" ]
}
k delete clusterrolebinding e2e-egressguard >/dev/null 2>&1
wait_for 30 eg_can_write no || echo "e2e: egressguard's RBAC still allows writes after 30s"
expect_admitted "namespaced mode: creates AI namespace ml-e2e-held" k create namespace ml-e2e-held
sed -e 's/namespace: ml-e2e$/namespace: ml-e2e-held/' "$M/pod-ok.yaml" >"$T/pod-held.yaml"
expect_denied "namespaced mode: pod held back while its namespace has no policies" 'not in place yet' \
    k apply -f "$T/pod-held.yaml"
expect_absent "namespaced mode: held-back pod is not stored" pods ok ml-e2e-held
k create clusterrolebinding e2e-egressguard --clusterrole=cluster-admin \
    --serviceaccount=egressguard:egressguard >/dev/null 2>&1
wait_for 30 eg_can_write yes || echo "e2e: egressguard's RBAC still forbids writes after 30s"
held_pod_admitted() { k apply -f "$T/pod-held.yaml"; }
if wait_for 60 held_pod_admitted; then pass "namespaced mode: pod admitted once egressguard could create the policies"; else
    fail "namespaced mode: pod admitted once egressguard could create the policies" "$(k apply -f "$T/pod-held.yaml" 2>&1 | tr '\n' ' ')"
fi
run k get networkpolicies.networking.k8s.io -n ml-e2e-held -o name
if [ "$rc" -eq 0 ] && [ -s "$T/out" ]; then pass "namespaced mode: the held-back namespace has its policies"; else
    fail "namespaced mode: the held-back namespace has its policies" "$(excerpt "$T/err")"
fi

# Delete an AI namespace and create it again under the same name: the deletion completes (the
# namespace controller may delete egressguard's policies), and the new namespace gets its
# policies back, its pods held until they are in place.
expect_admitted "namespaced mode: creates AI namespace ml-e2e-cycle" k create namespace ml-e2e-cycle
cycle_policies() { [ "$(k get networkpolicies.networking.k8s.io -n ml-e2e-cycle -o name | grep -c .)" -eq 2 ]; }
if wait_for 30 cycle_policies; then pass "namespaced mode: ml-e2e-cycle gets its two policies"; else
    fail "namespaced mode: ml-e2e-cycle gets its two policies" "$(k get networkpolicies -n ml-e2e-cycle -o name 2>&1 | tr '\n' ' ')"
fi
expect_admitted "namespaced mode: deleting ml-e2e-cycle starts (Terminating)" k delete namespace ml-e2e-cycle --wait=false
expect_denied "namespaced mode: alice may not delete egressguard's policy" 'managed by egressguard' \
    ka delete networkpolicies.networking.k8s.io -n ml-e2e-cycle egressguard-allow-egress
# As the namespace controller does it: delete the contents, then finalize.
expect_admitted "namespaced mode: the namespace controller deletes egressguard's policies" \
    knsc delete networkpolicies.networking.k8s.io -n ml-e2e-cycle --all
run k get namespace ml-e2e-cycle -o json
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); o["spec"]["finalizers"]=[]; json.dump(o, open(sys.argv[2], "w"))' \
    "$T/out" "$T/finalize.json" 2>/dev/null
expect_admitted "namespaced mode: the namespace controller finalizes ml-e2e-cycle" \
    knsc replace --raw /api/v1/namespaces/ml-e2e-cycle/finalize -f "$T/finalize.json"
cycle_gone() { ! k get namespace ml-e2e-cycle >/dev/null 2>&1; }
if wait_for 30 cycle_gone; then pass "namespaced mode: deleting an AI namespace completes"; else
    fail "namespaced mode: deleting an AI namespace completes" "$(k get namespace ml-e2e-cycle -o yaml 2>&1 | tail -n 5 | tr '\n' ' ')"
fi
k delete clusterrolebinding e2e-egressguard >/dev/null 2>&1
wait_for 30 eg_can_write no || echo "e2e: egressguard's RBAC still allows writes after 30s"
expect_admitted "namespaced mode: creates ml-e2e-cycle again" k create namespace ml-e2e-cycle
sed -e 's/namespace: ml-e2e$/namespace: ml-e2e-cycle/' "$M/pod-ok.yaml" >"$T/pod-cycle.yaml"
expect_denied "namespaced mode: in the re-created namespace, pods are held until its policies exist" \
    'not in place yet' k apply -f "$T/pod-cycle.yaml"
k create clusterrolebinding e2e-egressguard --clusterrole=cluster-admin \
    --serviceaccount=egressguard:egressguard >/dev/null 2>&1
cycle_pod_admitted() { k apply -f "$T/pod-cycle.yaml"; }
if wait_for 60 cycle_pod_admitted; then pass "namespaced mode: re-created namespace's pod admitted once its policies are back"; else
    fail "namespaced mode: re-created namespace's pod admitted once its policies are back" "$(k apply -f "$T/pod-cycle.yaml" 2>&1 | tr '\n' ' ')"
fi
if cycle_policies; then pass "namespaced mode: the re-created namespace has its policies again"; else
    fail "namespaced mode: the re-created namespace has its policies again" "$(k get networkpolicies -n ml-e2e-cycle -o name 2>&1 | tr '\n' ' ')"
fi

# What a cluster admin applies (docs/install.md) is accepted by a real API server: deploy/ as
# kustomize renders it, applied for real (no nodes here, so nothing runs), and the in-cluster
# (--service) webhook configurations, server-side dry run. The PodDisruptionBudget is policy/v1,
# which this 1.20 API server predates (1.21+), so it is left out here.
run kubectl kustomize "$REPO/deploy"
if [ "$rc" -eq 0 ]; then
    awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} !/kind: PodDisruptionBudget/' "$T/out" >"$T/deploy.yaml"
    run k apply -f "$T/deploy.yaml"
    if [ "$rc" -eq 0 ]; then pass "install: kubectl apply -k deploy/ is accepted by the API server (PDB aside)"; else
        fail "install: kubectl apply -k deploy/ is accepted by the API server (PDB aside)" "$(excerpt "$T/err")"
    fi
else
    fail "install: kubectl kustomize deploy/" "$(excerpt "$T/err")"
fi
run "$EG" render webhooks --ca-bundle "$CERTS/ca.crt" --service egressguard/egressguard
if [ "$rc" -eq 0 ]; then
    cp "$T/out" "$T/webhooks-svc.yaml"
    run k apply --dry-run=server -f "$T/webhooks-svc.yaml"
fi
if [ "$rc" -eq 0 ]; then pass "install: render webhooks --service is accepted by the API server (dry run)"; else
    fail "install: render webhooks --service is accepted by the API server (dry run)" "$(excerpt "$T/err")"
fi

# What README.md and docs/install.md say to run against a cluster, as written.
. "$E2E/install.sh"

summary
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
