#include "policy/eval/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

struct run {
    struct policy *pol;
    struct invfix base, head;
    struct diff_result res;
};

static void run(struct run *r, const char *base, const char *head, const char *ns)
{
    struct err e = {0};
    const char *names[1] = {ns};

    memset(r, 0, sizeof(*r));
    assert_non_null(r->pol = policy_load("examples/policy.yaml", &e));
    invfix_load(&r->base, base, "base.yaml", NULL);
    invfix_load(&r->head, head, "head.yaml", NULL);
    diff_result_init(&r->res);
    assert_int_equal(
        diff_evaluate(r->pol, &r->base.inv.in, &r->head.inv.in, names, 1, &r->res, &e), 0);
}

static void done(struct run *r)
{
    diff_result_release(&r->res);
    invfix_release(&r->base);
    invfix_release(&r->head);
    policy_free(r->pol);
}

#define NP(ports, cidr)                                                                           \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                    \
    "metadata: {name: out, namespace: ml-a}\n"                                                   \
    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"                            \
    "  - to: [{ipBlock: {cidr: " cidr "}}]\n    ports: [" ports "]\n"

/* A wider range: exactly the difference is added, outside the allow-list. */
static void test_diff_cidr_widened(void **state)
{
    struct run r;

    (void)state;
    run(&r, NP("{port: 443}", "10.20.0.0/16"), NP("{port: 443}", "10.0.0.0/8"), "ml-a");
    assert_int_equal(r.res.n, 1);
    assert_true(r.res.items[0].added);
    assert_true(r.res.items[0].outside);
    assert_string_equal(r.res.items[0].what,
                        "cidr 10.0.0.0/12, 10.16.0.0/14, 10.21.0.0/16, 10.22.0.0/15, "
                        "10.24.0.0/13, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9 on TCP/443");
    assert_non_null(r.res.items[0].policy);
    assert_string_equal(r.res.items[0].policy->file, "head.yaml");
    assert_string_equal(r.res.items[0].peer->path, "spec.egress[0].to[0].ipBlock");
    done(&r);
}

/* One more port: only that port is added; the narrowing back removes it. */
static void test_diff_port_added_and_removed(void **state)
{
    struct run r;

    (void)state;
    run(&r, NP("{port: 443}", "10.20.0.0/16"), NP("{port: 443, endPort: 444}", "10.20.0.0/16"),
        "ml-a");
    assert_int_equal(r.res.n, 1);
    assert_string_equal(r.res.items[0].what, "cidr 10.20.0.0/16 on TCP/444");
    assert_true(r.res.items[0].outside);
    done(&r);
    run(&r, NP("{port: 443, endPort: 444}", "10.20.0.0/16"), NP("{port: 443}", "10.20.0.0/16"),
        "ml-a");
    assert_int_equal(r.res.n, 1);
    assert_false(r.res.items[0].added);
    assert_false(r.res.items[0].outside);
    assert_string_equal(r.res.items[0].policy->file, "base.yaml");
    done(&r);
}

/*
 * Cilium's deny takes precedence (docs.cilium.io/en/latest/security/policy/deny/): a deny added
 * in HEAD removes what the allow still opens in BASE; nothing is added.
 */
static void test_diff_deny_added_removes(void **state)
{
    static const char allow[] = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                                "metadata: {name: wide, namespace: ml-a}\n"
                                "spec:\n  endpointSelector: {}\n  egress:\n"
                                "  - toCIDR: [0.0.0.0/0]\n"
                                "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n";
    char head[2048];
    struct run r;

    (void)state;
    snprintf(head, sizeof(head),
             "%s---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
             "metadata: {name: guard, namespace: ml-a}\n"
             "spec:\n  endpointSelector: {}\n  egressDeny:\n"
             "  - toCIDRSet: [{cidr: 0.0.0.0/0, except: [10.20.0.0/16]}]\n",
             allow);
    run(&r, allow, head, "ml-a");
    assert_int_equal(r.res.n, 1);
    assert_false(r.res.items[0].added);
    assert_string_equal(r.res.items[0].what,
                        "cidr 0.0.0.0/5, 8.0.0.0/7, 10.0.0.0/12, 10.16.0.0/14, 10.21.0.0/16, "
                        "10.22.0.0/15, 10.24.0.0/13, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9, "
                        "11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, 64.0.0.0/2, "
                        "128.0.0.0/1 on TCP/443");
    done(&r);
}

/* A namespace that is not AI is not compared. */
static void test_diff_non_ai_namespace(void **state)
{
    struct run r;

    (void)state;
    run(&r, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: web}\n",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: out, namespace: web}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - {}\n",
        "web");
    assert_int_equal(r.res.n, 0);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_cidr_widened),
        cmocka_unit_test(test_diff_port_added_and_removed),
        cmocka_unit_test(test_diff_deny_added_removes),
        cmocka_unit_test(test_diff_non_ai_namespace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
