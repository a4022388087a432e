/*
 * Pod classes (policy/eval/podclass.c): a namespace's pods split by the selectors of the policies
 * that may apply to some of them, each class then composed exactly.
 */
#include "policy/eval/podclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NP(name, sel)                                                                             \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                    \
    "metadata: {name: " name ", namespace: ml-a}\n"                                              \
    "spec:\n  podSelector: " sel "\n  policyTypes: [Egress]\n---\n"

/* The classes of ml-a over the inputs (one or two yaml texts), "; "-separated descriptions. */
static void classes(const char *a, const char *b, size_t max, const char *want, bool complete)
{
    struct invfix fa, fb;
    const struct compose_input *ins[2];
    struct podclass_list l;
    struct policy *pol;
    struct err e = {0};
    struct buf got;

    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&fa, a, "a.yaml", NULL);
    invfix_load(&fb, b ? b : a, "b.yaml", NULL);
    ins[0] = &fa.inv.in;
    ins[1] = &fb.inv.in;
    podclass_list_init(&l);
    assert_int_equal(podclass_split(pol, ins, b ? 2 : 1, "ml-a", max, &l, &e), 0);
    buf_init(&got, 1 << 16);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            buf_puts(&got, "; ");
        podclass_describe(l.sels[i], &got);
    }
    assert_string_equal(buf_str(&got), want);
    assert_int_equal(l.complete, complete);
    buf_release(&got);
    podclass_list_release(&l);
    invfix_release(&fa);
    invfix_release(&fb);
    policy_free(pol);
}

/*
 * Nothing narrower than every pod: one class. The selectors of every input count, each once;
 * classes that provably select nothing are dropped, so web and db pods make three classes.
 */
static void test_podclass_split_by_selectors(void **state)
{
    (void)state;
    classes(NP("all", "{}"), NULL, 8, "every pod", true);
    classes(NP("web", "{matchLabels: {app: web}}") NP("web2", "{matchLabels: {app: web}}"),
            NP("web", "{matchLabels: {app: web}}") NP("db", "{matchLabels: {app: db}}"), 8,
            "pods app == \"web\"; pods app == \"db\"; pods app != \"web\" && app != \"db\"",
            true);
}

/* Independent keys: every combination may hold pods. */
static void test_podclass_independent_keys(void **state)
{
    (void)state;
    classes(NP("web", "{matchLabels: {app: web}}") NP("gpu", "{matchLabels: {gpu: \"true\"}}"),
            NULL, 8,
            "pods app == \"web\" && gpu == \"true\"; pods app == \"web\" && gpu != \"true\"; "
            "pods app != \"web\" && gpu == \"true\"; pods app != \"web\" && gpu != \"true\"",
            true);
}

/* Past the cap a selector stays unsplit, and the list says it is not complete. */
static void test_podclass_cap(void **state)
{
    (void)state;
    classes(NP("web", "{matchLabels: {app: web}}") NP("gpu", "{matchLabels: {gpu: \"true\"}}"),
            NULL, 3, "pods app == \"web\"; pods app != \"web\"", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_podclass_split_by_selectors),
        cmocka_unit_test(test_podclass_independent_keys),
        cmocka_unit_test(test_podclass_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
