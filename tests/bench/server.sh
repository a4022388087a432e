#!/bin/sh
# Keep-alive HTTPS load (wrk) on egressguard's /validate and /mutate and on two floor servers with
# the same certificate: floor_fixed (reads the body, fixed reply) and floor_jansson (json_loadb of
# the body, reply with its uid: the least a webhook answering from the body can do). Server CPU
# per request is utime + stime from /proc/PID/stat over the run; peak RSS is VmHWM.
#
# Four bodies (a pod, a NetworkPolicy, a CiliumNetworkPolicy, a Calico NetworkPolicy, each an
# AdmissionReview of an object that keeps to the allow-list), each sent to floor_jansson and to
# egressguard in turn, and the policy bodies to egressguard again with a 50-entry allow-list:
# BENCH_ROUNDS rounds, the servers interleaved, so that a busy machine weighs on both sides of
# a ratio alike. Each ratio is the median of its per-round ratios (their range beside it).
# Then `perf` (when it may) records egressguard on the NetworkPolicy and the Cilium bodies and
# the top consumers are printed.
# Usage: BUILD_DIR=build/default EGRESSGUARD=build/default/egressguard tests/bench/server.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
DURATION=${BENCH_SECONDS:-5}
THREADS=2
CONNS=${BENCH_CONNS:-64}

"$root/scripts/deps.sh" bench || exit 1
for b in "$EGRESSGUARD" "$BUILD_DIR/tests/bench/floor_fixed" "$BUILD_DIR/tests/bench/floor_jansson"; do
    [ -x "$b" ] || { echo "server.sh: $b is missing (make bench builds it)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

# ECDSA P-256, as the certs module generates.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key" 2>/dev/null
openssl req -x509 -new -key "$tmp/ca.key" -subj /CN=bench-ca -days 1 -out "$tmp/ca.crt" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/srv.key" 2>/dev/null
openssl req -new -key "$tmp/srv.key" -subj /CN=localhost -out "$tmp/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial 1 -days 1 \
    -extfile "$tmp/ext" -out "$tmp/srv.crt" 2>/dev/null

# --- bodies ---------------------------------------------------------------------------------------
# review NAME GROUP VERSION KIND NAMESPACE OBJECT: an AdmissionReview v1 CREATE by an admin.
review() {
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"%s-0001",' "$1"
    printf '"kind":{"group":"%s","version":"%s","kind":"%s"},' "$2" "$3" "$4"
    printf '"resource":{"group":"%s","version":"%s","resource":"x"},"namespace":"%s",' "$2" "$3" "$5"
    printf '"operation":"CREATE","userInfo":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},'
    printf '"object":%s,"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}}' "$6"
}
# A realistic pod admission (a captured kubewarden request, ~4 KB), in an AI namespace (ml-* in
# the example policy): every pod rule runs; it carries the labels AI pods must.
{ printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":'
  cat "$root/tests/data/admission/kubewarden/policies__sysctl-psp-policy__test_data__request-pod-no-sysctl.json"
  printf '}'; } | sed 's/"namespace":[[:space:]]*"default"/"namespace":"ml-bench"/g' >"$tmp/pod.json"
META='"metadata":{"name":"%s","namespace":"ml-bench","uid":"6f1b0c52-2b8e-4f7e-9d4a-3c1e2f6a7b8c","resourceVersion":"41823","creationTimestamp":"2025-01-01T00:00:00Z","labels":{"app.kubernetes.io/part-of":"training","team":"ml"},"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}'
review netpol networking.k8s.io v1 NetworkPolicy ml-bench "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",$(printf "$META" np),\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"trainer\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"10.20.0.0/16\",\"except\":[\"10.20.7.0/24\"]}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":443}]},{\"to\":[{\"ipBlock\":{\"cidr\":\"10.30.0.0/24\"}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":8000,\"endPort\":8010}]},{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}},\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],\"ports\":[{\"protocol\":\"UDP\",\"port\":53},{\"protocol\":\"TCP\",\"port\":53}]}]}}" >"$tmp/netpol.json"
review cilium cilium.io v2 CiliumNetworkPolicy ml-bench "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\",$(printf "$META" cnp),\"spec\":{\"endpointSelector\":{\"matchLabels\":{\"app\":\"trainer\"}},\"egress\":[{\"toFQDNs\":[{\"matchPattern\":\"*.s3.amazonaws.com\"},{\"matchName\":\"s3.amazonaws.com\"}],\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]},{\"toCIDRSet\":[{\"cidr\":\"10.20.0.0/16\",\"except\":[\"10.20.7.0/24\"]}],\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]},{\"toEndpoints\":[{\"matchLabels\":{\"k8s:io.kubernetes.pod.namespace\":\"kube-system\",\"k8s:k8s-app\":\"kube-dns\"}}],\"toPorts\":[{\"ports\":[{\"port\":\"53\",\"protocol\":\"UDP\"}],\"rules\":{\"dns\":[{\"matchPattern\":\"*\"}]}}]}]}}" >"$tmp/cilium.json"
# (Its rules name addresses only: a Calico selector also reaches NetworkSets, which the server
# does not know, so a rule to pods by selector is denied as possibly anything; the bench wants
# the common allowed case.)
review calico projectcalico.org v3 NetworkPolicy ml-bench "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",$(printf "$META" cal),\"spec\":{\"selector\":\"app == 'trainer'\",\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Deny\",\"destination\":{\"nets\":[\"169.254.0.0/16\"]}},{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"nets\":[\"10.20.0.0/16\"],\"ports\":[443]}},{\"action\":\"Allow\",\"protocol\":\"TCP\",\"destination\":{\"nets\":[\"10.30.0.0/24\"],\"ports\":[\"8000:8010\"]}}]}}" >"$tmp/calico.json"
for b in pod netpol cilium calico; do
    cat >"$tmp/$b.lua" <<EOF
local f = io.open("$tmp/$b.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
done

# A 50-entry allow-list: the example's 5 entries and 45 more (CIDRs, names, in-cluster peers, on
# assorted ports), as an organization's list grows.
awk '{ print } /^  allow:$/ {
    for (i = 0; i < 45; i++) {
        printf "    - name: extra-%d\n      reason: bench\n", i
        if (i % 3 == 0) printf "      cidrs: [10.%d.0.0/16, \"fd00:%x::/64\"]\n", 100 + i, 100 + i
        if (i % 3 == 1) printf "      fqdns: [\"*.svc%d.example.com\", api%d.example.net]\n", i, i
        if (i % 3 == 2) printf "      inCluster:\n        - namespaceSelector: {matchLabels: {team: t%d}}\n", i
        if (i % 5 == 0) printf "      ports:\n        - {protocol: TCP, port: %d}\n", 8400 + i
        else if (i % 5 == 1) printf "      ports:\n        - {protocol: TCP, port: 443}\n        - {protocol: UDP, port: %d, endPort: %d}\n", 9000 + i, 9010 + i
        else if (i % 5 == 2) printf "      ports:\n        - {protocol: TCP, port: 443}\n"
    }
}' "$root/examples/policy.yaml" >"$tmp/policy50.yaml"
n50=$(grep -c '^    - name: ' "$tmp/policy50.yaml")

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# start CMD...: starts a server, sets $pid and $port.
start() {
    "$@" >"$tmp/server.log" 2>&1 &
    pid=$!
    port=""; i=0
    while [ -z "$port" ] && [ $i -lt 300 ]; do
        sleep 0.1; i=$((i + 1))
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/server.log" | head -1)
    done
    [ -n "$port" ] || { echo "did not start: $(cat "$tmp/server.log")" >&2; return 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null; pid=""; }

# run NAME BODY PATH: wrk against the started server with BODY; appends "NAME us/req rss_kib" to
# $tmp/results and prints a line.
run() {
    name=$1; body=$2; path=$3
    url="https://127.0.0.1:$port$path"
    if ! curl -sS --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$tmp/$body.json" "$url" | grep -q "\"uid\":\"[^\"]*\""; then
        echo "$name: no valid answer from $url" >&2; return 1
    fi
    wrk -t1 -c4 -d1s -s "$tmp/$body.lua" "$url" >/dev/null 2>&1 # warm-up
    c0=$(cpu_ticks "$pid")
    wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s "$tmp/$body.lua" "$url" >"$tmp/wrk.out" 2>&1
    c1=$(cpu_ticks "$pid")
    hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
    reqs=$(sed -n 's/^[[:space:]]*\([0-9]*\) requests in.*/\1/p' "$tmp/wrk.out")
    rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
    non2xx=$(sed -n 's/.*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$tmp/wrk.out")
    us=$(awk -v c="$((c1 - c0))" -v t="$ticks" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.1f", c / t * 1e6 / n; else print "nan" }')
    printf '  %-26s %9s req/s  p99 %8s  %7s us/req  %5s MiB%s\n' "$name" "$rps" "$p99" "$us" \
        "$((hwm / 1024))" "${non2xx:+  non-2xx: $non2xx}"
    echo "$name $us $hwm" >>"$tmp/results"
}

eg() { start "$EGRESSGUARD" serve --policy "$1" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --listen 127.0.0.1:0; }
floor() { start "$BUILD_DIR/tests/bench/floor_$1" "$tmp/srv.crt" "$tmp/srv.key"; }

echo "server bench: wrk -t$THREADS -c$CONNS -d${DURATION}s x $ROUNDS rounds, keep-alive HTTPS (ECDSA P-256), $(nproc) cores"
echo "bodies: pod $(wc -c <"$tmp/pod.json") B, NetworkPolicy $(wc -c <"$tmp/netpol.json") B, Cilium $(wc -c <"$tmp/cilium.json") B, Calico $(wc -c <"$tmp/calico.json") B; allow-lists of 5 (example) and $n50 entries"
: >"$tmp/results"
r=1
while [ $r -le "$ROUNDS" ]; do
    echo "round $r"
    floor fixed && { run floor_fixed pod /; stop; } || exit 1
    for b in pod netpol cilium calico; do
        floor jansson && { run "floor_jansson.$b" $b /; stop; } || exit 1
        eg "$root/examples/policy.yaml" && { run "validate.$b" $b /validate; stop; } || exit 1
    done
    eg "$root/examples/policy.yaml" && { run mutate.pod pod /mutate; stop; } || exit 1
    for b in netpol cilium; do
        eg "$tmp/policy50.yaml" && { run "validate50.$b" $b /validate; stop; } || exit 1
    done
    r=$((r + 1))
done

echo "ratios (median of $ROUNDS interleaved rounds):"
for b in pod netpol cilium calico; do
    x=$(ratio "validate.$b" "floor_jansson.$b")
    printf '  /validate %-8s / jansson floor on the same body: %5sx (rounds %s; target <= 1.2x: %s)\n' "$b" "$x" \
        "$(spread "validate.$b" "floor_jansson.$b")" "$(verdict "$x" 1.2)"
done
for b in netpol cilium; do
    x=$(ratio "validate50.$b" "validate.$b")
    printf '  50-entry allow-list / example (%-6s body):       %5sx (rounds %s; target <= 1.1x: %s)\n' "$b" "$x" \
        "$(spread "validate50.$b" "validate.$b")" "$(verdict "$x" 1.1)"
done
printf '  /mutate / /validate (pod):                         %5sx\n' "$(ratio mutate.pod validate.pod)"
rss=$(awk '$1 ~ /^(validate|mutate)/ && $3 > m { m = $3 } END { printf "%.1f", m / 1024 }' "$tmp/results")
printf '  egressguard peak RSS at %d keep-alive connections:   %s MiB (target <= 16 MiB: %s)\n' "$CONNS" "$rss" "$(verdict "$rss" 16)"

# Where the CPU goes on the policy bodies, beyond the floor's TLS and JSON parse.
for b in netpol cilium; do
    command -v perf >/dev/null 2>&1 && eg "$root/examples/policy.yaml" || break
    url="https://127.0.0.1:$port/validate"
    perf record -F 999 -p "$pid" -o "$tmp/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 &
    rec=$!
    wrk -t$THREADS -c$CONNS -d${DURATION}s -s "$tmp/$b.lua" "$url" >/dev/null 2>&1
    wait "$rec"
    stop
    if [ -s "$tmp/perf.data" ]; then
        echo "perf: top consumers of egressguard's CPU, /validate of the $b body"
        perf report -i "$tmp/perf.data" --no-children --stdio --sort dso,sym 2>/dev/null |
            awk '/^ *[0-9.]+%/ { printf "  %s\n", $0; if (++n == 15) exit }'
    else
        echo "perf: not permitted here (kernel.perf_event_paranoid?), skipped"
        break
    fi
    rm -f "$tmp/perf.data"
done
