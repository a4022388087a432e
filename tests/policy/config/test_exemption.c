#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/config/exemption.h"
#include "policy/config/policy.h"
#include "tests/helpers/policyfix.h"

#define HEAD "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\nspec:\n"
#define AI "  aiWorkloads:\n    namespaces:\n      names: [\"ml-*\"]\n"
#define DAY 86400

/* 2027-01-31T00:00:00Z, computed independently: 20849 days after 1970-01-01. */
#define JAN31_2027 ((int64_t)20849 * DAY)

static void expect_error(const char *text, int line, int col, const char *msg)
{
    assert_true(policyfix_refuses(text, line, col, msg));
}

static int64_t parsed(const char *text, bool want_date)
{
    struct err e = {0};
    int64_t t = 0;
    bool is_date = !want_date;

    if (exemption_parse_expires(text, &t, &is_date, &e) < 0)
        fail_msg("%s: %s", text, e.msg);
    assert_int_equal(is_date, want_date);
    return t;
}

static void test_exemption_parse_expires_dates_end_with_their_day(void **state)
{
    (void)state;
    /* A date is the last day the exemption applies: it ends at the next midnight UTC. */
    assert_int_equal(parsed("2027-01-31", true), JAN31_2027 + DAY);
    assert_int_equal(parsed("1970-01-01", true), DAY);
    /* Leap days: 2024 and 2000 have one, 2100 does not. */
    assert_int_equal(parsed("2024-03-01", true) - parsed("2024-02-28", true), 2 * DAY);
    assert_int_equal(parsed("2000-02-29", true) - parsed("2000-02-28", true), DAY);
    assert_int_equal(parsed("2101-01-01", true) - parsed("2100-01-01", true), 365 * DAY);
}

static void test_exemption_parse_expires_rfc3339_instants(void **state)
{
    (void)state;
    assert_int_equal(parsed("2027-01-31T00:00:00Z", false), JAN31_2027);
    assert_int_equal(parsed("2027-01-31T18:30:15Z", false), JAN31_2027 + 18 * 3600 + 30 * 60 + 15);
    assert_int_equal(parsed("2027-01-31t18:30:15z", false), JAN31_2027 + 18 * 3600 + 30 * 60 + 15);
    /* 18:00 at +01:00 is 17:00 UTC; at -05:30 it is 23:30 UTC. */
    assert_int_equal(parsed("2027-01-31T18:00:00+01:00", false), JAN31_2027 + 17 * 3600);
    assert_int_equal(parsed("2027-01-31T18:00:00-05:30", false), JAN31_2027 + 23 * 3600 + 1800);
    assert_int_equal(parsed("2027-01-31T18:00:00.999Z", false), JAN31_2027 + 18 * 3600);
}

static void test_exemption_parse_expires_rejects(void **state)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"2027-02-29", "\"2027-02-29\": 2027-02 has 28 days"},
        {"2027-04-31", "\"2027-04-31\": 2027-04 has 30 days"},
        {"2027-13-01", "\"2027-13-01\": month is not 01-12"},
        {"0000-01-01", "\"0000-01-01\": year 0000 does not exist"},
        {"2027-01-31T24:00:00Z", "\"2027-01-31T24:00:00Z\": hour 24 is out of range 00-23"},
        {"2027-01-31T10:60:00Z", "\"2027-01-31T10:60:00Z\": minute 60 is out of range 00-59"},
        {"2027-01-31T10:00:00+24:00",
         "\"2027-01-31T10:00:00+24:00\": offset hour 24 is out of range 00-23"},
        {"2027-1-31", "\"2027-1-31\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time "
                      "(2027-01-31T18:00:00Z)"},
        {"2027-01-31T18:00:00", "\"2027-01-31T18:00:00\" is neither a date (YYYY-MM-DD) nor an "
                                "RFC 3339 time (2027-01-31T18:00:00Z)"},
        {"2027-01-31 ", "\"2027-01-31 \" is neither a date (YYYY-MM-DD) nor an RFC 3339 time "
                        "(2027-01-31T18:00:00Z)"},
        {"2027-01-31T18:00:00.Z", "\"2027-01-31T18:00:00.Z\" is neither a date (YYYY-MM-DD) nor "
                                  "an RFC 3339 time (2027-01-31T18:00:00Z)"},
        {"", "\"\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2027-01-31T18:00:00Z)"},
        {"next friday", "\"next friday\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time "
                        "(2027-01-31T18:00:00Z)"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};
        int64_t t;
        bool d;

        if (exemption_parse_expires(bad[i].text, &t, &d, &e) == 0)
            fail_msg("accepted %s", bad[i].text);
        assert_string_equal(e.msg, bad[i].msg);
    }
}

static void test_exemption_load_fields(void **state)
{
    struct err e;
    struct policy *p = policyfix_load(HEAD AI "  exemptionWarningDays: 7\n  exemptions:\n"
                                              "  - namespace: ml-old\n    reason: migration\n"
                                              "    owner: research-infra\n    ticket: INC-1234\n"
                                              "    expires: 2027-01-31\n"
                                              "  - kind: Pod\n    reason: for ever\n",
                                      &e);
    char buf[300];

    (void)state;
    if (!p)
        fail_msg("%s", e.msg);
    assert_int_equal(p->exemption_warning_days, 7);
    assert_int_equal(p->n_exemptions, 2);
    assert_string_equal(p->exemptions[0].owner, "research-infra");
    assert_string_equal(p->exemptions[0].ticket, "INC-1234");
    assert_int_equal(p->exemptions[0].expires, JAN31_2027 + DAY);
    assert_true(p->exemptions[0].expires_date);
    assert_int_equal(p->exemptions[0].line, 10);
    assert_null(p->exemptions[1].owner);
    assert_int_equal(p->exemptions[1].expires, EXEMPTION_NEVER);
    exemption_describe(&p->exemptions[0], buf, sizeof(buf));
    assert_string_equal(buf, "line 10 of the policy file, owner research-infra, ticket INC-1234");
    exemption_describe(&p->exemptions[1], buf, sizeof(buf));
    assert_string_equal(buf, "line 15 of the policy file");
    exemption_end_text(&p->exemptions[0], true, buf, sizeof(buf));
    assert_string_equal(buf, "expired after 2027-01-31 (UTC)");
    exemption_end_text(&p->exemptions[0], false, buf, sizeof(buf));
    assert_string_equal(buf, "ends after 2027-01-31 (UTC)");
    exemption_end_text(&p->exemptions[1], false, buf, sizeof(buf));
    assert_string_equal(buf, "does not expire");
    policy_free(p);

    p = policyfix_load(HEAD AI, &e);
    assert_non_null(p);
    assert_int_equal(p->exemption_warning_days, EXEMPTION_DEFAULT_WARNING_DAYS);
    policy_free(p);
}

static void test_exemption_load_rejects_each_mistake(void **state)
{
    (void)state;
    expect_error(HEAD AI
                 "  exemptions:\n  - namespace: x\n    reason: r\n    expires: 2027-02-30\n",
                 11, 14, "spec.exemptions[0].expires: \"2027-02-30\": 2027-02 has 28 days");
    expect_error(
        HEAD AI "  exemptions:\n  - namespace: x\n    reason: r\n    expires: 31.01.2027\n", 11, 14,
        "spec.exemptions[0].expires: \"31.01.2027\" is neither a date (YYYY-MM-DD) nor an "
        "RFC 3339 time (2027-01-31T18:00:00Z)");
    expect_error(HEAD AI "  exemptions:\n  - namespace: x\n    reason: r\n    expires: 20270131\n",
                 11, 14, "spec.exemptions[0]: \"expires\" must be a string, not a number");
    expect_error(HEAD AI "  exemptions:\n  - namespace: x\n    reason: r\n    owner: \"\"\n", 9, 5,
                 "spec.exemptions[0]: owner is empty: leave it out or fill it in");
    expect_error(HEAD AI "  exemptions:\n  - namespace: x\n    reason: r\n    expire: 2027-01-31\n",
                 11, 5, "spec.exemptions[0]: unknown field \"expire\" (did you mean \"expires\"?)");
    expect_error(HEAD AI "  exemptionWarningDays: -1\n", 8, 25,
                 "spec: exemptionWarningDays -1 is out of range 0-3650");
    expect_error(HEAD AI "  exemptionWarningDays: \"14\"\n", 8, 25,
                 "spec: \"exemptionWarningDays\" must be an integer, not a string");
}

static void test_exemption_states_and_changes(void **state)
{
    struct err e;
    struct policy *p =
        policyfix_load(HEAD AI "  exemptionWarningDays: 10\n  exemptions:\n"
                               "  - {namespace: a, reason: r, expires: 2027-01-31}\n"
                               "  - {namespace: b, reason: r, expires: \"2027-01-10T12:00:00Z\"}\n"
                               "  - {namespace: c, reason: r}\n",
                       &e);
    int64_t end_a = JAN31_2027 + DAY, end_b = JAN31_2027 - 21 * DAY + 12 * 3600;
    const struct exemption *a, *b, *c;
    size_t counts[3];

    (void)state;
    if (!p)
        fail_msg("%s", e.msg);
    a = &p->exemptions[0];
    b = &p->exemptions[1];
    c = &p->exemptions[2];
    assert_int_equal(b->expires, end_b);
    /* Active until the warning window, expiring inside it, expired from the end on. */
    assert_int_equal(exemption_state(a, 10, end_a - 10 * DAY - 1), EXEMPTION_ACTIVE);
    assert_int_equal(exemption_state(a, 10, end_a - 10 * DAY), EXEMPTION_EXPIRING);
    assert_int_equal(exemption_state(a, 10, end_a - 1), EXEMPTION_EXPIRING);
    assert_int_equal(exemption_state(a, 10, end_a), EXEMPTION_EXPIRED);
    assert_int_equal(exemption_state(a, 0, end_a - 1), EXEMPTION_ACTIVE);
    assert_int_equal(exemption_state(c, 10, INT64_MAX - 1), EXEMPTION_ACTIVE);
    assert_string_equal(exemption_state_name(EXEMPTION_EXPIRING), "expiring");

    assert_int_equal(exemption_next_change(a, 10, 0), end_a - 10 * DAY);
    assert_int_equal(exemption_next_change(a, 10, end_a - 10 * DAY), end_a);
    assert_int_equal(exemption_next_change(a, 10, end_a), EXEMPTION_NEVER);
    assert_int_equal(exemption_next_change(c, 10, 0), EXEMPTION_NEVER);
    assert_int_equal(policy_exemption_next_change(p, 0), end_b - 10 * DAY);
    assert_int_equal(policy_exemption_next_change(p, end_b - 10 * DAY), end_b);
    assert_int_equal(policy_exemption_next_change(p, end_b), end_a - 10 * DAY);
    assert_int_equal(policy_exemption_next_change(p, end_a), EXEMPTION_NEVER);

    policy_exemption_counts(p, end_b, counts); /* a has 21.5 days left: not yet expiring */
    assert_int_equal(counts[EXEMPTION_ACTIVE], 2);
    assert_int_equal(counts[EXEMPTION_EXPIRING], 0);
    assert_int_equal(counts[EXEMPTION_EXPIRED], 1);
    policy_exemption_counts(p, end_a - 5 * DAY, counts);
    assert_int_equal(counts[EXEMPTION_ACTIVE], 1);   /* c */
    assert_int_equal(counts[EXEMPTION_EXPIRING], 1); /* a */
    assert_int_equal(counts[EXEMPTION_EXPIRED], 1);  /* b */
    policy_free(p);
}

static void test_exemption_policy_query_skips_expired(void **state)
{
    struct err e;
    struct policy *p =
        policyfix_load(HEAD AI "  exemptions:\n"
                               "  - {namespace: \"ml-*\", reason: old, expires: 2020-01-01}\n"
                               "  - {namespace: ml-a, kind: Pod, reason: new}\n",
                       &e);
    const struct exemption *gone, *x;

    (void)state;
    if (!p)
        fail_msg("%s", e.msg);
    /* Before the end the first one covers everything in ml-*. */
    x = policy_exemption(p, "Pod", "ml-b", "x", 0, &gone);
    assert_ptr_equal(x, &p->exemptions[0]);
    assert_null(gone);
    /* After it, a later exemption still in force takes over; nothing is reported expired. */
    x = policy_exemption(p, "Pod", "ml-a", "x", JAN31_2027, &gone);
    assert_ptr_equal(x, &p->exemptions[1]);
    /* Where no exemption is left, the expired one is named. */
    x = policy_exemption(p, "Pod", "ml-b", "x", JAN31_2027, &gone);
    assert_null(x);
    assert_ptr_equal(gone, &p->exemptions[0]);
    assert_null(policy_exemption(p, "Pod", "web", "x", JAN31_2027, &gone));
    assert_null(gone);
    assert_null(policy_exemption(p, "Pod", "web", "x", JAN31_2027, NULL));
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exemption_parse_expires_dates_end_with_their_day),
        cmocka_unit_test(test_exemption_parse_expires_rfc3339_instants),
        cmocka_unit_test(test_exemption_parse_expires_rejects),
        cmocka_unit_test(test_exemption_load_fields),
        cmocka_unit_test(test_exemption_load_rejects_each_mistake),
        cmocka_unit_test(test_exemption_states_and_changes),
        cmocka_unit_test(test_exemption_policy_query_skips_expired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
