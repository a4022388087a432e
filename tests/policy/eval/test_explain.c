#include "policy/eval/explain.h"

#include <stdlib.h>
#include <string.h>

#include "policy/sets/portset.h"
#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_explain_dest_parse_forms(void **state)
{
    struct explain_dest d;
    struct err e = {0};

    (void)state;
    assert_int_equal(explain_dest_parse("10.20.1.5:443", &d, &e), 0);
    assert_true(d.is_addr);
    assert_int_equal(d.family, 4);
    assert_true(d.has_port);
    assert_int_equal(d.port, 443);
    assert_int_equal(d.proto, PROTO_TCP);
    assert_int_equal(explain_dest_parse("[fd00::1]:53/UDP", &d, &e), 0);
    assert_int_equal(d.family, 6);
    assert_int_equal(d.port, 53);
    assert_int_equal(d.proto, PROTO_UDP);
    assert_int_equal(explain_dest_parse("fd00::1", &d, &e), 0);
    assert_int_equal(d.family, 6);
    assert_false(d.has_port);
    assert_int_equal(explain_dest_parse("PyPI.org:443/tcp", &d, &e), 0);
    assert_false(d.is_addr);
    assert_string_equal(d.name, "pypi.org");
    assert_int_equal(explain_dest_parse("pypi.org:0", &d, &e), -1);
    assert_string_equal(e.msg, "invalid destination \"pypi.org:0\": port must be 1-65535");
    assert_int_equal(explain_dest_parse("a b:443", &d, &e), -1);
    assert_int_equal(explain_dest_parse("[fd00::1:53", &d, &e), -1);
    assert_string_equal(e.msg, "invalid destination \"[fd00::1:53\": missing ]");
    assert_int_equal(explain_dest_parse("x.org:53/ANY", &d, &e), -1);
    assert_int_equal(explain_dest_parse("", &d, &e), -1);
}

/* Explains namespace ml-a of `yaml` for destination `to`; the first subject's trace member. */
static json_t *trace_of(const char *yaml, const char *to, const char *pod, const char *key)
{
    struct policy *pol;
    struct invfix f;
    struct explain_dest d;
    struct err e = {0};
    json_t *j, *labels = NULL, *out;

    pol = policy_load("examples/policy.yaml", &e);
    assert_non_null(pol);
    invfix_load(&f, yaml, "t.yaml", NULL);
    assert_int_equal(explain_dest_parse(to, &d, &e), 0);
    if (pod)
        assert_non_null(labels = json_pack("{s:s}", "app", pod));
    j = explain_namespace(pol, &f.inv.in, "ml-a", labels, &d, &e);
    assert_non_null(j);
    out = json_object_get(json_array_get(json_object_get(j, "subjects"), 0), "trace");
    out = json_string(json_string_value(json_object_get(out, key)));
    json_decref(j);
    json_decref(labels);
    invfix_release(&f);
    policy_free(pol);
    return out;
}

static void expect_trace(const char *yaml, const char *to, const char *pod, const char *key,
                         const char *want)
{
    json_t *got = trace_of(yaml, to, pod, key);

    assert_non_null(got);
    assert_string_equal(json_string_value(got), want);
    json_decref(got);
}

/*
 * Calico: the first rule that matches decides. Pass skips the rest of its tier and goes to the
 * next tier; with none known (every policy read into the default tier), the namespace profile
 * decides, and it allows (docs.tigera.io/calico/latest/reference/resources/tier;
 * libcalico-go NamespaceToProfile): the Pass opens what it matches.
 */
static const char calico[] =
    "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: first}\n"
    "spec:\n  order: 10\n  types: [Egress]\n  egress:\n"
    "  - action: Pass\n    destination: {nets: [10.20.0.0/16]}\n"
    "  - action: Deny\n    destination: {nets: [0.0.0.0/0]}\n---\n"
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: app, namespace: ml-a}\n"
    "spec:\n  order: 100\n  egress:\n"
    "  - action: Allow\n    protocol: TCP\n    destination: {nets: [0.0.0.0/0], ports: [443]}\n";

static void test_explain_trace_calico_first_match(void **state)
{
    (void)state;
    expect_trace(calico, "8.8.8.8:443", NULL, "reachable", "no");
    expect_trace(calico, "8.8.8.8:443", NULL, "decidedBy",
                 "denied by spec.egress[1] of GlobalNetworkPolicy.projectcalico.org first "
                 "(t.yaml:1)");
    /* passed on past the tier, to the profile, which allows it */
    expect_trace(calico, "10.20.0.1:443", NULL, "reachable", "yes");
    expect_trace(calico, "10.20.0.1:443", NULL, "decidedBy",
                 "allowed by spec.egress[0] of GlobalNetworkPolicy.projectcalico.org first "
                 "(t.yaml:1)");
    expect_trace(calico, "10.20.0.1:443", NULL, "verdict", "ok");
}

/*
 * The same policies with the Deny in tier security: "order: Indicates priority of this Tier, with
 * lower order taking precedence" (docs.tigera.io/calico/latest/reference/resources/tier), and no
 * Tier object is known, so whether the Deny comes before the Allow is not known: "maybe", which
 * counts as reachable and, outside the allow-list, a violation.
 */
static void test_explain_trace_calico_tiers_unordered(void **state)
{
    static const char tiers[] =
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        "metadata: {name: security.first}\n"
        "spec:\n  tier: security\n  order: 10\n  types: [Egress]\n  egress:\n"
        "  - action: Deny\n    destination: {nets: [0.0.0.0/0]}\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: app, namespace: ml-a}\n"
        "spec:\n  order: 100\n  egress:\n"
        "  - action: Allow\n    protocol: TCP\n    destination: {nets: [0.0.0.0/0], ports: [443]}\n";

    (void)state;
    expect_trace(tiers, "8.8.8.8:443", NULL, "reachable", "maybe");
    expect_trace(tiers, "8.8.8.8:443", NULL, "verdict", "violation");
    /* nothing of either tier opens it: no */
    expect_trace(tiers, "8.8.8.8:80", NULL, "reachable", "no");
}

/*
 * An AdminNetworkPolicy Pass "instructs the selected traffic to skip any remaining ANP rules, and
 * then pass execution to any NetworkPolicies that select the pod" (network-policy-api
 * apis/v1alpha1/adminnetworkpolicy_types.go): the guard at priority 20 never sees 8.8.8.8:443,
 * the namespace's Allow decides it; what the Pass does not match, the guard denies.
 */
static void test_explain_trace_admin_pass(void **state)
{
    static const char admin[] =
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {name: guard}\nspec:\n  priority: 20\n  subject: {namespaces: {}}\n"
        "  egress:\n  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]\n---\n"
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {name: delegate}\nspec:\n  priority: 10\n  subject: {namespaces: {}}\n"
        "  egress:\n  - action: Pass\n    to: [{networks: [8.0.0.0/8]}]\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: app, namespace: ml-a}\n"
        "spec:\n  order: 100\n  egress:\n"
        "  - action: Allow\n    protocol: TCP\n    destination: {nets: [0.0.0.0/0], ports: [443]}\n";

    (void)state;
    expect_trace(admin, "8.8.8.8:443", NULL, "reachable", "yes");
    expect_trace(admin, "8.8.8.8:443", NULL, "decidedBy",
                 "allowed by spec.egress[0] of NetworkPolicy.projectcalico.org ml-a/app "
                 "(t.yaml:21)");
    expect_trace(admin, "9.9.9.9:443", NULL, "reachable", "no");
    expect_trace(admin, "9.9.9.9:443", NULL, "decidedBy",
                 "denied by spec.egress[0] of AdminNetworkPolicy guard (t.yaml:1)");
}

/* A name against an address rule, and a policy that may apply: "maybe", counted as reachable. */
static void test_explain_trace_maybe(void **state)
{
    static const char np[] =
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: web, namespace: ml-a}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n"
        "  - to: [{ipBlock: {cidr: 192.0.2.0/24}}]\n    ports: [{port: 443}]\n";

    (void)state;
    expect_trace(np, "example.com:443", "web", "reachable", "maybe");
    expect_trace(np, "example.com:443", "web", "verdict", "violation");
    expect_trace(np, "192.0.2.7:443", "web", "reachable", "yes");
    expect_trace(np, "192.0.2.7:80", "web", "reachable", "no");
    /* a pod the policy does not select is not isolated */
    expect_trace(np, "192.0.2.7:80", "db", "reachable", "yes");
    /* any pod of the namespace: the policy may apply, so it may isolate some pods, not all */
    expect_trace(np, "192.0.2.7:80", NULL, "reachable", "maybe");
    expect_trace(np, "169.254.169.254:80", "db", "allowList", "always-denied");
    expect_trace(np, "169.254.169.254:80", "db", "verdict", "violation");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explain_dest_parse_forms),
        cmocka_unit_test(test_explain_trace_calico_first_match),
        cmocka_unit_test(test_explain_trace_calico_tiers_unordered),
        cmocka_unit_test(test_explain_trace_admin_pass),
        cmocka_unit_test(test_explain_trace_maybe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
