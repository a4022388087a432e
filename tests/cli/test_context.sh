#!/bin/sh
# check judges each network policy in the context of the other objects of its input.
. "$(dirname "$0")/../lib.sh"
POLICY="$TESTS_DIR/../examples/policy.yaml"
IN="$DATA/context/layered-cilium.yaml"

run "$EGRESSGUARD" check -p "$POLICY" "$IN"
expect_rc "a layered pair passes together" 0
expect_in "the allow says what takes its escape away" "$out" \
    "CiliumNetworkPolicy ml-a/allow-https: note: judged with the other policies of ml-a that apply to these pods: CiliumNetworkPolicy ml-a/deny-outside-allow-list ($IN:17) takes away"

# The allow alone (the Namespace and the allow: the file's first 15 lines) escapes.
run sh -c "head -n 15 '$IN' | \"$EGRESSGUARD\" check -p '$POLICY' -"
expect_rc "the allow alone fails" 1
expect_in "the allow alone names the escape" "$out" "CiliumNetworkPolicy ml-a/allow-https: deny:"
exit $t_failed
