/*
 * What the audit costs on a large cluster: 10,000 namespaces (one in five AI by label, one in
 * ten AI by name) holding 50,000 network policies of three CNIs (one in ten opens something
 * outside the allow-list), plus 50 cluster-wide policies. Measures, in CPU time:
 *   - the full audit: every object put and decided once (what `serve` does at its first sync),
 *     with the process's peak RSS after it (the objects are generated one at a time, so the
 *     peak is the audit's state, not the input's);
 *   - one incremental event, each kind many times: a policy changed, a namespace labelled AI
 *     (and unlabelled), a policy deleted (and created again). Target: at most 1 ms each.
 * Usage: bench_audit [NAMESPACES [POLICIES_PER_NAMESPACE]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "policy/audit/audit.h"
#include "policy/config/policy.h"

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

static double put_timed(struct audit *a, json_t *o)
{
    struct err e = {0};
    double t0, t1;

    if (!o) {
        fprintf(stderr, "bench_audit: generated an invalid object\n");
        exit(1);
    }
    t0 = cpu();
    if (audit_put(a, o, &e) < 0) {
        fprintf(stderr, "bench_audit: %s\n", e.msg);
        exit(1);
    }
    t1 = cpu();
    json_decref(o);
    return t1 - t0;
}

static double run_timed(struct audit *a, size_t *decided, size_t *changed)
{
    struct audit_changes c;
    struct err e = {0};
    double t0 = cpu();

    if (audit_run(a, NOW, &c, &e) < 0) {
        fprintf(stderr, "bench_audit: %s\n", e.msg);
        exit(1);
    }
    t0 = cpu() - t0;
    *decided = c.decided;
    *changed = c.n;
    audit_changes_release(&c);
    return t0;
}

struct stat {
    double sum, max;
    size_t n, decided;
};

static void record(struct stat *s, double t, size_t decided)
{
    s->sum += t;
    s->n++;
    s->decided += decided;
    if (t > s->max)
        s->max = t;
}

static void report(const char *what, const struct stat *s)
{
    printf("  %-34s mean %7.1f us  max %7.1f us  (%.1f objects decided per event)%s\n", what,
           s->sum / (double)s->n * 1e6, s->max * 1e6, (double)s->decided / (double)s->n,
           s->sum / (double)s->n <= 1e-3 ? "" : "  OVER 1 ms");
}

int main(int argc, char **argv)
{
    int n_ns = argc > 1 ? atoi(argv[1]) : 10000, per_ns = argc > 2 ? atoi(argv[2]) : 5;
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct audit *a = audit_new();
    struct stat upd = {0}, lab = {0}, del = {0}, add = {0};
    double t_put = 0, t_run, base_rss = peak_rss_mib();
    size_t decided, changed, bad = 0;

    if (!pol || !a) {
        fprintf(stderr, "bench_audit: %s (run from the repository root)\n", e.msg);
        return 1;
    }
    audit_set_policy(a, pol);
    for (int i = 0; i < n_ns; i++) {
        t_put += put_timed(a, namespace_obj(i, i % 5 == 0));
        for (int j = 0; j < per_ns; j++) {
            bool b = (i * per_ns + j) % 10 == 0;
            bad += b;
            t_put += put_timed(a, policy_obj(i, j, b, 0));
        }
    }
    for (int k = 0; k < 50; k++)
        t_put += put_timed(a, cluster_policy(k));
    t_run = run_timed(a, &decided, &changed);
    printf("audit of %d namespaces, %d policies (%zu opening too much) and 50 cluster-wide "
           "policies, CPU time\n",
           n_ns, n_ns * per_ns, bad);
    printf("  full audit: %zu objects decided, %zu reports; put %.2f s + decide %.2f s = %.2f s "
           "(%.1f us per object)\n",
           decided, changed, t_put, t_run, t_put + t_run, (t_put + t_run) / (double)decided * 1e6);
    printf("  peak RSS after the full audit: %.0f MiB (%.0f MiB before it; %.1f KiB per "
           "object)\n",
           peak_rss_mib(), base_rss, (peak_rss_mib() - base_rss) * 1024 / (double)decided);

    for (int r = 0; r < 200; r++) {
        int i = (r * 7919) % n_ns, j = r % 2; /* Kubernetes NetworkPolicies: variant matters */
        char ns[32], name[32];
        double t;

        /* The same policy with another spec, opening too much every other time. */
        t = put_timed(a, policy_obj(i, j, r % 2, r + 1)) + run_timed(a, &decided, &changed);
        record(&upd, t, decided);
        /* Its namespace labelled AI, then back. */
        t = put_timed(a, namespace_obj(i, true)) + run_timed(a, &decided, &changed);
        record(&lab, t, decided);
        t = put_timed(a, namespace_obj(i, i % 5 == 0)) + run_timed(a, &decided, &changed);
        record(&lab, t, decided);
        /* Deleted, and created again. */
        snprintf(name, sizeof(name), "p%d", j);
        t = cpu();
        audit_delete(a, "networking.k8s.io/v1", "NetworkPolicy", ns_name(i, ns, sizeof(ns)), name);
        t = cpu() - t + run_timed(a, &decided, &changed);
        record(&del, t, decided);
        t = put_timed(a, policy_obj(i, j, false, 0)) + run_timed(a, &decided, &changed);
        record(&add, t, decided);
    }
    printf("  incremental events (put or delete, then run), CPU time, target <= 1 ms:\n");
    report("a policy changed", &upd);
    report("a namespace labelled / unlabelled", &lab);
    report("a policy deleted", &del);
    report("a policy created", &add);
    audit_free(a);
    policy_free(pol);
    return 0;
}
