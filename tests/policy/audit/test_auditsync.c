/*
 * The audit fed by cluster-model snapshots: only what differs between two snapshots is put or
 * deleted, and what a change reaches in its context is decided again, with the verdicts the
 * audit gives objects put one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "policy/audit/auditsync.h"
#include "policy/config/nsdb.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "policy/model/item.h"
#include "policy/model/modelctx.h"

#define T_2026_12_01 ((int64_t)20788 * 86400)

static const char policy_text[] =
    "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nmetadata: {name: t}\nspec:\n"
    "  aiWorkloads:\n    namespaces:\n      names: [\"ml-*\"]\n"
    "      selectors: [{matchLabels: {egressguard.io/ai-workload: \"true\"}}]\n"
    "  allow:\n  - {name: registry, cidrs: [10.20.0.0/16], ports: [{port: 443}]}\n";

#define NS(name, labels)                                                                   \
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" name       \
    "\",\"labels\":{" labels "}}}"
#define AI "\"egressguard.io/ai-workload\":\"true\""
/* A NetworkPolicy of ns letting every pod reach cidr. */
#define NP(ns, name, cidr)                                                                 \
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{"  \
    "\"name\":\"" name "\",\"namespace\":\"" ns "\"},\"spec\":{\"podSelector\":{},"        \
    "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"" cidr   \
    "\"}}],\"ports\":[{\"port\":443}]}]}}"

struct fix {
    struct policy *pol;
    struct audit *a;
    struct model_writer *w;
    struct model *snap; /* what the audit knows */
    struct modelctx *ctx;
};

/* Puts (or, for a JSON without spec and labels and a "delete" marker, deletes) into the writer. */
static void put(struct fix *f, enum model_kind k, const char *json, const char *api_version)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    struct err e = {0};
    struct model_item *it;

    if (!o)
        fail_msg("%s: %s", json, je.text);
    if (!(it = model_item_wire(k, o, api_version, &e)))
        fail_msg("%s", e.msg);
    json_decref(o);
    assert_int_equal(model_writer_put(f->w, it), 0);
}

/* Publishes, applies the difference, runs: the run's changes in c. */
static void sync_run(struct fix *f, struct auditsync_stats *st, struct audit_changes *c)
{
    struct model *next = model_writer_publish(f->w);
    struct err e = {0};
    struct modelctx *ctx;
    struct audit_context ac;

    assert_non_null(next);
    if (!(ctx = modelctx_build(next, &e)))
        fail_msg("%s", e.msg);
    if (auditsync_apply(f->a, f->snap, next, st, &e) < 0)
        fail_msg("%s", e.msg);
    ac = (struct audit_context){.context = &ctx->in, .policies = &ctx->policies, .sets = ctx->sets};
    audit_set_context(f->a, &ac);
    modelctx_unref(f->ctx);
    f->ctx = ctx;
    model_unref(f->snap);
    f->snap = next;
    if (audit_run(f->a, T_2026_12_01, c, &e) < 0)
        fail_msg("%s", e.msg);
}

static const struct audit_object *find(const struct audit *a, const char *ns, const char *name)
{
    const struct audit_object *const *objs;
    size_t n = audit_objects(a, ns, &objs);

    for (size_t i = 0; i < n; i++)
        if (!strcmp(objs[i]->name, name))
            return objs[i];
    return NULL;
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct err e = {0};

    if (!f || !(f->pol = policy_load_buffer(policy_text, strlen(policy_text), "p.yaml", &e)) ||
        !(f->a = audit_new()) || !(f->w = model_writer_new()))
        return -1;
    audit_set_policy(f->a, f->pol);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    audit_free(f->a);
    modelctx_unref(f->ctx);
    model_unref(f->snap);
    model_writer_free(f->w);
    policy_free(f->pol);
    free(f);
    return 0;
}

/* A cluster seen at the first sync: two namespaces, a violating policy in each. */
static void first_sync(struct fix *f)
{
    struct auditsync_stats st;
    struct audit_changes c;

    put(f, MODEL_NAMESPACE, NS("research", AI), NULL);
    put(f, MODEL_NAMESPACE, NS("web", "\"team\":\"web\""), NULL);
    /* As a LIST gives them: no apiVersion and kind of their own. */
    put(f, MODEL_NETWORKPOLICY,
        "{\"metadata\":{\"name\":\"open\",\"namespace\":\"research\"},\"spec\":{\"podSelector\":{},"
        "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\"}}]}]}}",
        "networking.k8s.io/v1");
    put(f, MODEL_NETWORKPOLICY, NP("web", "open", "0.0.0.0/0"), NULL);
    sync_run(f, &st, &c);
    assert_int_equal(st.put, 4);
    assert_int_equal(st.deleted, 0);
    assert_int_equal(c.decided, 4);
    audit_changes_release(&c);
}

static void test_auditsync_first_sync_judges_everything(void **state)
{
    struct fix *f = *state;
    const struct audit_object *o;

    first_sync(f);
    o = find(f->a, "research", "open");
    assert_non_null(o);
    assert_string_equal(o->api_version, "networking.k8s.io/v1");
    assert_string_equal(o->kind, "NetworkPolicy");
    assert_false(o->failed);
    assert_false(o->v.allowed);
    /* web is no AI namespace: its policy is harmless there. */
    o = find(f->a, "web", "open");
    assert_non_null(o);
    assert_true(o->v.allowed);
}

static void test_auditsync_unchanged_snapshot_puts_nothing(void **state)
{
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    /* A put of the same object is a new item: the model changed, the audit's verdicts do not. */
    put(f, MODEL_NETWORKPOLICY, NP("web", "open", "0.0.0.0/0"), NULL);
    sync_run(f, &st, &c);
    assert_int_equal(st.put, 1);
    assert_int_equal(c.n, 0);
    audit_changes_release(&c);
    sync_run(f, &st, &c); /* the same snapshot again */
    assert_int_equal(st.put + st.deleted, 0);
    assert_int_equal(c.decided, 0);
    audit_changes_release(&c);
}

static void test_auditsync_labelling_a_namespace_ai(void **state)
{
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    put(f, MODEL_NAMESPACE, NS("web", AI), NULL);
    sync_run(f, &st, &c);
    assert_int_equal(st.put, 1);
    /* The Namespace and the policy in it are decided again; only web's report changes. */
    assert_int_equal(c.decided, 2);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.namespaces[0], "web");
    assert_false(find(f->a, "web", "open")->v.allowed);
    audit_changes_release(&c);
}

static void test_auditsync_fix_and_delete(void **state)
{
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    put(f, MODEL_NETWORKPOLICY, NP("research", "open", "10.20.0.0/16"), NULL);
    sync_run(f, &st, &c);
    assert_int_equal(st.put, 1);
    assert_true(find(f->a, "research", "open")->v.allowed);
    /* Only research is judged again: a policy composes with those of its own namespace. */
    assert_int_equal(c.decided, 1);
    audit_changes_release(&c);
    assert_int_equal(model_writer_delete(f->w, MODEL_NETWORKPOLICY, "web", "open"), 0);
    sync_run(f, &st, &c);
    assert_int_equal(st.deleted, 1);
    assert_null(find(f->a, "web", "open"));
    assert_int_equal(c.n, 1);
    assert_string_equal(c.namespaces[0], "web");
    audit_changes_release(&c);
}

/*
 * A Pod is judged by its projection (model_item_wire(): what the pod rules read) exactly as
 * admission judges the whole Pod: the same findings, rule by rule, message by message.
 */
static void test_auditsync_pod_projection_judges_as_admission(void **state)
{
    static const char *const pods[] = {
        /* labels make it an AI workload, in a namespace that is not AI */
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"web\",\"labels\":"
        "{\"egressguard.io/ai-workload\":\"true\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":\"i\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":\"/v\"}]}],"
        "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]},\"status\":{\"phase\":\"Running\"}}",
        /* an accelerator outside an AI namespace; a proxy in its environment */
        "{\"metadata\":{\"name\":\"b\",\"namespace\":\"web\"},\"spec\":{\"containers\":[{\"name\":"
        "\"c\",\"image\":\"i\",\"env\":[{\"name\":\"HTTPS_PROXY\",\"value\":\"http://1.2.3.4:3128\"}],"
        "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"1\"}}}]}}",
        /* host network, privileged, own resolvers, in an AI namespace */
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"ml-x\",\"annotations\":"
        "{\"sidecar.istio.io/inject\":\"false\"}},\"spec\":{\"hostNetwork\":true,\"dnsPolicy\":"
        "\"None\",\"dnsConfig\":{\"nameservers\":[\"8.8.8.8\"]},\"containers\":[{\"name\":\"c\","
        "\"image\":\"i\",\"securityContext\":{\"privileged\":true,\"capabilities\":{\"add\":"
        "[\"NET_ADMIN\"]}}}],\"initContainers\":[{\"name\":\"i\",\"image\":\"j\",\"envFrom\":"
        "[{\"configMapRef\":{\"name\":\"proxy\"}}]}]}}",
        /* a malformed field: an error either way (parenthesized: one element of two lines) */
        ("{\"metadata\":{\"name\":\"d\",\"namespace\":\"ml-x\"},\"spec\":{\"hostNetwork\":\"yes\","
         "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}"),
    };
    struct fix *f = *state;
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct auditsync_stats st;
    struct audit_changes c;

    if (!pol)
        fail_msg("%s", e.msg);
    audit_set_policy(f->a, pol);
    put(f, MODEL_NAMESPACE, NS("web", ""), NULL);
    put(f, MODEL_NAMESPACE, NS("ml-x", ""), NULL);
    for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++)
        put(f, MODEL_POD, pods[i], "v1");
    sync_run(f, &st, &c);
    audit_changes_release(&c);
    for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
        json_t *full = json_loads(pods[i], 0, NULL);
        struct nsdb *labels = nsdb_new();
        struct request_ctx ctx = {.operation = "CREATE", .now = T_2026_12_01};
        struct object view;
        struct verdict v;
        struct err de = {0};
        const struct audit_object *o;
        int rc;

        assert_non_null(full);
        assert_non_null(labels);
        assert_int_equal(nsdb_set(labels, "web", NULL), 0);
        assert_int_equal(nsdb_set(labels, "ml-x", NULL), 0);
        ctx.namespaces = labels;
        json_object_set_new(full, "apiVersion", json_string("v1"));
        json_object_set_new(full, "kind", json_string("Pod"));
        object_init(&view, full, NULL);
        view.file = "";
        verdict_init(&v);
        rc = decide_object(pol, &view, &ctx, &v, &de);
        o = find(f->a, view.ns, view.name);
        assert_non_null(o);
        assert_int_equal(o->failed, rc < 0);
        if (rc < 0) {
            assert_string_equal(o->e.msg, de.msg);
        } else {
            assert_int_equal(o->v.allowed, v.allowed);
            assert_int_equal(o->v.n_findings, v.n_findings);
            assert_true(v.n_findings > 0); /* each pod here is judged for something */
            for (size_t j = 0; j < v.n_findings; j++) {
                assert_string_equal(o->v.findings[j].rule, v.findings[j].rule);
                assert_int_equal(o->v.findings[j].violation, v.findings[j].violation);
                assert_string_equal(o->v.findings[j].message, v.findings[j].message);
            }
        }
        verdict_release(&v);
        nsdb_free(labels);
        json_decref(full);
    }
    audit_free(f->a); /* it borrows pol */
    f->a = NULL;
    policy_free(pol);
}

/* What a change reaches in its context: exactly the objects listed in auditsync.c's touch(). */
static void test_auditsync_context_reach(void **state)
{
    static const char ccnp[] =
        "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumClusterwideNetworkPolicy\",\"metadata\":"
        "{\"name\":\"c\"},\"spec\":{\"endpointSelector\":{},\"egress\":[{\"toCIDR\":[\"10.20.0.0/16\"]}]}}";
    static const char gns[] =
        "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"GlobalNetworkSet\",\"metadata\":"
        "{\"name\":\"g\"},\"spec\":{\"nets\":[\"10.20.0.0/16\"]}}";
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    put(f, MODEL_CILIUM_CCNP, ccnp, NULL);
    put(f, MODEL_CALICO_GLOBALNETWORKSET, gns, NULL);
    put(f, MODEL_POD, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                      "\"namespace\":\"research\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
        NULL);
    sync_run(f, &st, &c);
    assert_int_equal(c.decided, 3 + 2); /* the three new ones, the two policies the CCNP reaches */
    audit_changes_release(&c);
    /* A namespaced policy: itself, and the cluster's sets; not the CCNP, not the pod. */
    put(f, MODEL_NETWORKPOLICY, NP("research", "open", "10.20.0.0/16"), NULL);
    sync_run(f, &st, &c);
    assert_int_equal(c.decided, 2);
    audit_changes_release(&c);
    /* A cluster-wide policy: every policy and set (four), not the pod or the Namespaces. */
    put(f, MODEL_CILIUM_CCNP, ccnp, NULL);
    sync_run(f, &st, &c);
    assert_int_equal(c.decided, 4);
    audit_changes_release(&c);
    /* A pod: itself only. */
    assert_int_equal(model_writer_delete(f->w, MODEL_POD, "research", "p"), 0);
    sync_run(f, &st, &c);
    assert_int_equal(st.deleted, 1);
    assert_int_equal(c.decided, 0);
    audit_changes_release(&c);
}

/* Does a violation of o name the NetworkSet partners/db as what opens too much? */
static bool set_escapes(const struct audit_object *o)
{
    for (size_t i = 0; i < o->v.n_findings; i++)
        if (o->v.findings[i].violation &&
            strstr(o->v.findings[i].message, "NetworkSet partners/db"))
            return true;
    return false;
}

/*
 * A namespaced Calico policy whose namespaceSelector reaches the NetworkSets of another
 * namespace is judged again when such a set changes, and when that namespace's labels do; a
 * Calico policy without one is not. (The test's model never listed the set kinds, so both
 * policies are denied for the sets not known; what a known set adds is what changes.)
 */
#define CALICO_NP(ns, name, dst)                                                           \
    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\",\"metadata\":{"    \
    "\"name\":\"" name "\",\"namespace\":\"" ns "\"},\"spec\":{\"selector\":\"all()\","    \
    "\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Allow\",\"protocol\":\"TCP\","       \
    "\"destination\":{" dst "\"ports\":[443]}}]}}"
#define NETSET(ns, cidr)                                                                   \
    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkSet\",\"metadata\":{"       \
    "\"name\":\"db\",\"namespace\":\"" ns "\",\"labels\":{\"role\":\"db\"}},\"spec\":"      \
    "{\"nets\":[\"" cidr "\"]}}"
static void test_auditsync_sets_of_other_namespaces(void **state)
{
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    put(f, MODEL_NAMESPACE, NS("partners", "\"team\":\"partners\""), NULL);
    put(f, MODEL_CALICO_NETWORKSET, NETSET("partners", "10.20.1.0/24"), NULL);
    put(f, MODEL_CALICO_NP,
        CALICO_NP("research", "to-partners",
                  "\"namespaceSelector\":\"team == 'partners'\",\"selector\":\"role == 'db'\","),
        NULL);
    put(f, MODEL_CALICO_NP, CALICO_NP("research", "own", "\"selector\":\"role == 'db'\","), NULL);
    sync_run(f, &st, &c);
    audit_changes_release(&c);
    assert_false(set_escapes(find(f->a, "research", "to-partners")));

    /* The set now holds the world: the policy reaching it escapes by it; the other one (which
     * cannot reach it) is not judged again. */
    put(f, MODEL_CALICO_NETWORKSET, NETSET("partners", "0.0.0.0/0"), NULL);
    sync_run(f, &st, &c);
    assert_true(set_escapes(find(f->a, "research", "to-partners")));
    assert_false(set_escapes(find(f->a, "research", "own")));
    assert_int_equal(c.decided, 2); /* the set, and the policy reaching it */
    audit_changes_release(&c);

    /* Its namespace no longer matches the namespaceSelector: the set is not reached. */
    put(f, MODEL_NAMESPACE, NS("partners", "\"team\":\"other\""), NULL);
    sync_run(f, &st, &c);
    assert_false(set_escapes(find(f->a, "research", "to-partners")));
    audit_changes_release(&c);
}

/* Does a violation of o say that the NetworkSets it may reach are not known? */
static bool sets_unknown(const struct audit_object *o)
{
    for (size_t i = 0; i < o->v.n_findings; i++)
        if (o->v.findings[i].violation && strstr(o->v.findings[i].message, "NetworkSets") &&
            strstr(o->v.findings[i].message, "possibly anything"))
            return true;
    return false;
}

/*
 * A set kind that becomes unknown (its CRD gone, its watch relisting) with no object changed:
 * what its selectors may reach is "possibly anything" again, and the audit judges the policies
 * again (never a verdict that still counts on sets no longer known).
 */
static void test_auditsync_set_kind_known_then_not(void **state)
{
    struct fix *f = *state;
    struct auditsync_stats st;
    struct audit_changes c;

    first_sync(f);
    put(f, MODEL_NAMESPACE, NS("partners", "\"team\":\"partners\""), NULL);
    put(f, MODEL_CALICO_NP,
        CALICO_NP("research", "to-partners",
                  "\"namespaceSelector\":\"team == 'partners'\",\"selector\":\"role == 'db'\","),
        NULL);
    assert_int_equal(model_writer_set_complete(f->w, MODEL_CALICO_NETWORKSET), 0);
    sync_run(f, &st, &c);
    audit_changes_release(&c);
    assert_false(sets_unknown(find(f->a, "research", "to-partners")));
    assert_int_equal(model_writer_forget(f->w, MODEL_CALICO_NETWORKSET), 0);
    sync_run(f, &st, &c);
    assert_int_equal(st.put + st.deleted, 0);
    assert_true(sets_unknown(find(f->a, "research", "to-partners")));
    audit_changes_release(&c);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_auditsync_first_sync_judges_everything),
        T(test_auditsync_unchanged_snapshot_puts_nothing),
        T(test_auditsync_labelling_a_namespace_ai),
        T(test_auditsync_fix_and_delete),
        T(test_auditsync_context_reach),
        T(test_auditsync_sets_of_other_namespaces),
        T(test_auditsync_set_kind_known_then_not),
        T(test_auditsync_pod_projection_judges_as_admission),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
