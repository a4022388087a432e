/*
 * The decider table (policy/decide.c): every kind it lists is routed to a rule module for its API
 * group only; anything else is answered by rules.unknownKinds, never silently evaluated; DELETEs
 * meet only the managed-policy guard; exemptions apply before the rule modules.
 */
#include "policy/decide.h"

#include <stdio.h>
#include <string.h>

#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static const char policy_allow_unknown[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: t}\n"
    "spec:\n"
    "  aiWorkloads: {namespaces: {names: [ml-*]}}\n"
    "  allow:\n"
    "    - {name: registry, cidrs: [10.20.0.0/16], ports: [{protocol: TCP, port: 443}]}\n"
    "  identities: {serviceAccounts: [egressguard/egressguard]}\n"
    "  exemptions:\n"
    "    - {kind: NetworkPolicy, namespace: ml-legacy, name: open, reason: migration window}\n";

static struct policy *load(const char *text, const char *extra)
{
    char buf[2048];
    struct err e = {0};
    struct policy *p;

    snprintf(buf, sizeof(buf), "%s%s", text, extra);
    p = policy_load_buffer(buf, strlen(buf), "test.yaml", &e);
    if (!p)
        fail_msg("policy: %s", e.msg);
    return p;
}

/* apiVersion and kind of every row of the table, with an object body that kind accepts. */
static const struct {
    const char *api, *kind, *body;
} known[] = {
    {"v1", "Namespace", ""},
    {"v1", "Pod", "spec: {containers: [{name: c, image: i}]}\n"},
    {"v1", "PodTemplate", "template: {spec: {containers: [{name: c, image: i}]}}\n"},
    {"v1", "ReplicationController", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"apps/v1", "DaemonSet", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"apps/v1", "Deployment", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"apps/v1", "ReplicaSet", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"apps/v1", "StatefulSet", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"batch/v1", "Job", "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"batch/v1", "CronJob",
     "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: i}]}}}}}\n"},
    {"extensions/v1beta1", "Deployment",
     "spec: {template: {spec: {containers: [{name: c, image: i}]}}}\n"},
    {"networking.k8s.io/v1", "NetworkPolicy", "spec: {podSelector: {}, policyTypes: [Egress]}\n"},
    {"extensions/v1beta1", "NetworkPolicy", "spec: {podSelector: {}, policyTypes: [Egress]}\n"},
    {"cilium.io/v2", "CiliumNetworkPolicy", "spec: {endpointSelector: {}, egress: []}\n"},
    {"projectcalico.org/v3", "NetworkPolicy", "spec: {selector: all(), types: [Egress]}\n"},
    {"crd.projectcalico.org/v1", "NetworkPolicy", "spec: {selector: all(), types: [Egress]}\n"},
};

static void decide_text(const struct policy *p, const char *text, const struct request_ctx *ctx,
                        struct evalfix *f)
{
    evalfix_text(f, p, text, 0, ctx);
    if (f->rc != 0)
        fail_msg("%s: decide_object failed: %s", text, f->e.msg);
}

static void test_decide_routes_every_listed_kind(void **state)
{
    struct policy *p = load(policy_allow_unknown, "  rules: {unknownKinds: deny}\n");
    char text[512];

    (void)state;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct evalfix f;

        snprintf(text, sizeof(text), "apiVersion: %s\nkind: %s\nmetadata: {name: x, namespace: ml-a}\n%s",
                 known[i].api, known[i].kind, known[i].body);
        decide_text(p, text, NULL, &f);
        if (!f.v.evaluated || evalfix_count(&f, "kind", true))
            fail_msg("%s %s was not routed to its rule module", known[i].api, known[i].kind);
        evalfix_release(&f);
    }
    policy_free(p);
}

static void test_decide_kind_in_another_group_is_unknown(void **state)
{
    static const char *const unknown[][2] = {
        {"example.com/v1", "NetworkPolicy"}, /* same kind, another group */
        {"apps/v1", "Pod"},                 /* a core kind under a group that does not serve it */
        {"v1", "Secret"},
        {"v1", "Deployment"},
    };
    struct policy *deny = load(policy_allow_unknown, "  rules: {unknownKinds: deny}\n");
    struct policy *allow = load(policy_allow_unknown, "");
    char text[256];

    (void)state;
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct evalfix f;

        snprintf(text, sizeof(text), "apiVersion: %s\nkind: %s\nmetadata: {name: x, namespace: ml-a}\n",
                 unknown[i][0], unknown[i][1]);
        decide_text(deny, text, NULL, &f);
        assert_false(f.v.evaluated);
        assert_false(f.v.allowed);
        evalfix_expect(&f, "kind", "", 1, "is not a kind egressguard evaluates");
        evalfix_release(&f);

        decide_text(allow, text, NULL, &f);
        assert_false(f.v.evaluated);
        assert_true(f.v.allowed);
        assert_int_equal(f.v.n_findings, 0);
        evalfix_release(&f);
    }
    policy_free(deny);
    policy_free(allow);
}

static const char open_policy[] =
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: open, namespace: ml-a, labels: {app.kubernetes.io/managed-by: egressguard}}\n"
    "spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n";

static void test_decide_delete_meets_only_the_managed_guard(void **state)
{
    struct policy *p = load(policy_allow_unknown, "");
    struct request_ctx del = {.operation = "DELETE", .username = "alice"};
    struct request_ctx ours = {.operation = "DELETE",
                               .username = "system:serviceaccount:egressguard:egressguard"};
    struct evalfix f;

    (void)state;
    /* CREATE: judged, and it opens everything. */
    decide_text(p, open_policy, NULL, &f);
    assert_false(f.v.allowed);
    assert_true(evalfix_count(&f, "egress", true) > 0);
    evalfix_release(&f);
    /* DELETE of egressguard's own policy by someone else: the guard refuses, nothing else runs. */
    decide_text(p, open_policy, &del, &f);
    assert_false(f.v.allowed);
    assert_int_equal(evalfix_count(&f, "egress", true), 0);
    assert_true(f.v.n_findings > 0);
    evalfix_release(&f);
    /* DELETE by egressguard itself: allowed, nothing judged. */
    decide_text(p, open_policy, &ours, &f);
    assert_true(f.v.allowed);
    assert_int_equal(evalfix_count(&f, "egress", true), 0);
    evalfix_release(&f);
    policy_free(p);
}

static void test_decide_exemption_before_rules(void **state)
{
    static const char exempt[] =
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: open, namespace: ml-legacy}\n"
        "spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n";
    struct policy *p = load(policy_allow_unknown, "");
    struct evalfix f;

    (void)state;
    decide_text(p, exempt, NULL, &f);
    assert_true(f.v.allowed);
    assert_non_null(f.v.exemption);
    assert_string_equal(f.v.exemption, "migration window");
    assert_int_equal(evalfix_count(&f, "egress", true), 0);
    assert_int_equal(evalfix_count(&f, "exemption", false), 1);
    evalfix_release(&f);
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_routes_every_listed_kind),
        cmocka_unit_test(test_decide_kind_in_another_group_is_unknown),
        cmocka_unit_test(test_decide_delete_meets_only_the_managed_guard),
        cmocka_unit_test(test_decide_exemption_before_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
