#!/bin/sh
# The cluster model's LIST+WATCH against a fake Kubernetes API (tests/server/fake_kube.py):
# paged lists with continue tokens, watches that resume from bookmarks, 410 Gone and a relist,
# dropped connections, a rotated service-account token, hostile and slow replies, and a CRD that
# appears (and disappears) while the server runs. Every wait is a bounded poll.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tlsfix.sh"
. "$(dirname "$0")/kubefix.sh"
make_server_cert 5e03

k="$tmp/kube"
mkdir -p "$k"
# 1200 namespaces: three LIST pages of 500, two continue tokens with '+', '/' and '='.
python3 -c '
import json
objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns-%04d" % i}} for i in range(1200)]
objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "research", "labels": {"egressguard.io/ai-workload": "true"}}})
print(json.dumps({"objects": objs}))' >"$k/seed.json"
start_fake "$k"
printf 'token-one\n' >"$tmp/token"
kubeconfig "$tmp/kubeconfig" "$kport" "{tokenFile: \"$tmp/token\"}"
ctl tokens '{"valid": ["token-one"]}'

# --no-audit: this suite counts the model's own requests (the audit lists on its own)
serve w --kubeconfig "$tmp/kubeconfig" --kube-discovery-interval 1 --no-audit
ready() { get /readyz; [ "$code" = 200 ]; }
until_ok 300 ready && pass test_watch_ready || fail test_watch_ready "$code $out $(cat "$tmp/w.log")"
[ "$(metric 'egressguard_model_objects{kind="namespaces"}')" = 1201 ] && pass test_watch_all_pages_listed ||
    fail test_watch_all_pages_listed "$(metric 'egressguard_model_objects{kind="namespaces"}')"
n=$(grep -c '^GET /api/v1/namespaces?limit=500&continue=[A-Za-z0-9%]*%2B[A-Za-z0-9%]* ' "$k/requests")
[ "$n" -eq 2 ] && pass test_watch_continue_tokens_escaped || fail test_watch_continue_tokens_escaped "$(grep limit "$k/requests")"
[ "$(metric egressguard_model_synced)" = 1 ] && pass test_watch_synced_metric || fail test_watch_synced_metric
grep -q "^GET /api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=[0-9]*&timeoutSeconds=[0-9]* token-one" "$k/requests" &&
    pass test_watch_from_list_version || fail test_watch_from_list_version "$(grep watch "$k/requests")"
denied research && pass test_watch_labels_in_model || fail test_watch_labels_in_model "$out"

# Bookmarks move the resourceVersion on: other kinds' writes advance it, and after a dropped
# connection the namespaces watch resumes from a bookmark newer than its last event.
last_ns_watch_rv() {
    sed -n 's/^GET \/api\/v1\/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=\([0-9]*\)&.*/\1/p' "$k/requests" | tail -1
}
before=$(last_ns_watch_rv)
ctl apply '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np","namespace":"ns-0001"},"spec":{"podSelector":{}}}'
np_seen() { [ "$(metric 'egressguard_model_objects{kind="networkpolicies"}')" = 1 ]; }
until_ok 100 np_seen && pass test_watch_event_applied || fail test_watch_event_applied
bookmarked() { awk -v b="$before" '$1 == "namespaces" && $2 > b { f = 1 } END { exit !f }' "$k/bookmarks"; }
until_ok 100 bookmarked && pass test_watch_bookmark_sent || fail test_watch_bookmark_sent
watches=$(grep -c 'namespaces?watch=1' "$k/requests")
ctl disconnect '{}'
rewatched() { [ "$(grep -c 'namespaces?watch=1' "$k/requests")" -gt "$watches" ]; }
until_ok 100 rewatched
[ "$(last_ns_watch_rv)" -gt "$before" ] && pass test_watch_resumes_from_bookmark ||
    fail test_watch_resumes_from_bookmark "$before → $(last_ns_watch_rv)"
[ "$(metric 'egressguard_watch_restarts_total{kind="namespaces",reason="ended"}')" -ge 1 ] 2>/dev/null &&
    pass test_watch_restart_counted || fail test_watch_restart_counted
lists_before=$(grep -c '^GET /api/v1/namespaces?limit=500 ' "$k/requests")
[ "$lists_before" -eq 1 ] && pass test_watch_no_relist_on_disconnect || fail test_watch_no_relist_on_disconnect "$lists_before LISTs"

# 410 Gone: everything so far is compacted; the resumed watch gets an ERROR 410 and lists again.
ctl compact '{}'
ctl disconnect '{}'
relisted() { [ "$(grep -c '^GET /api/v1/namespaces?limit=500 ' "$k/requests")" -gt "$lists_before" ]; }
until_ok 100 relisted && pass test_watch_410_relists || fail test_watch_410_relists
gone() { [ "$(metric 'egressguard_watch_restarts_total{kind="namespaces",reason="gone"}')" -ge 1 ]; }
until_ok 100 gone && pass test_watch_410_counted || fail test_watch_410_counted
ctl apply "$(ns_json ns-0002 "$AI")"
until_ok 100 denied ns-0002 && pass test_watch_after_relist_follows || fail test_watch_after_relist_follows "$out"

# A rotated token: the kubelet writes a new one; the API stops accepting the old one. The
# client re-reads the file and goes on.
printf 'token-two\n' >"$tmp/token.new" && mv "$tmp/token.new" "$tmp/token"
ctl tokens '{"valid": ["token-two"]}'
ctl disconnect '{}'
ctl apply "$(ns_json ns-0003 "$AI")"
until_ok 100 denied ns-0003 && pass test_watch_token_rotated || fail test_watch_token_rotated "$out"
grep -q 'namespaces?watch=1.* token-two$' "$k/requests" && pass test_watch_new_token_used ||
    fail test_watch_new_token_used
grep -q ' token-two$' "$k/requests" && ! grep -q "token-one" "$tmp/w.log" && pass test_watch_token_not_logged ||
    fail test_watch_token_not_logged

# Hostile and broken replies: each one restarts the watch (listing again where the stream can
# no longer be trusted); the server stays up and the model keeps following the cluster.
i=4
for mode in garbage wrong-kind huge status500 gone-status slow close; do
    ctl hostile "{\"resource\": \"namespaces\", \"mode\": \"$mode\"}"
    ctl disconnect '{}'
    ctl apply "$(ns_json ns-000$i "$AI")"
    until_ok 600 denied ns-000$i && pass "test_watch_survives_$mode" ||
        fail "test_watch_survives_$mode" "$out $(grep -v decision "$tmp/w.log" | tail -8) $(grep "namespaces?" "$k/requests" | tail -4)"
    i=$((i + 1))
done
[ "$(metric 'egressguard_watch_restarts_total{kind="namespaces",reason="bad_event"}')" -ge 3 ] &&
    pass test_watch_bad_events_counted || fail test_watch_bad_events_counted
expect_in test_watch_bad_event_logged "$(cat "$tmp/w.log")" "an object of kind Secret (v1) in a stream of Namespace; listing again"
expect_in test_watch_huge_event_refused "$(cat "$tmp/w.log")" "a watch event longer than 16777216 bytes"

# A CRD installed while the server runs: discovered, watched, listed.
ctl serve '{"group": "cilium.io", "version": "v2", "resource": "ciliumnetworkpolicies", "kind": "CiliumNetworkPolicy", "namespaced": true}'
ctl apply '{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"c","namespace":"ns-0001"},"spec":{"endpointSelector":{}}}'
cnp_seen() { [ "$(metric 'egressguard_model_objects{kind="ciliumnetworkpolicies"}')" = 1 ]; }
until_ok 200 cnp_seen && pass test_watch_crd_installed_later || fail test_watch_crd_installed_later
[ "$(metric 'egressguard_watch_synced{kind="ciliumnetworkpolicies"}')" = 1 ] && pass test_watch_crd_synced ||
    fail test_watch_crd_synced
ctl unserve '{"group": "cilium.io", "version": "v2", "resource": "ciliumnetworkpolicies"}'
cnp_gone() { [ "$(metric 'egressguard_model_objects{kind="ciliumnetworkpolicies"}')" = 0 ]; }
until_ok 200 cnp_gone && pass test_watch_crd_removed_forgotten || fail test_watch_crd_removed_forgotten

# The API goes down: the model keeps serving what it knows, and the server stays ready.
ctl down '{"on": true}'
ctl disconnect '{}'
discovery_failed() { [ "$(metric egressguard_discovery_failures_total)" -ge 1 ]; }
until_ok 100 discovery_failed && pass test_watch_down_discovery_fails || fail test_watch_down_discovery_fails
denied research && pass test_watch_down_model_still_serves || fail test_watch_down_model_still_serves "$out"
get /readyz
[ "$code" = 200 ] && pass test_watch_down_still_ready || fail test_watch_down_still_ready "$code"
age=$(metric 'egressguard_watch_last_event_age_seconds{kind="namespaces"}')
[ -n "$age" ] && pass test_watch_last_event_age_exported || fail test_watch_last_event_age_exported
ctl down '{"on": false}'
ctl apply "$(ns_json back "$AI")"
until_ok 300 denied back && pass test_watch_recovers || fail test_watch_recovers "$out"

# SIGTERM ends every watch and the process, promptly (bounded by the test's kill timeout).
kill -TERM $(echo $pids | awk '{print $NF}')
gone_pid() { ! kill -0 $(echo $pids | awk '{print $NF}') 2>/dev/null; }
until_ok 150 gone_pid && pass test_watch_sigterm_stops || fail test_watch_sigterm_stops
exit $t_failed
