#!/bin/sh
# `egressguard serve` under pressure and on the way out: one listener per port, the global cap on
# buffered request bodies (429), and the SIGTERM drain under load with zero requests dropped.
# No step waits for a fixed time to pass: every wait polls for what it expects, with a bound.
. "$(dirname "$0")/../lib.sh"

AD="$DATA/admission"
SD="$DATA/server"
. "$(dirname "$0")/tlsfix.sh"
make_server_cert 1a01

# --- one server per port ------------------------------------------------------------------------
if ! start first --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --shutdown-delay 0; then
    fail "drain_first_server_starts" "$(cat "$tmp/first.log")"
    exit 1
fi
first_pid=$pid
first_port=$port
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" \
    --tls-key "$tmp/srv.key" --listen "127.0.0.1:$first_port"
expect_rc "test_serve_port_in_use_exit_1" 1
expect_in "test_serve_port_in_use_names_it" "$err" "cannot listen on 127.0.0.1:$first_port: the port is in use"
# make run says how to pick another port.
PORT=$first_port run sh "$TESTS_DIR/../scripts/run-dev.sh" "$EGRESSGUARD"
expect_rc "test_make_run_port_in_use_exit_1" 1
expect_in "test_make_run_port_in_use_hint" "$err" "set PORT= to use another port, e.g. make run PORT=$((first_port + 1))"
# ... and the first server still gets every request (before: SO_REUSEPORT split them).
n=0; ok=0
while [ $n -lt 20 ]; do
    [ "$(C -o /dev/null -w '%{http_code}' "$(U /healthz)")" = 200 ] && ok=$((ok + 1))
    n=$((n + 1))
done
expect_in "test_serve_port_in_use_first_keeps_serving" "$ok" "20"
kill -TERM "$first_pid"
wait_exit "$first_pid" 30
expect_in "test_serve_first_exit_0" "$status" "0"

run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" \
    --tls-key "$tmp/srv.key" --max-body 2048 --max-inflight-bytes 1024
expect_rc "test_serve_inflight_below_body_usage" 2
expect_in "test_serve_inflight_below_body_msg" "$err" "--max-inflight-bytes must be at least --max-body"
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" \
    --tls-key "$tmp/srv.key" --shutdown-delay soon
expect_rc "test_serve_shutdown_delay_bad" 2
expect_in "test_serve_shutdown_delay_bad_msg" "$err" "--shutdown-delay wants a duration"

# --- --max-inflight-bytes: a global cap on buffered bodies ----------------------------------------
if ! start cap --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --max-body 1048576 --max-inflight-bytes 1048576 --shutdown-delay 0; then
    fail "drain_cap_server_starts" "$(cat "$tmp/cap.log")"
    exit 1
fi
cap_pid=$pid
expect_in "test_serve_inflight_limit_metric" "$(metric egressguard_request_body_bytes_limit)" "1048576"
# A client that sends 1,048,500 of its declared 1,048,576 bytes and then waits holds them: what
# is left of the cap is less than a pod review.
# (s_client -quiet ignores the end of its input: it holds the connection until it is stopped.)
{ printf 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n'
  head -c 1048500 /dev/zero | tr '\0' ' '; } >"$tmp/hog.in"
timeout 90 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost <"$tmp/hog.in" \
    >/dev/null 2>&1 &
hog=$!
pids="$pids $hog"
held() { [ "$(metric egressguard_request_body_bytes)" -ge 1048500 ] 2>/dev/null; }
if until_ok 30 held; then pass "test_serve_inflight_bytes_counted"; else fail "test_serve_inflight_bytes_counted" "$(metric egressguard_request_body_bytes)"; fi
post /validate "$AD/pod-v1.json" -D "$tmp/cap.headers"
expect_in "test_serve_inflight_cap_429" "$code" "429"
expect_in "test_serve_inflight_cap_reason" "$out" "too many request bytes in flight"
expect_in "test_serve_inflight_cap_retry_after" "$(cat "$tmp/cap.headers")" "Retry-After: 1"
expect_in "test_serve_inflight_cap_counted" "$(metric 'egressguard_http_errors_total{code="429"}')" "1"
run C -o /dev/null -w '%{http_code}' "$(U /healthz)"
expect_in "test_serve_inflight_cap_health_unaffected" "$out" "200"
kill "$hog" 2>/dev/null
released() { [ "$(metric egressguard_request_body_bytes)" = 0 ]; }
if until_ok 30 released; then pass "test_serve_inflight_bytes_released"; else fail "test_serve_inflight_bytes_released" "$(metric egressguard_request_body_bytes)"; fi
post /validate "$AD/pod-v1.json"
expect_in "test_serve_inflight_cap_lifted" "$code" "200"
kill -TERM "$cap_pid"
wait_exit "$cap_pid" 30

# --- SIGTERM under load: nothing dropped ----------------------------------------------------------
# A long --shutdown-delay, ended by a second SIGTERM once the drain has been seen, so that the
# test never depends on how long anything takes.
if ! start load --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --shutdown-delay 120s --log-level warn; then
    fail "drain_load_server_starts" "$(cat "$tmp/load.log")"
    exit 1
fi
load_pid=$pid
python3 "$(dirname "$0")/drain_load.py" "$port" "$tmp/ca.crt" "$AD/pod-v1.json" 16 "$tmp/load.json" \
    >"$tmp/loader.out" 2>&1 &
loader=$!
pids="$pids $loader"
# stat KEY: a count from the loader's status file (0 before it exists).
stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$tmp/load.json" "$1" 2>/dev/null || echo 0; }
busy() { [ "$(stat ok)" -ge 400 ]; }
if until_ok 120 busy; then pass "test_serve_drain_load_running"; else fail "test_serve_drain_load_running" "$(cat "$tmp/load.json" "$tmp/loader.out" 2>&1)"; fi
before=$(stat ok)
kill -TERM "$load_pid"
not_ready() { [ "$(C -o /dev/null -w '%{http_code}' "$(U /readyz)" 2>/dev/null)" = 503 ]; }
if until_ok 30 not_ready; then pass "test_serve_drain_readyz_fails_at_once"; else fail "test_serve_drain_readyz_fails_at_once"; fi
# Still accepting: new connections are answered (and closed after their answer).
served_after() { [ "$(stat closes)" -ge 16 ] && [ "$(stat ok)" -gt $((before + 16)) ]; }
if until_ok 60 served_after; then pass "test_serve_drain_keeps_accepting"; else fail "test_serve_drain_keeps_accepting" "$(cat "$tmp/load.json")"; fi
run C -D - -o /dev/null "$(U /healthz)"
expect_in "test_serve_drain_new_connection_answered" "$out" "HTTP/1.1 200"
kill -TERM "$load_pid"   # the second SIGTERM ends the delay
wait_exit "$loader" 120
expect_in "test_serve_drain_loader_finished" "$(stat done)" "1"
expect_in "test_serve_drain_zero_dropped" "$(stat dropped)" "0"
expect_in "test_serve_drain_zero_bad" "$(stat bad)" "0"
if [ "$(stat refused)" -ge 1 ]; then pass "test_serve_drain_then_stops_accepting"; else fail "test_serve_drain_then_stops_accepting" "$(cat "$tmp/load.json")"; fi
wait_exit "$load_pid" 60
expect_in "test_serve_drain_exit_0" "$status" "0"
echo "drain under load: $(cat "$tmp/load.json")"

# --- the delay ends by itself -------------------------------------------------------------------
if start short --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --shutdown-delay 500ms; then
    short_pid=$pid
    kill -TERM "$short_pid"
    wait_exit "$short_pid" 60
    expect_in "test_serve_shutdown_delay_expires_exit_0" "$status" "0"
    expect_in "test_serve_shutdown_delay_logged" "$(cat "$tmp/short.log")" "accepting for 500 ms more"
else
    fail "drain_short_server_starts" "$(cat "$tmp/short.log")"
fi

exit $t_failed
