/*
 * The index of policies by the pod labels they pin: which policies of a namespace a composition
 * over some pods looks at. Leaving a policy out must never change a composition (test_compose
 * compares with and without the index); here, what is left out and what is not.
 */
#include "policy/eval/podindex.h"

#include <stdlib.h>
#include <string.h>

#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NP INVFIX_NP

static const char input[] =
    NP("web", "ml-a", "{matchLabels: {app: web}}")
    NP("db", "ml-a", "{matchLabels: {app: db, tier: data}}")
    NP("tier", "ml-a", "{matchLabels: {tier: data}}")
    NP("all", "ml-a", "{}")
    NP("notin", "ml-a", "{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}")
    NP("in1", "ml-a", "{matchExpressions: [{key: app, operator: In, values: [web]}]}")
    NP("other", "ml-b", "{matchLabels: {app: web}}")
    /* two specs pinning app differently: not pinned as a whole */
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: two, namespace: ml-a}\n"
    "specs:\n- endpointSelector: {matchLabels: {app: web}}\n  egress:\n"
    "  - toCIDR: [10.20.0.0/16]\n- endpointSelector: {matchLabels: {app: db}}\n  egress:\n"
    "  - toCIDR: [10.20.0.0/16]\n---\n"
    "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: cw}\n"
    "spec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress:\n"
    "  - toCIDR: [10.20.0.0/16]\n";

struct fix {
    struct invfix f;
    struct podindex *ix;
};

static int setup(void **state)
{
    struct fix *x = calloc(1, sizeof(*x));
    struct podindex_policy *ps;

    assert_non_null(x);
    invfix_load(&x->f, input, "t.yaml", NULL);
    assert_non_null(ps = calloc(x->f.inv.n_policies, sizeof(*ps)));
    for (size_t i = 0; i < x->f.inv.n_policies; i++)
        ps[i] = (struct podindex_policy){x->f.inv.policies[i].ns, x->f.inv.policies[i].models};
    assert_non_null(x->ix = podindex_build(ps, x->f.inv.n_policies));
    free(ps);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fix *x = *state;

    podindex_free(x->ix);
    invfix_release(&x->f);
    free(x);
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the candidates for ns and the pods of selector text sel (NULL: every pod). */
static void candidates(const struct fix *x, const char *ns, const char *sel, char *out,
                       size_t size)
{
    struct err e = {0};
    struct selector *s = sel ? selector_parse(sel, &e) : NULL;
    size_t pos[16], n, len = 0;
    const char *names[16];

    if (sel)
        assert_non_null(s);
    n = podindex_candidates(x->ix, ns, s, NULL);
    assert_true(n <= 16);
    assert_int_equal(podindex_candidates(x->ix, ns, s, pos), n);
    for (size_t i = 0; i < n; i++)
        names[i] = x->f.inv.policies[pos[i]].name;
    qsort(names, n, sizeof(*names), cmp_name);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "", names[i]);
    selector_free(s);
}

/* Pods pinned to app=web: the policies pinning app elsewhere are left out, no others. */
static void test_podindex_leaves_out_other_values(void **state)
{
    char got[256];

    candidates(*state, "ml-a", "app == 'web'", got, sizeof(got));
    assert_string_equal(got, "all in1 notin tier two web");
    candidates(*state, "ml-a", "app == 'db' && tier == 'data'", got, sizeof(got));
    assert_string_equal(got, "all db notin tier two");
}

/* Pods that leave the pinned key open (or every pod) keep every policy of the namespace. */
static void test_podindex_keeps_what_may_apply(void **state)
{
    char got[256];

    candidates(*state, "ml-a", NULL, got, sizeof(got));
    assert_string_equal(got, "all db in1 notin tier two web");
    candidates(*state, "ml-a", "has(app)", got, sizeof(got));
    assert_string_equal(got, "all db in1 notin tier two web");
}

/* A policy is indexed by one label it pins: another label it pins does not leave it out. */
static void test_podindex_one_key_per_policy(void **state)
{
    char got[256];

    /* "tier" pins only tier; "db" is indexed by app, its first pin */
    candidates(*state, "ml-a", "tier == 'web'", got, sizeof(got));
    assert_string_equal(got, "all db in1 notin two web");
}

/* Only the namespace's own policies; cluster-scoped ones are not indexed. */
static void test_podindex_namespace_only(void **state)
{
    char got[256];

    candidates(*state, "ml-b", "app == 'web'", got, sizeof(got));
    assert_string_equal(got, "other");
    candidates(*state, "ml-b", "app == 'db'", got, sizeof(got));
    assert_string_equal(got, "");
    candidates(*state, "ml-c", NULL, got, sizeof(got));
    assert_string_equal(got, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_podindex_leaves_out_other_values),
        cmocka_unit_test(test_podindex_keeps_what_may_apply),
        cmocka_unit_test(test_podindex_one_key_per_policy),
        cmocka_unit_test(test_podindex_namespace_only),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
