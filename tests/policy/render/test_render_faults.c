/*
 * render_build() when memory runs out: for every allocation it makes, a run where exactly that
 * one fails must either fail with an error or render exactly what an undisturbed run renders
 * (never a rule that lost part of its destination), and must not leak.
 */
#include "policy/render/render.h"

#include <stdlib.h>
#include <string.h>

#include "policy/config/policy.h"
#include "tests/helpers/faults/faults.h"
#include "tests/helpers/policyfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/*
 * Allow entries whose several CIDRs each hold an always-denied range (so every target carves:
 * except lists, Calico notNets), in-cluster peers, sameNamespace and FQDNs.
 */
static const char POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\n"
    "kind: EgressPolicy\n"
    "metadata: {name: r}\n"
    "spec:\n"
    "  aiWorkloads:\n"
    "    namespaces: {names: [ml-*]}\n"
    "  allow:\n"
    "    - name: dns\n"
    "      inCluster:\n"
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
    "      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n"
    "    - name: peers\n"
    "      inCluster: [{sameNamespace: true}]\n"
    "    - name: nets\n"
    "      cidrs: [169.254.0.0/16, 10.0.0.0/8, 192.168.0.0/16, \"fd00::/8\"]\n"
    "      ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 8000, endPort: 8010}]\n"
    "    - name: s3\n"
    "      fqdns: [\"*.s3.amazonaws.com\", s3.amazonaws.com]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "  deny:\n"
    "    - name: metadata\n"
    "      cidrs: [169.254.169.254/32, 10.1.2.3/32, 10.9.0.0/16, 192.168.7.0/24, "
    "\"fd00:ec2::254/128\"]\n"
    "  mutation:\n"
    "    enabled: true\n"
    "    labels: {egressguard.io/enforced: \"true\"}\n";

/* One policy for every test (they only read it). */
static int setup(void **state)
{
    *state = policyfix_must_load(POLICY);
    return 0;
}

struct sweep {
    const struct policy *pol;
    enum render_target t;
    const json_t *want;
};

/* One rendering with the armed allocation failing: out of memory, or the undisturbed result. */
static void render_once(void *arg, long k)
{
    static const char *const ns[] = {"ml-a"};
    const struct sweep *w = arg;
    struct render_opts o = {ns, 1};
    struct err e = {0};
    json_t *got = render_build(w->pol, w->t, &o, NULL, &e);

    if (got) {
        if (!json_equal(got, w->want)) {
            char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
            print_message("target %d, allocation %ld failed, rendered: %s\n", (int)w->t, k,
                          g ? g : "?");
            free(g);
            fail();
        }
    } else {
        assert_string_equal(e.msg, "out of memory");
    }
    json_decref(got);
}

static void check_target(const struct policy *pol, enum render_target t)
{
    static const char *const ns[] = {"ml-a"};
    struct render_opts o = {ns, 1};
    struct err e = {0};
    json_t *want = render_build(pol, t, &o, NULL, &e);
    struct sweep w = {pol, t, want};

    assert_non_null(want);
    assert_true(faults_sweep(render_once, &w) > 10); /* it went through the allocations */
    json_decref(want);
}

static void test_render_build_faults_networkpolicy(void **state)
{
    check_target(*state, RENDER_NETWORKPOLICY);
}

static void test_render_build_faults_cilium(void **state)
{
    check_target(*state, RENDER_CILIUM);
}

static void test_render_build_faults_calico(void **state)
{
    check_target(*state, RENDER_CALICO);
}

static void test_render_build_faults_anp(void **state)
{
    check_target(*state, RENDER_ANP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_build_faults_networkpolicy),
        cmocka_unit_test(test_render_build_faults_cilium),
        cmocka_unit_test(test_render_build_faults_calico),
        cmocka_unit_test(test_render_build_faults_anp),
    };

    return cmocka_run_group_tests(tests, setup, policyfix_teardown);
}
