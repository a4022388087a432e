#!/bin/sh
# egressguard mutate: golden patches, the patched object, idempotence (mutate the patched output
# again: empty patch), output formats and errors.
. "$(dirname "$0")/../lib.sh"
MD="$DATA/mutate"
P="$MD/policy.yaml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in no-labels existing-labels tilde-slash not-ai; do
    run "$EGRESSGUARD" mutate -p "$P" --patch-only "$MD/$f.yaml"
    expect_rc "test_mutate_golden_${f}_exit" 0
    if [ "$out" = "$(cat "$MD/$f.patch.json")" ]; then
        pass "test_mutate_golden_$f"
    else
        fail "test_mutate_golden_$f" "got $out"
    fi
    # Idempotence: the patched object (default YAML output) mutated again needs nothing.
    "$EGRESSGUARD" mutate -p "$P" "$MD/$f.yaml" >"$tmp/$f.out.yaml" 2>"$tmp/err"
    run "$EGRESSGUARD" mutate -p "$P" --patch-only "$tmp/$f.out.yaml"
    if [ "$rc" -eq 0 ] && [ "$out" = "[]" ]; then
        pass "test_mutate_idempotent_$f"
    else
        fail "test_mutate_idempotent_$f" "exit $rc, patch $out $err"
    fi
done

run "$EGRESSGUARD" mutate -p "$P" "$MD/no-labels.yaml"
expect_in test_mutate_yaml_patch_comment "$out" '# egressguard patch: [{"op":"add","path":"/metadata/labels"'
expect_in test_mutate_yaml_object_label "$out" 'egressguard.io/enforced: "true"'
expect_in test_mutate_yaml_object_profile "$out" 'egressguard.io/profile: gpu-training'
expect_in test_mutate_yaml_object_managed "$out" 'egressguard.io/managed-by: egressguard'

run "$EGRESSGUARD" mutate -p "$P" -o json "$MD/tilde-slash.yaml"
expect_rc test_mutate_json_exit 0
expect_in test_mutate_json_object "$out" '"example.com/a~b":"tilde"'
expect_in test_mutate_json_patch "$out" '"path":"/metadata/annotations/example.com~1a~0b"'

# null labels count as absent; stdin works
run sh -c "cat '$MD/null-labels.json' | '$EGRESSGUARD' mutate -p '$P' --patch-only -"
expect_rc test_mutate_null_labels_exit 0
expect_in test_mutate_null_labels_patch "$out" '{"op":"add","path":"/metadata/labels","value":{'

# several namespaces and a non-namespace in one stream
cat "$MD/no-labels.yaml" >"$tmp/multi.yaml"
printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n' >>"$tmp/multi.yaml"
cat "$MD/not-ai.yaml" >>"$tmp/multi.yaml"
run "$EGRESSGUARD" mutate -p "$P" --patch-only "$tmp/multi.yaml"
expect_rc test_mutate_multi_exit 0
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] && pass test_mutate_multi_two_patches ||
    fail test_mutate_multi_two_patches "$out"
expect_in test_mutate_multi_skip_note "$err" "ConfigMap c skipped: only v1 Namespaces are mutated"

# the embedded example policy when -p is omitted
run "$EGRESSGUARD" mutate --patch-only "$MD/no-labels.yaml"
expect_in test_mutate_default_policy "$out" '"egressguard.io/profile":"default"'

run "$EGRESSGUARD" mutate -p "$P" "$MD/bad-labels.yaml"
expect_rc test_mutate_bad_labels_exit 2
expect_in test_mutate_bad_labels_msg "$err" "bad-labels.yaml:5:11: metadata.labels must be a mapping"

run "$EGRESSGUARD" mutate --help
expect_rc test_mutate_help_exit 0
expect_in test_mutate_help_text "$out" "--patch-only"
run "$EGRESSGUARD" mutate -p "$P"
expect_rc test_mutate_no_input_exit 2
expect_in test_mutate_no_input_msg "$err" "no input given"
run "$EGRESSGUARD" mutate -p "$P" -o xml "$MD/not-ai.yaml"
expect_rc test_mutate_bad_output_exit 2
exit $t_failed
