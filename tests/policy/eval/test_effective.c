#include "policy/eval/effective.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/manifest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NS_ML_A "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-a}\n---\n"
#define NS_WEB "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n"

struct run {
    struct policy *pol;
    struct manifest *m;
    struct effective_result res;
};

static void run(struct run *r, const char *yaml, const struct nsdb *db)
{
    const struct object **objs;
    struct err e = {0};
    size_t i, n;

    r->pol = policy_load("examples/policy.yaml", &e);
    assert_non_null(r->pol);
    r->m = manifest_new();
    assert_non_null(r->m);
    assert_int_equal(manifest_read_buffer(r->m, yaml, strlen(yaml), "t.yaml"), 0);
    assert_int_equal(manifest_n_errors(r->m), 0);
    n = manifest_n_objects(r->m);
    objs = calloc(n, sizeof(*objs));
    assert_non_null(objs);
    for (i = 0; i < n; i++)
        objs[i] = manifest_object(r->m, i);
    effective_result_init(&r->res);
    assert_int_equal(effective_evaluate(r->pol, objs, n, db, &r->res, &e), 0);
    free(objs);
}

static void done(struct run *r)
{
    effective_result_release(&r->res);
    manifest_free(r->m);
    policy_free(r->pol);
}

static const struct verdict *ns_verdict(const struct run *r, const char *ns)
{
    for (size_t i = 0; i < r->res.n; i++)
        if (!strcmp(r->res.items[i].ns, ns))
            return &r->res.items[i].v;
    return NULL;
}

/* The first finding whose message contains `text`, or NULL. */
static const struct finding *find(const struct verdict *v, bool violation, const char *text)
{
    for (size_t i = 0; i < v->n_findings; i++)
        if (v->findings[i].violation == violation && strstr(v->findings[i].message, text))
            return &v->findings[i];
    return NULL;
}

static size_t n_violations(const struct verdict *v)
{
    size_t n = 0;

    for (size_t i = 0; i < v->n_findings; i++)
        n += v->findings[i].violation;
    return n;
}

static void test_effective_evaluate_no_policy_is_unrestricted(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A NS_WEB "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: web}\n",
        NULL);
    assert_int_equal(r.res.n, 1); /* web is not an AI namespace */
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_non_null(find(v, true, "no network policy governs the egress"));
    assert_string_equal(v->findings[0].rule, "egress.effective");
    done(&r);
}

/* Two Cilium policies: one is fine alone, the other (cluster-wide) opens the world. */
static void test_effective_evaluate_union_of_policies(void **state)
{
    struct run r;
    const struct verdict *v;
    const struct finding *f;

    (void)state;
    run(&r, NS_ML_A
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: registry, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n"
        "  - toCIDR: [10.20.0.0/16]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
        "---\n"
        "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
        "metadata: {name: world}\n"
        "spec:\n  endpointSelector: {matchLabels: {app: notebook}}\n  egress:\n"
        "  - toEntities: [world]\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    /* the world holds the always-denied metadata address too: a violation of its own */
    assert_int_equal(n_violations(v), 2);
    assert_non_null(find(v, true, "CiliumClusterwideNetworkPolicy world (t.yaml:20): entity world "
                                  "opens 169.254.169.254/32, fd00:ec2::254/128 on any "
                                  "protocol/port, which the policy file always denies (spec.deny: "
                                  "cloud-metadata)"));
    f = find(v, true, "CiliumClusterwideNetworkPolicy world (t.yaml:20): entity world opens 0.0.0.0/1");
    assert_non_null(f);
    assert_string_equal(f->path, "spec.egress[0].toEntities[0]");
    assert_string_equal(f->rule, "egress.effective");
    done(&r);
}

static const char deny_all_but_registry[] =
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
    "metadata: {name: guard, namespace: ml-a}\n"
    "spec:\n  endpointSelector: {%s}\n  egressDeny:\n"
    "  - toCIDRSet: [{cidr: 0.0.0.0/0, except: [10.20.0.0/16]}]\n";

static void deny_case(const char *subject, bool want_clean)
{
    char yaml[2048];
    struct run r;
    const struct verdict *v;
    char guard[512];

    snprintf(guard, sizeof(guard), deny_all_but_registry, subject);
    snprintf(yaml, sizeof(yaml),
             NS_ML_A "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                     "metadata: {name: wide, namespace: ml-a}\n"
                     "spec:\n  endpointSelector: {}\n  egress:\n"
                     "  - toCIDR: [0.0.0.0/0]\n"
                     "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
                     "---\n%s",
             guard);
    run(&r, yaml, NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    if (want_clean) {
        assert_true(v->allowed);
        assert_int_equal(n_violations(v), 0);
        assert_non_null(find(v, false, "the 2 network policies selecting this namespace"));
    } else {
        assert_false(v->allowed);
        assert_non_null(find(v, true, "CiliumNetworkPolicy ml-a/wide (t.yaml:"));
    }
    done(&r);
}

/* A Cilium egressDeny of a policy selecting every pod takes from every other policy's allows. */
static void test_effective_evaluate_cilium_deny_across_policies(void **state)
{
    (void)state;
    deny_case("", true);
}

/* ... but a deny that selects only some pods must not clean the others' egress. */
static void test_effective_evaluate_partial_deny_not_applied(void **state)
{
    (void)state;
    deny_case("matchLabels: {app: x}", false);
}

static void calico_case(int deny_order, int allow_order, bool want_clean)
{
    char yaml[2048];
    struct run r;
    const struct verdict *v;

    snprintf(yaml, sizeof(yaml),
             NS_ML_A "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                     "metadata: {name: guard}\n"
                     "spec:\n  order: %d\n  types: [Egress]\n  egress:\n"
                     "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
                     "  - action: Pass\n"
                     "---\n"
                     "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                     "metadata: {name: app, namespace: ml-a}\n"
                     "spec:\n  order: %d\n  egress:\n"
                     "  - action: Allow\n    protocol: TCP\n"
                     "    destination: {nets: [0.0.0.0/0], ports: [443]}\n",
             deny_order, allow_order);
    run(&r, yaml, NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_int_equal(v->allowed, want_clean);
    assert_int_equal(find(v, true, "NetworkPolicy.projectcalico.org ml-a/app (t.yaml:") == NULL,
                     want_clean);
    done(&r);
}

/* Calico: policies by order, then rules; the lower order's Deny comes first. */
static void test_effective_evaluate_calico_order(void **state)
{
    (void)state;
    calico_case(10, 100, true);
    calico_case(100, 10, false);
}

static void test_effective_evaluate_default_deny_off(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                    "metadata: {name: p, namespace: ml-a}\n"
                    "spec:\n  endpointSelector: {}\n  enableDefaultDeny: {egress: false}\n"
                    "  egress:\n  - toCIDR: [10.20.0.0/16]\n"
                    "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_int_equal(n_violations(v), 1);
    assert_non_null(find(v, true, "not every AI workload of this namespace is selected by a "
                                  "policy with egress default deny"));
    done(&r);
}

/* A namespace known to be AI only by its labels, and a cluster-wide namespace selector. */
static void test_effective_evaluate_namespace_labels(void **state)
{
    struct nsdb *db = nsdb_new();
    struct err e = {0};
    struct run r;
    const struct verdict *v;

    (void)state;
    assert_non_null(db);
    assert_int_equal(nsdb_set_spec(db, "team-x=egressguard.io/ai-workload=true,tier=gold", &e), 0);
    run(&r, "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\n"
            "metadata: {name: gold}\n"
            "spec:\n  endpointSelector:\n"
            "    matchLabels: {\"io.cilium.k8s.namespace.labels.tier\": gold}\n"
            "  egress:\n  - toFQDNs: [{matchName: pypi.internal.example.com}]\n"
            "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
            "---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team-x}\n",
        db);
    v = ns_verdict(&r, "team-x");
    assert_non_null(v);
    assert_true(v->allowed);
    assert_non_null(find(v, false, "the 1 network policy selecting"));
    done(&r);
    nsdb_free(db);
}

static void test_effective_evaluate_unreadable_not_counted(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                    "metadata: {name: broken, namespace: ml-a}\n"
                    "spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [\"\"]\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_non_null(find(v, false, "CiliumNetworkPolicy broken (t.yaml:5): cannot be read"));
    assert_non_null(find(v, true, "no network policy governs"));
    done(&r);
}

/* Kubernetes NetworkPolicies take part as well, alongside Cilium's. */
static void test_effective_evaluate_kubernetes_and_cilium(void **state)
{
    static const char knp[] =
        NS_ML_A "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: registry, namespace: ml-a}\n"
                "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n"
                "  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n"
                "    ports: [{protocol: TCP, port: 443}]\n";
    char yaml[2048];
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, knp, NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_true(v->allowed);
    assert_non_null(find(v, false, "the 1 network policy selecting"));
    done(&r);

    snprintf(yaml, sizeof(yaml),
             "%s---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
             "metadata: {name: dns, namespace: ml-a}\n"
             "spec:\n  endpointSelector: {}\n  egress:\n"
             "  - toPorts: [{ports: [{port: \"53\", protocol: UDP}]}]\n",
             knp);
    run(&r, yaml, NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_non_null(find(v, true, "CiliumNetworkPolicy ml-a/dns (t.yaml:"));
    assert_null(find(v, true, "NetworkPolicy ml-a/registry (t.yaml:"));
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effective_evaluate_no_policy_is_unrestricted),
        cmocka_unit_test(test_effective_evaluate_union_of_policies),
        cmocka_unit_test(test_effective_evaluate_cilium_deny_across_policies),
        cmocka_unit_test(test_effective_evaluate_partial_deny_not_applied),
        cmocka_unit_test(test_effective_evaluate_calico_order),
        cmocka_unit_test(test_effective_evaluate_default_deny_off),
        cmocka_unit_test(test_effective_evaluate_namespace_labels),
        cmocka_unit_test(test_effective_evaluate_unreadable_not_counted),
        cmocka_unit_test(test_effective_evaluate_kubernetes_and_cilium),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
