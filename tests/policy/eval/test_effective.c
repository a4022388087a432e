#include "policy/eval/effective.h"

#include <stdlib.h>
#include <string.h>

#include "policy/cni/netset.h"
#include "policy/doc/manifest.h"
#include "tests/helpers/invfix.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NS_ML_A "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-a}\n---\n"
#define NS_WEB "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n"

struct run {
    struct policy *pol;
    struct manifest *m;
    struct setdb *sets; /* the input's address sets, all there are (as check takes them) */
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
    r->sets = setdb_new();
    assert_non_null(r->sets);
    assert_int_equal(netset_collect(r->sets, objs, n, &e), 0);
    setdb_set_complete(r->sets, true);
    effective_result_init(&r->res);
    assert_int_equal(effective_evaluate(r->pol, objs, n, db, r->sets, &r->res, &e), 0);
    free(objs);
}

static void done(struct run *r)
{
    effective_result_release(&r->res);
    setdb_free(r->sets);
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
    assert_non_null(invfix_find(v, true, "no network policy of the input selects"));
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
    assert_non_null(invfix_find(v, true, "CiliumClusterwideNetworkPolicy world (t.yaml:20): for the "
                                         "pods it may select, entity world opens 169.254.169.254/32, "
                                         "fd00:ec2::254/128 on any protocol/port, which the policy "
                                         "file always denies (spec.deny: cloud-metadata)"));
    /* No pods in the input: the cluster-wide policy only MAY select some, and says so. */
    f = invfix_find(v, true, "CiliumClusterwideNetworkPolicy world (t.yaml:20): for the pods it may "
                      "select, entity world opens 0.0.0.0/1");
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
        assert_non_null(invfix_find(v, false, "the 2 network policies selecting this namespace"));
    } else {
        assert_false(v->allowed);
        assert_non_null(invfix_find(v, true, "CiliumNetworkPolicy ml-a/wide (t.yaml:"));
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

/*
 * A guard policy that denies every address but 10.20.0.0/16 (and, with pass, hands the rest to
 * the next tier), and an app policy in ml-a that allows TCP/443 everywhere.
 */
static void calico_case(int deny_order, int allow_order, bool pass, bool want_clean)
{
    char yaml[2048];
    struct run r;
    const struct verdict *v;

    snprintf(yaml, sizeof(yaml),
             NS_ML_A "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                     "metadata: {name: guard}\n"
                     "spec:\n  order: %d\n  types: [Egress]\n  egress:\n"
                     "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
                     "%s"
                     "---\n"
                     "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
                     "metadata: {name: app, namespace: ml-a}\n"
                     "spec:\n  order: %d\n  egress:\n"
                     "  - action: Allow\n    protocol: TCP\n"
                     "    destination: {nets: [0.0.0.0/0], ports: [443]}\n",
             deny_order, pass ? "  - action: Pass\n" : "", allow_order);
    run(&r, yaml, NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_int_equal(v->allowed, want_clean);
    if (!pass)
        assert_int_equal(
            invfix_find(v, true, "NetworkPolicy.projectcalico.org ml-a/app (t.yaml:") == NULL,
            want_clean);
    done(&r);
}

/* Calico: policies by order, then rules; the lower order's Deny comes first. */
static void test_effective_evaluate_calico_order(void **state)
{
    (void)state;
    calico_case(10, 100, false, true);
    calico_case(100, 10, false, false);
}

/*
 * Calico Pass skips the rest of its tier, the app policy included (Calico tier docs); with no
 * later tier known the namespace profile allows all: 10.20.0.0/16 is open on every port, while
 * the allow-list has it on TCP/443 only.
 */
static void test_effective_evaluate_calico_pass_opens(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    calico_case(10, 100, true, false);
    run(&r, NS_ML_A "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
                    "metadata: {name: guard}\n"
                    "spec:\n  order: 10\n  types: [Egress]\n  egress:\n"
                    "  - action: Deny\n    destination: {notNets: [10.20.0.0/16]}\n"
                    "  - action: Pass\n    protocol: TCP\n    destination: {ports: [443]}\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    /* what passes is 10.20.0.0/16 on TCP/443 only: inside model-registry */
    assert_true(v->allowed);
    done(&r);
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
    assert_non_null(invfix_find(v, true, "not every AI workload of this namespace is selected by a "
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
    assert_non_null(invfix_find(v, false, "the 1 network policy selecting"));
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
    assert_non_null(invfix_find(v, false, "CiliumNetworkPolicy ml-a/broken (t.yaml:5): cannot be read"));
    assert_non_null(invfix_find(v, true, "no network policy of the input selects"));
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
    assert_non_null(invfix_find(v, false, "the 1 network policy selecting"));
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
    assert_non_null(invfix_find(v, true, "CiliumNetworkPolicy ml-a/dns (t.yaml:"));
    assert_null(invfix_find(v, true, "NetworkPolicy ml-a/registry (t.yaml:"));
    done(&r);
}


#define DEPLOY(name, ns, app)                                                                      \
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " name ns "}\n"                       \
    "spec:\n  selector: {matchLabels: {app: " app "}}\n"                                         \
    "  template:\n    metadata: {labels: {app: " app "}}\n"                                      \
    "    spec: {containers: [{name: c, image: i}]}\n---\n"

/* An egress NetworkPolicy for one app: in-cluster peers of the namespace, and cluster DNS. */
#define APP_POLICY(app, peer)                                                                     \
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"                                    \
    "metadata: {name: " app ", namespace: ml-a}\n"                                               \
    "spec:\n  podSelector: {matchLabels: {app: " app "}}\n  policyTypes: [Egress]\n"            \
    "  egress:\n  - to: [{podSelector: {matchLabels: {app: " peer "}}}]\n"                      \
    "  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},\n" \
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n"                             \
    "    ports: [{protocol: UDP, port: 53}]\n---\n"

static const json_t *subject_of(const struct run *r, const char *ns, size_t i)
{
    for (size_t k = 0; k < r->res.n; k++)
        if (!strcmp(r->res.items[k].ns, ns))
            return json_array_get(json_object_get(r->res.items[k].detail, "subjects"), i);
    return NULL;
}

/*
 * Every Deployment has its own egress policy (each pod isolated, only in-cluster peers): per
 * workload, every one of them is isolated and inside the allow-list. Per namespace (before), no
 * policy selected every pod, so "their egress is not restricted" was reported.
 */
static void test_effective_per_workload_each_app_its_policy(void **state)
{
    struct run r;
    const struct verdict *v;
    const json_t *s;

    (void)state;
    run(&r, NS_ML_A DEPLOY("frontend", ", namespace: ml-a", "frontend")
                DEPLOY("cart", ", namespace: ml-a", "cart") DEPLOY("redis", ", namespace: ml-a", "redis")
                    APP_POLICY("frontend", "cart") APP_POLICY("cart", "redis")
                        APP_POLICY("redis", "none"),
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_true(v->allowed);
    assert_int_equal(n_violations(v), 0);
    assert_non_null(invfix_find(v, false, "each of the 3 workloads of this namespace in the input stays "
                                   "inside the allow-list"));
    /* the JSON detail: per workload, which policy isolates it */
    s = subject_of(&r, "ml-a", 1);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "workload"), "name")),
                        "cart");
    assert_true(json_is_true(json_object_get(s, "isolated")));
    assert_string_equal(json_string_value(json_object_get(s, "isolatedBy")),
                        "NetworkPolicy ml-a/cart (t.yaml:44)");
    assert_int_equal(json_array_size(json_object_get(s, "policies")), 1);
    done(&r);
}

/* One app without a policy is named; the others are not. */
static void test_effective_per_workload_names_unisolated(void **state)
{
    struct run r;
    const struct verdict *v;
    const struct finding *f;

    (void)state;
    run(&r, NS_ML_A DEPLOY("frontend", ", namespace: ml-a", "frontend")
                DEPLOY("batch", ", namespace: ml-a", "batch") APP_POLICY("frontend", "cart"),
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_int_equal(n_violations(v), 1);
    f = invfix_find(v, true, "Deployment/batch is not selected by any policy with egress default deny: "
                      "its egress is not restricted");
    assert_non_null(f);
    assert_null(strstr(f->message, "frontend"));
    done(&r);
}

/* A default deny for the namespace plus per-app allows: only the app that opens the world escapes. */
static void test_effective_per_workload_default_deny_plus_allows(void **state)
{
    struct run r;
    const struct verdict *v;
    const struct finding *f;

    (void)state;
    run(&r, NS_ML_A DEPLOY("web", ", namespace: ml-a", "web")
                DEPLOY("trainer", ", namespace: ml-a", "trainer")
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: default-deny, namespace: ml-a}\n"
        "spec: {podSelector: {}, policyTypes: [Egress]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: web-out, namespace: ml-a}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: 443}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: trainer-out, namespace: ml-a}\n"
        "spec:\n  podSelector: {matchLabels: {app: trainer}}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to: [{ipBlock: {cidr: 10.20.0.0/16}}]\n    ports: [{port: 443}]\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    /* 0.0.0.0/0 holds spec.deny's metadata address: a violation of its own, for web too */
    assert_int_equal(n_violations(v), 2);
    assert_non_null(invfix_find(v, true, "opens 169.254.169.254/32 on TCP/443, which the policy "
                                         "file always denies"));
    f = invfix_find(v, true, "NetworkPolicy ml-a/web-out (t.yaml:");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "(reached by Deployment/web)"));
    assert_string_equal(f->path, "spec.egress[0].to[0].ipBlock");
    done(&r);
}

/* A Cilium deny selecting one app takes from that app only: exact per workload. */
static void test_effective_per_workload_deny_for_one_app(void **state)
{
    struct run r;
    const struct verdict *v;
    const struct finding *f;

    (void)state;
    run(&r, NS_ML_A DEPLOY("web", ", namespace: ml-a", "web") DEPLOY("api", ", namespace: ml-a", "api")
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: wide, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [0.0.0.0/0]\n"
        "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n---\n"
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
        "metadata: {name: guard-web, namespace: ml-a}\n"
        "spec:\n  endpointSelector: {matchLabels: {app: web}}\n  egressDeny:\n"
        "  - toCIDRSet: [{cidr: 0.0.0.0/0, except: [10.20.0.0/16]}]\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    /* the metadata address is open for api only (guard-web takes it from web), as the rest */
    assert_int_equal(n_violations(v), 2);
    f = invfix_find(v, true, "which the policy file always denies");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "(reached by Deployment/api)"));
    assert_null(strstr(f->message, "web"));
    f = invfix_find(v, true, "CiliumNetworkPolicy ml-a/wide (t.yaml:");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "(reached by Deployment/api)"));
    assert_null(strstr(f->message, "web"));
    done(&r);
}

/* Namespace-less manifests are in "default", for --effective as for check. */
static void test_effective_namespaceless_in_default(void **state)
{
    struct nsdb *db = nsdb_new();
    struct err e = {0};
    struct run r;
    const struct verdict *v;

    (void)state;
    assert_non_null(db);
    assert_int_equal(nsdb_set_spec(db, "default=egressguard.io/ai-workload=true", &e), 0);
    run(&r, DEPLOY("notebook", "", "nb") "apiVersion: v1\nkind: Pod\nmetadata: {name: debug}\n"
                                         "spec: {containers: [{name: c, image: i}]}\n",
        db);
    v = ns_verdict(&r, "default");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_non_null(invfix_find(v, true, "Deployment/notebook, Pod/debug are not selected by any policy "
                                  "with egress default deny"));
    done(&r);
    nsdb_free(db);
}

/* Calico selectors on what Calico derives from the pod (orchestrator, namespace) select it. */
static void test_effective_per_workload_calico_derived_labels(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A DEPLOY("web", ", namespace: ml-a", "web")
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        "metadata: {name: k8s-pods}\n"
        "spec:\n  selector: projectcalico.org/orchestrator == 'k8s'\n  types: [Egress]\n"
        "  egress:\n  - action: Allow\n    protocol: TCP\n"
        "    destination: {nets: [10.20.0.0/16], ports: [443]}\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_true(v->allowed);
    done(&r);
}

/* A label the CNI derives but the input cannot show (Calico's projectcalico.org/foo): maybe. */
static void test_effective_per_workload_unknown_cni_label(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A DEPLOY("web", ", namespace: ml-a", "web")
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        "metadata: {name: odd}\n"
        "spec:\n  selector: has(projectcalico.org/foo)\n  types: [Egress]\n"
        "  egress:\n  - action: Allow\n    destination: {nets: [0.0.0.0/0]}\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    /* it may apply: its allow counts, its default deny does not */
    assert_non_null(invfix_find(v, true, "GlobalNetworkPolicy.projectcalico.org odd (t.yaml:"));
    assert_non_null(invfix_find(v, true, "is perhaps not selected by any policy with egress default "
                                  "deny"));
    done(&r);
}

/*
 * Calico gives an endpoint its namespace's and service account's labels under "pcns." and
 * "pcsa." (libcalico-go lib/backend/k8s/conversion constants.go): a selector on them may pick
 * the workload, whose pod template cannot show them. The allow counts; the workload also stays
 * isolated by the default deny, which applies for sure.
 */
static void test_effective_per_workload_calico_account_labels(void **state)
{
    struct run r;
    const struct verdict *v;

    (void)state;
    run(&r, NS_ML_A DEPLOY("web", ", namespace: ml-a", "web")
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: default-deny, namespace: ml-a}\n"
        "spec: {podSelector: {}, policyTypes: [Egress]}\n---\n"
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
        "metadata: {name: batch, namespace: ml-a}\n"
        "spec:\n  selector: pcsa.role == 'batch'\n  types: [Egress]\n"
        "  egress:\n  - action: Allow\n    destination: {nets: [0.0.0.0/0]}\n",
        NULL);
    v = ns_verdict(&r, "ml-a");
    assert_non_null(v);
    assert_false(v->allowed);
    assert_non_null(invfix_find(v, true, "NetworkPolicy.projectcalico.org ml-a/batch (t.yaml:"));
    assert_null(invfix_find(v, true, "not selected by any policy with egress default deny"));
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
        cmocka_unit_test(test_effective_evaluate_calico_pass_opens),
        cmocka_unit_test(test_effective_evaluate_default_deny_off),
        cmocka_unit_test(test_effective_evaluate_namespace_labels),
        cmocka_unit_test(test_effective_evaluate_unreadable_not_counted),
        cmocka_unit_test(test_effective_evaluate_kubernetes_and_cilium),
        cmocka_unit_test(test_effective_per_workload_each_app_its_policy),
        cmocka_unit_test(test_effective_per_workload_names_unisolated),
        cmocka_unit_test(test_effective_per_workload_default_deny_plus_allows),
        cmocka_unit_test(test_effective_per_workload_deny_for_one_app),
        cmocka_unit_test(test_effective_namespaceless_in_default),
        cmocka_unit_test(test_effective_per_workload_calico_derived_labels),
        cmocka_unit_test(test_effective_per_workload_unknown_cni_label),
        cmocka_unit_test(test_effective_per_workload_calico_account_labels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
