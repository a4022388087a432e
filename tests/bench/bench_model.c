/*
 * The cluster model at scale: a generated cluster of 10,000 namespaces and 50,000 network
 * policies of every CNI (NetworkPolicy, CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy,
 * Calico NetworkPolicy and GlobalNetworkPolicy, a tenth of each set of some kind: NetworkSet,
 * GlobalNetworkSet, CiliumCIDRGroup), as the API server's LIST pages of 500 would bring them.
 * Prints:
 *   - the CPU time to load it (parse each page, normalize every object, build the snapshot),
 *     in all and per object;
 *   - the heap the model holds (glibc mallinfo2, the pages freed), per object of each kind, and
 *     the process's peak RSS (the target: at most 2 KiB per policy object);
 *   - what a request pays for its model lookup (take the newest snapshot under a mutex, find the
 *     namespace's labels, drop the snapshot) as a ratio to the jansson floor (json_loadb of a
 *     4 KB pod AdmissionReview and a reply with its uid, what floor_jansson does per request; the
 *     target: at most 1.05x);
 *   - what one watch event costs (the kind's table is copied, copy-on-write).
 * Numbers, not pass/fail: best of several rounds of CPU time, so a busy machine shows less.
 *
 * `bench_model --write-cluster FILE` writes the same cluster instead, as one JSON List whose items
 * carry their apiVersion and kind: what tests/bench/explain.sh gives `explain` as a file, and the
 * fake API server as its seed.
 */
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "policy/base/buf.h"
#include "policy/config/nsdb.h"
#include "policy/model/kinds.h"
#include "policy/model/model.h"
#include "policy/model/wire.h"

#define N_NS 10000
#define N_POL 50000
#define PAGE 500

static double cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

/* One object of kind k, number i, as a list item (no kind or apiVersion). */
static void item(struct buf *b, enum model_kind k, int i)
{
    int ns = i % N_NS;
    bool bad = i % 10 == 0;

    switch (k) {
    case MODEL_NAMESPACE:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"ns-%05d\",\"uid\":\"u-%d\",\"resourceVersion\":"
                   "\"%d\",\"labels\":{\"team\":\"t%d\",\"env\":\"prod\"%s}}}",
                   i, i, 1000 + i, i % 97, i % 5 == 0 ? ",\"egressguard.io/ai-workload\":\"true\"" : "");
        break;
    case MODEL_NETWORKPOLICY:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"np-%d\",\"namespace\":\"ns-%05d\",\"uid\":\"u\","
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
                   "{\"app\":\"a%d\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{"
                   "\"ipBlock\":{\"cidr\":\"%s\",\"except\":[\"10.20.%d.0/24\"]}}],\"ports\":[{"
                   "\"protocol\":\"TCP\",\"port\":443}]},{\"to\":[{\"namespaceSelector\":{"
                   "\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}},"
                   "\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],\"ports\":[{"
                   "\"protocol\":\"UDP\",\"port\":53}]}]}}",
                   i, ns, i, i % 50, bad ? "10.0.0.0/8" : "10.20.0.0/16", i % 250);
        break;
    case MODEL_CILIUM_NP:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"cnp-%d\",\"namespace\":\"ns-%05d\",\"uid\":\"u\","
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"endpointSelector\":{\"matchLabels\":"
                   "{\"app\":\"a%d\"}},\"egress\":[{\"toFQDNs\":[{\"matchPattern\":\"%s\"}],"
                   "\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]}]}}",
                   i, ns, i, i % 50, bad ? "*.example.org" : "*.s3.amazonaws.com");
        break;
    case MODEL_CILIUM_CCNP:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"ccnp-%d\",\"uid\":\"u\",\"resourceVersion\":\"%d\"},"
                   "\"spec\":{\"endpointSelector\":{\"matchLabels\":{\"io.kubernetes.pod."
                   "namespace\":\"ns-%05d\"}},\"egress\":[{\"toCIDRSet\":[{\"cidr\":\"%s\"}],"
                   "\"toPorts\":[{\"ports\":[{\"port\":\"443\",\"protocol\":\"TCP\"}]}]}],"
                   "\"egressDeny\":[{\"toCIDR\":[\"169.254.169.254/32\"]}]}}",
                   i, i, ns, bad ? "0.0.0.0/0" : "10.20.0.0/16");
        break;
    case MODEL_CALICO_NP:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"cnp-%d\",\"namespace\":\"ns-%05d\",\"uid\":\"u\","
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"order\":%d,\"selector\":\"app == "
                   "'a%d'\",\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Deny\",\"destination\":"
                   "{\"nets\":[\"169.254.169.254/32\"]}},{\"action\":\"Allow\",\"protocol\":\"TCP\","
                   "\"destination\":{\"nets\":[\"%s\"],\"ports\":[443]}}]}}",
                   i, ns, i, 100 + i % 900, i % 50, bad ? "0.0.0.0/0" : "10.20.0.0/16");
        break;
    case MODEL_CALICO_GNP:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"gnp-%d\",\"uid\":\"u\",\"resourceVersion\":\"%d\"},"
                   "\"spec\":{\"order\":%d,\"namespaceSelector\":\"team == 't%d'\",\"selector\":"
                   "\"all()\",\"types\":[\"Egress\"],\"egress\":[{\"action\":\"Allow\",\"protocol\":"
                   "\"UDP\",\"destination\":{\"selector\":\"k8s-app == 'kube-dns'\",\"ports\":[53]}},"
                   "{\"action\":\"Deny\"}]}}",
                   i, i, 50 + i % 50, i % 97);
        break;
    case MODEL_CALICO_NETWORKSET:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"set-%d\",\"namespace\":\"ns-%05d\",\"labels\":{"
                   "\"role\":\"db\"},\"resourceVersion\":\"%d\"},\"spec\":{\"nets\":["
                   "\"198.51.%d.0/28\",\"203.0.113.%d\"]}}",
                   i, ns, i, i % 256, i % 256);
        break;
    case MODEL_CALICO_GLOBALNETWORKSET:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"gset-%d\",\"labels\":{\"role\":\"ext\"},"
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"nets\":[\"192.0.2.%d/32\"]}}",
                   i, i, i % 256);
        break;
    case MODEL_CILIUM_CIDRGROUP:
        buf_printf(b,
                   "{\"metadata\":{\"name\":\"group-%d\",\"labels\":{\"role\":\"vpn\"},"
                   "\"resourceVersion\":\"%d\"},\"spec\":{\"externalCIDRs\":[\"10.48.%d.0/24\"]}}",
                   i, i, i % 256);
        break;
    default:
        break;
    }
}

/* The pages of a LIST of n objects of kind k. */
static char **pages(enum model_kind k, int n, int *n_pages)
{
    char **out = calloc((size_t)(n / PAGE + 2), sizeof(*out));
    int p = 0;

    for (int first = 0; first < n; first += PAGE, p++) {
        struct buf b;
        buf_init(&b, 0);
        buf_printf(&b, "{\"kind\":\"%sList\",\"metadata\":{\"resourceVersion\":\"999999\"},"
                       "\"items\":[",
                   model_kind_info(k)->kind);
        for (int i = first; i < n && i < first + PAGE; i++) {
            if (i > first)
                buf_puts(&b, ",");
            item(&b, k, i);
        }
        buf_puts(&b, "]}");
        out[p] = buf_detach(&b, NULL);
    }
    *n_pages = p;
    return out;
}

static const struct {
    enum model_kind k;
    int n;
} mix[] = {
    {MODEL_NAMESPACE, N_NS},
    {MODEL_NETWORKPOLICY, N_POL * 3 / 10},
    {MODEL_CILIUM_NP, N_POL * 2 / 10},
    {MODEL_CILIUM_CCNP, N_POL * 1 / 10},
    {MODEL_CALICO_NP, N_POL * 3 / 10},
    {MODEL_CALICO_GNP, N_POL * 1 / 10},
    {MODEL_CALICO_NETWORKSET, N_POL / 10 / 3},
    {MODEL_CALICO_GLOBALNETWORKSET, N_POL / 10 / 3},
    {MODEL_CILIUM_CIDRGROUP, N_POL / 10 / 3},
};
#define N_MIX (sizeof(mix) / sizeof(mix[0]))

/* Lists every kind into w: the CPU seconds it took. */
static double load(struct model_writer *w, char ***all, const int *n_pages, struct model **out)
{
    double t0 = cpu();

    for (size_t m = 0; m < N_MIX; m++) {
        struct model_item **items = calloc((size_t)mix[m].n, sizeof(*items));
        size_t n = 0;
        for (int p = 0; p < n_pages[m]; p++) {
            struct wire_page page;
            struct err e = {0};
            if (wire_list(all[m][p], strlen(all[m][p]), mix[m].k, &page, &e) < 0) {
                fprintf(stderr, "bench_model: %s\n", e.msg);
                exit(1);
            }
            if (page.skipped) {
                fprintf(stderr, "bench_model: %s\n", page.first_skip.msg);
                exit(1);
            }
            if (page.n)
                memcpy(items + n, page.items, page.n * sizeof(*items));
            n += page.n;
            page.n = 0;
            wire_page_release(&page);
        }
        model_writer_replace(w, mix[m].k, items, n);
        free(items);
    }
    *out = model_writer_publish(w);
    return cpu() - t0;
}

/* The cluster as a JSON List of typed objects (the first API of each kind). 0, or 1 on error. */
static int write_cluster(const char *path)
{
    const struct model_api *apis;
    size_t n_apis;
    FILE *f = fopen(path, "w");
    bool first = true;

    if (!f) {
        perror(path);
        return 1;
    }
    apis = model_apis(&n_apis);
    fputs("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\n", f);
    for (size_t m = 0; m < N_MIX; m++) {
        const struct model_api *a = NULL;

        for (size_t k = 0; k < n_apis && !a; k++)
            if (apis[k].kind == mix[m].k)
                a = &apis[k];
        for (int i = 0; a && i < mix[m].n; i++) {
            struct buf b;

            buf_init(&b, 0);
            item(&b, mix[m].k, i);
            /* The item is "{...}": its members follow apiVersion and kind. */
            fprintf(f, "%s{\"apiVersion\":\"%s%s%s\",\"kind\":\"%s\",%s\n", first ? "" : ",",
                    a->group, *a->group ? "/" : "", a->version, model_kind_info(a->kind)->kind,
                    buf_str(&b) + 1);
            first = false;
            buf_release(&b);
        }
    }
    fputs("]}\n", f);
    return fclose(f) == 0 ? 0 : (perror(path), 1);
}

int main(int argc, char **argv)
{
    char **all[N_MIX];
    int n_pages[N_MIX], total = 0, policies = 0, unread = 0;
    size_t empty, before, after_pages, after_model;
    struct model_writer *w;
    struct model *m = NULL;
    double best = 1e9;
    struct rusage ru;

    if (argc == 3 && !strcmp(argv[1], "--write-cluster"))
        return write_cluster(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: bench_model [--write-cluster FILE]\n");
        return 2;
    }
    malloc_trim(0);
    empty = heap();
    for (size_t i = 0; i < N_MIX; i++) {
        all[i] = pages(mix[i].k, mix[i].n, &n_pages[i]);
        total += mix[i].n;
        if (model_kind_info(mix[i].k)->form == MODEL_FORM_POLICY)
            policies += mix[i].n;
    }
    printf("cluster model: %d namespaces, %d network policies, %d address sets, LIST pages of %d\n",
           N_NS, policies, total - N_NS - policies, PAGE);

    /* Load: best of 3 (each into a fresh writer). */
    for (int r = 0; r < 3; r++) {
        struct model *got;
        double t;
        w = model_writer_new();
        t = load(w, all, n_pages, &got);
        if (t < best)
            best = t;
        model_unref(got);
        model_writer_free(w);
    }
    printf("  load (parse, normalize, snapshot): %.2f s CPU, %.1f us per object\n", best,
           best * 1e6 / total);

    /* Memory: the model alone, pages freed. */
    malloc_trim(0);
    before = heap();
    w = model_writer_new();
    load(w, all, n_pages, &m);
    after_pages = heap();
    for (size_t i = 0; i < N_MIX; i++) {
        for (int p = 0; p < n_pages[i]; p++)
            free(all[i][p]);
        free(all[i]);
    }
    malloc_trim(0);
    after_model = heap();
    for (size_t i = 0; i < N_MIX; i++) {
        struct model_item *const *items;
        size_t n = model_list(m, mix[i].k, NULL, &items);
        for (size_t j = 0; j < n; j++)
            unread += items[j]->error != NULL;
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("  heap held by the model: %.1f MiB, %.0f bytes per object (the LIST pages: %.1f MiB, "
           "%zu bytes per object)\n",
           (double)(after_model - empty) / (1 << 20), (double)(after_model - empty) / total,
           (double)(before - empty) / (1 << 20), (before - empty) / (size_t)total);
    (void)after_pages;
    printf("  objects its readers refused: %d\n", unread);
    /* Per kind: the heap a replace of that kind alone takes. */
    for (size_t i = 0; i < N_MIX; i++) {
        char **pg = pages(mix[i].k, mix[i].n, &n_pages[i]);
        struct model_writer *one = model_writer_new();
        struct model *mm;
        size_t h0;
        int np = n_pages[i];
        char **keep[1] = {pg};
        malloc_trim(0);
        h0 = heap();
        {
            struct model_item **items = calloc((size_t)mix[i].n, sizeof(*items));
            size_t n = 0;
            for (int p = 0; p < np; p++) {
                struct wire_page page;
                struct err e = {0};
                wire_list(keep[0][p], strlen(keep[0][p]), mix[i].k, &page, &e);
                if (page.n)
                    memcpy(items + n, page.items, page.n * sizeof(*items));
                n += page.n;
                page.n = 0;
                wire_page_release(&page);
            }
            model_writer_replace(one, mix[i].k, items, n);
            free(items);
        }
        mm = model_writer_publish(one);
        malloc_trim(0);
        printf("    %-30s %6d objects  %6.0f bytes each%s\n", model_kind_info(mix[i].k)->label,
               mix[i].n, (double)(heap() - h0) / mix[i].n,
               model_kind_info(mix[i].k)->form == MODEL_FORM_POLICY ? "  (target <= 2048)" : "");
        model_unref(mm);
        model_writer_free(one);
        for (int p = 0; p < np; p++)
            free(pg[p]);
        free(pg);
    }
    printf("  peak RSS of this process: %.1f MiB\n", (double)ru.ru_maxrss / 1024);

    /* A request's model lookup against the jansson floor. */
    {
        FILE *f = fopen("tests/data/admission/kubewarden/"
                        "policies__sysctl-psp-policy__test_data__request-pod-no-sysctl.json",
                        "rb");
        struct buf body;
        char chunk[4096];
        size_t got, iters = 20000;
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        double floor_best = 1e9, look_best = 1e9;
        volatile size_t sink = 0;

        if (!f) {
            fprintf(stderr, "bench_model: run from the repository root\n");
            return 1;
        }
        buf_init(&body, 0);
        buf_puts(&body, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                        "\"request\":");
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_add(&body, chunk, got);
        fclose(f);
        buf_puts(&body, "}");
        for (int r = 0; r < 5; r++) {
            double t0 = cpu();
            for (size_t i = 0; i < iters; i++) {
                json_t *req = json_loadb(body.data, body.len, 0, NULL), *reply;
                const char *uid = "";
                char *out;
                json_unpack(req, "{s:{s:s}}", "request", "uid", &uid);
                reply = json_pack("{s:s, s:s, s:{s:s, s:b}}", "apiVersion",
                                  "admission.k8s.io/v1", "kind", "AdmissionReview", "response",
                                  "uid", uid, "allowed", 1);
                out = json_dumps(reply, JSON_COMPACT);
                sink += strlen(out);
                free(out);
                json_decref(reply);
                json_decref(req);
            }
            double t1 = cpu();
            for (size_t i = 0; i < iters; i++) {
                char name[16];
                struct model *snap;
                struct nsdb view;
                snprintf(name, sizeof(name), "ns-%05zu", (i * 7919) % N_NS);
                pthread_mutex_lock(&mu);
                snap = model_ref(m);
                pthread_mutex_unlock(&mu);
                nsdb_init_one(&view, name, model_ns_labels(snap, name));
                sink += nsdb_labels(&view, name) != NULL;
                model_unref(snap);
            }
            double t2 = cpu();
            if (t1 - t0 < floor_best)
                floor_best = t1 - t0;
            if (t2 - t1 < look_best)
                look_best = t2 - t1;
        }
        printf("  request: jansson floor %.1f us, model lookup %.3f us, ratio %.4fx (target <= "
               "1.05x)\n",
               floor_best * 1e6 / iters, look_best * 1e6 / iters,
               (floor_best + look_best) / floor_best);
        buf_release(&body);
        (void)sink;
    }

    /* One watch event on the biggest policy kind, then publish (its table copied). */
    {
        int events = 200;
        double t0 = cpu();
        for (int i = 0; i < events; i++) {
            struct buf b;
            struct model_item *it;
            json_t *j;
            struct err e = {0};
            buf_init(&b, 0);
            item(&b, MODEL_NETWORKPOLICY, i);
            j = json_loads(buf_str(&b), 0, NULL);
            it = model_item_new(MODEL_NETWORKPOLICY, j, &e);
            json_decref(j);
            buf_release(&b);
            model_writer_put(w, it);
            model_unref(model_writer_publish(w));
        }
        printf("  one watch event (a NetworkPolicy among %d) and its snapshot: %.0f us\n",
               N_POL * 3 / 10, (cpu() - t0) * 1e6 / events);
    }
    model_unref(m);
    model_writer_free(w);
    return 0;
}
