/*
 * The decision context of a cluster-model snapshot (policy/model/modelctx.c): a network-policy
 * or address-set change judged among the snapshot's objects, through decide_object() with the
 * request_ctx fields the server fills from it (server/webhook/http.c).
 */
#include "policy/model/modelctx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "policy/decide.h"
#include "policy/doc/manifest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define NS_ML_A "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-a}\n---\n"

static const char allow_https[] = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                                  "metadata: {name: allow-https, namespace: ml-a}\n"
                                  "spec:\n  endpointSelector: {}\n  egress:\n"
                                  "  - toEntities: [world]\n"
                                  "    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n";

/* Denies everything outside examples/policy.yaml's ranges (test_context.c's layered pair). */
static const char deny_outside[] =
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
    "metadata: {name: deny-outside, namespace: ml-a}\n"
    "spec:\n  endpointSelector: {}\n  egressDeny:\n"
    "  - toCIDRSet:\n    - {cidr: 0.0.0.0/0, except: [10.20.0.0/16, 10.30.0.0/24]}\n"
    "    - {cidr: \"::/0\", except: [\"fd00:20::/64\"]}\n";

/*
 * A Calico policy of ml-a reaching the GlobalNetworkSets labelled role=partners, on TCP/443:
 * a namespaced policy's selector matches its own namespace unless namespaceSelector says
 * otherwise, and global() picks the cluster-scoped sets
 * (docs.tigera.io/calico/latest/reference/resources/networkpolicy#entityrule).
 */
static const char calico_to_partners[] =
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
    "metadata: {name: to-partners, namespace: ml-a}\n"
    "spec:\n  selector: all()\n  types: [Egress]\n  egress:\n"
    "  - action: Allow\n    protocol: TCP\n"
    "    destination: {selector: role == 'partners', namespaceSelector: global(), ports: [443]}\n";

static const char world_set[] = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
                                "metadata: {name: everything, labels: {role: %s}}\n"
                                "spec: {nets: [0.0.0.0/0]}\n";

struct world {
    struct policy *pol;
    struct manifest *m;     /* the cluster's objects */
    struct model *snap;
    struct modelctx *ctx;
};

/*
 * The snapshot of yaml's objects, as the watch would have built it, and its context. states[k]
 * (states NULL: every kind complete) is what the watch knows of kind k: complete after its first
 * LIST, not served when discovery found no API for it, unknown before either.
 */
static void world_load_states(struct world *w, const char *yaml, const enum model_state *states)
{
    struct model_writer *mw = model_writer_new();
    const struct object **objs;
    struct err e = {0};
    size_t i, n;

    w->pol = policy_load("examples/policy.yaml", &e);
    assert_non_null(w->pol);
    assert_non_null(w->m = manifest_new());
    assert_int_equal(manifest_read_buffer(w->m, yaml, strlen(yaml), "cluster.yaml"), 0);
    n = manifest_n_objects(w->m);
    assert_non_null(objs = calloc(n + 1, sizeof(*objs)));
    for (i = 0; i < n; i++)
        objs[i] = manifest_object(w->m, i);
    assert_non_null(mw);
    assert_int_equal(model_writer_put_objects(mw, objs, n, &e), 0);
    /* Every kind listed, as the watch marks them after their first LIST (or as states says). */
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        enum model_state st = states ? states[k] : MODEL_STATE_COMPLETE;

        if (st == MODEL_STATE_COMPLETE)
            assert_int_equal(model_writer_set_complete(mw, (enum model_kind)k), 0);
        else if (st == MODEL_STATE_NOT_SERVED)
            assert_int_equal(model_writer_set_not_served(mw, (enum model_kind)k), 0);
    }
    assert_non_null(w->snap = model_writer_publish(mw));
    model_writer_free(mw);
    free(objs);
    assert_non_null(w->ctx = modelctx_build(w->snap, &e));
}

static void world_load(struct world *w, const char *yaml)
{
    world_load_states(w, yaml, NULL);
}

static void world_free(struct world *w)
{
    modelctx_unref(w->ctx);
    model_unref(w->snap);
    manifest_free(w->m);
    policy_free(w->pol);
}

/*
 * Decides the first object of yaml (or old's object for a DELETE) as the server does: a
 * cluster-scoped object with every namespace of the snapshot (server/webhook/http.c). When want
 * is not NULL, some finding's message must contain it.
 */
static bool decide_saying(struct world *w, const char *yaml, const char *op, const json_t *old,
                          const char *want)
{
    struct manifest *m = manifest_new();
    struct request_ctx ctx = {.operation = op,
                              .old_object = old,
                              .sets = w->ctx->sets,
                              .policies = &w->ctx->policies,
                              .context = &w->ctx->in};
    struct verdict v;
    struct err e = {0};
    bool allowed, said = !want;

    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, yaml, strlen(yaml), "request.yaml"), 0);
    if (!*manifest_object(m, 0)->ns)
        ctx.namespaces = &w->ctx->ns;
    verdict_init(&v);
    assert_int_equal(decide_object(w->pol, manifest_object(m, 0), &ctx, &v, &e), 0);
    for (size_t i = 0; i < v.n_findings; i++) {
        print_message("  %s %s: %s\n", v.findings[i].violation ? "violation" : "note",
                      v.findings[i].path, v.findings[i].message);
        said = said || (v.findings[i].message && strstr(v.findings[i].message, want));
    }
    assert_true(said);
    allowed = v.allowed;
    verdict_release(&v);
    manifest_free(m);
    return allowed;
}

static bool decide(struct world *w, const char *yaml, const char *op, const json_t *old)
{
    return decide_saying(w, yaml, op, old, NULL);
}

/* The snapshot's policies and sets are all in the context, each policy indexed once. */
static void test_modelctx_holds_the_snapshot(void **state)
{
    char set[512];
    struct world w;

    (void)state;
    snprintf(set, sizeof(set), world_set, "partners");
    {
        char yaml[4096];

        snprintf(yaml, sizeof(yaml), "%s%s---\n%s---\n%s---\n%s", NS_ML_A, allow_https,
                 deny_outside, calico_to_partners, set);
        world_load(&w, yaml);
    }
    assert_int_equal(w.ctx->in.n_policies, 3);
    assert_true(w.ctx->policies.n >= 3);
    assert_int_equal(setdb_count(w.ctx->sets), 1);
    assert_non_null(setdb_find(w.ctx->sets, SETDB_GLOBALNETWORKSET, "", "everything"));
    /* Every set kind listed: what selectors reach beyond these sets is nothing. */
    assert_true(setdb_complete(w.ctx->sets));
    assert_true(w.ctx->in.namespaces_complete);
    assert_true(nsdb_complete(&w.ctx->ns));
    for (size_t i = 0; i < w.ctx->in.n_policies; i++)
        assert_string_equal(w.ctx->in.policies[w.ctx->in.by_ns[i]].ns, "ml-a");
    world_free(&w);
}

/*
 * Cilium: deny policies take precedence over allow policies
 * (docs.cilium.io/en/latest/security/policy/deny/): the allow to the world on TCP/443 is admitted
 * when the deny is in the cluster, the deny is admitted next to the allow, the allow alone is not.
 */
static void test_modelctx_layered_pair_either_order(void **state)
{
    struct world w;

    (void)state;
    world_load(&w, NS_ML_A "---\n" "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                           "metadata: {name: unrelated, namespace: other}\nspec: {}\n");
    assert_false(decide(&w, allow_https, "CREATE", NULL));
    world_free(&w);

    world_load(&w, NS_ML_A "---\n" "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
                           "metadata: {name: deny-outside, namespace: ml-a}\n"
                           "spec:\n  endpointSelector: {}\n  egressDeny:\n"
                           "  - toCIDRSet:\n"
                           "    - {cidr: 0.0.0.0/0, except: [10.20.0.0/16, 10.30.0.0/24]}\n"
                           "    - {cidr: \"::/0\", except: [\"fd00:20::/64\"]}\n");
    assert_true(decide(&w, allow_https, "CREATE", NULL));
    world_free(&w);

    {
        char yaml[2048];

        snprintf(yaml, sizeof(yaml), "%s%s", NS_ML_A, allow_https);
        world_load(&w, yaml);
    }
    assert_true(decide(&w, deny_outside, "CREATE", NULL));
    world_free(&w);
}

/* Deleting the deny of the layered pair would open the world on TCP/443: refused. */
static void test_modelctx_delete_of_the_deny_refused(void **state)
{
    struct world w;
    char yaml[4096];
    json_t *old;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, allow_https, deny_outside);
    world_load(&w, yaml);
    old = json_deep_copy(manifest_object(w.m, 2)->json);
    assert_non_null(old);
    assert_string_equal(manifest_object(w.m, 2)->name, "deny-outside");
    assert_false(decide(&w, deny_outside, "DELETE", old));
    json_decref(old);
    /* Deleting the allow takes nothing away from the deny: admitted. */
    old = json_deep_copy(manifest_object(w.m, 1)->json);
    assert_true(decide(&w, allow_https, "DELETE", old));
    json_decref(old);
    world_free(&w);
}

/*
 * A GlobalNetworkSet holding 0.0.0.0/0 is refused when a policy of an AI namespace in the cluster
 * reaches its labels (netset.h), and not judged when none does.
 */
static void test_modelctx_set_judged_by_who_selects_it(void **state)
{
    char set[512], yaml[4096];
    struct world w;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s", NS_ML_A, calico_to_partners);
    world_load(&w, yaml);
    snprintf(set, sizeof(set), world_set, "partners");
    assert_false(decide(&w, set, "CREATE", NULL));
    snprintf(set, sizeof(set), world_set, "nobody");
    assert_true(decide(&w, set, "CREATE", NULL));
    world_free(&w);
}

/*
 * A Calico policy of ml-a whose destination selector reaches the cluster-scoped endpoints
 * (namespaceSelector global(): GlobalNetworkSets and HostEndpoints, docs.tigera.io
 * calico/latest/reference/resources/networkpolicy#entityrule) labelled role=partners, and one
 * that reaches only NetworkSets of its own namespace (no namespaceSelector: the policy's
 * namespace; HostEndpoints have none).
 */
static const char calico_to_local_sets[] =
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
    "metadata: {name: to-local, namespace: ml-a}\n"
    "spec:\n  selector: all()\n  types: [Egress]\n  egress:\n"
    "  - action: Allow\n    protocol: TCP\n"
    "    destination: {selector: role == 'partners', ports: [443]}\n";

/*
 * The set store is complete exactly when every set kind is listed or not served: a selector that
 * reaches no known set is then admitted; while a kind it may reach is unknown, what it reaches
 * there may be anything (fail closed), and the message says which kind.
 */
static void test_modelctx_set_kinds_known_or_not_served(void **state)
{
    enum model_state st[MODEL_N_KINDS];
    char yaml[1024];
    struct world w;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s", NS_ML_A);
    for (int k = 0; k < MODEL_N_KINDS; k++)
        st[k] = MODEL_STATE_COMPLETE;
    /* No Calico HostEndpoint CRD, no Cilium: none of them exist, which is knowledge too. */
    st[MODEL_CALICO_HOSTENDPOINT] = MODEL_STATE_NOT_SERVED;
    st[MODEL_CILIUM_CIDRGROUP] = MODEL_STATE_NOT_SERVED;
    world_load_states(&w, yaml, st);
    assert_true(setdb_complete(w.ctx->sets));
    assert_true(decide(&w, calico_to_partners, "CREATE", NULL));
    assert_true(decide(&w, calico_to_local_sets, "CREATE", NULL));
    world_free(&w);

    /* HostEndpoints not listed yet (or their watch failing): the global selector may reach any. */
    st[MODEL_CALICO_HOSTENDPOINT] = MODEL_STATE_UNKNOWN;
    world_load_states(&w, yaml, st);
    assert_false(setdb_complete(w.ctx->sets));
    assert_true(setdb_kind_complete(w.ctx->sets, SETDB_GLOBALNETWORKSET));
    assert_false(setdb_kind_complete(w.ctx->sets, SETDB_HOSTENDPOINT));
    assert_false(decide_saying(&w, calico_to_partners, "CREATE", NULL,
                               "HostEndpoints are not listed from the API server yet"));
    /* ... but a selector that cannot reach HostEndpoints is not concerned. */
    assert_true(decide(&w, calico_to_local_sets, "CREATE", NULL));
    world_free(&w);

    /* NetworkSets unknown: the namespaced selector fails closed, naming them. */
    st[MODEL_CALICO_HOSTENDPOINT] = MODEL_STATE_COMPLETE;
    st[MODEL_CALICO_NETWORKSET] = MODEL_STATE_UNKNOWN;
    world_load_states(&w, yaml, st);
    assert_false(decide_saying(&w, calico_to_local_sets, "CREATE", NULL,
                               "NetworkSets are not listed from the API server yet"));
    assert_true(decide(&w, calico_to_partners, "CREATE", NULL));
    world_free(&w);
}

/* A HostEndpoint known to the model is an address set: its expectedIPs are what a selector opens. */
static void load_hostendpoint(struct world *w, const char *expected_ip)
{
    char yaml[2048];

    snprintf(yaml, sizeof(yaml),
             "%sapiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
             "metadata: {name: gw, labels: {role: partners}}\n"
             "spec: {node: n1, interfaceName: eth0, expectedIPs: [%s]}\n",
             NS_ML_A, expected_ip);
    world_load(w, yaml);
}

static void test_modelctx_hostendpoint_reached(void **state)
{
    struct world w;

    (void)state;
    load_hostendpoint(&w, "198.51.100.7");
    assert_non_null(setdb_find(w.ctx->sets, SETDB_HOSTENDPOINT, "", "gw"));
    assert_false(decide_saying(&w, calico_to_partners, "CREATE", NULL, "HostEndpoint gw"));
    world_free(&w);
    load_hostendpoint(&w, "10.20.0.7");
    assert_true(decide(&w, calico_to_partners, "CREATE", NULL));
    world_free(&w);
}

/*
 * Cluster-wide policies are judged with every namespace the model knows: pinned to an ordinary
 * namespace, admitted; pinned to a namespace that is AI by its labels, judged; pinned to one the
 * complete list does not hold, judged by its name (it does not exist yet); with namespaces not
 * listed, unknown labels may make it AI (fail closed).
 */
static const char gnp_pinned[] =
    "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
    "metadata: {name: open-%s}\n"
    "spec:\n  namespaceSelector: projectcalico.org/name == '%s'\n  types: [Egress]\n"
    "  egress:\n  - action: Allow\n    destination: {nets: [0.0.0.0/0]}\n";

static void test_modelctx_cluster_wide_sees_every_namespace(void **state)
{
    enum model_state st[MODEL_N_KINDS];
    const char *cluster = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: "
                          "{team: web}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: "
                          "{name: research, labels: {egressguard.io/ai-workload: \"true\"}}\n";
    char gnp[1024];
    struct world w;

    (void)state;
    world_load(&w, cluster);
    snprintf(gnp, sizeof(gnp), gnp_pinned, "web", "web");
    assert_true(decide_saying(&w, gnp, "CREATE", NULL, "not AI namespaces"));
    snprintf(gnp, sizeof(gnp), gnp_pinned, "research", "research");
    assert_false(decide_saying(&w, gnp, "CREATE", NULL, "namespace research, an AI namespace"));
    snprintf(gnp, sizeof(gnp), gnp_pinned, "later", "later");
    assert_true(decide(&w, gnp, "CREATE", NULL));
    snprintf(gnp, sizeof(gnp), gnp_pinned, "ml-later", "ml-later");
    assert_false(decide(&w, gnp, "CREATE", NULL));
    world_free(&w);

    for (int k = 0; k < MODEL_N_KINDS; k++)
        st[k] = MODEL_STATE_COMPLETE;
    st[MODEL_NAMESPACE] = MODEL_STATE_UNKNOWN;
    world_load_states(&w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: y}\n",
                      st);
    assert_false(nsdb_complete(&w.ctx->ns));
    snprintf(gnp, sizeof(gnp), gnp_pinned, "web", "web");
    assert_false(decide_saying(&w, gnp, "CREATE", NULL, "whose labels are unknown here"));
    world_free(&w);
}

/*
 * Calico in ml-a's default tier: a Deny of 198.51.100.0/24 at order 100, then an Allow at order
 * 200 to the NetworkSets of ml-a labelled role=registry on TCP/443. Calico evaluates a tier's
 * policies by order, the first matching rule deciding
 * (docs.tigera.io/calico/latest/reference/resources/networkpolicy#spec: "order"), and a
 * destination selector without namespaceSelector reaches the NetworkSets of the policy's own
 * namespace (#entityrule).
 */
static const char calico_deny_some[] =
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
    "metadata: {name: deny-some, namespace: ml-a}\n"
    "spec:\n  order: 100\n  selector: all()\n  types: [Egress]\n  egress:\n"
    "  - action: Deny\n    destination: {nets: [198.51.100.0/24]}\n";

static const char calico_to_registry[] =
    "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
    "metadata: {name: to-registry, namespace: ml-a}\n"
    "spec:\n  order: 200\n  selector: all()\n  types: [Egress]\n  egress:\n"
    "  - action: Allow\n    protocol: TCP\n"
    "    destination: {selector: role == 'registry', ports: [443]}\n";

static const char registry_set[] = "apiVersion: projectcalico.org/v3\nkind: NetworkSet\n"
                                   "metadata: {name: registry, namespace: ml-a, "
                                   "labels: {role: registry}}\n"
                                   "spec: {nets: [%s]}\n";

/*
 * The policies a change is composed with have their set references resolved against the
 * snapshot's sets, as `check` resolves its input's. Deleting the Deny leaves the Allow over the
 * set: admitted while the set holds only an allow-listed range (unresolved, the Allow would
 * reach "possibly anything" and the DELETE would be refused), refused, naming the set, when the
 * set also holds the range the Deny took away.
 */
static void test_modelctx_composed_allow_over_networkset(void **state)
{
    char set[512], yaml[4096];
    struct world w;
    json_t *old;

    (void)state;
    snprintf(set, sizeof(set), registry_set, "10.20.0.0/16");
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s---\n%s", NS_ML_A, calico_deny_some,
             calico_to_registry, set);
    world_load(&w, yaml);
    assert_string_equal(manifest_object(w.m, 1)->name, "deny-some");
    assert_non_null(old = json_deep_copy(manifest_object(w.m, 1)->json));
    assert_true(decide(&w, calico_deny_some, "DELETE", old));
    json_decref(old);
    world_free(&w);

    snprintf(set, sizeof(set), registry_set, "10.20.0.0/16, 198.51.100.0/24");
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s---\n%s", NS_ML_A, calico_deny_some,
             calico_to_registry, set);
    world_load(&w, yaml);
    assert_non_null(old = json_deep_copy(manifest_object(w.m, 1)->json));
    assert_false(decide_saying(&w, calico_deny_some, "DELETE", old, "NetworkSet ml-a/registry"));
    json_decref(old);
    world_free(&w);
}

/*
 * The other way round: a Calico allow in the cluster whose selector reaches NetworkSets of ml-a
 * (calico_to_local_sets), next to a Cilium deny of everything outside the allow-list. Deleting
 * the deny leaves the allow alone: with NetworkSets listed and none labelled role=partners it
 * opens nothing, and the DELETE is admitted; while NetworkSets are not listed, it may open
 * anything, and the DELETE is refused, naming the kind.
 */
static void test_modelctx_composed_allow_over_unlisted_sets(void **state)
{
    enum model_state st[MODEL_N_KINDS];
    char yaml[4096];
    struct world w;
    json_t *old;

    (void)state;
    snprintf(yaml, sizeof(yaml), "%s%s---\n%s", NS_ML_A, calico_to_local_sets, deny_outside);
    world_load(&w, yaml);
    assert_string_equal(manifest_object(w.m, 2)->name, "deny-outside");
    assert_non_null(old = json_deep_copy(manifest_object(w.m, 2)->json));
    assert_true(decide(&w, deny_outside, "DELETE", old));
    json_decref(old);
    world_free(&w);

    for (int k = 0; k < MODEL_N_KINDS; k++)
        st[k] = MODEL_STATE_COMPLETE;
    st[MODEL_CALICO_NETWORKSET] = MODEL_STATE_UNKNOWN;
    world_load_states(&w, yaml, st);
    assert_non_null(old = json_deep_copy(manifest_object(w.m, 2)->json));
    assert_false(decide_saying(&w, deny_outside, "DELETE", old,
                               "NetworkSets are not listed from the API server yet"));
    json_decref(old);
    world_free(&w);
}

struct getter {
    struct modelctx_cache *c;
    struct model *m;
    struct modelctx *got;
};

static void *get_ctx(void *arg)
{
    struct getter *g = arg;
    struct err e = {0};

    g->got = modelctx_cache_get(g->c, g->m, &e);
    return NULL;
}

/*
 * Threads that ask for a new snapshot's context together share one build: each gets the very
 * context the cache keeps (a thread that built its own would hold another pointer).
 */
static void test_modelctx_cache_one_build(void **state)
{
    enum { N = 8 };
    struct modelctx_cache *c = modelctx_cache_new();
    struct model_writer *mw = model_writer_new();
    struct getter g[N];
    pthread_t t[N];
    struct model *m;
    struct modelctx *kept;
    struct err e = {0};

    (void)state;
    assert_non_null(c);
    assert_non_null(mw);
    for (int i = 0; i < 200; i++) {
        char name[32];

        snprintf(name, sizeof(name), "ml-%03d", i);
        assert_int_equal(model_writer_put(mw, model_item_namespace(name, NULL)), 0);
    }
    assert_non_null(m = model_writer_publish(mw));
    for (int i = 0; i < N; i++) {
        g[i] = (struct getter){.c = c, .m = m};
        assert_int_equal(pthread_create(&t[i], NULL, get_ctx, &g[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_non_null(kept = modelctx_cache_get(c, m, &e));
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(g[i].got, kept);
        modelctx_unref(g[i].got);
    }
    modelctx_unref(kept);
    model_unref(m);
    model_writer_free(mw);
    modelctx_cache_free(c);
}

/* One context per snapshot: the same one while the snapshot stays, a new one after a change. */
static void test_modelctx_cache_per_snapshot(void **state)
{
    struct modelctx_cache *c = modelctx_cache_new();
    struct model_writer *mw = model_writer_new();
    struct model *a, *b;
    struct modelctx *x, *y, *z;
    struct err e = {0};

    (void)state;
    assert_non_null(c);
    assert_non_null(mw);
    assert_non_null(a = model_writer_publish(mw));
    assert_non_null(x = modelctx_cache_get(c, a, &e));
    assert_non_null(y = modelctx_cache_get(c, a, &e));
    assert_ptr_equal(x, y);
    assert_int_equal(model_writer_put(mw, model_item_namespace("ml-a", NULL)), 0);
    assert_non_null(b = model_writer_publish(mw));
    assert_ptr_not_equal(a, b);
    assert_non_null(z = modelctx_cache_get(c, b, &e));
    assert_ptr_not_equal(x, z);
    assert_ptr_equal(z->snap, b);
    /* An older snapshot's context does not replace the newer one's. */
    modelctx_unref(y);
    assert_non_null(y = modelctx_cache_get(c, a, &e));
    modelctx_unref(y);
    assert_non_null(y = modelctx_cache_get(c, b, &e));
    assert_ptr_equal(y, z);
    modelctx_unref(x);
    modelctx_unref(y);
    modelctx_unref(z);
    model_unref(a);
    model_unref(b);
    model_writer_free(mw);
    modelctx_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modelctx_holds_the_snapshot),
        cmocka_unit_test(test_modelctx_layered_pair_either_order),
        cmocka_unit_test(test_modelctx_delete_of_the_deny_refused),
        cmocka_unit_test(test_modelctx_set_judged_by_who_selects_it),
        cmocka_unit_test(test_modelctx_set_kinds_known_or_not_served),
        cmocka_unit_test(test_modelctx_hostendpoint_reached),
        cmocka_unit_test(test_modelctx_cluster_wide_sees_every_namespace),
        cmocka_unit_test(test_modelctx_composed_allow_over_networkset),
        cmocka_unit_test(test_modelctx_composed_allow_over_unlisted_sets),
        cmocka_unit_test(test_modelctx_cache_one_build),
        cmocka_unit_test(test_modelctx_cache_per_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
