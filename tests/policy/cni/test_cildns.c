/*
 * DNS as an egress channel: Cilium DNS rules (toPorts[].rules.dns, matchName / matchPattern,
 * docs.cilium.io/en/latest/security/policy/language/#dns-based) in policies that govern AI
 * workloads may only let the allow-list's names and the cluster suffixes resolve.
 */
#include "policy/cni/cildns.h"

#include <stdio.h>
#include <string.h>

#include "tests/helpers/evalfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define CNP(ns, sel, dns)                                                                        \
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"                                     \
    "metadata: {name: dns, namespace: " ns "}\n"                                                \
    "spec:\n  endpointSelector: " sel "\n  egress:\n"                                           \
    "  - toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system,"            \
    " k8s:k8s-app: kube-dns}}]\n"                                                               \
    "    toPorts:\n    - ports: [{port: \"53\", protocol: UDP}]\n"                               \
    "      rules:\n        dns:\n" dns

static struct policy *policy_text(const char *extra)
{
    char text[2048];
    struct err e = {0};
    struct policy *p;

    snprintf(text, sizeof(text),
             "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
             "spec:\n  aiWorkloads: {namespaces: {names: [\"ml-*\"]}}\n"
             "  allow:\n  - name: mirror\n    fqdns: [pypi.internal.example.com, \"*.s3.amazonaws.com\"]\n"
             "    ports: [{port: 443}]\n"
             "  - name: cluster-dns\n    inCluster:\n"
             "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
             "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
             "    ports: [{protocol: UDP, port: 53}]\n%s",
             extra);
    p = policy_load_buffer(text, strlen(text), "p.yaml", &e);
    if (!p)
        fail_msg("%s:%d:%d: %s", e.file ? e.file : "", e.line, e.col, e.msg);
    return p;
}

static void test_cildns_allowed(void **state)
{
    struct policy *p = policy_text("");

    (void)state;
    assert_true(cildns_allowed(p, "pypi.internal.example.com"));
    assert_true(cildns_allowed(p, "a.s3.amazonaws.com"));
    assert_true(cildns_allowed(p, "*.s3.amazonaws.com"));
    assert_true(cildns_allowed(p, "cluster.local"));
    assert_true(cildns_allowed(p, "web.ml-a.svc.cluster.local"));
    assert_true(cildns_allowed(p, "*.*.svc.cluster.local"));
    assert_false(cildns_allowed(p, "*"));
    assert_false(cildns_allowed(p, "*.local"));
    assert_false(cildns_allowed(p, "evilcluster.local"));
    assert_false(cildns_allowed(p, "s3.amazonaws.com"));
    assert_false(cildns_allowed(p, "*.amazonaws.com"));
    policy_free(p);
}

/* `*` lets every name resolve: a finding in warn mode by default, the object still admitted. */
static void test_cildns_star_warns(void **state)
{
    struct policy *p = policy_text("");
    struct evalfix f;
    const struct finding *x;

    (void)state;
    evalfix_text(&f, p, CNP("ml-a", "{}", "        - matchPattern: \"*\"\n"), 0, NULL);
    assert_int_equal(f.rc, 0);
    x = evalfix_expect(&f, "dns", "spec.egress[0].toPorts[0].rules.dns[0].matchPattern", 12,
                       "DNS rule lets AI pods resolve every name (*), outside the allow-list's "
                       "names and the cluster suffixes");
    assert_int_equal(x->mode, MODE_WARN);
    assert_true(f.v.allowed);
    evalfix_release(&f);
    policy_free(p);
}

/* Names inside the allow-list and under cluster.local pass; one outside is named. */
static void test_cildns_names(void **state)
{
    struct policy *p = policy_text("");
    struct evalfix f;

    (void)state;
    evalfix_text(&f, p,
                 CNP("ml-a", "{}",
                     "        - matchName: PyPI.internal.example.com\n"
                     "        - matchPattern: \"*.svc.cluster.local\"\n"
                     "        - matchName: exfil.attacker.example\n"),
                 0, NULL);
    assert_int_equal(evalfix_count(&f, "dns", true), 1);
    evalfix_expect(&f, "dns", "spec.egress[0].toPorts[0].rules.dns[2].matchName", 14,
                   "resolve \"exfil.attacker.example\"");
    evalfix_release(&f);
    policy_free(p);
}

/* A policy that governs no AI workload is not judged. */
static void test_cildns_not_ai(void **state)
{
    struct policy *p = policy_text("");
    struct evalfix f;

    (void)state;
    evalfix_text(&f, p, CNP("web", "{}", "        - matchPattern: \"*\"\n"), 0, NULL);
    assert_int_equal(evalfix_count(&f, "dns", true), 0);
    evalfix_release(&f);
    policy_free(p);
}

/* rules.dns: the mode and the cluster suffixes come from the policy file. */
static void test_cildns_configured(void **state)
{
    struct policy *p = policy_text("  rules:\n    dns:\n      mode: enforce\n"
                                   "      clusterSuffixes: [corp.internal]\n");
    struct evalfix f;

    (void)state;
    evalfix_text(&f, p,
                 CNP("ml-a", "{}",
                     "        - matchPattern: \"*.corp.internal\"\n"
                     "        - matchPattern: \"*.svc.cluster.local\"\n"),
                 0, NULL);
    assert_int_equal(evalfix_count(&f, "dns", true), 1);
    evalfix_expect(&f, "dns", "spec.egress[0].toPorts[0].rules.dns[1].matchPattern", 13,
                   "\"*.svc.cluster.local\"");
    assert_false(f.v.allowed);
    evalfix_release(&f);
    policy_free(p);
}

static void expect_policy_error(const char *extra, int line, int col, const char *msg)
{
    char text[2048];
    struct err e = {0};

    snprintf(text, sizeof(text),
             "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\n"
             "spec:\n  aiWorkloads: {namespaces: {names: [\"ml-*\"]}}\n%s",
             extra);
    assert_null(policy_load_buffer(text, strlen(text), "p.yaml", &e));
    assert_string_equal(e.msg, msg);
    assert_int_equal(e.line, line);
    assert_int_equal(e.col, col);
}

static void test_cildns_policy_errors(void **state)
{
    (void)state;
    expect_policy_error("  rules:\n    dns:\n      clusterSuffixes: [\"*.local\"]\n", 8, 25,
                        "spec.rules.dns.clusterSuffixes[0]: invalid DNS name \"*.local\": "
                        "'*' is only allowed in a pattern");
    expect_policy_error("  rules:\n    dns:\n      mod: warn\n", 8, 7,
                        "spec.rules.dns: unknown field \"mod\" (did you mean \"mode\"?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cildns_allowed),
        cmocka_unit_test(test_cildns_star_warns),
        cmocka_unit_test(test_cildns_names),
        cmocka_unit_test(test_cildns_not_ai),
        cmocka_unit_test(test_cildns_configured),
        cmocka_unit_test(test_cildns_policy_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
