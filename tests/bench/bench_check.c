/*
 * What `check` costs over merely reading its input. Generates a large manifest stream in memory
 * (a cluster dump: its Namespaces, network policies of every supported CNI, pods and workloads,
 * in AI and other namespaces), then times, in the same run: reading it (the floor: YAML parse
 * with positions, Lists, object views) and reading it, building the cluster model of the input
 * and decide_object() on every object (what `check` does). Prints both and the ratio; the target
 * is a ratio of at most 1.5. Best of several rounds, so a busy machine shows less.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/base/buf.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/model/model.h"
#include "policy/decide.h"
#include "policy/verdict.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: steadier on a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * What a governed cluster looks like: workloads everywhere, network policies in AI namespaces
 * that mostly keep to the allow-list (one in ten does not), nothing in other namespaces.
 */
static void generate_namespaces(struct buf *b)
{
    buf_puts(b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ml-team}\n"
                "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n");
}

static void generate_cluster(struct buf *b, int n)
{
    generate_namespaces(b);
    for (int i = 0; i < n; i++) {
        bool bad = i % 10 == 0;
        switch (i % 6) {
        case 0:
            buf_printf(b,
                       "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: np-%d\n  namespace: ml-team\nspec:\n  podSelector:\n"
                       "    matchLabels: {app: a%d}\n  policyTypes: [Egress]\n  egress:\n"
                       "  - to:\n    - ipBlock:\n        cidr: %s\n"
                       "        except: [10.20.%d.0/24]\n    ports:\n"
                       "    - {protocol: TCP, port: 443}\n  - to:\n    - namespaceSelector:\n"
                       "        matchLabels: {kubernetes.io/metadata.name: kube-system}\n"
                       "      podSelector:\n        matchLabels: {k8s-app: kube-dns}\n"
                       "    ports:\n    - {protocol: UDP, port: 53}\n",
                       i, i, bad ? "10.0.0.0/8" : "10.20.0.0/16", i % 250);
            break;
        case 1:
            buf_printf(b,
                       "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
                       "  name: cnp-%d\n  namespace: ml-team\nspec:\n  endpointSelector:\n"
                       "    matchLabels: {app: a%d}\n  egress:\n  - toFQDNs:\n"
                       "    - matchPattern: '%s'\n    toPorts:\n"
                       "    - ports: [{port: '443', protocol: TCP}]\n",
                       i, i, bad ? "*.example.org" : "*.s3.amazonaws.com");
            break;
        case 2:
            buf_printf(b,
                       "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: cal-%d\n  namespace: ml-team\nspec:\n  selector: app == 'a%d'\n"
                       "  types: [Egress]\n  egress:\n  - action: Deny\n    destination:\n"
                       "      nets: [169.254.0.0/16]\n  - action: Allow\n    protocol: TCP\n"
                       "    destination:\n      nets: [%s]\n      ports: [443]\n",
                       i, i, bad ? "0.0.0.0/0" : "10.20.0.0/24");
            break;
        case 3:
            buf_printf(b,
                       "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\n"
                       "  namespace: web\nspec:\n  selector: {matchLabels: {app: w%d}}\n"
                       "  template:\n    metadata:\n      labels: {app: w%d}\n    spec:\n"
                       "      containers:\n      - name: c\n        image: registry/web:%d\n"
                       "        ports: [{containerPort: 8080}]\n",
                       i, i, i, i);
            break;
        default:
            buf_printf(b,
                       "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-%d\n"
                       "  namespace: %s\n  labels: {app: a%d, data-classification: internal}\n"
                       "spec:\n  containers:\n  - name: c\n    image: registry/x:%d\n"
                       "    env:\n    - {name: HTTPS_PROXY, value: 'http://10.20.0.5:443'}\n"
                       "    resources:\n      limits: {cpu: '1', memory: 1Gi}\n"
                       "    securityContext: {allowPrivilegeEscalation: %s}\n",
                       i, i % 3 ? "ml-team" : "web", i, i, bad ? "true" : "false");
        }
    }
}

/* Every other object in an AI namespace, most of them opening something outside the allow-list. */
static void generate_violating(struct buf *b, int n)
{
    generate_namespaces(b);
    for (int i = 0; i < n; i++) {
        const char *ns = i % 2 ? "ml-team" : "web";
        switch (i % 5) {
        case 0:
            buf_printf(b,
                       "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: np-%d\n  namespace: %s\nspec:\n  podSelector:\n"
                       "    matchLabels: {app: a%d}\n  policyTypes: [Egress]\n  egress:\n"
                       "  - to:\n    - ipBlock:\n        cidr: 10.%d.0.0/16\n"
                       "        except: [10.%d.1.0/24]\n    - namespaceSelector:\n"
                       "        matchLabels: {team: t%d}\n    ports:\n"
                       "    - {protocol: TCP, port: 443}\n    - {protocol: UDP, port: 53}\n",
                       i, ns, i, i % 250, i % 250, i);
            break;
        case 1:
            buf_printf(b,
                       "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
                       "  name: cnp-%d\n  namespace: %s\nspec:\n  endpointSelector:\n"
                       "    matchLabels: {app: a%d}\n  egress:\n  - toFQDNs:\n"
                       "    - matchPattern: '*.s3.amazonaws.com'\n    toPorts:\n"
                       "    - ports: [{port: '443', protocol: TCP}]\n  - toCIDRSet:\n"
                       "    - cidr: 10.20.0.0/16\n      except: [10.20.%d.0/24]\n",
                       i, ns, i, i % 250);
            break;
        case 2:
            buf_printf(b,
                       "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: cal-%d\n  namespace: %s\nspec:\n  selector: app == 'a%d'\n"
                       "  types: [Egress]\n  egress:\n  - action: Deny\n    destination:\n"
                       "      nets: [169.254.0.0/16]\n  - action: Allow\n    protocol: TCP\n"
                       "    destination:\n      nets: [10.20.%d.0/24]\n      ports: [443]\n",
                       i, ns, i, i % 250);
            break;
        default:
            buf_printf(b,
                       "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-%d\n"
                       "  namespace: %s\n  labels: {app: a%d, data-classification: internal}\n"
                       "spec:\n  containers:\n  - name: c\n    image: registry/x:%d\n"
                       "    env:\n    - {name: HTTPS_PROXY, value: 'http://10.20.0.5:443'}\n"
                       "    resources:\n      limits: {cpu: '1', memory: 1Gi}\n"
                       "    securityContext: {allowPrivilegeEscalation: false}\n",
                       i, ns, i, i);
        }
    }
}

/* Times parse-only and parse+decide over `input`, best of `rounds`, and prints the ratio. */
static void measure(const char *what, const struct policy *pol, const struct buf *input,
                    int rounds)
{
    double best_parse = 1e9, best_check = 1e9;
    size_t objects = 0, findings = 0, violating = 0;

    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        struct manifest *m = manifest_new();
        manifest_read_buffer(m, input->data, input->len, "bench.yaml");
        double t1 = now();
        manifest_free(m);
        if (t1 - t0 < best_parse)
            best_parse = t1 - t0;

        t0 = now();
        m = manifest_new();
        manifest_read_buffer(m, input->data, input->len, "bench.yaml");
        objects = manifest_n_objects(m);
        /* The input's cluster model, as `check` builds it. */
        const struct object **objs = calloc(objects, sizeof(*objs));
        struct model_writer *w = model_writer_new();
        struct model *model;
        struct nsdb db;
        struct err me = {0};
        for (size_t i = 0; i < objects; i++)
            objs[i] = manifest_object(m, i);
        model_writer_put_objects(w, objs, objects, &me);
        model = model_writer_publish(w);
        model_nsdb_view(&db, model);
        findings = violating = 0;
        for (size_t i = 0; i < objects; i++) {
            struct verdict v;
            struct request_ctx ctx = {.operation = "CREATE", .namespaces = &db};
            struct err de = {0};
            verdict_init(&v);
            decide_object(pol, manifest_object(m, i), &ctx, &v, &de);
            findings += v.n_findings;
            violating += !v.allowed;
            verdict_release(&v);
        }
        t1 = now();
        model_unref(model);
        model_writer_free(w);
        free(objs);
        manifest_free(m);
        if (t1 - t0 < best_check)
            best_check = t1 - t0;
    }
    printf("%s: %zu objects (%zu denied, %zu findings), %.1f MiB of YAML, best of %d\n", what,
           objects, violating, findings, (double)input->len / (1 << 20), rounds);
    printf("  parse only (floor): %8.1f ms  %8.0f objects/s\n", best_parse * 1e3,
           (double)objects / best_parse);
    printf("  parse + decide    : %8.1f ms  %8.0f objects/s\n", best_check * 1e3,
           (double)objects / best_check);
    printf("  ratio check/parse : %.2fx (target <= 1.5x)\n", best_check / best_parse);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct buf input;

    if (!pol) {
        fprintf(stderr, "bench_check: %s (run from the repository root)\n", e.msg);
        return 1;
    }
    printf("check throughput, CPU time (the same input parsed only, then parsed and decided)\n");
    buf_init(&input, 0);
    generate_cluster(&input, n);
    if (input.failed)
        return 1;
    measure("cluster-like input (one policy in ten escapes)", pol, &input, 5);
    buf_release(&input);
    buf_init(&input, 0);
    generate_violating(&input, n);
    if (input.failed)
        return 1;
    measure("adversarial input (most objects escape)", pol, &input, 5);
    buf_release(&input);
    policy_free(pol);
    return 0;
}
