/*
 * Calico rule destinations (policy/cni/caldst.c, calrd.c) and the Calico semantics around them:
 * what selectors reach (libcalico-go syncersv1/updateprocessors/rules.go, getEndpointSelector),
 * namespace names (conversion.NamespaceToProfile), Pass (Calico tier docs) and nets matching
 * every endpoint by address. Reader goldens first, then verdicts on whole inputs as `check`
 * takes them (tests/helpers/evalfix.h: evalfix_cluster).
 */
#include "policy/cni/calico.h"

#include <stdlib.h>
#include <string.h>

#include "tests/helpers/cnitest.h"
#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void expect_models(const char *yaml, const char *want)
{
    cnitest_expect_models(calico_read, yaml, want);
}

#define GNP(name) "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: " name "}\n"
#define NP(name, ns)                                                                              \
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"                                     \
    "metadata: {name: " name ", namespace: " ns "}\n"

/* projectcalico.org/name in a namespaceSelector is the namespace's name (NamespaceToProfile). */
static void test_caldst_project_name_is_the_namespace_name(void **state)
{
    (void)state;
    expect_models(GNP("g") "spec:\n"
                           "  namespaceSelector: projectcalico.org/name == 'ml-a'\n"
                           "  egress:\n  - action: Allow\n    destination:\n"
                           "      namespaceSelector: projectcalico.org/name in {'kube-system'}\n"
                           "      selector: k8s-app == 'kube-dns'\n",
                  "model GlobalNetworkPolicy.projectcalico.org g\n"
                  "subject namespaces=kubernetes.io/metadata.name == \"ml-a\" pods=all() "
                  "egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to cluster namespaces=kubernetes.io/metadata.name in {\"kube-system\"} "
                  "pods=k8s-app == \"kube-dns\" [spec.egress[0].destination] \"namespaceSelector "
                  "projectcalico.org/name in {'kube-system'}, selector k8s-app == 'kube-dns'\"\n"
                  "  to unknown NetworkSets of namespaces kubernetes.io/metadata.name in "
                  "{\"kube-system\"} matching k8s-app == \"kube-dns\" [spec.egress[0].destination] "
                  "\"namespaceSelector projectcalico.org/name in {'kube-system'}, selector "
                  "k8s-app == 'kube-dns'\"\n");
}

/*
 * projectcalico.org/namespace in an endpoint selector is the endpoint's namespace (Calico sets it
 * on every workload endpoint and NetworkSet): in a GlobalNetworkPolicy it picks the namespace; in
 * a namespaced policy, whose destinations are confined to its own namespace, another namespace
 * selects nothing.
 */
static void test_caldst_endpoint_namespace_label(void **state)
{
    (void)state;
    expect_models(GNP("g") "spec:\n  selector: projectcalico.org/namespace == 'ml-a' && app == 'x'\n"
                           "  egress:\n  - action: Allow\n    destination:\n"
                           "      selector: projectcalico.org/namespace == 'kube-system' && "
                           "k8s-app == 'kube-dns'\n",
                  "model GlobalNetworkPolicy.projectcalico.org g\n"
                  "subject namespaces=kubernetes.io/metadata.name == \"ml-a\" pods=app == \"x\" "
                  "egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to cluster namespaces=kubernetes.io/metadata.name == \"kube-system\" "
                  "pods=k8s-app == \"kube-dns\" [spec.egress[0].destination] \"selector "
                  "projectcalico.org/namespace == 'kube-system' && k8s-app == 'kube-dns'\"\n"
                  "  to unknown NetworkSets of namespaces kubernetes.io/metadata.name == "
                  "\"kube-system\" matching k8s-app == \"kube-dns\" [spec.egress[0].destination] "
                  "\"selector projectcalico.org/namespace == 'kube-system' && k8s-app == "
                  "'kube-dns'\"\n");
    expect_models(NP("p", "ml-a") "spec:\n  egress:\n  - action: Allow\n    destination:\n"
                                  "      selector: projectcalico.org/namespace == 'other'\n",
                  "model NetworkPolicy.projectcalico.org ml-a/p\n"
                  "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n");
}

/*
 * notSelector alone: in a GlobalNetworkPolicy the rule's selector is empty and only the negated
 * one is set, so everything but the selected endpoints matches, external addresses included (v3
 * EntityRule docs); in a namespaced policy the destination stays confined to its namespace.
 */
static void test_caldst_not_selector(void **state)
{
    (void)state;
    expect_models(GNP("g") "spec:\n  egress:\n  - action: Allow\n"
                           "    destination: {notSelector: app == 'x'}\n"
                           "  - action: Deny\n    destination: {notSelector: app == 'y'}\n",
                  "model GlobalNetworkPolicy.projectcalico.org g\n"
                  "subject namespaces=all() pods=all() egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to all [spec.egress[0].destination] \"notSelector app == 'x' (every "
                  "destination but the selected endpoints)\"\n"
                  "deny spec.egress[1] ports any protocol/port\n"
                  "note spec.egress[1].destination: notSelector alone matches everything but the "
                  "selected endpoints, which cannot be represented: this deny is not counted\n");
    expect_models(NP("p", "ml-a") "spec:\n  egress:\n  - action: Allow\n"
                                  "    destination: {notSelector: app == 'x'}\n",
                  "model NetworkPolicy.projectcalico.org ml-a/p\n"
                  "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to cluster ns=ml-a pods=app != \"x\" [spec.egress[0].destination] "
                  "\"notSelector app == 'x'\"\n"
                  "  to unknown NetworkSets of namespace ml-a matching app != \"x\" "
                  "[spec.egress[0].destination] \"notSelector app == 'x'\"\n");
}

/* global() alone: only non-namespaced endpoints; with || it reaches both kinds. */
static void test_caldst_global_namespace_selector(void **state)
{
    (void)state;
    expect_models(NP("p", "ml-a") "spec:\n  egress:\n  - action: Allow\n"
                                  "    destination: {namespaceSelector: global() || team == 'ml'}\n"
                                  "  - action: Deny\n"
                                  "    destination: {namespaceSelector: global()}\n",
                  "model NetworkPolicy.projectcalico.org ml-a/p\n"
                  "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to cluster namespaces=team == \"ml\" pods=all() [spec.egress[0].destination] "
                  "\"namespaceSelector global() || team == 'ml'\"\n"
                  "  to unknown NetworkSets of namespaces team == \"ml\", GlobalNetworkSets and "
                  "HostEndpoints matching all() [spec.egress[0].destination] \"namespaceSelector "
                  "global() || team == 'ml'\"\n"
                  "deny spec.egress[1] ports any protocol/port\n"
                  "note spec.egress[1].destination: global() endpoints (GlobalNetworkSets, "
                  "HostEndpoints) are not counted in this deny\n");
}

/*
 * A namespaceSelector is matched against the endpoint's namespace labels; endpoints outside
 * namespaces have none, so one that matches no labels reaches them as well. all() does not:
 * Calico rewrites it to has(projectcalico.org/namespace).
 */
static void test_caldst_namespace_selector_matching_no_labels(void **state)
{
    (void)state;
    expect_models(NP("p", "ml-a") "spec:\n  egress:\n  - action: Allow\n"
                                  "    destination: {namespaceSelector: team != 'ml'}\n"
                                  "  - action: Allow\n"
                                  "    destination: {namespaceSelector: all()}\n",
                  "model NetworkPolicy.projectcalico.org ml-a/p\n"
                  "subject ns=ml-a pods=all() egress=governed default-deny ordered\n"
                  "allow spec.egress[0] ports any protocol/port\n"
                  "  to cluster namespaces=team != \"ml\" pods=all() [spec.egress[0].destination] "
                  "\"namespaceSelector team != 'ml'\"\n"
                  "  to unknown NetworkSets of namespaces team != \"ml\", GlobalNetworkSets and "
                  "HostEndpoints matching all() [spec.egress[0].destination] \"namespaceSelector "
                  "team != 'ml'\"\n"
                  "allow spec.egress[1] ports any protocol/port\n"
                  "  to cluster namespaces=all() pods=all() [spec.egress[1].destination] "
                  "\"namespaceSelector all()\"\n"
                  "  to unknown NetworkSets of every namespace matching all() "
                  "[spec.egress[1].destination] \"namespaceSelector all()\"\n");
}

/* CRD validation: "global() can only be used in an EntityRule namespaceSelector". */
static void test_caldst_rejects_global_outside_namespace_selector(void **state)
{
    (void)state;
    cnitest_expect_error(calico_read,
                         NP("p", "ml-a") "spec:\n  egress:\n  - action: Allow\n"
                                         "    destination: {selector: global()}\n",
                         7, 29,
                         "spec.egress[0].destination.selector: global() can only be used in a "
                         "namespaceSelector");
    cnitest_expect_error(calico_read, GNP("g") "spec:\n  namespaceSelector: global()\n", 5, 22,
                         "spec.namespaceSelector: global() can only be used in a rule's "
                         "namespaceSelector");
}

/* ---- verdicts ----------------------------------------------------------------------- */

#define ML_A_ALL "spec:\n  selector: all()\n  types: [Egress]\n  egress:\n"

/* A policy made of Pass opens everything for its AI subjects (no later tier known). */
static void test_caldst_decide_pass_opens(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol, NP("p", "ml-a") ML_A_ALL "  - action: Pass\n", 0, true);
    evalfix_expect(&f, "egress", "spec.egress[0].destination", 8,
                   "every destination opens every destination (0.0.0.0/0, ::/0) on any "
                   "protocol/port");
    assert_false(f.v.allowed);
    evalfix_release(&f);
    /* A Pass of what the allow-list allows anyway is harmless. */
    evalfix_cluster(&f, pol,
                    NP("p", "ml-a") ML_A_ALL "  - action: Pass\n    protocol: TCP\n"
                                             "    destination: {nets: [10.20.0.0/16], ports: [443]}\n",
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/*
 * Deny every address, then allow TCP/443: every packet has an address, so nothing is left for the
 * allow (no false alarm). Denying only IPv4 leaves IPv6 open, and the finding says so.
 */
static void test_caldst_decide_deny_every_address_first(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    NP("p", "ml-a") ML_A_ALL
                    "  - action: Deny\n    destination: {nets: [0.0.0.0/0, '::/0']}\n"
                    "  - action: Allow\n    protocol: TCP\n    destination: {ports: [443]}\n",
                    0, true);
    evalfix_expect_clean(&f);
    assert_true(f.v.allowed);
    evalfix_release(&f);
    evalfix_cluster(&f, pol,
                    NP("p", "ml-a") ML_A_ALL "  - action: Deny\n    destination: {nets: [0.0.0.0/0]}\n"
                                             "  - action: Allow\n    protocol: TCP\n"
                                             "    destination: {ports: [443]}\n",
                    0, true);
    /* every IPv6 address but the allowed and always-denied ones */
    evalfix_expect(&f, "egress", "spec.egress[1].destination", 12,
                   "every destination opens ::/1, 8000::/2, c000::/3");
    evalfix_release(&f);
}

/* notSelector alone in a GlobalNetworkPolicy for AI namespaces: outside addresses are open. */
static void test_caldst_decide_not_selector_opens_outside(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    GNP("g") "spec:\n  namespaceSelector: projectcalico.org/name == 'ml-a'\n"
                             "  egress:\n  - action: Allow\n"
                             "    destination: {notSelector: app == 'blocked'}\n",
                    0, true);
    evalfix_expect(&f, "egress", "spec.egress[0].destination", 8,
                   "notSelector app == 'blocked' (every destination but the selected endpoints) "
                   "opens every destination");
    evalfix_release(&f);
}

#define DB_RULE "  - action: Allow\n    protocol: TCP\n    destination: {selector: role == 'db', ports: [443]}\n"
#define SET(nets) "---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\n" \
    "metadata: {name: db-ext, namespace: ml-a, labels: {role: db}}\nspec: {nets: " nets "}\n"

/* A selector reaches the NetworkSets with its labels: their nets are what the rule opens. */
static void test_caldst_decide_network_set_reached(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;
    const struct finding *x;

    evalfix_cluster(&f, pol, NP("p", "ml-a") ML_A_ALL DB_RULE SET("[10.20.1.0/24, 8.8.8.0/24]"),
                    0, true);
    x = evalfix_expect(&f, "egress", "spec.egress[0].destination", 10,
                       "NetworkSet ml-a/db-ext (t.yaml:12), reached by selector role == 'db' "
                       "opens 8.8.8.0/24 on TCP/443");
    assert_null(strstr(x->message, "10.20.1.0")); /* inside model-registry */
    evalfix_release(&f);

    /* inside the allow-list: admitted */
    evalfix_cluster(&f, pol, NP("p", "ml-a") ML_A_ALL DB_RULE SET("[10.20.1.0/24]"), 0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);

    /* when the run does not know every set, what else the selector reaches is unknown */
    evalfix_cluster(&f, pol, NP("p", "ml-a") ML_A_ALL DB_RULE SET("[10.20.1.0/24]"), 0, false);
    evalfix_expect(&f, "egress", "spec.egress[0].destination", 10,
                   "opens NetworkSets of namespace ml-a matching role == \"db\" that this run "
                   "does not know (possibly anything) on TCP/443");
    evalfix_release(&f);
}

/* DNS to kube-dns written the Calico way, pinned by projectcalico.org/name: inside cluster-dns. */
static void test_caldst_decide_dns_by_project_name(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    NP("dns", "ml-a") ML_A_ALL
                    "  - action: Allow\n    protocol: UDP\n    destination:\n"
                    "      namespaceSelector: projectcalico.org/name == 'kube-system'\n"
                    "      selector: k8s-app == 'kube-dns'\n      ports: [53]\n",
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caldst_project_name_is_the_namespace_name),
        cmocka_unit_test(test_caldst_endpoint_namespace_label),
        cmocka_unit_test(test_caldst_not_selector),
        cmocka_unit_test(test_caldst_global_namespace_selector),
        cmocka_unit_test(test_caldst_namespace_selector_matching_no_labels),
        cmocka_unit_test(test_caldst_rejects_global_outside_namespace_selector),
        cmocka_unit_test(test_caldst_decide_pass_opens),
        cmocka_unit_test(test_caldst_decide_deny_every_address_first),
        cmocka_unit_test(test_caldst_decide_not_selector_opens_outside),
        cmocka_unit_test(test_caldst_decide_network_set_reached),
        cmocka_unit_test(test_caldst_decide_dns_by_project_name),
    };

    return cmocka_run_group_tests(tests, evalfix_setup_example, evalfix_teardown_policy);
}
