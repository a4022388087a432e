# The CLI: commands, --help, exit codes and messages of check.
. "$(dirname "$0")/../lib.sh"
P=examples/policy.yaml

run "$EGRESSGUARD" --help
expect_rc "help exits 0" 0
expect_in "help lists commands" "$out" "check    dry-run"
for c in check explain serve review mutate render certs version; do
    run "$EGRESSGUARD" "$c" --help
    expect_rc "$c --help exits 0" 0
    expect_in "$c --help shows usage" "$out" "usage: egressguard $c"
done
run "$EGRESSGUARD" frobnicate
expect_rc "unknown command exits 2" 2
expect_in "unknown command is named" "$err" "unknown command 'frobnicate'"
case "$err" in *"did you mean"*) fail "no suggestion for a far word" "$err" ;; *) pass "no suggestion for a far word" ;; esac
run "$EGRESSGUARD" chekc -p $P tests/data/check/ns.yaml
expect_rc "misspelt command exits 2" 2
expect_in "did you mean: command" "$err" "unknown command 'chekc' (did you mean 'check'?)"
run "$EGRESSGUARD" check --polcy $P tests/data/check/ns.yaml
expect_rc "misspelt option exits 2" 2
expect_in "did you mean: option" "$err" "egressguard check: unknown option '--polcy' (did you mean '--policy'?)"
run "$EGRESSGUARD" render cillium -p $P
expect_rc "misspelt render target exits 2" 2
expect_in "did you mean: render target" "$err" "unknown target 'cillium' (did you mean 'cilium'?)"
run "$EGRESSGUARD" explain ml-team -p $P --podd app=x examples/manifests/
expect_in "did you mean: explain option" "$err" "unknown option '--podd' (did you mean '--pod'?)"
run "$EGRESSGUARD" explain ml-team examples/manifests/ -p $P -o json --to pypi.org:443
expect_in "explain: options after operands" "$out" '"namespace"'
run "$EGRESSGUARD" serve --dev --lisen 127.0.0.1:0
expect_in "did you mean: serve option" "$err" "unknown option '--lisen' (did you mean '--listen'?)"
run "$EGRESSGUARD" check -p $P -o jsno tests/data/check/ns.yaml
expect_in "did you mean: format" "$err" "-o: unknown format 'jsno' (did you mean 'json'?); one of: text, json, yaml, sarif, junit"
run "$EGRESSGUARD"
expect_rc "no command exits 2" 2
run "$EGRESSGUARD" version
expect_in "version" "$out" "egressguard "

run "$EGRESSGUARD" check tests/data/check/ns.yaml
expect_rc "check without policy exits 2" 2
expect_in "check names the missing option" "$err" "missing -p/--policy FILE"
run "$EGRESSGUARD" check -p $P
expect_rc "check without paths exits 2" 2
run "$EGRESSGUARD" check -p $P --format xml tests/data/check/ns.yaml
expect_rc "unknown format exits 2" 2
expect_in "unknown format named" "$err" "unknown format 'xml'"
# Options may follow the paths, as in kubectl.
run "$EGRESSGUARD" check tests/data/check/ns.yaml -p $P -o json
expect_rc "options after paths" 0
expect_in "options after paths: json" "$out" "\"objects\": 2"
run "$EGRESSGUARD" check -p tests/data/policy/missing.yaml tests/data/check/ns.yaml
expect_rc "missing policy exits 2" 2
expect_in "missing policy message" "$err" "tests/data/policy/missing.yaml: cannot open policy file"

bad=$(mktemp); trap 'rm -f "$bad"' EXIT
sed 's/^  allow:/  alow:/' $P >"$bad"
run "$EGRESSGUARD" check -p "$bad" tests/data/check/ns.yaml
expect_rc "invalid policy exits 2" 2
expect_in "invalid policy is positioned" "$err" "$bad:31:3: spec: unknown field \"alow\" (did you mean \"allow\"?)"

run "$EGRESSGUARD" check -p $P tests/data/check/ns.yaml
expect_rc "clean input exits 0" 0
expect_in "summary line" "$out" "egressguard: 2 objects checked"

# Exemption lifetimes are judged at --now (default: the clock): exempt while it lasts, warned
# within exemptionWarningDays of the end, evaluated afterwards.
run "$EGRESSGUARD" check -p $P --now 2026-12-01 tests/data/check/legacy-np.yaml
expect_rc "check --now: exempt exits 0" 0
expect_in "check --now: exempt" "$out" "note: exempt by the policy file (line 81): INC-1234: migration window until 2027-01-31; it ends after 2027-01-31 (UTC)"
run "$EGRESSGUARD" check -p $P --now 2027-01-25T12:00:00Z tests/data/check/legacy-np.yaml
expect_rc "check --now: expiring exits 0" 0
expect_in "check --now: expiring" "$out" "note: exemption ends after 2027-01-31 (UTC): fix the object or renew the exemption (line 81 of the policy file, owner research-infra, ticket INC-1234)"
run "$EGRESSGUARD" check -p $P --now 2027-02-01 tests/data/check/legacy-np.yaml
expect_rc "check --now: expired exits 1" 1
expect_in "check --now: expired" "$out" "note: exemption expired after 2027-01-31 (UTC): the object is evaluated"
expect_in "check --now: expired is judged" "$out" "deny: spec.egress[0]: egress rule without \`to\` opens every destination"
run "$EGRESSGUARD" check -p $P --now 2027-02-30 tests/data/check/legacy-np.yaml
expect_rc "check --now: invalid date exits 2" 2
expect_in "check --now: invalid date" "$err" '--now: "2027-02-30": 2027-02 has 28 days'
run "$EGRESSGUARD" check -p $P tests/data/manifest/dir
expect_rc "broken input exits 2" 2
expect_in "input error positioned" "$out" "tests/data/manifest/dir/sub/broken.yml:2:1: did not find expected ',' or ']'"
run sh -c "cat tests/data/check/ns.yaml | '$EGRESSGUARD' check -p $P -"
expect_rc "stdin works" 0
expect_in "stdin counted" "$out" "2 objects checked"
printf 'kind: [\n' >"$bad"
run sh -c "'$EGRESSGUARD' check -p $P - <'$bad'"
expect_rc "broken stdin exits 2" 2
expect_in "stdin errors name <stdin>" "$out" "<stdin>:2:1:"

for f in json yaml sarif junit; do
    run "$EGRESSGUARD" check -p $P -o $f tests/data/manifest/dir
    expect_rc "$f report of broken input exits 2" 2
done
run "$EGRESSGUARD" check -p $P -o json tests/data/check/ns.yaml
expect_in "json summary" "$out" "\"objects\": 2"
run "$EGRESSGUARD" check -p $P --format json tests/data/check/ns.yaml
expect_in "--format is -o" "$out" "\"objects\": 2"
run "$EGRESSGUARD" check -p $P -o yaml tests/data/check/ns.yaml
expect_in "yaml summary" "$out" "summary:
  objects: 2"
# The yaml report is the json report: same document once parsed.
j=$(mktemp); y=$(mktemp)
"$EGRESSGUARD" check -p $P -o json tests/data/manifest/dir >"$j" 2>/dev/null
"$EGRESSGUARD" check -p $P -o yaml tests/data/manifest/dir >"$y" 2>/dev/null
run python3 -c 'import json, sys, yaml; sys.exit(json.load(open(sys.argv[1])) != yaml.safe_load(open(sys.argv[2])))' "$j" "$y"
expect_rc "yaml report parses to the json report" 0
rm -f "$j" "$y"
run "$EGRESSGUARD" check -p $P --format sarif tests/data/manifest/dir
expect_in "sarif version" "$out" "\"version\": \"2.1.0\""
expect_in "sarif location" "$out" "\"startLine\": 2"
run "$EGRESSGUARD" check -p $P --format junit tests/data/manifest/dir
expect_in "junit error" "$out" "<error message=\"tests/data/manifest/dir/sub/broken.yml:2:1:"

# -o chooses a format, never a file: no format writes anything, wherever it runs.
scratch=$(mktemp -d)
for f in text json yaml sarif junit; do
    run sh -c "cd '$scratch' && '$EGRESSGUARD' check -p '$PWD/$P' -o $f '$PWD/tests/data/check/ns.yaml'"
    left=$(ls -A "$scratch")
    if [ "$rc" -eq 0 ] && [ -n "$out" ] && [ -z "$left" ]; then pass "check -o $f writes no file"; else
        fail "check -o $f writes no file" "exit $rc, files: $left, stdout: $(printf '%s' "$out" | head -c 100)"
    fi
done
run sh -c "cd '$scratch' && '$EGRESSGUARD' check -p '$PWD/$P' -o egress.sarif '$PWD/tests/data/check/ns.yaml'"
expect_rc "check -o FILE exits 2" 2
expect_in "check -o FILE says where files go" "$err" "-o: 'egress.sarif' is not a format (a report file is --output-file FILE)"
[ -z "$(ls -A "$scratch")" ] && pass "check -o FILE writes nothing" || fail "check -o FILE writes nothing" "$(ls -A "$scratch")"
run "$EGRESSGUARD" check -p $P -o sarif --output-file "$scratch/egress.sarif" tests/data/check/ns.yaml
expect_rc "--output-file exits as check does" 0
[ -z "$out" ] && pass "--output-file: nothing on stdout" || fail "--output-file: nothing on stdout" "$out"
expect_in "--output-file holds the report" "$(cat "$scratch/egress.sarif")" "\"version\": \"2.1.0\""
cp $P "$scratch/p.yaml"
cp tests/data/check/ns.yaml "$scratch/in.yaml"
cksum "$scratch/p.yaml" "$scratch/in.yaml" >"$scratch/sums"
run "$EGRESSGUARD" check -p "$scratch/p.yaml" --output-file "$scratch/p.yaml" "$scratch/in.yaml"
expect_rc "--output-file POLICY exits 2" 2
expect_in "--output-file POLICY refused" "$err" "--output-file $scratch/p.yaml is the policy file"
run "$EGRESSGUARD" check -p "$scratch/p.yaml" --output-file "$scratch/./in.yaml" "$scratch/in.yaml"
expect_rc "--output-file INPUT exits 2" 2
expect_in "--output-file INPUT refused" "$err" "is the input $scratch/in.yaml"
mkdir "$scratch/m"
cp tests/data/check/ns.yaml "$scratch/m/ns.yaml"
run "$EGRESSGUARD" check -p "$scratch/p.yaml" -o json --output-file "$scratch/m/report.json" "$scratch/m"
expect_rc "--output-file inside an input directory exits 2" 2
expect_in "--output-file inside an input directory refused" "$err" "is inside the input directory $scratch/m, where the next run would read it as a manifest"
run "$EGRESSGUARD" check -p "$scratch/p.yaml" -o sarif --output-file "$scratch/m/report.sarif" "$scratch/m"
expect_rc "--output-file a non-manifest inside an input directory is fine" 0
if cksum "$scratch/p.yaml" "$scratch/in.yaml" | cmp -s - "$scratch/sums" && [ ! -e "$scratch/m/report.json" ]; then
    pass "refused --output-file changed nothing"
else
    fail "refused --output-file changed nothing"
fi
rm -rf "$scratch"

# review and mutate without -p say that they use the embedded example policy.
run "$EGRESSGUARD" review tests/data/admission/pod-v1.json
expect_in "review without -p says so" "$err" "egressguard review: no -p/--policy given: using the embedded example policy"
run "$EGRESSGUARD" review -p $P tests/data/admission/pod-v1.json
case "$err" in *"embedded example"*) fail "review -p says nothing of the example" "$err" ;; *) pass "review -p says nothing of the example" ;; esac
run "$EGRESSGUARD" mutate tests/data/check/ns.yaml
expect_rc "mutate without -p exits 0" 0
expect_in "mutate without -p says so" "$err" "egressguard mutate: no -p/--policy given: using the embedded example policy"

# serve on a port another server holds: a clear message and exit, never a second listener that
# takes half of the connections (SO_REUSEPORT).
busy=$(mktemp -d)
"$EGRESSGUARD" serve --dev --dev-certs "$busy/certs" --listen 127.0.0.1:0 >"$busy/a.out" 2>"$busy/a.log" &
a=$!
port="" i=0
while [ -z "$port" ] && [ $i -lt 240 ] && kill -0 $a 2>/dev/null; do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$busy/a.log" | head -1)
    [ -n "$port" ] || sleep 0.25
    i=$((i + 1))
done
if [ -z "$port" ]; then
    fail "busy port: first server starts" "$(head -c 400 "$busy/a.log")"
else
    "$EGRESSGUARD" serve --dev --dev-certs "$busy/certs" --listen "127.0.0.1:$port" >/dev/null 2>"$busy/b.log" &
    b=$!
    i=0
    while kill -0 $b 2>/dev/null && [ $i -lt 240 ]; do sleep 0.25; i=$((i + 1)); done
    if kill -0 $b 2>/dev/null; then
        kill $b; wait $b 2>/dev/null
        fail "busy port: second server exits" "it is serving on the same port"
    else
        wait $b; rc=$?
        expect_rc "busy port: second server exits 1" 1
        expect_in "busy port: says so" "$(cat "$busy/b.log")" "egressguard serve: cannot listen on 127.0.0.1:$port: the port is in use (another server is listening on it)"
    fi
fi
kill $a 2>/dev/null; wait $a 2>/dev/null
rm -rf "$busy"

# The whole third-party corpus: every object evaluated or a positioned error, nothing crashes
# (under `make asan` this runs the sanitized binary).
run "$EGRESSGUARD" check -p $P tests/data/corpus/manifests
expect_rc "corpus: exit 2 (files broken on purpose upstream)" 2
expect_in "corpus: summary" "$out" "egressguard: 655 objects checked (456 evaluated): 90 denied, 3 warned, 0 audited, 6 errors"
# 40 findings depend on labels of namespaces the corpus does not define (default, cilium-test,
# demo, kube-system, monitoring, ...): a policy there is judged if they make the namespace an AI
# namespace and not judged otherwise (rules.pods.aiWorkloadsOutsideAI), so it is denied since it
# may be one, unless the run opts out.
n=$(printf '%s\n' "$out" | grep -c 'the labels of namespace "[a-z0-9-]*" are unknown (no Namespace object for it in the input, no --namespace-labels): if they make it an AI namespace')
[ "$n" -eq 40 ] && pass "corpus: 40 denied for unknown namespace labels" || fail "corpus: 40 denied for unknown namespace labels" "$n"
run "$EGRESSGUARD" check -p $P --namespace-labels-unknown=allow tests/data/corpus/manifests
# Opting out: those are policies of namespaces taken as not AI, which govern no AI workload; what
# stays denied is in "default" by having no namespace at all, or cluster-wide.
expect_in "corpus: opting out judges them as not AI" "$out" "egressguard: 655 objects checked (456 evaluated): 50 denied, 6 warned, 0 audited, 6 errors"
expect_in "corpus: opting out says so" "$out" 'judged as not an AI namespace (--namespace-labels-unknown=allow)'
errs=$(printf '%s\n' "$out" | grep -vE ': (deny|note|warn|audit): |^egressguard: ')
bad=$(printf '%s\n' "$errs" | grep -vE '^[^:]+:[0-9]+:[0-9]+: ' | grep -c .)
[ "$bad" -eq 0 ] && pass "corpus: every error is file:line:col" || fail "corpus: unpositioned errors" "$errs"
expect_in "corpus: duplicate keys" "$errs" "_archived__openshift-origin__etcd-controller.yaml:12:3: duplicate key \"selector\""
expect_in "corpus: invalid Cilium policy" "$errs" "chapter12__invalid-policy.yaml:14:9: spec.egress[0].toEntities"
expect_in "corpus: invalid NetworkPolicy" "$errs" "k8s-networkpolicy-invalid.yaml:27:13: spec.ingress[0].ports[0].port"

# The corpus again, with every namespace it uses known to carry no AI label: policies there
# govern no AI workload (rules.pods.aiWorkloadsOutsideAI keeps AI pods out), so only what may
# reach an AI namespace is denied — the GlobalNetworkPolicies selecting every namespace — and
# the accelerator Deployment in "default". Without the labels, each namespace may be an AI
# namespace by label, and the denials say so.
ns_known=""
for n in default cilium-test test-ns l7-visibility kube-system demo cilium-test-ccnp1 monitoring; do
    ns_known="$ns_known -n $n="
done
run "$EGRESSGUARD" check -p $P $ns_known tests/data/corpus/manifests
expect_in "corpus, namespaces known: summary" "$out" "egressguard: 655 objects checked (456 evaluated): 11 denied, 0 warned, 0 audited, 6 errors"
n=$(printf '%s\n' "$out" | grep ': deny: ' | grep 'NetworkPolicy' | sed 's/: deny: .*//' | sort -u | grep -c .)
[ "$n" -eq 10 ] && pass "corpus, namespaces known: 10 network policies denied" || fail "corpus, namespaces known: $n network policies denied, want 10"
n=$(printf '%s\n' "$out" | grep ': deny: ' | grep -vc 'GlobalNetworkPolicy\|Deployment vllm-gemma-deployment')
[ "$n" -eq 0 ] && pass "corpus, namespaces known: only cluster-wide policies and the GPU Deployment" || fail "corpus, namespaces known: $n other denials"
run "$EGRESSGUARD" check -p $P tests/data/corpus/manifests
expect_in "corpus, namespaces unknown: the reason" "$out" "namespace default may be an AI namespace: its labels, which aiWorkloads.namespaces.selectors look at, are unknown here"

# A policy file with the old name of rules.pods.aiWorkloadsOutsideAI: it works, with a note.
# ($bad holds a count by now: scratch files of their own)
old=$(mktemp); kinds=$(mktemp); trap 'rm -f "$old" "$kinds"' EXIT
sed 's/aiWorkloadsOutsideAI: true /acceleratorsOutsideAI: true/' $P >"$old"
line=$(grep -n 'acceleratorsOutsideAI: true' "$old" | cut -d: -f1)
run "$EGRESSGUARD" check -p "$old" tests/data/check/ns.yaml
expect_rc "old key: still exits 0" 0
expect_in "old key: positioned note" "$err" "egressguard check: $old:$line:30: note: spec.rules.pods.acceleratorsOutsideAI is the old name of aiWorkloadsOutsideAI"

# Network-policy kinds egressguard does not evaluate are named in a note, never passed in silence;
# other kinds it does not evaluate pass quietly (rules.unknownKinds: allow).
cat >"$kinds" <<'Y'
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: staged}
spec: {}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: cnp}
spec: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ml-a}
Y
run "$EGRESSGUARD" check -p $P "$kinds"
expect_rc "unevaluated network kinds: admitted" 0
expect_in "unevaluated network kinds: Calico staged policy named" "$out" \
    "StagedGlobalNetworkPolicy (projectcalico.org/v3) is a network-policy kind egressguard does not evaluate"
expect_in "unevaluated network kinds: ClusterNetworkPolicy named" "$out" \
    "ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) is a network-policy kind"
case "$out" in *ConfigMap*) fail "unevaluated network kinds: other kinds stay quiet" "$out" ;;
    *) pass "unevaluated network kinds: other kinds stay quiet" ;; esac
exit $t_failed
