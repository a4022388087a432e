# Sourced by the server suites that need a Kubernetes API (after tlsfix.sh and make_server_cert):
# the fake API server (fake_kube.py) on a free loopback port, kubeconfigs for it, and helpers to
# run `egressguard serve` against it and talk to both. python3 runs the fake; scripts/deps.sh
# installs it with the build packages.
command -v python3 >/dev/null || { fail "python3 is needed (scripts/deps.sh build installs it)"; exit 1; }

# start_fake DIR: the fake API, state in DIR (seed DIR/seed.json first); its port in $kport.
start_fake() {
    mkdir -p "$1"
    python3 "$TESTS_DIR/server/fake_kube.py" "$tmp/srv.crt" "$tmp/srv.key" "$1" 2>"$1.log" &
    pids="$pids $!"
    i=0; while [ ! -s "$1/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    [ -s "$1/port" ] || { fail "fake API starts" "$(cat "$1.log")"; exit 1; }
    kport=$(cat "$1/port")
}

# kubeconfig FILE PORT USER-YAML: a kubeconfig for the fake (or nothing) on PORT.
kubeconfig() {
    cat >"$1" <<K
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$2", certificate-authority: "$tmp/ca.crt"}
users:
- name: eg
  user: $3
contexts:
- name: test
  context: {cluster: fake, user: eg}
K
}

# ctl VERB JSON: steers the fake (fake_kube.py's /_control).
ctl() {
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "$2" "https://127.0.0.1:$kport/_control/$1" >/dev/null
}

# serve NAME ARGS...: egressguard serve with the example policy (serve_tls); $port, log in
# $tmp/NAME.log.
serve() {
    name=$1; shift
    serve_tls "$name" -p examples/policy.yaml "$@" ||
        { fail "serve $name starts" "$(cat "$tmp/$name.log")"; exit 1; }
}

post() { # post PATH FILE: the reply in $out
    out=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$2" "https://127.0.0.1:$port$1")
}
get() { # get PATH: the body in $out, the status in $code
    out=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -w '\n%{http_code}' "https://127.0.0.1:$port$1")
    code=$(printf '%s' "$out" | tail -n 1)
    out=$(printf '%s' "$out" | sed '$d')
}
metric() { # metric NAME-WITH-LABELS: its value now ("" when absent)
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" "https://127.0.0.1:$port/metrics" |
        awk -v n="$1" '$1 == n { print $2 }'
}

# until_ok TRIES CMD...: runs CMD every 0.1 s until it succeeds, at most TRIES times (bounded
# polling: a slow machine waits longer, a fast one less; nothing asserts a duration).
until_ok() {
    # N tenths of a second on an idle machine; the bound is tripled so that a loaded CI runner
    # (two shared cores, sanitizers) only makes a passing test slower, never a failing one.
    n=$(($1 * 3)); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ "$n" -gt 0 ] || return 1
        sleep 0.1
    done
}

# pod NS [HOSTNET]: a pod's AdmissionReview in $tmp/pod-NS.json (hostNetwork unless HOSTNET=false).
pod() {
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"p-%s","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"%s","name":"p","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s","labels":{"data-classification":"internal"}},"spec":{"hostNetwork":%s,"containers":[{"name":"c","image":"busybox"}]}}}}' \
        "$1" "$1" "$1" "${2:-true}" >"$tmp/pod-$1.json"
}
verdict() { # verdict NS: sets $v to true or false, the answer to a hostNetwork pod in NS ($out)
    pod "$1"
    post /validate "$tmp/pod-$1.json"
    v=$(printf '%s' "$out" | sed -n 's/.*"allowed":\(true\|false\).*/\1/p')
}
denied() { verdict "$1"; [ "$v" = false ]; }
allowed() { verdict "$1"; [ "$v" = true ]; }

# ns_json NAME [LABELS-JSON]: a Namespace object.
ns_json() {
    printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","labels":%s}}' "$1" "${2:-{\}}"
}
AI='{"egressguard.io/ai-workload":"true"}'
