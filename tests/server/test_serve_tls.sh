#!/bin/sh
# `egressguard serve` and its certificates: a serving certificate that has expired or is not valid
# yet is refused at start and on reload (the previous one keeps serving, a log line and a metric
# say why); the expiry is a metric and fails /readyz; --client-ca reloads like the certificate and
# a client certificate must verify against it and carry extended key usage clientAuth.
. "$(dirname "$0")/../lib.sh"

AD="$DATA/admission"
SD="$DATA/server"
. "$(dirname "$0")/tlsfix.sh"

make_pki
mkcert_dated expired ca 0e0e 20200101000000Z 20200102000000Z
mkcert_dated future ca 0f0f 20990101000000Z 20990102000000Z
mkcert serveronly clientca 3c04 serverAuth
mkcert noeku clientca 3c05 none
mkcert_dated oldclient clientca 3c06 20200101000000Z 20200102000000Z
for f in expired future serveronly noeku oldclient; do
    [ -s "$tmp/$f.crt" ] || { fail "test certificates ($f)" "$(cat "$tmp/openssl.log")"; exit 1; }
done
epoch() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/notAfter=//')" +%s; }
serial() { openssl s_client -connect "127.0.0.1:$port" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'; }
# swap NAME: the pair NAME.{crt,key} replaces the served one (key first, as certs/certgen does).
swap() {
    cp "$tmp/$1.key" "$tmp/tls/tls.key.new" && mv "$tmp/tls/tls.key.new" "$tmp/tls/tls.key"
    cp "$tmp/$1.crt" "$tmp/tls/tls.crt.new" && mv "$tmp/tls/tls.crt.new" "$tmp/tls/tls.crt"
}

# --- at start ------------------------------------------------------------------------------------
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/expired.crt" \
    --tls-key "$tmp/expired.key" --listen 127.0.0.1:0
expect_rc "test_serve_tls_expired_at_start_exit_2" 2
expect_in "test_serve_tls_expired_at_start_msg" "$err" "$tmp/expired.crt: the certificate expired at 2020-01-02T00:00:00Z (serial 0e0e)"
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/future.crt" \
    --tls-key "$tmp/future.key" --listen 127.0.0.1:0
expect_rc "test_serve_tls_future_at_start_exit_2" 2
expect_in "test_serve_tls_future_at_start_msg" "$err" "the certificate is not valid before 2099-01-01T00:00:00Z"
printf 'not a certificate\n' >"$tmp/garbage.pem"
run "$EGRESSGUARD" serve --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/srv1.crt" \
    --tls-key "$tmp/srv1.key" --client-ca "$tmp/garbage.pem" --listen 127.0.0.1:0
expect_rc "test_serve_tls_client_ca_garbage_exit_2" 2
expect_in "test_serve_tls_client_ca_garbage_msg" "$err" "--client-ca: $tmp/garbage.pem"

# --- on reload -----------------------------------------------------------------------------------
mkdir -p "$tmp/tls" "$tmp/cas"
cp "$tmp/srv1.crt" "$tmp/tls/tls.crt"
cp "$tmp/srv1.key" "$tmp/tls/tls.key"
cp "$tmp/clientca.crt" "$tmp/cas/ca.crt"
if ! start tls --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/tls/tls.crt" \
    --tls-key "$tmp/tls/tls.key" --client-ca "$tmp/cas/ca.crt" --shutdown-delay 0; then
    fail "tls_server_starts" "$(cat "$tmp/tls.log")"
    exit 1
fi
tls_pid=$pid
run C -o /dev/null -w '%{http_code}' "$(U /readyz)"
expect_in "test_serve_tls_ready" "$out" "200"
expect_in "test_serve_tls_expiry_metric" "$(metric egressguard_certificate_expiry_timestamp_seconds)" "$(epoch "$tmp/srv1.crt")"

swap expired
refused() { [ "$(metric "egressguard_certificate_refused_total{reason=\"$1\"}")" -ge 1 ] 2>/dev/null; }
if until_ok 30 refused expired; then pass "test_serve_tls_expired_reload_refused"; else fail "test_serve_tls_expired_reload_refused"; fi
expect_in "test_serve_tls_expired_old_serves" "$(serial)" "1A01"
expect_in "test_serve_tls_expired_logged" "$(cat "$tmp/tls.log")" "certificate reload refused, the previous certificate keeps serving: $tmp/tls/tls.crt: the certificate expired at 2020-01-02T00:00:00Z"
expect_in "test_serve_tls_expired_metric_unchanged" "$(metric egressguard_certificate_expiry_timestamp_seconds)" "$(epoch "$tmp/srv1.crt")"
swap future
if until_ok 30 refused not_yet_valid; then pass "test_serve_tls_future_reload_refused"; else fail "test_serve_tls_future_reload_refused"; fi
expect_in "test_serve_tls_future_old_serves" "$(serial)" "1A01"
run C -o /dev/null -w '%{http_code}' "$(U /readyz)"
expect_in "test_serve_tls_ready_while_old_serves" "$out" "200"
swap srv2
new_serial() { [ "$(serial)" = "2B02" ]; }
if until_ok 30 new_serial; then pass "test_serve_tls_valid_reload"; else fail "test_serve_tls_valid_reload" "$(serial)"; fi
expect_in "test_serve_tls_expiry_metric_follows" "$(metric egressguard_certificate_expiry_timestamp_seconds)" "$(epoch "$tmp/srv2.crt")"

# --- client certificates -------------------------------------------------------------------------
post /validate "$AD/pod-v1.json" --cert "$tmp/client.crt" --key "$tmp/client.key"
expect_in "test_serve_tls_client_accepted" "$code" "200"
post /validate "$AD/pod-v1.json"
expect_in "test_serve_tls_client_none_403" "$code $out" "403"
expect_in "test_serve_tls_client_none_reason" "$out" "no client certificate"
post /validate "$AD/pod-v1.json" --cert "$tmp/serveronly.crt" --key "$tmp/serveronly.key"
expect_in "test_serve_tls_client_server_auth_only_403" "$code" "403"
expect_in "test_serve_tls_client_server_auth_only_reason" "$out" "does not verify"
post /validate "$AD/pod-v1.json" --cert "$tmp/noeku.crt" --key "$tmp/noeku.key"
expect_in "test_serve_tls_client_no_eku_403" "$code" "403"
expect_in "test_serve_tls_client_no_eku_reason" "$out" "lacks extended key usage clientAuth"
post /validate "$AD/pod-v1.json" --cert "$tmp/oldclient.crt" --key "$tmp/oldclient.key"
expect_in "test_serve_tls_client_expired_403" "$code" "403"
post /validate "$AD/pod-v1.json" --cert "$tmp/stranger.crt" --key "$tmp/stranger.key"
expect_in "test_serve_tls_client_stranger_403" "$code" "403"

# --client-ca reloads: another CA's clients get in, the old CA's no longer do.
cp "$tmp/otherca.crt" "$tmp/cas/ca.crt.new" && mv "$tmp/cas/ca.crt.new" "$tmp/cas/ca.crt"
stranger_in() { post /validate "$AD/pod-v1.json" --cert "$tmp/stranger.crt" --key "$tmp/stranger.key"; [ "$code" = 200 ]; }
if until_ok 30 stranger_in; then pass "test_serve_tls_client_ca_reloaded"; else fail "test_serve_tls_client_ca_reloaded" "$code $out"; fi
post /validate "$AD/pod-v1.json" --cert "$tmp/client.crt" --key "$tmp/client.key"
expect_in "test_serve_tls_client_ca_old_ca_out" "$code" "403"
expect_in "test_serve_tls_client_ca_reload_counted" "$(metric 'egressguard_reloads_total{what="client_ca"}')" "1"
cp "$tmp/garbage.pem" "$tmp/cas/ca.crt.new" && mv "$tmp/cas/ca.crt.new" "$tmp/cas/ca.crt"
ca_refused() { [ "$(metric 'egressguard_reload_failures_total{what="client_ca"}')" -ge 1 ] 2>/dev/null; }
if until_ok 30 ca_refused; then pass "test_serve_tls_client_ca_garbage_refused"; else fail "test_serve_tls_client_ca_garbage_refused"; fi
post /validate "$AD/pod-v1.json" --cert "$tmp/stranger.crt" --key "$tmp/stranger.key"
expect_in "test_serve_tls_client_ca_garbage_old_serves" "$code" "200"
kill -TERM "$tls_pid"
wait_exit "$tls_pid" 30
expect_in "test_serve_tls_exit_0" "$status" "0"

# --- time passes ---------------------------------------------------------------------------------
# A certificate that expires while served turns /readyz to 503; one refused because it is not
# valid yet is taken once it is, without a file change. Both wait for the clock, with bounds.
soon=$(date -u -d '+20 seconds' +%Y%m%d%H%M%SZ)
later=$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)
now=$(date -u -d '-1 minute' +%Y%m%d%H%M%SZ)
mkcert_dated ending ca 5e5e "$now" "$soon"
mkcert_dated starting ca 6f6f "$soon" "$later"
cp "$tmp/ending.crt" "$tmp/tls/tls.crt"
cp "$tmp/ending.key" "$tmp/tls/tls.key"
if start clock --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/tls/tls.crt" \
    --tls-key "$tmp/tls/tls.key" --shutdown-delay 0; then
    clock_pid=$pid
    swap starting
    if until_ok 30 refused not_yet_valid; then pass "test_serve_tls_clock_starting_refused"; else fail "test_serve_tls_clock_starting_refused"; fi
    taken() { [ "$(serial)" = "6F6F" ]; }
    if until_ok 90 taken; then pass "test_serve_tls_clock_starting_taken_when_valid"; else fail "test_serve_tls_clock_starting_taken_when_valid" "$(serial)"; fi
    kill -TERM "$clock_pid"
    wait_exit "$clock_pid" 30
else
    fail "tls_clock_server_starts" "$(cat "$tmp/clock.log")"
fi
# ... and the one that ended is no longer ready (curl -k: the client would refuse it).
soon=$(date -u -d '+15 seconds' +%Y%m%d%H%M%SZ)
mkcert_dated ending2 ca 7a7a "$now" "$soon"
if start ending --policy "$SD/allow-unknown.yaml" --tls-cert "$tmp/ending2.crt" \
    --tls-key "$tmp/ending2.key" --shutdown-delay 0; then
    ending_pid=$pid
    gone() { [ "$(curl -sk --max-time 10 -o /dev/null -w '%{http_code}' "$(U /readyz)")" = 503 ]; }
    if until_ok 90 gone; then pass "test_serve_tls_expired_while_served_not_ready"; else fail "test_serve_tls_expired_while_served_not_ready"; fi
    expect_in "test_serve_tls_expired_while_served_reason" "$(curl -sk --max-time 10 "$(U /readyz)")" "not ready: serving the certificate expired at"
    kill -TERM "$ending_pid"
    wait_exit "$ending_pid" 30
else
    fail "tls_ending_server_starts" "$(cat "$tmp/ending.log")"
fi

exit $t_failed
