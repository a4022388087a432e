#!/bin/sh
# Exemptions with a lifetime in the server: the example policy's legacy exemption applies before its
# end (with a warning: it ends within exemptionWarningDays) and stops applying once the end has
# passed, without a restart or a reload; /metrics counts exemptions by state, and the log names
# the ones that have ended when a policy is loaded.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
AD="$DATA/admission"
make_server_cert 6e01

# serve NAME POLICY: starts a server, its port in $port.
serve() {
    serve_tls "$1" -p "$2" && pass "test_exemptions_$1_starts" ||
        { fail "test_exemptions_$1_starts" "$(cat "$tmp/$1.log")"; exit 1; }
}
validate() { # validate FILE: the reply in $out
    out=$(curl -sS --max-time 10 --cacert "$tmp/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$1" "https://127.0.0.1:$port/validate")
}
metric() { # metric STATE: egressguard_exemptions{state="STATE"} now
    curl -sS --max-time 10 --cacert "$tmp/ca.crt" "https://127.0.0.1:$port/metrics" |
        sed -n "s/^egressguard_exemptions{state=\"$1\"} \([0-9]*\)$/\1/p"
}
denied() { validate "$AD/exempt-netpol-v1.json"; case "$out" in *'"allowed":false'*) return 0 ;; esac; return 1; }

# Nothing here depends on how fast the machine is: the exemption that must still apply ends a day
# from now, and the one that must stop applying is polled for (bounded) until its end has passed.
# with_end END FILE: the example policy with the legacy exemption ending at END.
with_end() {
    sed "s/expires: 2027-01-31/expires: \"$1\"/" examples/policy.yaml >"$2"
    grep -q "expires: \"$1\"" "$2" || { fail test_exemptions_policy "no expires line"; exit 1; }
}
end=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
with_end "$end" "$tmp/policy.yaml"
serve soon "$tmp/policy.yaml"

validate "$AD/exempt-netpol-v1.json"
expect_in test_exemptions_applies_before_its_end "$out" '"allowed":true,"status":{"code":200,"message":"allowed: exempt"}'
expect_in test_exemptions_warns_before_its_end "$out" "\"egressguard: exemption ends at $end: fix the object or renew the exemption"
run metric active; expect_in test_exemptions_metric_active "$out" 1
run metric expiring; expect_in test_exemptions_metric_expiring "$out" 1
run metric expired; expect_in test_exemptions_metric_expired_none "$out" 0

# An exemption ending 2 s from now, in a server started with it: once the end has passed the
# NetworkPolicy is judged, and denied, without a restart or a reload.
end=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
with_end "$end" "$tmp/ending.yaml"
serve ending "$tmp/ending.yaml"
i=0; while ! denied && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
expect_in test_exemptions_stops_applying "$out" '"allowed":false,"status":{"code":403'
expect_in test_exemptions_expired_warning "$out" "\"egressguard: exemption expired at $end: the object is evaluated"
run metric expiring; expect_in test_exemptions_metric_expiring_none "$out" 0
run metric expired; expect_in test_exemptions_metric_expired "$out" 1

# A policy whose exemption ended long ago: the log says so when the policy is loaded.
sed "s/expires: 2027-01-31/expires: 2000-01-01/" examples/policy.yaml >"$tmp/old.yaml"
serve old "$tmp/old.yaml"
expect_in test_exemptions_expired_logged "$(cat "$tmp/old.log")" \
    'exemption expired after 2000-01-01 (UTC) and no longer applies (line 81 of the policy file, owner research-infra, ticket INC-1234)'
exit $t_failed
