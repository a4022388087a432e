#include "policy/eval/compose.h"

#include <string.h>

#include "policy/selector/selector.h"
#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NP(name, ns, sel)                                                                         \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                    \
    "metadata: {name: " name ", namespace: " ns "}\n"                                            \
    "spec:\n  podSelector: " sel "\n  policyTypes: [Egress]\n  egress:\n"                       \
    "  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n---\n"

/* Policies of three namespaces and a cluster-wide one, in no particular order. */
static const char input[] =
    NP("b1", "ml-b", "{}") NP("a1", "ml-a", "{matchLabels: {app: web}}") NP("c1", "ml-c", "{}")
    "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: cw}\n"
    "spec:\n  endpointSelector: {matchLabels: {app: web}}\n  egress:\n"
    "  - toCIDR: [10.20.0.0/16]\n---\n"
    NP("a2", "ml-a", "{}") NP("b2", "ml-b", "{}")
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ml-a}\n"
    "spec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: []}\n---\n"
    "apiVersion: v1\nkind: Pod\nmetadata: {name: db, namespace: ml-a, labels: {app: db}}\n"
    "spec: {containers: []}\n";

static void names(const struct compose_eval *ev, char *buf, size_t size)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < ev->n_parts && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s:%s", i ? " " : "",
                                ev->parts[i].policy->name,
                                ev->parts[i].applies == TRI_TRUE ? "yes" : "maybe");
}

/* The namespace index changes nothing but the work: the same parts, in input order. */
static void test_compose_index_same_as_scan(void **state)
{
    struct invfix f;
    struct compose_input scan;
    struct compose_subject s = {.ns = "ml-a"};
    struct compose_eval a, b;
    struct policy *pol;
    struct err e = {0};
    char with[256], without[256];

    (void)state;
    assert_non_null(pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&f, input, "t.yaml", NULL);
    assert_non_null(f.inv.in.by_ns);
    scan = f.inv.in;
    scan.by_ns = NULL;
    compose_eval_init(&a);
    compose_eval_init(&b);
    assert_int_equal(compose_eval_run(pol, &f.inv.in, NULL, 0, NULL, NULL, &s, &a, &e), 0);
    assert_int_equal(compose_eval_run(pol, &scan, NULL, 0, NULL, NULL, &s, &b, &e), 0);
    names(&a, with, sizeof(with));
    names(&b, without, sizeof(without));
    assert_string_equal(with, "a1:maybe cw:maybe a2:yes");
    assert_string_equal(with, without);
    compose_eval_release(&a);
    compose_eval_release(&b);
    invfix_release(&f);
    policy_free(pol);
}

/* A workload's labels decide exactly; a selector subject by subset and overlap. */
static void test_compose_applies(void **state)
{
    struct invfix f;
    struct err e = {0};
    struct selector *web = selector_parse("app == 'web'", &e), *db = selector_parse("app == 'db'", &e);
    const struct compose_policy *a1 = NULL, *cw = NULL;
    struct compose_subject s;

    (void)state;
    assert_non_null(web);
    assert_non_null(db);
    invfix_load(&f, input, "t.yaml", NULL);
    for (size_t i = 0; i < f.inv.n_policies; i++) {
        if (!strcmp(f.inv.policies[i].name, "a1"))
            a1 = &f.inv.policies[i];
        if (!strcmp(f.inv.policies[i].name, "cw"))
            cw = &f.inv.policies[i];
    }
    assert_non_null(a1);
    assert_non_null(cw);
    assert_int_equal(f.inv.n_workloads, 2);
    s = (struct compose_subject){.ns = "ml-a", .workload = &f.inv.workloads[0]};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_TRUE);
    assert_int_equal(compose_applies(&f.inv.in, &cw->models->models[0], &s), TRI_TRUE);
    s.workload = &f.inv.workloads[1]; /* the db pod */
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    s = (struct compose_subject){.ns = "ml-a", .pods = web};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_TRUE);
    s.pods = db;
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    s = (struct compose_subject){.ns = "ml-b", .pods = web};
    assert_int_equal(compose_applies(&f.inv.in, &a1->models->models[0], &s), TRI_FALSE);
    assert_int_equal(compose_applies(&f.inv.in, &cw->models->models[0], &s), TRI_TRUE);
    selector_free(web);
    selector_free(db);
    invfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compose_index_same_as_scan),
        cmocka_unit_test(test_compose_applies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
