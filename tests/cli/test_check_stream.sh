# check decides each object as it reads it: verdicts must not depend on where in the input the
# Namespace objects are (a second pass decides again what needed labels read later), whether
# the input is a file, a List or standard input, or on a file that fails to parse after a
# Namespace (its objects, the Namespace included, never counted).
. "$(dirname "$0")/../lib.sh"
P=examples/policy.yaml
D=tests/data/check/stream

# verdicts FILE...: check's text report without file names and line numbers.
verdicts() {
    "$EGRESSGUARD" check -p $P "$@" | sed 's/^[^ ]*:[0-9]*: //'
}

want=$(verdicts $D/ns-first.yaml)
expect_in "test_check_stream_namespace_first_judged" "$want" "Pod team-b/trainer: deny: spec.hostNetwork"
expect_in "test_check_stream_namespace_first_policy" "$want" "NetworkPolicy team-b/open: deny"
got=$(verdicts $D/ns-last.yaml)
if [ "$got" = "$want" ]; then pass "test_check_stream_namespace_last_same_verdicts"; else fail "test_check_stream_namespace_last_same_verdicts" "$got"; fi
got=$(verdicts $D/list-ns-last.yaml)
if [ "$got" = "$want" ]; then pass "test_check_stream_list_namespace_last_same_verdicts"; else fail "test_check_stream_list_namespace_last_same_verdicts" "$got"; fi
got=$("$EGRESSGUARD" check -p $P - <$D/ns-last.yaml | sed 's/^[^ ]*:[0-9]*: //')
if [ "$got" = "$want" ]; then pass "test_check_stream_stdin_read_again"; else fail "test_check_stream_stdin_read_again" "$got"; fi
run "$EGRESSGUARD" check -p $P - <$D/ns-last.yaml
expect_in "test_check_stream_stdin_positions" "$out" "<stdin>:7: Pod team-b/trainer"

# A Namespace in a file that does not parse is not known: the pod of another file stays a
# non-AI pod until a Namespace that counts says otherwise.
run "$EGRESSGUARD" check -p $P $D/broken-ns.yaml $D/ns-last.yaml
expect_rc "test_check_stream_broken_file_is_an_error" 2
expect_in "test_check_stream_broken_file_position" "$out" "broken-ns.yaml:11:1: did not find expected"
expect_in "test_check_stream_broken_file_then_namespace" "$out" "ns-last.yaml:7: Pod team-b/trainer: deny: spec.hostNetwork"
run "$EGRESSGUARD" check -p $P $D/broken-ns.yaml $D/ns-first.yaml
case "$out" in *"3 objects checked"*) pass "test_check_stream_broken_file_objects_not_counted" ;;
*) fail "test_check_stream_broken_file_objects_not_counted" "$out" ;; esac
# Without any Namespace that counts, team-b is no AI namespace: the pod passes.
run "$EGRESSGUARD" check -p $P $D/broken-ns.yaml
case "$out" in *"0 objects checked"*) pass "test_check_stream_broken_alone" ;;
*) fail "test_check_stream_broken_alone" "$out" ;; esac

# The same Namespace twice: the last one counts (as in the cluster model), even for what was read
# between them; --namespace-labels win over both.
run "$EGRESSGUARD" check -p $P $D/ns-twice.yaml
expect_in "test_check_stream_namespace_last_wins" "$out" "Pod team-b/trainer: deny: spec.hostNetwork"
run "$EGRESSGUARD" check -p $P --namespace-labels team-b=team=b $D/ns-twice.yaml
expect_rc "test_check_stream_namespace_labels_option_wins" 0

# --effective sees the Namespace wherever it is.
# (Findings name the policy with its file and line: those differ.)
a=$("$EGRESSGUARD" check -p $P --effective $D/ns-first.yaml | grep EffectiveEgress | sed 's/([^ ]*:[0-9]*)//')
b=$("$EGRESSGUARD" check -p $P --effective $D/list-ns-last.yaml | grep EffectiveEgress | sed 's/([^ ]*:[0-9]*)//')
expect_in "test_check_stream_effective_judged" "$a" "EffectiveEgress team-b"
if [ "$a" = "$b" ]; then pass "test_check_stream_effective_namespace_last"; else fail "test_check_stream_effective_namespace_last" "$b"; fi
# Network policies are judged among all the others, in whichever file and order they come.
run "$EGRESSGUARD" check -p $P $D/layered-allow.yaml
expect_rc "test_check_stream_context_allow_alone_fails" 1
run "$EGRESSGUARD" check -p $P $D/layered-allow.yaml $D/layered-deny.yaml
expect_rc "test_check_stream_context_deny_after" 0
expect_in "test_check_stream_context_deny_after_named" "$out" "deny-outside-allow-list ($D/layered-deny.yaml:2) takes away"
run "$EGRESSGUARD" check -p $P $D/layered-deny.yaml $D/layered-allow.yaml
expect_rc "test_check_stream_context_deny_before" 0
# Address sets too: the set is known wherever it is, unless its file does not parse.
a=$(verdicts $D/set-user.yaml $D/set.yaml | sort)
b=$(verdicts $D/set.yaml $D/set-user.yaml | sort)
expect_in "test_check_stream_set_reached" "$a" "NetworkPolicy ml-a/to-resolvers: deny: spec.egress[0].destination: GlobalNetworkSet resolvers"
expect_in "test_check_stream_set_judged" "$a" "GlobalNetworkSet resolvers: deny: spec.nets"
if [ "$a" = "$b" ]; then pass "test_check_stream_set_first_same"; else fail "test_check_stream_set_first_same" "$b"; fi
run "$EGRESSGUARD" check -p $P $D/set-user.yaml $D/broken-set.yaml
expect_rc "test_check_stream_set_broken_file_is_an_error" 2
case "$out" in *resolvers*) fail "test_check_stream_set_broken_file_not_known" "$out" ;;
*) pass "test_check_stream_set_broken_file_not_known" ;; esac
# What a report names of an object outlives the object: a PolicyReport's resources keep the uid.
run "$EGRESSGUARD" check -p $P --format policyreport $D/uid.yaml
expect_in "test_check_stream_policyreport_uid" "$out" 'uid: "0f9e8d7c-0000-4000-8000-000000000001"'
exit $t_failed
