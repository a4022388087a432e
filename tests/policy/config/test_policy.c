#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/config/policy.h"
#include "tests/helpers/policyfix.h"

#define HEAD "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\nspec:\n"
#define AI "  aiWorkloads:\n    namespaces:\n      names: [\"ml-*\"]\n"

static int mismatches;

static struct policy *load(const char *text, struct err *e)
{
    return policyfix_load(text, e);
}

/* The policy must be rejected with exactly this message at this position. */
static void expect_error(const char *text, int line, int col, const char *msg)
{
    mismatches += !policyfix_refuses(text, line, col, msg);
}

static void test_policy_load_example(void **state)
{
    struct err e = {0};
    struct policy *p = policy_load("examples/policy.yaml", &e);
    char buf[600];

    (void)state;
    err_format(&e, buf, sizeof(buf));
    if (!p)
        fail_msg("%s", buf);
    assert_string_equal(p->name, "example-ai-egress");
    assert_int_equal(p->mode, MODE_ENFORCE);
    assert_int_equal(p->n_ns_globs, 3);
    assert_int_equal(p->n_allow, 5);
    assert_string_equal(p->allow[2].name, "model-registry");
    assert_true(p->allow[1].peers[0].same_namespace);
    assert_true(portset_contains(p->allow[0].ports, PROTO_UDP, 53));
    assert_false(portset_contains(p->allow[0].ports, PROTO_UDP, 54));
    assert_true(portset_contains(p->allow[4].ports, PROTO_TCP, 8005));
    assert_string_equal(p->allow[3].fqdns[0], "*.s3.amazonaws.com");
    assert_int_equal(p->n_deny, 1);
    uint8_t md[4] = {169, 254, 169, 254};
    assert_true(cidrset_contains_addr(p->deny_cidrs, 4, md));
    assert_int_equal(p->n_exemptions, 2);
    assert_string_equal(p->groups[0], "system:masters");
    assert_true(p->pods.host_network);
    assert_int_equal(p->pods.n_capabilities, 4);
    assert_string_equal(p->pods.required_labels[0], "data-classification");
    assert_true(p->mutation_enabled);
    assert_string_equal(p->mut_label_keys[0], "egressguard.io/enforced");
    assert_int_equal(strlen(p->hash), 16);
    assert_true(policy_ns_is_ai(p, "ml-team", NULL));
    assert_false(policy_ns_is_ai(p, "default", NULL));
    json_t *labels = json_pack("{s:s}", "egressguard.io/ai-workload", "true");
    assert_true(policy_ns_is_ai(p, "default", labels));
    json_decref(labels);
    /* 2026-12-01: the legacy exemption (last day 2027-01-31) still applies. */
    assert_non_null(policy_exemption(p, "NetworkPolicy", "ml-research", "legacy-allow-all",
                                     (int64_t)20788 * 86400, NULL));
    assert_null(policy_exemption(p, "Pod", "ml-research", "legacy-allow-all", 0, NULL));
    assert_non_null(policy_exemption(p, "Pod", "ml-platform-system", "x", 0, NULL));
    policy_free(p);
}

static void test_policy_load_defaults(void **state)
{
    struct err e;
    struct policy *p = load(HEAD AI, &e);

    (void)state;
    assert_non_null(p);
    assert_int_equal(p->mode, MODE_ENFORCE);
    assert_int_equal(p->egress_mode, MODE_ENFORCE);
    assert_true(p->pods.privileged && p->pods.dns && p->pods.proxy_env);
    assert_false(p->pods.mesh_require_sidecar);
    assert_true(p->unknown_kinds_allow);
    assert_false(p->mutation_enabled);
    assert_int_equal(p->n_mut_labels, 1);
    assert_string_equal(p->profile, "default");
    policy_free(p);
    /* A group without its own mode takes the global one. */
    p = load(HEAD "  mode: warn\n" AI "  rules:\n    pods: {mode: audit}\n", &e);
    assert_non_null(p);
    assert_int_equal(p->egress_mode, MODE_WARN);
    assert_int_equal(p->pods.mode, MODE_AUDIT);
    assert_int_equal(p->ns_mode, MODE_WARN);
    policy_free(p);
}

static void test_policy_load_rejects_each_mistake(void **state)
{
    (void)state;
    expect_error("apiVersion: egressguard.io/v1\nkind: EgressPolicy\nspec: {}\n", 1, 13,
                 "apiVersion \"egressguard.io/v1\" is not egressguard.io/v1alpha1");
    expect_error(HEAD AI "  alow: []\n", 8, 3,
                 "spec: unknown field \"alow\" (did you mean \"allow\"?)");
    expect_error(HEAD "  mode: block\n" AI, 5, 9,
                 "spec: mode \"block\" is not one of enforce, warn, audit");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/33]\n", 10, 13,
                 "spec.allow[0].cidrs[0]: invalid CIDR \"10.0.0.0/33\": prefix length must be "
                 "0-32");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.1/8]\n", 10, 13,
                 "spec.allow[0].cidrs[0]: \"10.0.0.1/8\" has host bits set; write \"10.0.0.0/8\"");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [\"\"]\n", 10, 13,
                 "spec.allow[0].cidrs[0]: invalid CIDR \"\": empty");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/8]\n    ports:\n"
                         "    - {protocol: TCP, port: 70000}\n",
                 12, 29, "spec.allow[0].ports[0]: port 70000 is out of range 1-65535");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/8]\n    ports:\n"
                         "    - {protocol: TPC, port: 443}\n",
                 12, 18, "spec.allow[0].ports[0]: unknown protocol \"TPC\"");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/8]\n    ports:\n"
                         "    - {port: 443, endPort: 80}\n",
                 12, 28, "spec.allow[0].ports[0]: endPort 80 must be between port 443 and 65535");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/8]\n    ports:\n"
                         "    - {port: https}\n",
                 12, 14,
                 "spec.allow[0].ports[0]: named port \"https\": the policy file needs port numbers "
                 "(names resolve differently in every pod)");
    expect_error(HEAD AI "  allow:\n  - name: x\n    prots: []\n", 10, 5,
                 "spec.allow[0]: unknown field \"prots\" (did you mean \"ports\"?)");
    expect_error(HEAD AI "  allow:\n  - name: x\n", 9, 5,
                 "spec.allow[0]: an allow entry needs cidrs, fqdns or inCluster peers");
    expect_error(HEAD AI "  allow:\n  - name: x\n    cidrs: [10.0.0.0/8]\n  - name: x\n"
                         "    cidrs: [10.0.0.0/8]\n",
                 11, 11, "spec.allow[1]: duplicate allow entry name \"x\"");
    expect_error(HEAD AI "  deny:\n  - name: d\n    fqdns: [a.com]\n", 10, 5,
                 "spec.deny[0]: unknown field \"fqdns\"");
    expect_error(HEAD AI "  exemptions:\n  - namespace: x\n", 9, 5,
                 "spec.exemptions[0]: an exemption needs a reason (it is reported whenever the "
                 "exemption applies)");
    expect_error(HEAD "  aiWorkloads: {}\n", 5, 16,
                 "spec.aiWorkloads: names no namespaces, selectors or accelerators: nothing "
                 "would count as an AI workload");
    expect_error(HEAD AI "  rules:\n    pods:\n      hostNetwork: \"yes\"\n", 10, 20,
                 "spec.rules.pods: \"hostNetwork\" must be a boolean, not a string");
    expect_error(HEAD AI "  identities:\n    serviceAccounts: [egressguard]\n", 9, 23,
                 "spec.identities.serviceAccounts[0]: service account \"egressguard\" must be "
                 "NAMESPACE/NAME");
    expect_error(HEAD AI "  mutation:\n    labels: {egressguard.io/enforced: true}\n", 9, 13,
                 "spec.mutation: labels.egressguard.io/enforced must be a string (quote it: "
                 "\"true\")");
    expect_error(HEAD AI AI, 8, 3, "duplicate key \"aiWorkloads\" (first at line 5)");
    expect_error(HEAD AI "---\n" HEAD AI, 9, 1, "the policy file must hold one document, not 2");
    assert_int_equal(mismatches, 0);
}

static void test_policy_load_rejects_bad_selector(void **state)
{
    struct err e;
    struct policy *p = load(HEAD "  aiWorkloads:\n    pods:\n      selectors:\n"
                                 "      - matchExpressions:\n"
                                 "        - {key: app, operator: Inn, values: [a]}\n",
                            &e);

    (void)state;
    assert_null(p);
    assert_string_equal(e.file, "p.yaml");
    assert_int_equal(e.line, 9);
    assert_non_null(strstr(e.msg, "spec.aiWorkloads.pods.selectors[0]"));
    assert_non_null(strstr(e.msg, "Inn"));
}

static void test_policy_load_missing_file(void **state)
{
    struct err e = {0};

    (void)state;
    assert_null(policy_load("tests/data/policy/missing.yaml", &e));
    assert_string_equal(e.msg, "cannot open policy file: No such file or directory");
    assert_string_equal(e.file, "tests/data/policy/missing.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_load_example),
        cmocka_unit_test(test_policy_load_defaults),
        cmocka_unit_test(test_policy_load_rejects_each_mistake),
        cmocka_unit_test(test_policy_load_rejects_bad_selector),
        cmocka_unit_test(test_policy_load_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
