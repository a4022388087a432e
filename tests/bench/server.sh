#!/bin/sh
# Keep-alive HTTPS load (wrk) on egressguard's /validate and /mutate, and on two floor servers with
# the same certificate: floor_fixed (reads the body, fixed reply) and floor_jansson (json_loadb of
# the body, reply with its uid). Prints requests/s, p50/p99 latency, server CPU per request (utime +
# stime from /proc/PID/stat) and peak RSS (VmHWM), then the ratios that matter.
# Usage: BUILD_DIR=build/default EGRESSGUARD=build/default/egressguard tests/bench/server.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build/default}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$root/$BUILD_DIR" ;; esac
EGRESSGUARD=${EGRESSGUARD:-$BUILD_DIR/egressguard}
DURATION=${BENCH_SECONDS:-10}
THREADS=2
CONNS=${BENCH_CONNS:-32}

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

# A realistic pod admission (a captured kubewarden request, ~4 KB) into an AdmissionReview v1.
{ printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":'
  cat "$root/tests/data/admission/kubewarden/policies__sysctl-psp-policy__test_data__request-pod-no-sysctl.json"
  printf '}'; } >"$tmp/review.json"
# The same pod in an AI namespace (ml-* in the example policy): every pod rule runs, and the
# answer is a denial with its message (the pod lacks the required data-classification label).
sed 's/"namespace":[[:space:]]*"default"/"namespace":"ml-bench"/g' "$tmp/review.json" >"$tmp/review-ai.json"
for b in review review-ai; do
    cat >"$tmp/$b.lua" <<EOF
local f = io.open("$tmp/$b.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
done
body=review

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# bench NAME PATH CMD...: starts the server, checks one answer, runs wrk, prints a result line.
bench() {
    name=$1; path=$2; shift 2
    "$@" >"$tmp/$name.log" 2>&1 &
    pid=$!
    port=""; i=0
    while [ -z "$port" ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/$name.log" | head -1)
    done
    [ -n "$port" ] || { echo "$name: did not start: $(cat "$tmp/$name.log")" >&2; return 1; }
    url="https://127.0.0.1:$port$path"
    if ! curl -sS --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$tmp/$body.json" "$url" | grep -q '"uid"'; then
        echo "$name: no valid answer from $url" >&2; return 1
    fi
    wrk -t1 -c4 -d2s -s "$tmp/$body.lua" "$url" >/dev/null 2>&1 # warm-up
    c0=$(cpu_ticks "$pid")
    wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s "$tmp/$body.lua" "$url" >"$tmp/$name.wrk" 2>&1
    c1=$(cpu_ticks "$pid")
    hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null; pid=""
    reqs=$(sed -n 's/^[[:space:]]*\([0-9]*\) requests in.*/\1/p' "$tmp/$name.wrk")
    rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$tmp/$name.wrk")
    p50=$(awk '$1 == "50%" { print $2 }' "$tmp/$name.wrk")
    p99=$(awk '$1 == "99%" { print $2 }' "$tmp/$name.wrk")
    non2xx=$(sed -n 's/.*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$tmp/$name.wrk")
    us=$(awk -v c="$((c1 - c0))" -v t="$ticks" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.1f", c / t * 1e6 / n; else print "nan" }')
    printf '%-22s %10s %9s %9s %12s %9s %s\n' "$name" "$rps" "$p50" "$p99" "$us" "$((hwm / 1024))MiB" "${non2xx:+non-2xx: $non2xx}"
    eval "cpu_$(echo "$name" | tr -c 'a-z0-9\n' '_')=$us"
}

echo "server bench: wrk -t$THREADS -c$CONNS -d${DURATION}s, keep-alive HTTPS (ECDSA P-256), $(wc -c <"$tmp/review.json")-byte pod AdmissionReview, $(nproc) cores"
printf '%-22s %10s %9s %9s %12s %9s\n' server "req/s" p50 p99 "CPU us/req" "peak RSS"
bench floor_fixed / "$BUILD_DIR/tests/bench/floor_fixed" "$tmp/srv.crt" "$tmp/srv.key" || exit 1
bench floor_jansson / "$BUILD_DIR/tests/bench/floor_jansson" "$tmp/srv.crt" "$tmp/srv.key" || exit 1
bench egressguard_validate /validate "$EGRESSGUARD" serve --policy "$root/examples/policy.yaml" \
    --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --listen 127.0.0.1:0 || exit 1
bench egressguard_mutate /mutate "$EGRESSGUARD" serve --policy "$root/examples/policy.yaml" \
    --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --listen 127.0.0.1:0 || exit 1
body=review-ai
bench egressguard_validate_ai /validate "$EGRESSGUARD" serve --policy "$root/examples/policy.yaml" \
    --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --listen 127.0.0.1:0 || exit 1

awk -v v="$cpu_egressguard_validate" -v m="$cpu_egressguard_mutate" -v j="$cpu_floor_jansson" \
    -v a="$cpu_egressguard_validate_ai" 'BEGIN {
    printf "ratio egressguard/jansson-floor CPU per request: %.2fx (target <= 1.3x)\n", v / j
    printf "  the same pod in an AI namespace (every pod rule, a denial): %.2fx\n", a / j
    printf "ratio mutate/validate CPU per request:           %.2fx (target <= 1.5x)\n", m / v
}'
