/*
 * Judging large network policies: the work a decision counts (budget.h) grows in proportion to
 * the object, many escapes are listed up to a cap and counted beyond it, and past its budget a
 * decision fails (which denies) saying the object is too complex.
 */
#include "policy/eval/reach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/config/policy.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "tests/helpers/policyfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static const char POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: t}\n"
    "spec:\n"
    "  aiWorkloads:\n"
    "    namespaces: {names: [\"ml-*\"]}\n"
    "  allow:\n"
    "    - name: registry\n"
    "      cidrs: [10.20.0.0/16]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "    - name: s3\n"
    "      fqdns: [\"*.s3.amazonaws.com\"]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "  deny:\n"
    "    - name: metadata\n"
    "      cidrs: [169.254.169.254/32]\n";

/* One policy for every test (they only read it). */
static int setup(void **state)
{
    *state = policyfix_must_load(POLICY);
    return 0;
}

/*
 * A NetworkPolicy (JSON) in ml-a with n ipBlocks on TCP/443: the first `inside` within the
 * allow-list (10.20.x.0/24), the others outside (a distinct /24 each).
 */
static void netpol(struct buf *b, size_t n, size_t inside)
{
    buf_puts(b, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
                "\"metadata\":{\"name\":\"big\",\"namespace\":\"ml-a\"},\"spec\":{"
                "\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[");
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s{\"ipBlock\":{\"cidr\":\"%s%zu.%zu.%zu.0/24\"}}", i ? "," : "",
                   i < inside ? "" : "", i < inside ? (size_t)10 : 20 + (i >> 16) % 200,
                   i < inside ? (size_t)20 : (i >> 8) & 255, i < inside ? i % 256 : i & 255);
    buf_puts(b, "],\"ports\":[{\"protocol\":\"TCP\",\"port\":443}]}]}}");
}

/*
 * A CiliumNetworkPolicy with n toCIDRSet allows and n egressDeny CIDRs on the same ports (every
 * allow loses its first /26 to a deny): what a deny-heavy object costs.
 */
static void cilium_denies(struct buf *b, size_t n)
{
    buf_puts(b, "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\","
                "\"metadata\":{\"name\":\"d\",\"namespace\":\"ml-a\"},\"spec\":{"
                "\"endpointSelector\":{},\"egress\":[{\"toCIDRSet\":[");
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s{\"cidr\":\"%zu.%zu.%zu.0/24\"}", i ? "," : "", 20 + (i >> 16) % 200,
                   (i >> 8) & 255, i & 255);
    buf_puts(b, "],\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]}],"
                "\"egressDeny\":[{\"toCIDRSet\":[");
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s{\"cidr\":\"%zu.%zu.%zu.0/26\"}", i ? "," : "", 20 + (i >> 16) % 200,
                   (i >> 8) & 255, i & 255);
    buf_puts(b, "],\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]}]}}");
}

struct outcome {
    int rc;
    struct err e; /* its file is the manifest's: valid until outcome_release() */
    struct verdict v;
    struct budget used;
    struct manifest *m;
};

static void outcome_release(struct outcome *o)
{
    verdict_release(&o->v);
    manifest_free(o->m);
    o->m = NULL;
}

/* Decides the object text with a budget of `limit` units (0: unlimited). */
static void decide_text(const struct policy *pol, const struct buf *text, unsigned long long limit,
                        struct outcome *out)
{
    struct manifest *m = manifest_new();
    struct request_ctx ctx = {.operation = "CREATE"};

    assert_non_null(m);
    assert_false(text->failed);
    assert_int_equal(manifest_read_buffer(m, text->data, text->len, "big.json"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    memset(out, 0, sizeof(*out));
    budget_init(&out->used, limit);
    ctx.budget = &out->used;
    verdict_init(&out->v);
    out->rc = decide_object(pol, manifest_object(m, 0), &ctx, &out->v, &out->e);
    out->m = m;
}

static void test_reach_lists_the_first_escapes_and_counts_the_rest(void **state)
{
    struct buf b;
    struct outcome o;
    size_t violations = 0;
    char want[64];

    buf_init(&b, 0);
    netpol(&b, 255, 5);
    decide_text(*state, &b, 0, &o);
    assert_int_equal(o.rc, 0);
    assert_false(o.v.allowed);
    for (size_t i = 0; i < o.v.n_findings; i++) {
        const struct finding *f = &o.v.findings[i];

        if (!f->violation)
            continue;
        if (violations < REACH_MAX_ESCAPES) {
            /* in the order of the policy, skipping the five inside the allow-list */
            snprintf(want, sizeof(want), "spec.egress[0].to[%zu].ipBlock", violations + 5);
            assert_string_equal(f->path, want);
        } else {
            assert_string_equal(f->path, "");
            assert_non_null(strstr(f->message, "150 more destinations open outside the "
                                               "allow-list (the first 100 are listed)"));
        }
        violations++;
    }
    assert_int_equal(violations, REACH_MAX_ESCAPES + 1);
    outcome_release(&o);
    buf_release(&b);
}

/* The units a decision counts for objects of size n and 2n: linear growth doubles them. */
static void expect_linear(const struct policy *pol, void (*gen)(struct buf *, size_t), size_t n)
{
    struct buf small, large;
    struct outcome a, b;
    double ratio;

    buf_init(&small, 0);
    buf_init(&large, 0);
    gen(&small, n);
    gen(&large, 2 * n);
    decide_text(pol, &small, 0, &a);
    decide_text(pol, &large, 0, &b);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    ratio = (double)b.used.used / (double)a.used.used;
    print_message("%zu: %llu units, %zu: %llu units (x%.2f)\n", n, a.used.used, 2 * n,
                  b.used.used, ratio);
    assert_true(a.used.used >= n);
    assert_true(ratio > 1.8 && ratio < 2.3);
    outcome_release(&a);
    outcome_release(&b);
    buf_release(&small);
    buf_release(&large);
}

static void netpol_outside(struct buf *b, size_t n)
{
    netpol(b, n, 0);
}

static void test_decide_work_grows_linearly_with_ipblocks(void **state)
{
    expect_linear(*state, netpol_outside, 20000);
}

static void test_decide_work_grows_linearly_with_denies(void **state)
{
    expect_linear(*state, cilium_denies, 20000);
}

static void test_decide_100000_ipblocks_within_the_default_budget(void **state)
{
    struct buf b;
    struct outcome o;

    buf_init(&b, 0);
    netpol(&b, 100000, 0);
    decide_text(*state, &b, BUDGET_DEFAULT_UNITS, &o);
    assert_int_equal(o.rc, 0);
    assert_false(o.v.allowed);
    print_message("100,000 ipBlocks: %llu of %llu units\n", o.used.used, o.used.limit);
    assert_true(o.used.used < BUDGET_DEFAULT_UNITS / 10);
    outcome_release(&o);
    buf_release(&b);
}

static void test_decide_over_budget_is_too_complex(void **state)
{
    struct buf b;
    struct outcome o;

    buf_init(&b, 0);
    cilium_denies(&b, 2000);
    decide_text(*state, &b, 5000, &o);
    assert_int_equal(o.rc, -1);
    assert_true(o.used.over);
    assert_non_null(strstr(o.e.msg, "too complex to evaluate: deciding it takes more than 5000 "
                                    "units of work"));
    assert_string_equal(o.e.file, "big.json");
    assert_int_equal(o.e.line, 1);
    /* The same object with room enough is judged. */
    outcome_release(&o);
    decide_text(*state, &b, 0, &o);
    assert_int_equal(o.rc, 0);
    assert_true(o.used.used > 5000);
    outcome_release(&o);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reach_lists_the_first_escapes_and_counts_the_rest),
        cmocka_unit_test(test_decide_work_grows_linearly_with_ipblocks),
        cmocka_unit_test(test_decide_work_grows_linearly_with_denies),
        cmocka_unit_test(test_decide_100000_ipblocks_within_the_default_budget),
        cmocka_unit_test(test_decide_over_budget_is_too_complex),
    };

    return cmocka_run_group_tests(tests, setup, policyfix_teardown);
}
