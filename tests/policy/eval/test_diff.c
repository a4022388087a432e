#include "policy/eval/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
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

/* The changes that are violations (added, outside the allow-list). */
static size_t n_outside(const struct run *r)
{
    size_t i, n = 0;

    for (i = 0; i < r->res.n; i++)
        n += r->res.items[i].outside;
    return n;
}

/* The one violation, which must be there. */
static const struct diff_change *outside(const struct run *r)
{
    size_t i;

    assert_int_equal(n_outside(r), 1);
    for (i = 0; !r->res.items[i].outside; i++)
        ;
    return &r->res.items[i];
}

#define TRAINER_OUT                                                                               \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                   \
    "metadata: {name: trainer-out, namespace: ml-a}\n"                                          \
    "spec:\n  podSelector: {matchLabels: {app: trainer}}\n  policyTypes: [Egress]\n"            \
    "  egress:\n  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n    ports: [{port: 443}]\n"
#define OPEN(name, sel)                                                                           \
    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                             \
    "metadata: {name: " name ", namespace: ml-a}\n"                                             \
    "spec:\n  podSelector: {" sel "}\n  policyTypes: [Egress]\n  egress: [{}]\n"
#define TRAINER_DEPLOYMENT                                                                        \
    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: trainer, namespace: ml-a}\n"   \
    "spec:\n  selector: {matchLabels: {app: trainer}}\n  template:\n"                          \
    "    metadata: {labels: {app: trainer}}\n    spec: {containers: [{name: t, image: t}]}\n"

/*
 * With no workload in the input, a policy that opens every destination to every pod, next to
 * one that restricts app=trainer: the trainer pods gain what they could not reach before
 * (Kubernetes: "Network policies do not conflict; they are additive", kubernetes.io/docs/
 * concepts/services-networking/network-policies/). The other pods, which nothing isolated,
 * gain nothing. With the pod in the input, the same.
 */
static void test_diff_open_policy_next_to_narrow_one(void **state)
{
    const struct diff_change *c;
    struct run r;

    (void)state;
    for (int with_pod = 0; with_pod < 2; with_pod++) {
        run(&r, with_pod ? TRAINER_OUT TRAINER_DEPLOYMENT : TRAINER_OUT,
            with_pod ? TRAINER_OUT TRAINER_DEPLOYMENT OPEN("open", "") : TRAINER_OUT OPEN("open", ""),
            "ml-a");
        c = outside(&r);
        assert_true(c->added);
        assert_non_null(c->policy);
        assert_string_equal(c->policy->name, "open");
        assert_string_equal(c->peer->path, "spec.egress[0]");
        assert_non_null(strstr(c->message, "ml-a: adds egress outside the allow-list: "));
        assert_non_null(strstr(c->message, with_pod ? "(for pods app == \"trainer\" (Deployment/trainer))"
                                                    : "(for pods app == \"trainer\")"));
        done(&r);
    }
}

/*
 * Harmless changes stay clean: a policy that opens only allow-listed destinations to every pod
 * (the pods nothing isolated lose egress, the trainer pods gain what is allowed), and the
 * removal of the open one.
 */
static void test_diff_harmless_changes_pass(void **state)
{
    static const char registry[] =
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: registry, namespace: ml-a}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n    ports: [{port: 443}]\n"
        "  - to: [{ipBlock: {cidr: 10.30.0.0/24}}]\n    ports: [{port: 8000}]\n";
    char head[4096];
    struct run r;

    (void)state;
    snprintf(head, sizeof(head), "%s%s", TRAINER_OUT, registry);
    run(&r, TRAINER_OUT, head, "ml-a");
    assert_int_equal(n_outside(&r), 0);
    assert_true(r.res.n > 0); /* the changes are told, as notes */
    done(&r);
    run(&r, TRAINER_OUT OPEN("open", ""), TRAINER_OUT, "ml-a");
    assert_int_equal(n_outside(&r), 0);
    for (size_t i = 0; i < r.res.n; i++)
        assert_false(r.res.items[i].added);
    done(&r);
}

/* A second narrow policy next to a first: its own pods gain, though the first opened as much. */
static void test_diff_narrow_policy_next_to_narrow_one(void **state)
{
#define DENY_ALL                                                                                  \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                   \
    "metadata: {name: deny, namespace: ml-a}\n"                                                 \
    "spec: {podSelector: {}, policyTypes: [Egress]}\n" OPEN("a", "matchLabels: {app: a}")
    const struct diff_change *c;
    struct run r;

    (void)state;
    run(&r, DENY_ALL, DENY_ALL OPEN("b", "matchLabels: {app: b}"), "ml-a");
#undef DENY_ALL
    c = outside(&r);
    assert_string_equal(c->policy->name, "b");
    assert_non_null(strstr(c->message, "(for pods app == \"b\")"));
    done(&r);
}

/*
 * What the run cannot know is "may": a cluster-wide policy selecting namespaces by a label, and
 * no Namespace object to say whether ml-a carries it. Cilium's deny of every address outside
 * the registry (docs.cilium.io/en/latest/security/policy/deny/) takes nothing then.
 */
static void test_diff_unknown_namespace_labels_may_add(void **state)
{
    static const char ccnp[] = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
                               "metadata: {name: team-world}\n"
                               "spec:\n  endpointSelector:\n"
                               "    matchLabels: {k8s:io.cilium.k8s.namespace.labels.team: ml}\n"
                               "  egress:\n  - toEntities: [world]\n";
    const struct diff_change *c;
    struct run r;

    char head[2048];

    (void)state;
    snprintf(head, sizeof(head), "%s---\n%s", TRAINER_OUT, ccnp);
    run(&r, TRAINER_OUT, head, "ml-a");
    c = outside(&r);
    assert_string_equal(c->policy->name, "team-world");
    assert_non_null(strstr(c->message, "ml-a: may add egress outside the allow-list: "));
    done(&r);
}

/*
 * Pods nothing isolates reach every destination less what a deny takes. Cilium: a deny with
 * enableDefaultDeny.egress false does not isolate (CiliumNetworkPolicy Rule.enableDefaultDeny,
 * api/v2), and "Only connections destined for outside of the cluster and not targeting the host
 * will be subject to CIDR rules" (api EgressCommonRule.ToCIDR). Narrowing the deny adds the
 * addresses it no longer takes.
 */
static void test_diff_deny_narrowed_for_unisolated_pods(void **state)
{
#define GUARD(except)                                                                             \
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"                                     \
    "metadata: {name: guard, namespace: ml-a}\n"                                                \
    "spec:\n  endpointSelector: {}\n  enableDefaultDeny: {egress: false}\n  egressDeny:\n"       \
    "  - toCIDRSet: [{cidr: 0.0.0.0/0, except: [" except "]}]\n"
    const struct diff_change *c;
    struct run r;

    (void)state;
    run(&r, GUARD("10.20.0.0/16"), GUARD("10.20.0.0/16, 192.0.2.0/24"), "ml-a");
    c = outside(&r);
    assert_null(c->policy);
    assert_string_equal(c->what, "cidr 192.0.2.0/24 on any protocol/port");
    done(&r);
    run(&r, GUARD("10.20.0.0/16"), GUARD("10.20.0.0/16"), "ml-a");
    assert_int_equal(r.res.n, 0);
    done(&r);
#undef GUARD
}

/*
 * A BaselineAdminNetworkPolicy decides what no NetworkPolicy isolates ("BaselineAdminNetwork
 * Policy ... rules are evaluated after NetworkPolicy", network-policy-api.sigs.k8s.io/
 * api-overview): removing its deny of every address adds every destination.
 */
static void test_diff_baseline_deny_removed(void **state)
{
    static const char banp[] =
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n"
        "metadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  egress:\n"
        "  - action: Deny\n    to: [{networks: [0.0.0.0/0, \"::/0\"]}]\n";
    const struct diff_change *c;
    struct run r;

    (void)state;
    run(&r, banp, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ml-a}\n",
        "ml-a");
    c = outside(&r);
    assert_null(c->policy);
    assert_string_equal(c->what, "every destination");
    done(&r);
}

/*
 * More selectors than classes: what stays unsplit "may apply" in every class. An unchanged
 * policy that opens outside the allow-list is no gain for the pods it applies to (they reached
 * it before through the same policy), while a change next to it still is, as "may".
 */
static void test_diff_unsplit_unchanged_policy_not_reported(void **state)
{
    struct buf base, head;
    const struct diff_change *c;
    struct run r;

    (void)state;
    buf_init(&base, 0);
    buf_init(&head, 0);
    for (int i = 0; i < 40; i++) {
        /* app=a0 has opened 198.51.100.0/24 all along; a39 changes from the registry to it */
        buf_printf(&base,
                   "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: p%d, namespace: ml-a}\n"
                   "spec:\n  podSelector: {matchLabels: {app: a%d}}\n  policyTypes: [Egress]\n"
                   "  egress:\n  - to: [{ipBlock: {cidr: %s}}]\n    ports: [{port: 443}]\n",
                   i, i, i == 0 ? "198.51.100.0/24" : "10.20.0.0/16");
        buf_printf(&head,
                   "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: p%d, namespace: ml-a}\n"
                   "spec:\n  podSelector: {matchLabels: {app: a%d}}\n  policyTypes: [Egress]\n"
                   "  egress:\n  - to: [{ipBlock: {cidr: %s}}]\n    ports: [{port: 443}]\n",
                   i, i, i == 0 || i == 39 ? "198.51.100.0/24" : "10.20.0.0/16");
    }
    run(&r, buf_str(&base), buf_str(&head), "ml-a");
    c = outside(&r);
    assert_string_equal(c->policy->name, "p39");
    assert_non_null(strstr(c->message, "(for pods app == \"a39\")"));
    done(&r);
    buf_release(&base);
    buf_release(&head);
}

/* BASE holding one object twice, HEAD once and a new one: the new one is still a change. */
static void test_diff_object_twice_in_base(void **state)
{
#define X_POLICY(name, cidr)                                                                      \
    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                             \
    "metadata: {name: " name ", namespace: ml-a}\n"                                             \
    "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"                                       \
    "  egress:\n  - to: [{ipBlock: {cidr: " cidr "}}]\n    ports: [{port: 443}]\n"
    const struct diff_change *c;
    struct run r;

    (void)state;
    run(&r, X_POLICY("x", "10.20.0.0/16") X_POLICY("x", "10.20.0.0/16"),
        X_POLICY("x", "10.20.0.0/16") X_POLICY("y", "198.51.100.0/24"), "ml-a");
    c = outside(&r);
    assert_string_equal(c->policy->name, "y");
    done(&r);
#undef X_POLICY
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_cidr_widened),
        cmocka_unit_test(test_diff_port_added_and_removed),
        cmocka_unit_test(test_diff_deny_added_removes),
        cmocka_unit_test(test_diff_non_ai_namespace),
        cmocka_unit_test(test_diff_open_policy_next_to_narrow_one),
        cmocka_unit_test(test_diff_harmless_changes_pass),
        cmocka_unit_test(test_diff_narrow_policy_next_to_narrow_one),
        cmocka_unit_test(test_diff_unknown_namespace_labels_may_add),
        cmocka_unit_test(test_diff_deny_narrowed_for_unisolated_pods),
        cmocka_unit_test(test_diff_baseline_deny_removed),
        cmocka_unit_test(test_diff_unsplit_unchanged_policy_not_reported),
        cmocka_unit_test(test_diff_object_twice_in_base),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
