# Sourced by tests/e2e/run.sh at the end of the run: the commands of README.md and
# docs/install.md that need a cluster, taken from the documents and run as written against the
# 1.20 API server. `egressguard` is on the PATH, the working directory is a scratch one with the
# repository's examples/ and deploy/ (and ./egressguard), KUBECONFIG is the admin's. Not run:
# `rollout status` (this cluster has no nodes, so no pod ever runs) and `kubectl delete -k`
# (namespaces stay Terminating without kube-controller-manager).

W=$T/docs
mkdir -p "$W/bin"
ln -s "$EG" "$W/bin/egressguard"
ln -s "$EG" "$W/egressguard"
ln -s "$REPO/examples" "$W/examples"
ln -s "$REPO/deploy" "$W/deploy"

# doc_run NAME CMD: runs a documented command as written; stdout/stderr in $T/out, $T/err.
doc_run() {
    (cd "$W" && env PATH="$W/bin:$PATH" KUBECONFIG="$T/kubeconfig" bash -o pipefail -c "$2") \
        >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 0 ]; then pass "$1: $2"; else fail "$1: $2" "exit $rc: $(excerpt "$T/err")"; fi
}
doc_commands() { awk -v section="$2" -f "$REPO/tests/mdcommands.awk" "$REPO/$1"; }

# The API server calls itself by the version it was built from (kube-apiserver.sh stamps it).
run k get --raw /version
if grep -q '"gitVersion": "v1.20.2"' "$T/out"; then pass "docs: /version reports v1.20.2"; else
    fail "docs: /version reports v1.20.2" "$(excerpt "$T/out")"
fi

# README: the tour's kubectl line.
n=0
while IFS= read -r cmd; do
    case "$cmd" in kubectl*) n=$((n + 1)); doc_run "README" "$cmd" ;; esac
done <<CMDS
$(doc_commands README.md "## A short tour")
CMDS
[ "$n" -ge 1 ] || fail "README: the tour has a kubectl line"

# docs/install.md: step 2 (certificates), then the Kubernetes 1.20 steps.
certs=$(doc_commands docs/install.md "## Install (self-managed certificates)" | grep '^egressguard certs' | head -n 1)
[ -n "$certs" ] && doc_run "install.md step 2" "$certs" || fail "install.md: step 2 has an egressguard certs line"
n=0
while IFS= read -r cmd; do
    n=$((n + 1))
    case "$cmd" in *"rollout status"*) echo "e2e: not run (no nodes here): $cmd"; continue ;; esac
    doc_run "install.md 1.20" "$cmd"
done <<CMDS
$(doc_commands docs/install.md "### Kubernetes 1.20")
CMDS
[ "$n" -ge 5 ] || fail "install.md: the Kubernetes 1.20 section has its commands" "found $n"
for ns in kube-system egressguard; do
    if [ "$(ns_label "$ns" kubernetes.io/metadata.name)" = "$ns" ]; then pass "install.md 1.20: $ns is labelled"; else
        fail "install.md 1.20: $ns is labelled"
    fi
done
expect_present "install.md 1.20: the policy/v1beta1 PodDisruptionBudget" poddisruptionbudgets.v1beta1.policy egressguard egressguard
expect_present "install.md 1.20: the Deployment" deployments.apps egressguard egressguard
expect_present "install.md 1.20: the Secret" secrets egressguard-tls egressguard

# The webhooks now call the in-cluster Service, which has no endpoints here: like a webhook that
# is down. The excluded namespaces must stay writable (the recovery path), a covered one not.
# The API server picks registrations up asynchronously: wait until a covered namespace is refused.
# (A new object each time: kubectl apply sends nothing for an unchanged one.)
sed 's/name: ok-dns$/name: ok-dns-probe/' "$M/np-ok-dns.yaml" >"$T/np-probe.yaml"
covered_refused() { ! k apply --dry-run=server -f "$T/np-probe.yaml"; }
wait_for 30 covered_refused || echo "e2e: a covered namespace was still admitted after 30s"
for ns in egressguard kube-system; do
    expect_admitted "install.md 1.20: $ns stays writable with the webhook down (pods)" \
        k -n "$ns" run e2e-recovery-probe --image=registry.example.com/probe:1 --restart=Never
done
run k apply -f "$T/np-probe.yaml"
if [ "$rc" -ne 0 ] && grep -qE 'failed calling webhook "[^"]*egressguard' "$T/err"; then
    pass "install.md 1.20: a covered namespace is refused while the webhook is down"
else
    fail "install.md 1.20: a covered namespace is refused while the webhook is down" "exit $rc: $(excerpt "$T/err")"
fi

# Uninstalling: the webhooks first (the lines that delete them).
while IFS= read -r cmd; do
    case "$cmd" in *webhookconfiguration*) doc_run "install.md uninstall" "$cmd" ;; esac
done <<CMDS
$(doc_commands docs/install.md "## Uninstalling")
CMDS
recovered_np() { k apply -f "$T/np-probe.yaml"; }
if wait_for 30 recovered_np; then pass "install.md uninstall: nothing refused once the webhooks are gone"; else
    fail "install.md uninstall: nothing refused once the webhooks are gone" "$(k apply -f "$T/np-probe.yaml" 2>&1 | tr '\n' ' ')"
fi
