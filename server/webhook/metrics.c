#include "server/webhook/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"

#define METRICS_MAX_SERIES 128
/* The exposition: the tables above are fixed, so the text is too (about 40 KB at most). */
#define METRICS_TEXT_CAP ((size_t)256 * 1024)
#define N_BUCKETS 12

static const double bucket_bounds[N_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
static const char *const operations[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
static const char *const verdicts[] = {"allow", "warn", "deny", "error"};

struct series {
    char endpoint[16];
    char kind[64];
    const char *operation; /* static string */
    const char *verdict;   /* static string */
    unsigned long count;
};

struct reload_count {
    unsigned long ok, failed;
};

struct metrics {
    pthread_mutex_t mu;
    struct series series[METRICS_MAX_SERIES];
    size_t n_series;
    unsigned long overflow; /* requests beyond the table, printed as one "other" series */
    unsigned long buckets[2][N_BUCKETS + 1]; /* per endpoint (validate, mutate); last = +Inf */
    double sum[2];
    unsigned long count[2];
    unsigned long errors[600];
    struct reload_count policy, certificate, client_ca;
    unsigned long cert_refused[METRICS_CERT_INVALID + 1];
    time_t cert_not_after;
    size_t body_bytes, body_limit;
    long in_flight;
    unsigned long ns[METRICS_NS_UNKNOWN + 1];
    size_t exemptions[3]; /* by exemption state */
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const char *pick(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, set[i]))
            return set[i];
    return "other";
}

static bool plain_identifier(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return n > 0 && n < 64;
}

void metrics_request(struct metrics *m, const char *endpoint, const char *kind,
                     const char *operation, const char *verdict, double seconds)
{
    int ep = !strcmp(endpoint, "mutate");
    const char *op = pick(operation && *operation ? operation : "CREATE", operations, 4);
    const char *vd = pick(verdict, verdicts, 4);
    const char *k = plain_identifier(kind) ? kind : "other";
    struct series *s = NULL;
    int b;

    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n_series && !s; i++) {
        struct series *c = &m->series[i];
        if (c->operation == op && c->verdict == vd && !strcmp(c->kind, k) &&
            !strcmp(c->endpoint, endpoint))
            s = c;
    }
    if (!s && m->n_series < METRICS_MAX_SERIES) {
        s = &m->series[m->n_series++];
        strncpy(s->endpoint, ep ? "mutate" : "validate", sizeof(s->endpoint) - 1);
        strncpy(s->kind, k, sizeof(s->kind) - 1);
        s->operation = op;
        s->verdict = vd;
    }
    if (s)
        s->count++;
    else /* the table is full: one series collects everything else */
        m->overflow++;
    for (b = 0; b < N_BUCKETS && seconds > bucket_bounds[b]; b++)
        ;
    m->buckets[ep][b]++;
    m->sum[ep] += seconds;
    m->count[ep]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_http_error(struct metrics *m, int status)
{
    if (status < 0 || status >= 600)
        return;
    pthread_mutex_lock(&m->mu);
    m->errors[status]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_reload(struct metrics *m, const char *what, bool ok)
{
    pthread_mutex_lock(&m->mu);
    struct reload_count *c = !strcmp(what, "policy")      ? &m->policy
                             : !strcmp(what, "client_ca") ? &m->client_ca
                                                          : &m->certificate;
    if (ok)
        c->ok++;
    else
        c->failed++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_cert_refused(struct metrics *m, enum metrics_cert_refusal why)
{
    if ((int)why < 0 || why > METRICS_CERT_INVALID)
        return;
    pthread_mutex_lock(&m->mu);
    m->cert_refused[why]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_cert_expiry(struct metrics *m, time_t not_after)
{
    pthread_mutex_lock(&m->mu);
    m->cert_not_after = not_after;
    pthread_mutex_unlock(&m->mu);
}

void metrics_gauges(struct metrics *m, long in_flight, size_t body_bytes, size_t body_limit)
{
    pthread_mutex_lock(&m->mu);
    m->in_flight = in_flight;
    m->body_bytes = body_bytes;
    m->body_limit = body_limit;
    pthread_mutex_unlock(&m->mu);
}

void metrics_ns_lookup(struct metrics *m, enum metrics_ns what)
{
    if ((int)what < 0 || what > METRICS_NS_UNKNOWN)
        return;
    pthread_mutex_lock(&m->mu);
    m->ns[what]++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_exemptions(struct metrics *m, const size_t counts[3])
{
    pthread_mutex_lock(&m->mu);
    memcpy(m->exemptions, counts, sizeof(m->exemptions));
    pthread_mutex_unlock(&m->mu);
}

char *metrics_render(struct metrics *m, size_t *len)
{
    static const char *const ep_names[2] = {"validate", "mutate"};
    struct buf b;

    buf_init(&b, METRICS_TEXT_CAP);
    pthread_mutex_lock(&m->mu);
    buf_puts(&b, "# HELP egressguard_admission_requests_total Admission requests answered.\n"
                 "# TYPE egressguard_admission_requests_total counter\n");
    for (size_t i = 0; i < m->n_series; i++) {
        const struct series *s = &m->series[i];
        buf_printf(&b,
                   "egressguard_admission_requests_total{endpoint=\"%s\",kind=\"%s\","
                   "operation=\"%s\",verdict=\"%s\"} %lu\n",
                   s->endpoint, s->kind, s->operation, s->verdict, s->count);
    }
    if (m->overflow)
        buf_printf(&b,
                   "egressguard_admission_requests_total{endpoint=\"other\",kind=\"other\","
                   "operation=\"other\",verdict=\"other\"} %lu\n",
                   m->overflow);
    buf_puts(&b, "# HELP egressguard_admission_duration_seconds Time to answer an admission.\n"
                 "# TYPE egressguard_admission_duration_seconds histogram\n");
    for (int ep = 0; ep < 2; ep++) {
        unsigned long cum = 0;
        for (int i = 0; i <= N_BUCKETS; i++) {
            cum += m->buckets[ep][i];
            if (i < N_BUCKETS)
                buf_printf(&b,
                           "egressguard_admission_duration_seconds_bucket{endpoint=\"%s\","
                           "le=\"%g\"} %lu\n",
                           ep_names[ep], bucket_bounds[i], cum);
            else
                buf_printf(&b,
                           "egressguard_admission_duration_seconds_bucket{endpoint=\"%s\","
                           "le=\"+Inf\"} %lu\n",
                           ep_names[ep], cum);
        }
        buf_printf(&b, "egressguard_admission_duration_seconds_sum{endpoint=\"%s\"} %.6f\n",
                   ep_names[ep], m->sum[ep]);
        buf_printf(&b, "egressguard_admission_duration_seconds_count{endpoint=\"%s\"} %lu\n",
                   ep_names[ep], m->count[ep]);
    }
    buf_puts(&b, "# HELP egressguard_http_errors_total Requests refused before a decision.\n"
                 "# TYPE egressguard_http_errors_total counter\n");
    for (int i = 0; i < 600; i++)
        if (m->errors[i])
            buf_printf(&b, "egressguard_http_errors_total{code=\"%d\"} %lu\n", i, m->errors[i]);
    buf_printf(&b,
               "# HELP egressguard_reloads_total Successful reloads.\n"
               "# TYPE egressguard_reloads_total counter\n"
               "egressguard_reloads_total{what=\"policy\"} %lu\n"
               "egressguard_reloads_total{what=\"certificate\"} %lu\n"
               "egressguard_reloads_total{what=\"client_ca\"} %lu\n"
               "# HELP egressguard_reload_failures_total Reloads rejected; the old one kept serving.\n"
               "# TYPE egressguard_reload_failures_total counter\n"
               "egressguard_reload_failures_total{what=\"policy\"} %lu\n"
               "egressguard_reload_failures_total{what=\"certificate\"} %lu\n"
               "egressguard_reload_failures_total{what=\"client_ca\"} %lu\n"
               "# HELP egressguard_certificate_refused_total Serving certificates refused on load "
               "or reload, by reason.\n"
               "# TYPE egressguard_certificate_refused_total counter\n"
               "egressguard_certificate_refused_total{reason=\"expired\"} %lu\n"
               "egressguard_certificate_refused_total{reason=\"not_yet_valid\"} %lu\n"
               "egressguard_certificate_refused_total{reason=\"invalid\"} %lu\n"
               "# HELP egressguard_certificate_expiry_timestamp_seconds When the serving "
               "certificate in use (its chain) expires.\n"
               "# TYPE egressguard_certificate_expiry_timestamp_seconds gauge\n"
               "egressguard_certificate_expiry_timestamp_seconds %lld\n"
               "# HELP egressguard_in_flight_requests Requests being received or answered.\n"
               "# TYPE egressguard_in_flight_requests gauge\n"
               "egressguard_in_flight_requests %ld\n"
               "# HELP egressguard_request_body_bytes Bytes of request bodies held in memory.\n"
               "# TYPE egressguard_request_body_bytes gauge\n"
               "egressguard_request_body_bytes %zu\n"
               "# HELP egressguard_request_body_bytes_limit The most that may be held "
               "(--max-inflight-bytes); requests beyond it are answered 429.\n"
               "# TYPE egressguard_request_body_bytes_limit gauge\n"
               "egressguard_request_body_bytes_limit %zu\n",
               m->policy.ok, m->certificate.ok, m->client_ca.ok, m->policy.failed,
               m->certificate.failed, m->client_ca.failed, m->cert_refused[METRICS_CERT_EXPIRED],
               m->cert_refused[METRICS_CERT_NOT_YET_VALID], m->cert_refused[METRICS_CERT_INVALID],
               (long long)m->cert_not_after, m->in_flight, m->body_bytes, m->body_limit);
    buf_printf(&b,
               "# HELP egressguard_namespace_lookup_failures_total Decisions made without the "
               "labels of the request's namespace (no cache entry, no API answer): AI namespaces "
               "known by name only.\n"
               "# TYPE egressguard_namespace_lookup_failures_total counter\n"
               "egressguard_namespace_lookup_failures_total %lu\n"
               "# HELP egressguard_namespace_lookup_stale_total Decisions made with namespace "
               "labels older than the cache TTL (the refresh failed or was under way).\n"
               "# TYPE egressguard_namespace_lookup_stale_total counter\n"
               "egressguard_namespace_lookup_stale_total %lu\n"
               "# HELP egressguard_namespace_api_requests_total GETs of a Namespace from the "
               "Kubernetes API, by result.\n"
               "# TYPE egressguard_namespace_api_requests_total counter\n"
               "egressguard_namespace_api_requests_total{result=\"ok\"} %lu\n"
               "egressguard_namespace_api_requests_total{result=\"not_found\"} %lu\n"
               "egressguard_namespace_api_requests_total{result=\"error\"} %lu\n",
               m->ns[METRICS_NS_UNKNOWN], m->ns[METRICS_NS_STALE], m->ns[METRICS_NS_API_OK],
               m->ns[METRICS_NS_API_NOT_FOUND], m->ns[METRICS_NS_API_ERROR]);
    buf_printf(&b,
               "# HELP egressguard_exemptions Exemptions of the serving policy: active, expiring "
               "(ending within exemptionWarningDays) and expired (no longer applied).\n"
               "# TYPE egressguard_exemptions gauge\n"
               "egressguard_exemptions{state=\"active\"} %zu\n"
               "egressguard_exemptions{state=\"expiring\"} %zu\n"
               "egressguard_exemptions{state=\"expired\"} %zu\n",
               m->exemptions[0], m->exemptions[1], m->exemptions[2]);
    pthread_mutex_unlock(&m->mu);
    return buf_detach(&b, len);
}
