#!/bin/sh
# Integration tests of `egressguard serve`: the real server on a free loopback port, a test CA made
# here with the openssl CLI (ECDSA P-256, SAN IP:127.0.0.1 and DNS:localhost), curl --cacert
# verifying chain and name as kube-apiserver does. Every process started here is stopped by PID.
. "$(dirname "$0")/../lib.sh"

AD="$DATA/admission"
SD="$DATA/server"
. "$(dirname "$0")/tlsfix.sh"

make_pki
mkdir -p "$tmp/tls"
cp "$tmp/srv1.crt" "$tmp/tls/tls.crt"
cp "$tmp/srv1.key" "$tmp/tls/tls.key"

# The policy as a ConfigMap mount lays it out: policy.yaml -> ..data/policy.yaml, ..data -> ..v1.
mkdir -p "$tmp/cm/..v1" "$tmp/cm/..v2" "$tmp/cm/..v3" "$tmp/cm/..v4"
cp "$SD/allow-unknown.yaml" "$tmp/cm/..v1/policy.yaml"
cp "$SD/deny-unknown.yaml" "$tmp/cm/..v2/policy.yaml"
cp "$SD/invalid.yaml" "$tmp/cm/..v3/policy.yaml"
cp "$SD/warn-unknown.yaml" "$tmp/cm/..v4/policy.yaml"
ln -s ..v1 "$tmp/cm/..data"
ln -s ..data/policy.yaml "$tmp/cm/policy.yaml"
swap_cm() { ln -s "$1" "$tmp/cm/..data.new" && mv -T "$tmp/cm/..data.new" "$tmp/cm/..data"; }

# --- the main server ----------------------------------------------------------------------------
if ! start main --policy "$tmp/cm/policy.yaml" --tls-cert "$tmp/tls/tls.crt" \
    --tls-key "$tmp/tls/tls.key" --max-body 8388608; then
    fail "serve starts" "$(cat "$tmp/main.log")"
    exit 1
fi
main_pid=$pid
pass "serve starts and reports its port"

run C -w '%{http_code}' "$(U /healthz)"; expect_in "test_serve_healthz" "$out" "200"
run C -w '%{http_code}' "$(U /readyz)"; expect_in "test_serve_readyz_ready" "$out" "ready"
run C "$(U /metrics)"; expect_in "test_serve_metrics" "$out" "egressguard_in_flight_requests"
run C -w '%{http_code}' "$(U /nowhere)"; expect_in "test_serve_unknown_path_404" "$out" "404"

post "/validate?timeout=10s" "$AD/pod-v1.json"
expect_in "test_serve_validate_v1_status" "$code" "200"
expect_in "test_serve_validate_v1_version" "$out" '"apiVersion":"admission.k8s.io/v1"'
expect_in "test_serve_validate_v1_uid" "$out" '"uid":"7f0c1d2e-0001-4c3b-9a55-000000000001"'
expect_in "test_serve_validate_v1_allowed" "$out" '"allowed":true'
post "/validate?timeout=10s" "$AD/pod-v1beta1.json"
expect_in "test_serve_validate_v1beta1_version" "$out" '"apiVersion":"admission.k8s.io/v1beta1"'
expect_in "test_serve_validate_v1beta1_uid" "$out" '"uid":"7f0c1d2e-0001-4c3b-9a55-000000000001"'

post /validate "$AD/pod-hostnetwork-v1.json"
expect_in "test_serve_validate_pod_denied" "$out" '"allowed":false,"status":{"code":403,"message":"egressguard denied Pod ml-train/trainer: spec.hostNetwork: '

post /mutate "$AD/namespace-v1.json"
expect_in "test_serve_mutate_patch_type" "$out" '"patchType":"JSONPatch"'
patch=$(printf '%s' "$out" | sed -n 's/.*"patch":"\([^"]*\)".*/\1/p' | base64 -d 2>/dev/null)
expect_in "test_serve_mutate_patch_base64" "$patch" 'egressguard.io~1enforced'
expect_in "test_serve_mutate_dry_run_answered" "$out" '"allowed":true'

# Keep-alive: curl reuses the connection for the second URL (0 new connects).
run C -o /dev/null -o /dev/null -w '%{num_connects} ' "$(U /healthz)" "$(U /readyz)"
expect_in "test_serve_keepalive" "$out" "1 0"

# TLS 1.2+ only.
run C --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$(U /healthz)"
expect_in "test_serve_tls12_accepted" "$out" "200"
run C --tlsv1.0 --tls-max 1.1 -o /dev/null "$(U /healthz)"
if [ "$rc" -ne 0 ]; then pass "test_serve_tls11_refused"; else fail "test_serve_tls11_refused"; fi

# --- bad requests -------------------------------------------------------------------------------
run C -w '%{http_code}' "$(U /validate)"
expect_in "test_serve_get_validate_405" "$out" "405"
run C -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$AD/pod-v1.json" "$(U /healthz)"
expect_in "test_serve_post_healthz_405" "$out" "405"
run C -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary "@$AD/pod-v1.json" "$(U /validate)"
expect_in "test_serve_wrong_type_415" "$out" "415"
expect_in "test_serve_wrong_type_415_reason" "$out" "application/json"
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"}}}' >"$tmp/nouid.json"
post /validate "$tmp/nouid.json"
expect_in "test_serve_missing_uid_400" "$code" "400"
expect_in "test_serve_missing_uid_reason" "$out" "missing request.uid"
printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"d-1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"ml-a","operation":"CREATE","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}}}' >"$tmp/disagree.json"
post /validate "$tmp/disagree.json"
expect_in "test_serve_parts_disagree_400" "$code" "400"
expect_in "test_serve_parts_disagree_reason" "$out" 'parts disagree: request.kind.kind is \"Pod\" but request.object.kind is \"ConfigMap\"'
printf '{"apiVersion": "admission.k8s.io/v1", "kind": ' >"$tmp/broken.json"
post /validate "$tmp/broken.json"
expect_in "test_serve_malformed_400" "$code" "400"
expect_in "test_serve_malformed_reason" "$out" "malformed JSON"
head -c 9000000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
post /validate "$tmp/big.json"
expect_in "test_serve_too_large_content_length_413" "$code" "413"
post /validate "$tmp/big.json" -H 'Transfer-Encoding: chunked'
expect_in "test_serve_too_large_chunked_413" "$code" "413"
# A body just under the limit is read whole (spaces are valid JSON whitespace).
{ head -c 3000000 /dev/zero | tr '\0' ' '; cat "$AD/pod-v1.json"; } >"$tmp/wide.json"
post /validate "$tmp/wide.json" -H 'Transfer-Encoding: chunked'
expect_in "test_serve_large_chunked_accepted" "$out" '"allowed":true'
run C -w '%{http_code}' "$(U /healthz)"; expect_in "test_serve_alive_after_bad_requests" "$out" "200"

# --- verdicts and policy reload (ConfigMap symlink swap, invalid file, SIGHUP) ------------------
post /validate "$AD/configmap-v1.json"
expect_in "test_serve_unknown_kind_allowed_by_policy" "$out" '"allowed":true'
swap_cm ..v2
denied() { post /validate "$AD/configmap-v1.json"; case "$out" in *'"allowed":false'*) return 0 ;; esac; return 1; }
if until_ok 5 denied; then pass "test_serve_reload_symlink_swap"; else fail "test_serve_reload_symlink_swap" "$out"; fi
expect_in "test_serve_deny_status_403" "$out" '"code":403'
expect_in "test_serve_deny_message_names_kind" "$out" 'egressguard denied ConfigMap ml-train/settings'
expect_in "test_serve_deny_audit_annotation" "$out" '"verdict":"deny"'
swap_cm ..v3
failed_reload() { [ "$(metric 'egressguard_reload_failures_total{what="policy"}')" -ge 1 ] 2>/dev/null; }
if until_ok 5 failed_reload; then pass "test_serve_invalid_policy_counted"; else fail "test_serve_invalid_policy_counted"; fi
post /validate "$AD/configmap-v1.json"
expect_in "test_serve_invalid_policy_old_keeps_serving" "$out" '"allowed":false'
expect_in "test_serve_invalid_policy_logged" "$(cat "$tmp/main.log")" "policy reload failed"
swap_cm ..v4
warned() { post /validate "$AD/configmap-v1.json"; case "$out" in *'"warnings":['*) return 0 ;; esac; return 1; }
if until_ok 5 warned; then pass "test_serve_warn_mode_warnings"; else fail "test_serve_warn_mode_warnings" "$out"; fi
expect_in "test_serve_warn_mode_allowed" "$out" '"allowed":true'
long=$(printf '%s' "$out" | sed -n 's/.*"warnings":\["\([^"]*\)".*/\1/p')
if [ ${#long} -gt 0 ] && [ ${#long} -lt 120 ]; then pass "test_serve_warning_under_120"; else fail "test_serve_warning_under_120" "${#long}: $long"; fi
before=$(metric 'egressguard_reloads_total{what="policy"}')
kill -HUP "$main_pid"
hup() { [ "$(metric 'egressguard_reloads_total{what="policy"}')" -gt "$before" ] 2>/dev/null; }
if until_ok 5 hup; then pass "test_serve_sighup_reloads"; else fail "test_serve_sighup_reloads"; fi

# Decisions are logged as JSON lines without the object.
line=$(grep '"msg":"decision"' "$tmp/main.log" | grep '7f0c1d2e-0004' | tail -1)
expect_in "test_serve_log_decision_fields" "$line" '"kind":"ConfigMap","namespace":"ml-train","name":"settings","operation":"CREATE","user":"bob"'
expect_in "test_serve_log_latency" "$line" '"latency_us":'
case "$(cat "$tmp/main.log")" in *'"data":{"k"'*|*'"k":"v"'*) fail "test_serve_log_never_the_object" ;; *) pass "test_serve_log_never_the_object" ;; esac
run C "$(U /metrics)"
expect_in "test_serve_metrics_by_kind" "$out" 'egressguard_admission_requests_total{endpoint="validate",kind="ConfigMap",operation="CREATE",verdict="deny"}'
expect_in "test_serve_metrics_histogram" "$out" 'egressguard_admission_duration_seconds_bucket{endpoint="validate",le="+Inf"}'
expect_in "test_serve_metrics_bad_requests" "$out" 'egressguard_http_errors_total{code="413"} 2'

# --- every corpus payload through the server (bare requests wrapped in an AdmissionReview) ------
# (Requests whose parts contradict each other, third column, get 400 with the reason.)
bad=0; n=0; refused=0
while IFS="$(printf '\t')" read -r f uid why; do
    { printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":'; cat "$AD/$f"; printf '}'; } >"$tmp/wrapped.json"
    if grep -q '"request"' "$AD/$f"; then cp "$AD/$f" "$tmp/wrapped.json"; fi
    post /validate "$tmp/wrapped.json"
    n=$((n + 1))
    case "$why:$code $out" in
    ":200 "*'"response":{"uid":"'"$uid"'","allowed":'[tf]*) ;;
    "parts disagree:400 "*'"error":"bad AdmissionReview: parts disagree: '*) refused=$((refused + 1)) ;;
    *) bad=$((bad + 1)); echo "corpus: $f: $code $out" | head -c 400; echo ;;
    esac
done <"$AD/kubewarden-uids.tsv"
if [ "$bad" -eq 0 ] && [ "$n" -gt 170 ] && [ "$refused" -eq 5 ]; then pass "test_serve_corpus_kubewarden ($n, $refused refused)"; else fail "test_serve_corpus_kubewarden" "$bad of $n, $refused refused"; fi

# --- slow clients cannot hold the workers -------------------------------------------------------
i=0
while [ $i -lt 4 ]; do
    (printf 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'; sleep 6) |
        timeout 8 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost >/dev/null 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
sleep 1
run C --max-time 3 -w '%{http_code}' "$(U /healthz)"
expect_in "test_serve_trickling_clients_do_not_block" "$out" "200"

# --- certificate reload under concurrent requests -----------------------------------------------
serial() { openssl s_client -connect "127.0.0.1:$port" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'; }
expect_in "test_serve_cert_initial_serial" "$(serial)" "1A01"
(
    j=0; fails=0
    while [ $j -lt 60 ]; do
        out=$(curl -sS --max-time 5 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
            --data-binary "@$AD/pod-v1.json" "https://127.0.0.1:$port/validate" 2>&1)
        case "$out" in *'"allowed":true'*) ;; *) fails=$((fails + 1)); echo "$out" ;; esac
        j=$((j + 1))
    done
    echo "fails=$fails"
) >"$tmp/load.out" 2>&1 &
loader=$!
pids="$pids $loader"
sleep 0.3
cp "$tmp/srv2.key" "$tmp/tls/tls.key.new"; cp "$tmp/srv2.crt" "$tmp/tls/tls.crt.new"
mv "$tmp/tls/tls.key.new" "$tmp/tls/tls.key"; mv "$tmp/tls/tls.crt.new" "$tmp/tls/tls.crt"
new_serial() { [ "$(serial)" = "2B02" ]; }
if until_ok 5 new_serial; then pass "test_serve_cert_reload"; else fail "test_serve_cert_reload" "$(serial)"; fi
wait_exit "$loader" 30
expect_in "test_serve_cert_reload_no_failed_requests" "$(cat "$tmp/load.out")" "fails=0"
# A key that does not match is refused; the current pair keeps serving.
cp "$tmp/srv1.key" "$tmp/tls/tls.key"
certfail() { [ "$(metric 'egressguard_reload_failures_total{what="certificate"}')" -ge 1 ] 2>/dev/null; }
if until_ok 5 certfail; then pass "test_serve_cert_mismatch_counted"; else fail "test_serve_cert_mismatch_counted"; fi
expect_in "test_serve_cert_mismatch_old_serves" "$(serial)" "2B02"

# --- SIGTERM with a request in flight -----------------------------------------------------------
# A ~300 KB review uploaded at 100 KB/s is still in flight when SIGTERM arrives.
{ printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"slow-1","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","namespace":"ml-a","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"pad":"'
  head -c 300000 /dev/zero | tr '\0' 'x'; printf '"}}}}'; } >"$tmp/slow.json"
(curl -sS --max-time 20 --cacert "$tmp/ca.crt" --limit-rate 100K -H 'Content-Type: application/json' \
    --data-binary "@$tmp/slow.json" "$(U /validate)" >"$tmp/slow.out" 2>&1; echo "rc=$?" >>"$tmp/slow.out") &
slow=$!
pids="$pids $slow"
# An idle keep-alive connection (one request answered, then silence) must not delay the exit.
(printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'; sleep 25) |
    timeout 30 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost >"$tmp/idle.out" 2>&1 &
idle=$!
pids="$pids $idle"
# SIGTERM only once the idle connection has its answer (bounded: a busy machine is slow, not wrong).
idle_served() { grep -q ok "$tmp/idle.out" 2>/dev/null; }
until_ok 60 idle_served || true
kill -TERM "$main_pid"
# Draining (--shutdown-delay, 5 s by default): not ready at once, but still answering, each
# answer closing its connection.
not_ready() { [ "$(C -o /dev/null -w '%{http_code}' "$(U /readyz)" 2>/dev/null)" = 503 ]; }
if until_ok 5 not_ready; then pass "test_serve_sigterm_readyz_fails"; else fail "test_serve_sigterm_readyz_fails"; fi
run C -D - -o /dev/null "$(U /healthz)"
expect_in "test_serve_sigterm_still_accepting" "$out" "HTTP/1.1 200"
case "$out" in *[Cc]onnection:\ close*) pass "test_serve_sigterm_connection_close" ;; *) fail "test_serve_sigterm_connection_close" "$out" ;; esac
wait_exit "$slow" 20
expect_in "test_serve_sigterm_in_flight_finishes" "$(cat "$tmp/slow.out")" '"uid":"slow-1"'
wait_exit "$main_pid" 30
expect_in "test_serve_sigterm_exit_0_despite_idle_keepalive" "$status" "0"
expect_in "test_serve_idle_keepalive_was_served" "$(cat "$tmp/idle.out")" "ok"
expect_in "test_serve_sigterm_logged" "$(cat "$tmp/main.log")" "SIGTERM: draining"

# --- client certificates ------------------------------------------------------------------------
if start mtls --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv1.crt" --tls-key "$tmp/srv1.key" \
    --client-ca "$tmp/clientca.crt"; then
    post /validate "$AD/pod-v1.json"
    expect_in "test_serve_client_ca_required" "$code" "403"
    post /validate "$AD/pod-v1.json" --cert "$tmp/client.crt" --key "$tmp/client.key"
    expect_in "test_serve_client_ca_accepted" "$out" '"allowed":true'
    post /validate "$AD/pod-v1.json" --cert "$tmp/stranger.crt" --key "$tmp/stranger.key"
    case "$code" in 200) fail "test_serve_client_ca_stranger_refused" "$out" ;; *) pass "test_serve_client_ca_stranger_refused" ;; esac
    run C -w '%{http_code}' "$(U /healthz)"
    expect_in "test_serve_client_ca_health_open" "$out" "200"
    mpid=$pid
    kill -TERM "$mpid"; wait_exit "$mpid" 15
    expect_in "test_serve_client_ca_exit_0" "$status" "0"
else
    fail "test_serve_client_ca_starts" "$(cat "$tmp/mtls.log")"
fi

# --- development mode: the embedded example policy and certificates made by certs/certgen -------
if start dev --dev --dev-certs "$tmp/dev"; then
    out=$(curl -sS --max-time 10 --cacert "$tmp/dev/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$AD/pod-hostnetwork-v1.json" "$(U /validate)" 2>&1)
    expect_in "test_serve_dev_certs_verify" "$out" '"uid":"7f0c1d2e-0002-4c3b-9a55-000000000002"'
    expect_in "test_serve_dev_example_policy" "$out" 'spec.hostNetwork'
    expect_in "test_serve_dev_prints_ca_bundle" "$(cat "$tmp/dev.out")" "caBundle: $tmp/dev/ca.crt"
    dpid=$pid
    kill -INT "$dpid"; wait_exit "$dpid" 15
    expect_in "test_serve_dev_sigint_exit_0" "$status" "0"
else
    fail "test_serve_dev_starts" "$(cat "$tmp/dev.log")"
fi

# --- the policy loader's notes are logged; kubectl debug is judged by the pod rules -------------
sed 's/aiWorkloadsOutsideAI: true /acceleratorsOutsideAI: true/' examples/policy.yaml >"$tmp/old-key.yaml"
line=$(grep -n 'acceleratorsOutsideAI: true' "$tmp/old-key.yaml" | cut -d: -f1)
if start oldkey --policy "$tmp/old-key.yaml" --tls-cert "$tmp/srv1.crt" --tls-key "$tmp/srv1.key"; then
    expect_in "test_serve_policy_note_logged" "$(cat "$tmp/oldkey.log")" "policy note: $tmp/old-key.yaml:$line:30: spec.rules.pods.acceleratorsOutsideAI is the old name of aiWorkloadsOutsideAI"
    post /validate "$AD/pod-ephemeral-v1.json"
    expect_in "test_serve_ephemeral_container_denied" "$out" '"allowed":false,"status":{"code":403,"message":"egressguard denied Pod ml-train/trainer: spec.ephemeralContainers[0].securityContext.privileged: '
    opid=$pid
    kill -TERM "$opid"; wait_exit "$opid" 15
    expect_in "test_serve_oldkey_exit_0" "$status" "0"
else
    fail "test_serve_oldkey_starts" "$(cat "$tmp/oldkey.log")"
fi

# --- options ------------------------------------------------------------------------------------
run "$EGRESSGUARD" serve --dev --listen 0.0.0.0:0 --tls-cert "$tmp/srv1.crt" --tls-key "$tmp/srv1.key"
expect_rc "test_serve_dev_refuses_non_loopback" 2
expect_in "test_serve_dev_refuses_non_loopback_msg" "$err" "loopback"
run "$EGRESSGUARD" serve --policy "$SD/invalid.yaml" --tls-cert "$tmp/srv1.crt" --tls-key "$tmp/srv1.key" --listen 127.0.0.1:0
expect_rc "test_serve_invalid_policy_at_start" 2
expect_in "test_serve_invalid_policy_at_start_msg" "$err" "invalid.yaml:4:9"
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml"
expect_rc "test_serve_requires_certs" 2
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv1.crt" --tls-key "$tmp/srv1.key" --log-level loud
expect_rc "test_serve_bad_log_level" 2
expect_in "test_serve_bad_log_level_msg" "$err" "--log-level: unknown log level 'loud'; one of: debug, info, warn, error"
run "$EGRESSGUARD" serve --help
expect_in "test_serve_help" "$out" "--client-ca"

exit $t_failed
