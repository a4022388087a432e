/*
 * AdminNetworkPolicy and BaselineAdminNetworkPolicy (policy/cni/anp.c), as network-policy-api
 * v1alpha1 defines them (apis/v1alpha1/adminnetworkpolicy_types.go, shared_types.go).
 */
#include "policy/cni/anp.h"

#include <stdlib.h>
#include <string.h>

#include "tests/helpers/cnitest.h"
#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define ANP(prio)                                                                                 \
    "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"                   \
    "metadata: {name: a}\nspec:\n  priority: " prio "\n"
#define BANP                                                                                      \
    "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n"           \
    "metadata: {name: default}\nspec:\n"

static void test_anp_read_rules_peers_and_ports(void **state)
{
    (void)state;
    cnitest_expect_models(
        anp_read,
        ANP("20") "  subject:\n    pods:\n      namespaceSelector: {matchLabels: {team: ml}}\n"
                  "      podSelector: {matchLabels: {app: train}}\n"
                  "  egress:\n"
                  "  - name: no-metadata\n    action: Deny\n"
                  "    to: [{networks: [169.254.169.254/32]}]\n"
                  "  - name: pass-pods\n    action: Pass\n"
                  "    to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {a: b}}}}]\n"
                  "  - name: dns\n    action: Allow\n"
                  "    to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]\n"
                  "    ports:\n    - portNumber: {port: 53, protocol: UDP}\n"
                  "    - portRange: {start: 8000, end: 8010}\n"
                  "  - name: nodes\n    action: Allow\n    to: [{nodes: {}}]\n"
                  "  - name: names\n    action: Allow\n"
                  "    to: [{domainNames: [api.example.com, '*.example.org']}]\n",
        "model AdminNetworkPolicy a\n"
        "subject namespaces=team == \"ml\" pods=app == \"train\" egress=governed ordered order=20 "
        "layer=admin\n"
        "deny spec.egress[0] ports any protocol/port\n"
        "  to cidr 169.254.169.254/32 [spec.egress[0].to[0].networks] \"networks of rule "
        "\"no-metadata\"\"\n"
        "pass spec.egress[1] ports any protocol/port\n"
        "  to cluster namespaces=all() pods=a == \"b\" [spec.egress[1].to[0].pods] \"pods of rule "
        "\"pass-pods\"\"\n"
        "allow spec.egress[2] ports TCP/8000-8010, UDP/53\n"
        "  to cluster namespaces=kubernetes.io/metadata.name == \"kube-system\" pods=all() "
        "[spec.egress[2].to[0].namespaces] \"namespaces of rule \"dns\"\"\n"
        "allow spec.egress[3] ports any protocol/port\n"
        "  to entity nodes [spec.egress[3].to[0].nodes] \"nodes of rule \"nodes\"\"\n"
        "allow spec.egress[4] ports any protocol/port\n"
        "  to fqdn api.example.com, * [spec.egress[4].to[0].domainNames] \"domainNames of rule "
        "\"names\"\"\n"
        "note spec.egress[4].to[0].domainNames[1]: \"*.example.org\": '*' matches any number of "
        "labels here, which no allow-list pattern but \"*\" covers: counted as every name\n");
}

/* The baseline comes after every other policy; no egress rules: egress not governed. */
static void test_anp_read_baseline_and_no_egress(void **state)
{
    (void)state;
    cnitest_expect_models(anp_read,
                          BANP "  subject: {namespaces: {}}\n  egress:\n"
                               "  - action: Deny\n    to: [{networks: [0.0.0.0/0]}]\n",
                          "model BaselineAdminNetworkPolicy default\n"
                          "subject namespaces=all() pods=all() egress=governed ordered "
                          "layer=baseline\n"
                          "deny spec.egress[0] ports any protocol/port\n"
                          "  to cidr 0.0.0.0/0 [spec.egress[0].to[0].networks] \"networks\"\n");
    cnitest_expect_models(anp_read, ANP("1") "  subject: {namespaces: {}}\n",
                          "model AdminNetworkPolicy a\n"
                          "subject namespaces=all() pods=all() egress=ungoverned ordered order=1 "
                          "layer=admin\n");
}

/*
 * A peer of no field this reader knows (a newer API) fails closed as the API asks: nothing in an
 * Allow; in a Deny it would be deny-all, which is not counted (under-approximated).
 */
static void test_anp_read_unknown_peer_fails_closed(void **state)
{
    (void)state;
    cnitest_expect_models(anp_read,
                          ANP("5") "  subject: {namespaces: {}}\n  egress:\n"
                                   "  - action: Allow\n    to: [{futurePeer: {}}]\n",
                          "model AdminNetworkPolicy a\n"
                          "subject namespaces=all() pods=all() egress=governed ordered order=5 "
                          "layer=admin\n"
                          "allow spec.egress[0] ports any protocol/port\n"
                          "note spec.egress[0].to[0]: a peer of no known kind: fails closed, "
                          "matching no traffic\n");
}

static void test_anp_read_errors(void **state)
{
    (void)state;
    cnitest_expect_error(anp_read, ANP("1001") "  subject: {namespaces: {}}\n", 5, 13,
                         "spec.priority: must be an integer from 0 to 1000");
    cnitest_expect_error(anp_read,
                         ANP("1") "  subject: {namespaces: {}, pods: {namespaceSelector: {},"
                                  " podSelector: {}}}\n",
                         6, 12, "spec.subject: exactly one of namespaces or pods must be given");
    cnitest_expect_error(anp_read,
                         ANP("1") "  subject: {namespaces: {}}\n  egress:\n  - action: Allow\n"
                                  "    to: [{namespaces: {}, networks: [10.0.0.0/8]}]\n",
                         9, 10,
                         "spec.egress[0].to[0]: exactly one of namespaces, pods, nodes, networks "
                         "or domainNames must be given");
    cnitest_expect_error(anp_read,
                         BANP "  subject: {namespaces: {}}\n  egress:\n  - action: Pass\n"
                              "    to: [{namespaces: {}}]\n",
                         7, 13, "spec.egress[0].action: must be Allow or Deny");
    cnitest_expect_error(anp_read,
                         ANP("1") "  subject: {namespaces: {}}\n  egress:\n  - action: Allow\n"
                                  "    to: [{networks: [10.0.0.0/33]}]\n",
                         9, 22,
                         "spec.egress[0].to[0].networks[0]: invalid CIDR \"10.0.0.0/33\": prefix "
                         "length must be 0-32");
}

/* ---- verdicts ----------------------------------------------------------------------- */

#define ML_A_SUBJECT "  subject:\n    namespaces: {matchLabels: {kubernetes.io/metadata.name: ml-a}}\n"

/* An Allow is allowed "regardless of NetworkPolicy": opening the world for ml-a is a violation. */
static void test_anp_decide_allow_outside_is_violation(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    ANP("10") ML_A_SUBJECT "  egress:\n  - name: world\n    action: Allow\n"
                                           "    to: [{networks: [0.0.0.0/0, '::/0']}]\n",
                    0, true);
    evalfix_expect(&f, "egress", "spec.egress[0].to[0].networks", 11,
                   "networks of rule \"world\" opens 0.0.0.0/1, 128.0.0.0/3");
    assert_false(f.v.allowed);
    evalfix_release(&f);
}

/*
 * Deny of every network first: networks match pods by address too ("cluster-internal traffic
 * will be checked against the rule as well"), so nothing is left for the later Allow.
 */
static void test_anp_decide_deny_first_and_pass(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    ANP("10") ML_A_SUBJECT "  egress:\n"
                                           "  - action: Deny\n    to: [{networks: [0.0.0.0/0, '::/0']}]\n"
                                           "  - action: Allow\n    to: [{namespaces: {}}]\n",
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
    /* Pass hands traffic to the NetworkPolicies, judged on their own: it opens nothing. */
    evalfix_cluster(&f, pol,
                    ANP("10") ML_A_SUBJECT "  egress:\n"
                                           "  - action: Pass\n    to: [{networks: [0.0.0.0/0]}]\n",
                    0, true);
    evalfix_expect_clean(&f);
    evalfix_release(&f);
}

/* A baseline Allow opens egress for pods no NetworkPolicy isolates: judged the same. */
static void test_anp_decide_baseline_allow(void **state)
{
    const struct policy *pol = *state;
    struct evalfix f;

    evalfix_cluster(&f, pol,
                    BANP ML_A_SUBJECT "  egress:\n  - action: Allow\n"
                                      "    to: [{networks: [8.8.8.8/32]}]\n"
                                      "    ports: [{portNumber: {port: 53, protocol: UDP}}]\n",
                    0, true);
    evalfix_expect(&f, "egress", "spec.egress[0].to[0].networks", 9, "opens 8.8.8.8/32 on UDP/53");
    evalfix_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anp_read_rules_peers_and_ports),
        cmocka_unit_test(test_anp_read_baseline_and_no_egress),
        cmocka_unit_test(test_anp_read_unknown_peer_fails_closed),
        cmocka_unit_test(test_anp_read_errors),
        cmocka_unit_test(test_anp_decide_allow_outside_is_violation),
        cmocka_unit_test(test_anp_decide_deny_first_and_pass),
        cmocka_unit_test(test_anp_decide_baseline_allow),
    };

    return cmocka_run_group_tests(tests, evalfix_setup_example, evalfix_teardown_policy);
}
