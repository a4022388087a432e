#!/bin/sh
# The work budget of one decision under `egressguard serve` (--max-decision-work): an object
# whose decision needs more work is denied as too complex (fail closed) and counted in
# egressguard_decisions_over_budget_total; a smaller one is judged as usual.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
make_server_cert 5e05
POLICY="$TESTS_DIR/../examples/policy.yaml"

# review UID N: an AdmissionReview of a NetworkPolicy in ml-a with N ipBlocks outside the
# allow-list, in $tmp/UID.json.
review() {
    awk -v uid="$1" -v n="$2" 'BEGIN {
        printf "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        printf "{\"uid\":\"%s\",\"kind\":{\"group\":\"networking.k8s.io\",\"version\":\"v1\",", uid
        printf "\"kind\":\"NetworkPolicy\"},\"operation\":\"CREATE\",\"namespace\":\"ml-a\","
        printf "\"object\":{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
        printf "\"metadata\":{\"name\":\"big\",\"namespace\":\"ml-a\"},\"spec\":{\"podSelector\":{},"
        printf "\"policyTypes\":[\"Egress\"],\"egress\":[{\"ports\":[{\"protocol\":\"TCP\","
        printf "\"port\":443}],\"to\":["
        for (i = 0; i < n; i++)
            printf "%s{\"ipBlock\":{\"cidr\":\"20.%d.%d.0/24\"}}", i ? "," : "", int(i / 256), i % 256
        printf "]}]}}}}"
    }' >"$tmp/$1.json"
}
review small 3
review big 2000

if ! serve_tls budget --policy "$POLICY" --max-decision-work 1000; then
    fail "test_budget_serve_starts" "$(cat "$tmp/budget.log")"
    exit 1
fi
post() {
    curl -sS --max-time 20 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$tmp/$1.json" "https://127.0.0.1:$port/validate" 2>&1
}
metric() {
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" "https://127.0.0.1:$port/metrics" |
        sed -n "s/^$1 \([0-9]*\)$/\1/p"
}

out=$(post small)
expect_in "test_budget_small_object_judged" "$out" 'spec.egress[0].to[0].ipBlock: 20.0.0.0/24 opens 20.0.0.0/24 on TCP/443'
expect_in "test_budget_small_object_uid" "$out" '"uid":"small"'
expect_in "test_budget_not_counted_when_within" "$(metric egressguard_decisions_over_budget_total)" "0"

out=$(post big)
expect_in "test_budget_big_object_denied" "$out" '"allowed":false'
expect_in "test_budget_big_object_too_complex" "$out" 'too complex to evaluate: deciding it takes more than 1000 units of work'
expect_in "test_budget_big_object_uid" "$out" '"uid":"big"'
expect_in "test_budget_over_budget_counted" "$(metric egressguard_decisions_over_budget_total)" "1"

run "$EGRESSGUARD" serve --policy "$POLICY" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" \
    --max-decision-work 10
expect_rc "test_budget_option_range" 2
expect_in "test_budget_option_range_msg" "$err" "--max-decision-work: want a whole number of units from 1000"
exit $t_failed
