/*
 * Judging network policies when memory runs out: for every allocation the decision makes
 * (readers, openings, reach_check, findings), a run where exactly that one fails must either
 * fail (which callers turn into a denial) or give exactly the verdict an undisturbed run gives.
 * An escape lost to a failed allocation would be an allow that should have been a deny.
 */
#include "policy/eval/reach.h"

#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/config/policy.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "tests/helpers/faults/faults.h"
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
    "    - name: dns\n"
    "      inCluster:\n"
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
    "      ports: [{protocol: UDP, port: 53}]\n"
    "    - name: registry\n"
    "      cidrs: [10.20.0.0/16]\n"
    "      ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 8000, endPort: 8010}]\n"
    "    - name: s3\n"
    "      fqdns: [\"*.s3.amazonaws.com\"]\n"
    "      ports: [{protocol: TCP, port: 443}]\n"
    "  deny:\n"
    "    - name: metadata\n"
    "      cidrs: [169.254.169.254/32]\n";

/* The only violation: one FQDN pattern outside the allow-list. */
static const char CILIUM_FQDN[] =
    "apiVersion: cilium.io/v2\n"
    "kind: CiliumNetworkPolicy\n"
    "metadata: {name: f, namespace: ml-a}\n"
    "spec:\n"
    "  endpointSelector: {}\n"
    "  egress:\n"
    "  - toFQDNs:\n"
    "    - matchPattern: '*.s3.amazonaws.com'\n"
    "    - matchPattern: '*.example.org'\n"
    "    toPorts:\n"
    "    - ports: [{port: '443', protocol: TCP}]\n";

/* CIDR escapes split by ports and by an except, a cluster peer, a deny-only peer. */
static const char NETPOL[] =
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: n, namespace: ml-a}\n"
    "spec:\n"
    "  podSelector: {}\n"
    "  policyTypes: [Egress]\n"
    "  egress:\n"
    "  - to:\n"
    "    - ipBlock: {cidr: 10.0.0.0/8, except: [10.20.1.0/24]}\n"
    "    - ipBlock: {cidr: 169.254.169.254/32}\n"
    "    - namespaceSelector: {matchLabels: {team: x}}\n"
    "    ports: [{protocol: TCP, port: 443}, {protocol: TCP, port: 8000, endPort: 9000}]\n";

/* Calico: ordered rules, a deny before the allow, an entity-like `all` destination. */
static const char CALICO[] =
    "apiVersion: projectcalico.org/v3\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: c, namespace: ml-a}\n"
    "spec:\n"
    "  selector: all()\n"
    "  types: [Egress]\n"
    "  egress:\n"
    "  - action: Deny\n"
    "    destination: {nets: [10.20.0.0/24]}\n"
    "  - action: Allow\n"
    "    protocol: TCP\n"
    "    destination: {nets: [10.20.0.0/16, 192.168.0.0/16], ports: [443, 25]}\n"
    "  - action: Allow\n"
    "    protocol: UDP\n";

/* One policy for every test (they only read it). */
static int setup(void **state)
{
    *state = policyfix_must_load(POLICY);
    return 0;
}

/*
 * The verdict as text: allowed, then every finding's rule, kind, field and line. Messages are
 * left out: a reader may word a peer less precisely when memory is short (that is not a
 * verdict), but no finding may go missing.
 */
static char *verdict_text(const struct verdict *v)
{
    struct buf b;

    buf_init(&b, 0);
    buf_printf(&b, "allowed=%d\n", v->allowed);
    for (size_t i = 0; i < v->n_findings; i++)
        buf_printf(&b, "%s %s %s line %d\n", v->findings[i].rule,
                   v->findings[i].violation ? "violation" : "note", v->findings[i].path,
                   v->findings[i].line);
    return buf_detach(&b, NULL);
}

struct sweep {
    const struct policy *pol;
    const struct object *obj;
    const char *want;
};

/* One decision with the armed allocation failing: a failure, or the undisturbed verdict. */
static void decide_once(void *arg, long k)
{
    const struct sweep *w = arg;
    struct verdict v;
    struct err e = {0};
    char *got;
    int rc;

    verdict_init(&v);
    rc = decide_object(w->pol, w->obj, NULL, &v, &e);
    faults_hold();
    if (rc == 0) {
        got = verdict_text(&v);
        assert_non_null(got);
        if (strcmp(got, w->want) != 0)
            fail_msg("allocation %ld failed, and the decision still answered:\n%s\n"
                     "instead of:\n%s",
                     k, got, w->want);
        free(got);
    } else {
        assert_true(e.msg[0] != '\0');
    }
    verdict_release(&v);
}

static void check_object(const struct policy *pol, const char *text)
{
    struct manifest *m = manifest_new();
    struct sweep w = {.pol = pol};
    struct verdict v;
    struct err e = {0};
    char *want;

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, text, strlen(text), "o.yaml"), 0);
    assert_int_equal(manifest_n_errors(m), 0);
    w.obj = manifest_object(m, 0);
    assert_non_null(w.obj);
    verdict_init(&v);
    assert_int_equal(decide_object(pol, w.obj, NULL, &v, &e), 0);
    assert_false(v.allowed); /* each object has something to deny */
    want = verdict_text(&v);
    assert_non_null(want);
    verdict_release(&v);
    w.want = want;
    assert_true(faults_sweep(decide_once, &w) > 20);
    free(want);
    manifest_free(m);
}

static void test_decide_faults_cilium_fqdn_escape(void **state)
{
    check_object(*state, CILIUM_FQDN);
}

static void test_decide_faults_netpol(void **state)
{
    check_object(*state, NETPOL);
}

static void test_decide_faults_calico(void **state)
{
    check_object(*state, CALICO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_faults_cilium_fqdn_escape),
        cmocka_unit_test(test_decide_faults_netpol),
        cmocka_unit_test(test_decide_faults_calico),
    };

    return cmocka_run_group_tests(tests, setup, policyfix_teardown);
}
