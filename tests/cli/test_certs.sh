#!/bin/sh
# egressguard certs: exit codes, messages, the chain openssl sees, idempotence.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
eg() { run "$EGRESSGUARD" certs "$@"; }

eg --help
expect_rc certs_help_exit 0
expect_in certs_help_text "$out" "usage: egressguard certs --service NAME --namespace NS --out DIR"

eg --namespace ns --out "$tmp/x"
expect_rc certs_missing_service_exit 2
expect_in certs_missing_service_msg "$err" "egressguard certs: --service is required"

eg --service svc --namespace ns --out "$tmp/x" --bogus
expect_rc certs_unknown_option_exit 2
expect_in certs_unknown_option_msg "$err" "unknown option '--bogus'"

eg --service svc --namespace ns --out "$tmp/x" --days
expect_rc certs_missing_value_exit 2
expect_in certs_missing_value_msg "$err" "--days needs a value"

eg --service svc --namespace ns --out "$tmp/x" --renew-days abc
expect_rc certs_bad_days_exit 2
expect_in certs_bad_days_msg "$err" "--renew-days: want a whole number of days from 0 to 36500, got 'abc'"

eg --service Bad_Name --namespace ns --out "$tmp/x"
expect_rc certs_bad_service_exit 2
expect_in certs_bad_service_msg "$err" "invalid service name \"Bad_Name\": want a DNS-1123 label"
[ -e "$tmp/x/ca.crt" ] && fail certs_usage_error_writes_nothing || pass certs_usage_error_writes_nothing

d="$tmp/pki"
eg --service egressguard --namespace egressguard --out "$d" --dns webhook.example.com --ip 127.0.0.1
expect_rc certs_create_exit 0
expect_in certs_create_report "$err" "CA created; serving certificate created"
bundle1=$out
if [ "$(printf '%s' "$bundle1" | base64 -d)" = "$(cat "$d/ca.crt")" ]; then
    pass certs_stdout_is_ca_bundle
else
    fail certs_stdout_is_ca_bundle "stdout does not decode to ca.crt"
fi

run openssl verify -CAfile "$d/ca.crt" -purpose sslserver "$d/tls.crt"
expect_rc certs_openssl_verify_exit 0
expect_in certs_openssl_verify_ok "$out" "tls.crt: OK"

run openssl x509 -in "$d/tls.crt" -noout -ext subjectAltName
expect_in certs_san_svc "$out" "DNS:egressguard.egressguard.svc,"
expect_in certs_san_cluster_local "$out" "DNS:egressguard.egressguard.svc.cluster.local"
expect_in certs_san_extra_dns "$out" "DNS:webhook.example.com"
expect_in certs_san_extra_ip "$out" "IP Address:127.0.0.1"

run openssl x509 -in "$d/tls.crt" -noout -text
expect_in certs_leaf_p256 "$out" "NIST CURVE: P-256"
run stat -c '%a' "$d/ca.key" "$d/tls.key"
expect_in certs_key_modes "$(echo $out)" "600 600"

ca_before=$(cat "$d/ca.crt")
tls_before=$(cat "$d/tls.crt")
eg --service egressguard --namespace egressguard --out "$d" --dns webhook.example.com --ip 127.0.0.1
expect_rc certs_rerun_exit 0
expect_in certs_rerun_keeps "$err" "CA kept; serving certificate kept"
[ "$out" = "$bundle1" ] && pass certs_rerun_same_bundle || fail certs_rerun_same_bundle
[ "$(cat "$d/tls.crt")" = "$tls_before" ] && pass certs_rerun_same_leaf || fail certs_rerun_same_leaf

eg --service egressguard --namespace egressguard --out "$d" --renew-days 400
expect_rc certs_renew_exit 0
expect_in certs_renew_report "$err" "CA kept; serving certificate renewed (tls.crt expires within 400 days)"
[ "$(cat "$d/ca.crt")" = "$ca_before" ] && pass certs_renew_keeps_ca || fail certs_renew_keeps_ca
[ "$(cat "$d/tls.crt")" != "$tls_before" ] && pass certs_renew_new_leaf || fail certs_renew_new_leaf
run openssl x509 -in "$d/tls.crt" -noout -ext subjectAltName
case "$out" in *webhook.example.com*) fail certs_renew_drops_old_sans ;; *) pass certs_renew_drops_old_sans ;; esac
run openssl verify -CAfile "$d/ca.crt" "$d/tls.crt"
expect_rc certs_renewed_verifies 0

# The server (GnuTLS) serves the certificate and curl verifies it against ca.crt over loopback.
if ! command -v curl >/dev/null 2>&1; then
    fail certs_served_and_verified "curl is needed (scripts/deps.sh build installs it)"
else
    "$EGRESSGUARD" certs --service egressguard --namespace egressguard --out "$tmp/srv" \
        --ip 127.0.0.1 >/dev/null 2>&1
    # Port 0: the kernel picks a free one and the server logs it.
    "$EGRESSGUARD" serve --policy "$TESTS_DIR/../examples/policy.yaml" --tls-cert "$tmp/srv/tls.crt" \
        --tls-key "$tmp/srv/tls.key" --listen "127.0.0.1:0" >"$tmp/serve.log" 2>&1 &
    pid=$!
    got="" port=""
    # Bounded but generous (60 s): a loaded machine may take seconds to start the server.
    i=0
    while [ $i -lt 240 ]; do
        i=$((i + 1))
        [ -n "$port" ] || port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/serve.log" | head -1)
        [ -n "$port" ] || { sleep 0.25; continue; }
        got=$(curl -sS --max-time 2 --cacert "$tmp/srv/ca.crt" "https://127.0.0.1:$port/healthz" 2>/dev/null) && break
        sleep 0.25
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ "$got" = "ok" ]; then
        pass certs_served_and_verified
    else
        fail certs_served_and_verified "healthz answered '$got'; server log: $(head -c 400 "$tmp/serve.log")"
    fi
fi

echo "garbage" >"$d/ca.crt"
eg --service egressguard --namespace egressguard --out "$d"
expect_rc certs_garbage_ca_exit 2
expect_in certs_garbage_ca_msg "$err" "$d/ca.crt: not a PEM certificate"

: >"$tmp/file"
eg --service egressguard --namespace egressguard --out "$tmp/file/pki"
expect_rc certs_unwritable_exit 2
expect_in certs_unwritable_msg "$err" "cannot create directory $tmp/file/pki: Not a directory"

exit $t_failed
