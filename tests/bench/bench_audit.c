/*
 * What the audit costs on a large cluster: 10,000 namespaces (one in five AI by label, one in
 * ten AI by name) holding 50,000 network policies of three CNIs (one in ten opens something
 * outside the allow-list), 50 cluster-wide policies and 20,000 running pods (two a namespace;
 * one in ten an AI workload by its labels). The objects reach the audit as in `serve`: as items
 * of the cluster model (model_item_wire(), what the watches make), each snapshot's difference
 * applied by auditsync and judged in the snapshot's decision context (modelctx.h). Measures, in
 * CPU time:
 *   - the full audit: the model built, its context built, every object put and decided once
 *     (what `serve` does at its first sync), with the process's peak RSS after it (the objects
 *     are generated one at a time, so the peak is the model's and the audit's state);
 *   - one incremental event, each kind many times: a policy changed, a namespace labelled AI
 *     (and unlabelled), a policy deleted (and created again), a pod created and deleted. The
 *     audit's share (difference, decisions) has the 1 ms target; the model's snapshot and the
 *     decision context, which every snapshot costs whoever reads it (admission builds the same
 *     context), are shown beside it.
 * Usage: bench_audit [NAMESPACES [POLICIES_PER_NAMESPACE [PODS_PER_NAMESPACE]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "policy/audit/audit.h"
#include "policy/audit/auditsync.h"
#include "policy/config/policy.h"
#include "policy/model/item.h"
#include "policy/model/modelctx.h"

#define NOW ((int64_t)20788 * 86400) /* 2026-12-01: the example's exemptions still apply */

static double cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024; /* kilobytes on Linux */
}

static const char *ns_name(int i, char *buf, size_t size)
{
    snprintf(buf, size, "%s-%d", i % 10 == 0 ? "ml" : "team", i);
    return buf;
}

static json_t *namespace_obj(int i, bool ai)
{
    char name[32];

    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}}", "apiVersion", "v1", "kind",
                     "Namespace", "metadata", "name", ns_name(i, name, sizeof(name)), "uid", name,
                     "labels", "team", name, "egressguard.io/ai-workload", ai ? "true" : "false");
}

/*
 * Policy j of namespace i, in one of three CNIs; `bad` opens more than the allow-list; variant
 * changes the spec of Kubernetes NetworkPolicies (j % 4 < 2).
 */
static json_t *policy_obj(int i, int j, bool bad, int variant)
{
    char ns[32], name[32], text[2048];

    ns_name(i, ns, sizeof(ns));
    snprintf(name, sizeof(name), "p%d", j);
    switch (j % 4) {
    case 0:
    case 1:
        snprintf(text, sizeof(text),
                 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
                 "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
                 "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
                 "\"{... a copy of the object ...}\"}},"
                 "\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"a%d\"}},"
                 "\"policyTypes\":[\"Egress\"],\"egress\":["
                 "{\"to\":[{\"ipBlock\":{\"cidr\":\"%s\",\"except\":[\"10.20.%d.0/24\"]}}],"
                 "\"ports\":[{\"protocol\":\"TCP\",\"port\":443}]},"
                 "{\"to\":[{\"namespaceSelector\":{\"matchLabels\":"
                 "{\"kubernetes.io/metadata.name\":\"kube-system\"}},"
                 "\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],"
                 "\"ports\":[{\"protocol\":\"UDP\",\"port\":53}]}]}}",
                 name, ns, j, bad ? "10.0.0.0/8" : "10.20.0.0/16", (i + variant) % 250);
        break;
    case 2:
        snprintf(text, sizeof(text),
                 "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumNetworkPolicy\","
                 "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
                 "\"spec\":{\"endpointSelector\":{\"matchLabels\":{\"app\":\"a%d\"}},"
                 "\"egress\":[{\"toFQDNs\":[{\"matchPattern\":\"%s\"}],"
                 "\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]}]}}",
                 name, ns, j, bad ? "*.example.org" : "*.s3.amazonaws.com");
        break;
    default:
        snprintf(
            text, sizeof(text),
            "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"NetworkPolicy\","
            "\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
            "\"spec\":{\"selector\":\"app == 'a%d'\",\"types\":[\"Egress\"],"
            "\"egress\":[{\"action\":\"Deny\",\"destination\":{\"nets\":[\"169.254.0.0/16\"]}},"
            "{\"action\":\"Allow\",\"protocol\":\"TCP\","
            "\"destination\":{\"nets\":[\"%s\"],\"ports\":[443]}}]}}",
            name, ns, j, bad ? "0.0.0.0/0" : "10.20.0.0/24");
    }
    return json_loads(text, 0, NULL);
}

static json_t *cluster_policy(int k)
{
    char text[1024];

    if (k % 2)
        snprintf(text, sizeof(text),
                 "{\"apiVersion\":\"cilium.io/v2\",\"kind\":\"CiliumClusterwideNetworkPolicy\","
                 "\"metadata\":{\"name\":\"ccnp-%d\"},\"spec\":{\"endpointSelector\":"
                 "{\"matchLabels\":{\"io.kubernetes.pod.namespace\":\"team-%d\"}},"
                 "\"egress\":[{\"toCIDR\":[\"10.20.%d.0/24\"]}]}}",
                 k, k, k % 250);
    else
        snprintf(text, sizeof(text),
                 "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"GlobalNetworkPolicy\","
                 "\"metadata\":{\"name\":\"gnp-%d\"},\"spec\":{\"namespaceSelector\":"
                 "\"team == 'team-%d'\",\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Allow\","
                 "\"protocol\":\"TCP\",\"destination\":{\"nets\":[\"10.20.%d.0/24\"],"
                 "\"ports\":[443]}}]}}",
                 k, k, k % 250);
    return json_loads(text, 0, NULL);
}

/* Pod j of namespace i: an AI workload by its labels when ai, with a GPU then. */
static json_t *pod_obj(int i, int j, bool ai)
{
    char ns[32], text[2048];

    snprintf(text, sizeof(text),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%d\","
             "\"namespace\":\"%s\",\"uid\":\"u-%d-%d\",\"labels\":{\"app\":\"a%d\"%s},"
             "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs-%d\"}],"
             "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"fieldsV1\":"
             "{\"f:spec\":{\"f:containers\":{}}}}]},"
             "\"spec\":{\"serviceAccountName\":\"default\",\"nodeName\":\"node-%d\","
             "\"containers\":[{\"name\":\"main\",\"image\":\"registry.example/app:%d\","
             "\"command\":[\"/bin/app\",\"--serve\"],\"ports\":[{\"containerPort\":8080}],"
             "\"env\":[{\"name\":\"MODE\",\"value\":\"prod\"}],"
             "\"resources\":{\"requests\":{\"cpu\":\"1\"%s}},"
             "\"volumeMounts\":[{\"name\":\"token\",\"mountPath\":\"/var/run/secrets\"}]}],"
             "\"volumes\":[{\"name\":\"token\",\"projected\":{\"sources\":[]}}]},"
             "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.%d.%d\"}}",
             j, ns_name(i, ns, sizeof(ns)), i, j, j,
             ai ? ",\"egressguard.io/ai-workload\":\"true\"" : "", j, i % 100, j,
             ai ? ",\"nvidia.com/gpu\":\"1\"" : "", (i / 250) % 250, i % 250);
    return json_loads(text, 0, NULL);
}

/* An object as the watches make it: the item of its kind (model_item_wire()). */
static struct model_item *item_of(json_t *o)
{
    struct object view;
    struct model_item *it;
    struct err e = {0};
    int k;

    if (!o) {
        fprintf(stderr, "bench_audit: generated an invalid object\n");
        exit(1);
    }
    object_init(&view, o, NULL);
    if ((k = model_kind_of(&view)) < 0 || !(it = model_item_wire((enum model_kind)k, o, NULL, &e))) {
        fprintf(stderr, "bench_audit: %s %s: %s\n", view.kind, view.name, e.msg);
        exit(1);
    }
    json_decref(o);
    return it;
}

/* What serve's audit thread does with a snapshot: its context, the difference, a run. */
struct feed {
    struct model_writer *w;
    struct model *snap;
    struct modelctx *ctx;
    struct audit *a;
};

/* One event's share of each: the snapshot (model), the context, the audit (sync and run). */
struct cost {
    double model, ctx, audit;
    size_t decided;
};

static struct cost publish(struct feed *f)
{
    struct cost c = {0};
    struct auditsync_stats st;
    struct audit_changes ch;
    struct audit_context ac;
    struct model *next;
    struct modelctx *ctx;
    struct err e = {0};
    double t0 = cpu(), t1, t2;

    if (!(next = model_writer_publish(f->w)))
        goto oom;
    t1 = cpu();
    /* As serve's context cache does: a snapshot that changed only Pods keeps the context. */
    if (f->ctx && model_same_context(f->ctx->snap, next))
        ctx = modelctx_ref(f->ctx);
    else if (!(ctx = modelctx_build(next, &e)))
        goto fail;
    t2 = cpu();
    if (auditsync_apply(f->a, f->snap, next, &st, &e) < 0)
        goto fail;
    if (st.skipped) {
        fprintf(stderr, "bench_audit: %zu objects not audited: %s\n", st.skipped, st.first.msg);
        exit(1);
    }
    ac = (struct audit_context){.context = &ctx->in, .policies = &ctx->policies, .sets = ctx->sets};
    audit_set_context(f->a, &ac);
    if (audit_run(f->a, NOW, &ch, &e) < 0)
        goto fail;
    c.audit = cpu() - t2;
    c.model = t1 - t0;
    c.ctx = t2 - t1;
    c.decided = ch.decided;
    audit_changes_release(&ch);
    modelctx_unref(f->ctx);
    f->ctx = ctx;
    model_unref(f->snap);
    f->snap = next;
    return c;
oom:
    err_set(&e, "out of memory");
fail:
    fprintf(stderr, "bench_audit: %s\n", e.msg);
    exit(1);
}

struct stat {
    double sum, max, model, ctx;
    size_t n, decided;
};

static void record(struct stat *s, struct cost c)
{
    s->sum += c.audit;
    s->model += c.model;
    s->ctx += c.ctx;
    s->n++;
    s->decided += c.decided;
    if (c.audit > s->max)
        s->max = c.audit;
}

static void report(const char *what, const struct stat *s)
{
    printf("  %-34s audit mean %7.1f us  max %7.1f us  (%.1f decided)%s;  snapshot %6.1f us, "
           "context %8.1f us\n",
           what, s->sum / (double)s->n * 1e6, s->max * 1e6, (double)s->decided / (double)s->n,
           s->sum / (double)s->n <= 1e-3 ? "" : "  OVER 1 ms", s->model / (double)s->n * 1e6,
           s->ctx / (double)s->n * 1e6);
}

static void put(struct feed *f, json_t *o)
{
    if (model_writer_put(f->w, item_of(o)) < 0) {
        fprintf(stderr, "bench_audit: out of memory\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int n_ns = argc > 1 ? atoi(argv[1]) : 10000, per_ns = argc > 2 ? atoi(argv[2]) : 5;
    int pods_per_ns = argc > 3 ? atoi(argv[3]) : 2;
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct feed f = {.w = model_writer_new(), .a = audit_new()};
    struct stat upd = {0}, lab = {0}, del = {0}, add = {0}, pod = {0};
    double t_items = 0, t0, base_rss = peak_rss_mib();
    size_t bad = 0, objects;
    struct cost full;

    if (!pol || !f.w || !f.a) {
        fprintf(stderr, "bench_audit: %s (run from the repository root)\n", e.msg);
        return 1;
    }
    audit_set_policy(f.a, pol);
    t0 = cpu();
    for (int i = 0; i < n_ns; i++) {
        put(&f, namespace_obj(i, i % 5 == 0));
        for (int j = 0; j < per_ns; j++) {
            bool b = (i * per_ns + j) % 10 == 0;
            bad += b;
            put(&f, policy_obj(i, j, b, 0));
        }
        for (int j = 0; j < pods_per_ns; j++)
            put(&f, pod_obj(i, j, (i * pods_per_ns + j) % 10 == 3));
    }
    for (int k = 0; k < 50; k++)
        put(&f, cluster_policy(k));
    t_items = cpu() - t0;
    full = publish(&f);
    objects = audit_size(f.a);
    printf("audit of %d namespaces, %d policies (%zu opening too much), 50 cluster-wide "
           "policies and %d pods, CPU time\n",
           n_ns, n_ns * per_ns, bad, n_ns * pods_per_ns);
    printf("  full audit (the first sync): %zu objects; items %.2f s + snapshot %.2f s + context "
           "%.2f s + audit %.2f s (%.1f us per object decided: %zu)\n",
           objects, t_items, full.model, full.ctx, full.audit,
           full.audit / (double)full.decided * 1e6, full.decided);
    printf("  peak RSS after the full audit: %.0f MiB (%.0f MiB before it; %.1f KiB per "
           "object, model and audit together)\n",
           peak_rss_mib(), base_rss, (peak_rss_mib() - base_rss) * 1024 / (double)objects);

    for (int r = 0; r < 200; r++) {
        int i = (r * 7919) % n_ns, j = r % 2; /* Kubernetes NetworkPolicies: variant matters */
        char ns[32], name[32];

        /* The same policy with another spec, opening too much every other time. */
        put(&f, policy_obj(i, j, r % 2, r + 1));
        record(&upd, publish(&f));
        /* Its namespace labelled AI, then back. */
        put(&f, namespace_obj(i, true));
        record(&lab, publish(&f));
        put(&f, namespace_obj(i, i % 5 == 0));
        record(&lab, publish(&f));
        /* Deleted, and created again. */
        snprintf(name, sizeof(name), "p%d", j);
        model_writer_delete(f.w, MODEL_NETWORKPOLICY, ns_name(i, ns, sizeof(ns)), name);
        record(&del, publish(&f));
        put(&f, policy_obj(i, j, false, 0));
        record(&add, publish(&f));
        /* A pod started, then gone. */
        put(&f, pod_obj(i, 100 + r, r % 2));
        record(&pod, publish(&f));
        snprintf(name, sizeof(name), "pod-%d", 100 + r);
        model_writer_delete(f.w, MODEL_POD, ns, name);
        record(&pod, publish(&f));
    }
    printf("  incremental events, CPU time per snapshot; target for the audit's share <= 1 ms:\n");
    report("a policy changed", &upd);
    report("a namespace labelled / unlabelled", &lab);
    report("a policy deleted", &del);
    report("a policy created", &add);
    report("a pod created / deleted", &pod);
    audit_free(f.a);
    modelctx_unref(f.ctx);
    model_unref(f.snap);
    model_writer_free(f.w);
    policy_free(pol);
    return 0;
}
