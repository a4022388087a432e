/* decide_object(): the exemption lifecycle on the one decision path (webhook, check, audit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/decide.h"
#include "tests/helpers/evalfix.h"

#define DAY 86400
/* Days from 1970-01-01, computed independently of the code under test. */
#define T_2026_12_01 ((int64_t)20788 * DAY)
#define T_2027_01_20 ((int64_t)20838 * DAY)
#define T_2027_02_01 ((int64_t)20850 * DAY)

static const char policy_text[] =
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

static int setup(void **state)
{
    struct err e = {0};

    *state = policy_load_buffer(policy_text, strlen(policy_text), "p.yaml", &e);
    if (!*state)
        fprintf(stderr, "%s\n", e.msg);
    return *state ? 0 : -1;
}

static int teardown(void **state)
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
        cmocka_unit_test(test_decide_exemption_active_until_its_last_day),
        cmocka_unit_test(test_decide_exemption_expiring_warns),
        cmocka_unit_test(test_decide_exemption_expired_evaluates),
        cmocka_unit_test(test_decide_exemption_zero_now_is_the_clock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
