/*
 * The decider table (policy/decide.c): every kind it lists is routed to a rule module for its API
 * group only; anything else is answered by rules.unknownKinds, never silently evaluated; DELETEs
 * meet only the managed-policy guard; exemptions apply before the rule modules, for as long as
 * they last.
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
    {"projectcalico.org/v3", "NetworkSet", "spec: {nets: [10.1.0.0/16]}\n"},
    {"crd.projectcalico.org/v1", "GlobalNetworkSet", "spec: {nets: [10.1.0.0/16]}\n"},
    {"cilium.io/v2alpha1", "CiliumCIDRGroup", "spec: {externalCIDRs: [10.1.0.0/16]}\n"},
    {"policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
     "spec: {priority: 10, subject: {namespaces: {}}, egress: []}\n"},
    {"policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy",
     "spec: {subject: {namespaces: {}}, egress: []}\n"},
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
        if (strstr(unknown[i][1], "NetworkPolicy")) {
            /* A network-policy kind is never passed in silence: a note names it. */
            assert_int_equal(f.v.n_findings, 1);
            assert_false(f.v.findings[0].violation);
            assert_non_null(strstr(f.v.findings[0].message,
                                   "NetworkPolicy (example.com/v1) is a network-policy kind "
                                   "egressguard does not evaluate"));
        } else {
            assert_int_equal(f.v.n_findings, 0);
        }
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

/* The exemption lifecycle, judged at request_ctx.now (0: the clock). */
#define DAY 86400
/* Days from 1970-01-01, computed independently of the code under test. */
#define T_2026_12_01 ((int64_t)20788 * DAY)
#define T_2027_01_20 ((int64_t)20838 * DAY)
#define T_2027_02_01 ((int64_t)20850 * DAY)

static const char lifecycle_policy[] =
    "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
    "spec:\n"
    "  aiWorkloads:\n    namespaces: {names: [\"ml-*\"]}\n"
    "  allow:\n  - name: registry\n    cidrs: [10.20.0.0/16]\n"
    "  exemptions:\n"
    "  - kind: NetworkPolicy\n    namespace: ml-research\n    name: legacy-allow-all\n"
    "    reason: \"INC-1234: migration window\"\n    owner: research-infra\n"
    "    ticket: INC-1234\n    expires: 2027-01-31\n"
    "  - namespace: ml-past\n    reason: ended long ago\n    expires: 2000-01-01\n"
    "  - namespace: ml-future\n    reason: ends far away\n    expires: 9999-12-31\n";

static const char allow_all[] =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    "metadata: {name: legacy-allow-all, namespace: ml-research}\n"
    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - {}\n";

static int setup_lifecycle(void **state)
{
    struct err e = {0};

    *state = policy_load_buffer(lifecycle_policy, strlen(lifecycle_policy), "p.yaml", &e);
    if (!*state)
        fprintf(stderr, "%s\n", e.msg);
    return *state ? 0 : -1;
}

static int teardown_lifecycle(void **state)
{
    policy_free(*state);
    return 0;
}

static void decide_at(struct evalfix *f, const struct policy *p, const char *text, int64_t now)
{
    struct request_ctx ctx = {.operation = "CREATE", .now = now};

    evalfix_text(f, p, text, 0, &ctx);
    assert_int_equal(f->rc, 0);
}

static void test_decide_exemption_active_until_its_last_day(void **state)
{
    struct evalfix f;
    const struct finding *x;

    decide_at(&f, *state, allow_all, T_2026_12_01);
    assert_true(f.v.allowed);
    assert_string_equal(f.v.exemption, "INC-1234: migration window");
    x = evalfix_find(&f, "exemption", false, 0);
    assert_non_null(x);
    assert_string_equal(x->message, "exempt by the policy file (line 11): INC-1234: migration "
                                    "window; it ends after 2027-01-31 (UTC)");
    assert_int_equal(evalfix_count(&f, "exemption.expiring", false), 0);
    assert_int_equal(evalfix_count(&f, "egress", true), 0);
    evalfix_release(&f);

    /* The last second of the last day still applies. */
    decide_at(&f, *state, allow_all, T_2027_02_01 - 1);
    assert_true(f.v.allowed);
    assert_non_null(f.v.exemption);
    evalfix_release(&f);
}

static void test_decide_exemption_expiring_warns(void **state)
{
    struct evalfix f;
    const struct finding *x;

    decide_at(&f, *state, allow_all, T_2027_01_20); /* 12 days left, within the default 14 */
    assert_true(f.v.allowed);
    assert_non_null(f.v.exemption);
    x = evalfix_find(&f, "exemption.expiring", false, 0);
    assert_non_null(x);
    assert_string_equal(x->message,
                        "exemption ends after 2027-01-31 (UTC): fix the object or renew the "
                        "exemption (line 11 of the policy file, owner research-infra, ticket "
                        "INC-1234)");
    evalfix_release(&f);
}

static void test_decide_exemption_expired_evaluates(void **state)
{
    struct evalfix f;
    const struct finding *x;

    decide_at(&f, *state, allow_all, T_2027_02_01);
    assert_false(f.v.allowed);
    assert_null(f.v.exemption);
    assert_int_equal(evalfix_count(&f, "exemption", false), 0);
    x = evalfix_find(&f, "exemption.expired", false, 0);
    assert_non_null(x);
    assert_string_equal(x->message,
                        "exemption expired after 2027-01-31 (UTC): the object is evaluated as if "
                        "it did not exist (line 11 of the policy file, owner research-infra, "
                        "ticket INC-1234; reason: INC-1234: migration window)");
    assert_true(evalfix_count(&f, "egress", true) > 0);
    evalfix_release(&f);
}

static void test_decide_exemption_zero_now_is_the_clock(void **state)
{
    static const char pod_past[] = "apiVersion: v1\nkind: Pod\n"
                                   "metadata: {name: p, namespace: ml-past}\n"
                                   "spec:\n  hostNetwork: true\n  containers: [{name: c}]\n";
    static const char pod_future[] = "apiVersion: v1\nkind: Pod\n"
                                     "metadata: {name: p, namespace: ml-future}\n"
                                     "spec:\n  hostNetwork: true\n  containers: [{name: c}]\n";
    struct evalfix f;

    /* No `now` in the request: the real clock, on which 2000 is past and 9999 is not. */
    decide_at(&f, *state, pod_past, 0);
    assert_false(f.v.allowed);
    assert_int_equal(evalfix_count(&f, "exemption.expired", false), 1);
    assert_int_equal(evalfix_count(&f, "pod.hostNetwork", true), 1);
    evalfix_release(&f);
    evalfix_text(&f, *state, pod_future, 0, NULL);
    assert_int_equal(f.rc, 0);
    assert_true(f.v.allowed);
    assert_string_equal(f.v.exemption, "ends far away");
    evalfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_routes_every_listed_kind),
        cmocka_unit_test(test_decide_kind_in_another_group_is_unknown),
        cmocka_unit_test(test_decide_delete_meets_only_the_managed_guard),
        cmocka_unit_test(test_decide_exemption_before_rules),
        cmocka_unit_test_setup_teardown(test_decide_exemption_active_until_its_last_day,
                                        setup_lifecycle, teardown_lifecycle),
        cmocka_unit_test_setup_teardown(test_decide_exemption_expiring_warns, setup_lifecycle,
                                        teardown_lifecycle),
        cmocka_unit_test_setup_teardown(test_decide_exemption_expired_evaluates, setup_lifecycle,
                                        teardown_lifecycle),
        cmocka_unit_test_setup_teardown(test_decide_exemption_zero_now_is_the_clock,
                                        setup_lifecycle, teardown_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
