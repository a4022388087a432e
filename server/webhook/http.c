#include "server/webhook/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "policy/decide.h"
#include "policy/base/budget.h"
#include "policy/base/buf.h"
#include "server/webhook/admission.h"
#include "server/webhook/tls.h"

#define MHD_LOG_CAP 4096 /* libmicrohttpd's messages are a line; a longer one is not shown */
#define ERROR_BODY_CAP 8192 /* {"code", "error"}: a reason of at most ~600 bytes, escaped */

struct http {
    struct MHD_Daemon *daemon;
    struct live *live;
    struct metrics *metrics;
    const struct log *log;
    size_t max_body, max_inflight;
    bool verify_clients;
    struct enforcer *enforcer;
    struct nscache *nscache;
    struct cluster *cluster;
    struct auditor *auditor;
    bool ns_unknown_allow;
    unsigned long long max_work;
    unsigned port;

    atomic_size_t body_bytes; /* request bodies held, at most max_inflight */
    atomic_long active;       /* requests between their first callback and completion */
    atomic_long unanswered;   /* connections that have not completed a request yet */
    atomic_bool draining;     /* /readyz fails and every answer closes its connection */
};

/* Per connection (socket_context): the credentials its handshake used, held until it closes,
 * and what its client certificate was found to be (against `trust`, held too). */
struct conn {
    struct http *h;
    struct tls_creds *creds;
    struct tls_trust *trust; /* the CAs `client_ok` was decided with; NULL: not decided */
    bool client_ok;
    bool answered; /* a request of this connection has completed */
    char client_why[160];
};

enum route { ROUTE_NONE = 0, ROUTE_VALIDATE, ROUTE_MUTATE, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS };

/* Per request: created on the first callback, freed only in request_completed(). */
struct request {
    struct http *h;
    enum route route;
    int reject;             /* status to answer once the body is drained; 0 = none */
    const char *reject_msg; /* static text, or client_why of the connection */
    struct buf body;
    size_t declared;        /* Content-Length, or 0 (absent, or chunked) */
    size_t held;            /* bytes of body counted in h->body_bytes */
    struct timespec start;
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Queues an answer (body malloc()ed, given to libmicrohttpd; NULL for none). While draining,
 * every answer closes its connection, so that the client's next request opens a new one, which
 * the Service sends to a replica that is not going away. */
static enum MHD_Result reply(struct http *h, struct MHD_Connection *c, unsigned status,
                             const char *type, char *body, size_t len, const char *header,
                             const char *value)
{
    struct MHD_Response *r;
    enum MHD_Result rc;

    if (!body) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(body);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (header)
        MHD_add_response_header(r, header, value);
    if (atomic_load(&h->draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct http *h, struct MHD_Connection *c, unsigned status,
                                  const char *text)
{
    char *body = strdup(text);

    return reply(h, c, status, "text/plain", body, body ? strlen(body) : 0, NULL, NULL);
}

static enum MHD_Result reply_error(struct request *rq, struct MHD_Connection *c, unsigned status,
                                   const char *msg)
{
    struct buf b;
    const char *header = NULL, *value = NULL;
    char *text;
    size_t len = 0;

    buf_init(&b, ERROR_BODY_CAP);
    buf_printf(&b, "{\"code\":%u,\"error\":", status);
    buf_json_string(&b, msg);
    buf_puts(&b, "}");
    text = buf_detach(&b, &len);
    metrics_http_error(rq->h->metrics, (int)status);
    log_msg(rq->h->log, LOG_WARN, "HTTP %u: %s", status, msg);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        header = MHD_HTTP_HEADER_ALLOW;
        value = (rq->route == ROUTE_VALIDATE || rq->route == ROUTE_MUTATE) ? "POST" : "GET, HEAD";
    } else if (status == MHD_HTTP_TOO_MANY_REQUESTS) {
        header = MHD_HTTP_HEADER_RETRY_AFTER;
        value = "1";
    }
    return reply(rq->h, c, status, "application/json", text, len, header, value);
}

static enum route route_of(const char *url)
{
    static const struct {
        const char *path;
        enum route route;
    } routes[] = {{"/validate", ROUTE_VALIDATE}, {"/mutate", ROUTE_MUTATE},
                  {"/healthz", ROUTE_HEALTHZ},   {"/readyz", ROUTE_READYZ},
                  {"/metrics", ROUTE_METRICS}};
    /* libmicrohttpd already strips the query string; be safe if a future version does not. */
    size_t n = strcspn(url, "?");

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strlen(routes[i].path) == n && !strncmp(url, routes[i].path, n))
            return routes[i].route;
    return ROUTE_NONE;
}

static bool is_json(const char *type)
{
    size_t n = strlen("application/json");

    if (!type)
        return false;
    while (*type == ' ')
        type++;
    return !strncasecmp(type, "application/json", n) &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static struct conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;

    return ci ? ci->socket_context : NULL;
}

/*
 * Whether the connection's client certificate chains to the --client-ca now in use and carries
 * clientAuth. Decided once per connection and CA set (a keep-alive connection asks once), again
 * after the CAs were reloaded. On false, *why says why (valid while the connection lives).
 */
static bool client_verified(struct http *h, struct MHD_Connection *c, const char **why)
{
    const union MHD_ConnectionInfo *si =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    struct conn *cn = conn_of(c);
    struct tls_trust *t = live_trust_get(h->live);

    *why = "no client certificate";
    if (!cn || !t) {
        tls_trust_unref(t);
        return false;
    }
    if (cn->trust != t) {
        cn->client_ok = tls_trust_verify_peer(t, si ? (gnutls_session_t)si->tls_session : NULL,
                                              cn->client_why, sizeof(cn->client_why));
        tls_trust_unref(cn->trust);
        cn->trust = t; /* keeps the reference */
    } else {
        tls_trust_unref(t);
    }
    *why = cn->client_why;
    return cn->client_ok;
}

/* Looks at the headers once, before any body byte: route, method, type, size, client. */
static void classify(struct request *rq, struct MHD_Connection *c, const char *url,
                     const char *method)
{
    bool post = rq->route == ROUTE_VALIDATE || rq->route == ROUTE_MUTATE;
    const char *len_text, *why;

    if (rq->route == ROUTE_NONE) {
        rq->reject = MHD_HTTP_NOT_FOUND;
        rq->reject_msg = "not found: the endpoints are /validate, /mutate, /healthz, /readyz, /metrics";
    } else if (post ? strcmp(method, "POST") != 0
                    : (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)) {
        rq->reject = MHD_HTTP_METHOD_NOT_ALLOWED;
        rq->reject_msg = post ? "method not allowed: use POST" : "method not allowed: use GET";
    } else if (post && !is_json(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_CONTENT_TYPE))) {
        rq->reject = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
        rq->reject_msg = "unsupported media type: send Content-Type: application/json";
    } else if (post && rq->h->verify_clients && !client_verified(rq->h, c, &why)) {
        rq->reject = MHD_HTTP_FORBIDDEN;
        rq->reject_msg = why;
    }
    len_text = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len_text && strtoull(len_text, NULL, 10) > rq->h->max_body) {
        rq->reject = MHD_HTTP_CONTENT_TOO_LARGE;
        rq->reject_msg = "request body too large";
    } else if (len_text) {
        rq->declared = (size_t)strtoull(len_text, NULL, 10);
    }
    (void)url;
}

/*
 * Namespaced mode: a Pod in an AI namespace whose NetworkPolicies are not in the cluster model yet
 * is denied. Nothing else: the reconciler learns namespaces from the model, never from requests.
 */
static void namespaced_mode(struct enforcer *en, const struct policy *pol, enum admission_op op,
                            const struct admission *a, const struct model *snap,
                            const json_t *labels, struct verdict *v)
{
    const struct object *o = &a->obj;
    char msg[700];

    if (op != ADMISSION_VALIDATE || strcmp(o->kind, "Pod") || strcmp(o->api_version, "v1") ||
        !strcmp(a->operation, "DELETE") || !*o->ns || !snap)
        return;
    if (!enforcer_pod_gate(en, pol, snap, o->ns, labels, msg, sizeof(msg)))
        verdict_add(v, o, NULL, "namespacedMode.notInPlace", MODE_ENFORCE, true, "", "%s", msg);
}

/*
 * The labels of the request's namespace, or NULL when they cannot be known (why says why, for the
 * decision's message). First the cluster model (*snap keeps the snapshot they are borrowed from),
 * then a GET of the Namespace through the cache (*fetched, a new reference): the watch may not
 * have delivered a namespace created a moment ago. Misses are counted, and trouble is logged
 * once per namespace per TTL.
 */
static const json_t *namespace_labels(struct http *h, const char *ns, struct model **snap,
                                      json_t **fetched, char *why, size_t size)
{
    struct nscache_result r;
    const json_t *labels;
    size_t off = 0;

    *snap = NULL;
    *fetched = NULL;
    why[0] = '\0';
    if (h->cluster) {
        *snap = cluster_model(h->cluster);
        if ((labels = model_ns_labels(*snap, ns)))
            return labels;
        off = (size_t)snprintf(why, size, "not in the cluster model: %s",
                               model_complete(*snap, MODEL_NAMESPACE)
                                   ? "no such namespace has been watched"
                                   : "namespaces are not listed yet");
    }
    if (!h->nscache) {
        if (!h->cluster)
            snprintf(why, size, "egressguard has no access to the Kubernetes API "
                                "(--no-namespace-lookup, or no credentials)");
        metrics_ns_lookup(h->metrics, METRICS_NS_UNKNOWN);
        return NULL;
    }
    *fetched = nscache_get(h->nscache, ns, &r);
    if (r.fetched)
        metrics_ns_lookup(h->metrics, r.fetch_failed               ? METRICS_NS_API_ERROR
                                      : r.source == NSCACHE_ABSENT ? METRICS_NS_API_NOT_FOUND
                                                                   : METRICS_NS_API_OK);
    if (r.source == NSCACHE_STALE) {
        metrics_ns_lookup(h->metrics, METRICS_NS_STALE);
        if (r.warn)
            log_msg(h->log, LOG_WARN,
                    "namespace %s: its labels could not be refreshed (%s); using those from %lld s "
                    "ago",
                    ns, r.fetch_failed ? r.err.msg : "no API lookup possible now",
                    (long long)(r.age_ms / 1000));
    } else if (r.source == NSCACHE_UNKNOWN || r.source == NSCACHE_ABSENT) {
        const char *cause = r.source == NSCACHE_ABSENT ? "the API server says it does not exist"
                            : r.fetch_failed          ? r.err.msg
                                                      : "no API answer now";
        metrics_ns_lookup(h->metrics, METRICS_NS_UNKNOWN);
        if (off < size)
            snprintf(why + off, size - off, "%sGET of the Namespace: %.240s", off ? "; " : "", cause);
        if (r.warn)
            log_msg(h->log, LOG_WARN, "namespace %s: labels unknown (%s); decisions that depend "
                                      "on them fail closed",
                    ns, why);
    }
    return *fetched;
}

static enum MHD_Result answer_admission(struct request *rq, struct MHD_Connection *c)
{
    struct http *h = rq->h;
    enum admission_op op = rq->route == ROUTE_MUTATE ? ADMISSION_MUTATE : ADMISSION_VALIDATE;
    const char *endpoint = op == ADMISSION_MUTATE ? "mutate" : "validate";
    struct admission a;
    struct err e = {0}, eval = {0};
    struct verdict v;
    struct policy_ref *ref;
    const struct policy *pol;
    struct nsdb ns_view;
    struct budget work;
    struct model *snap = NULL;
    struct modelctx *mc = NULL;
    const json_t *labels = NULL;
    json_t *fetched = NULL;
    char why[400];
    char *text;
    size_t len = 0;
    int rc;

    if (admission_decode(&a, rq->body.data ? rq->body.data : "", rq->body.len, 0, &e) < 0) {
        char msg[600];
        snprintf(msg, sizeof(msg), "bad AdmissionReview: %s", e.msg);
        return reply_error(rq, c, MHD_HTTP_BAD_REQUEST, msg);
    }
    ref = live_policy_get(h->live);
    pol = policy_ref_policy(ref);
    verdict_init(&v);
    if (decide_uses_namespace_labels(pol, &a.obj, &a.ctx)) {
        labels = namespace_labels(h, a.obj.ns, &snap, &fetched, why, sizeof(why));
        nsdb_init_one(&ns_view, a.obj.ns, labels);
        a.ctx.namespaces = &ns_view;
        a.ctx.ns_unknown_reason = why;
        a.ctx.ns_unknown_allow = h->ns_unknown_allow;
    }
    /* The other policies and the address sets, from the cluster model: never from the request. */
    if (h->cluster && op == ADMISSION_VALIDATE && (mc = cluster_context(h->cluster, &eval))) {
        a.ctx.sets = mc->sets;
        a.ctx.policies = &mc->policies;
        a.ctx.context = &mc->in;
        /* A cluster-scoped object (CCNP, GNP, ANP, a global set) reaches namespaces cluster-wide:
         * every namespace of the snapshot, a reference (no copy). Namespaced ones keep theirs. */
        if (!*a.obj.ns && strcmp(a.obj.kind, "Namespace") != 0)
            a.ctx.namespaces = &mc->ns;
    }
    budget_init(&work, h->max_work);
    a.ctx.budget = &work;
    rc = h->cluster && op == ADMISSION_VALIDATE && !mc ? -1
                                                        : admission_decide(pol, op, &a, &v, &eval);
    if (budget_over(&work))
        metrics_over_budget(h->metrics);
    if (h->enforcer && rc == 0) {
        if (!snap)
            snap = cluster_model(h->cluster);
        namespaced_mode(h->enforcer, pol, op, &a, snap,
                        labels ? labels : model_ns_labels(snap, a.obj.ns), &v);
    }
    text = admission_encode(&a, pol, &v, rc < 0 ? &eval : NULL, &len);
    if (log_enabled(h->log, LOG_INFO)) {
        struct log_decision d = {
            .endpoint = endpoint, .uid = a.uid, .kind = a.obj.kind, .ns = a.obj.ns,
            .name = a.obj.name, .operation = a.operation, .user = a.username,
            .verdict = admission_verdict_word(&v, rc < 0 ? &eval : NULL),
            .dry_run = a.ctx.dry_run,
            .latency_us = (long)(seconds_since(&rq->start) * 1e6)};
        /* The first reason in full; the log cuts it (on a character boundary) if it is long. */
        char *reason = NULL;
        if (rc < 0) {
            reason = buf_strfmt("cannot evaluate: %s", eval.msg);
        } else if (v.exemption) {
            reason = buf_strfmt("exempt: %s", v.exemption);
        } else {
            for (size_t i = 0; i < v.n_findings && !reason; i++)
                if (v.findings[i].violation)
                    reason = buf_strfmt("%s: %s", v.findings[i].rule,
                                        v.findings[i].message ? v.findings[i].message : "");
        }
        d.reason = reason;
        log_decision(h->log, &d);
        free(reason);
    }
    metrics_request(h->metrics, endpoint, a.obj.kind, a.operation,
                    admission_verdict_word(&v, rc < 0 ? &eval : NULL), seconds_since(&rq->start));
    verdict_release(&v);
    live_policy_put(ref);
    admission_release(&a);
    json_decref(fetched);
    model_unref(snap);
    modelctx_unref(mc);
    if (!text)
        return reply_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "cannot write the answer (out of memory, or over its cap)");
    return reply(h, c, MHD_HTTP_OK, "application/json", text, len, NULL, NULL);
}

/*
 * /readyz: ready unless shutting down, serving a certificate that has expired meanwhile (a client
 * refuses it, so the Service should send requests to another replica), or before the cluster
 * model's first sync (decisions would see every namespace unknown).
 */
static enum MHD_Result answer_ready(struct http *h, struct MHD_Connection *c)
{
    struct tls_creds *creds;
    struct err e = {0};
    enum tls_validity v;
    struct buf why;
    size_t len;
    char *text;

    if (atomic_load(&h->draining))
        return reply_text(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down\n");
    creds = live_creds_get(h->live);
    v = tls_creds_check_time(creds, time(NULL), &e);
    tls_creds_unref(creds);
    if (v != TLS_VALID) {
        text = buf_strfmt("not ready: serving %s\n", e.msg);
        return reply(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", text,
                     text ? strlen(text) : 0, NULL, NULL);
    }
    buf_init(&why, 4096);
    if (!h->cluster || cluster_ready(h->cluster, &why)) {
        buf_release(&why);
        return reply_text(h, c, MHD_HTTP_OK, "ready\n");
    }
    buf_puts(&why, "\n");
    text = buf_detach(&why, &len);
    return reply(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", text, text ? len : 0, NULL,
                 NULL);
}

/* Prometheus label values escape backslash, double quote and newline. */
static void label_value(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_printf(b, "\\%c", *s);
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_add(b, s, 1);
    }
}

/* The counters, which policy is served (so that replicas serving different files show), and the
 * cluster model's state. malloc()ed, or NULL on out of memory. */
static char *render_metrics(struct http *h, size_t *len)
{
    struct policy_ref *ref = live_policy_get(h->live);
    const struct policy *pol = policy_ref_policy(ref);
    size_t n = 0, counts[3];
    char *text;
    struct buf b;

    /* Exemptions change state with the clock, not with events: counted at each scrape. */
    policy_exemption_counts(pol, (int64_t)time(NULL), counts);
    metrics_exemptions(h->metrics, counts);
    metrics_gauges(h->metrics, atomic_load(&h->active), atomic_load(&h->body_bytes),
                   h->max_inflight);
    text = metrics_render(h->metrics, &n);

    buf_init(&b, 0);
    if (text)
        buf_add(&b, text, n);
    free(text);
    buf_puts(&b, "# HELP egressguard_policy_info The policy served: metadata.name and the first 16 "
                 "hex digits of the file's SHA-256.\n"
                 "# TYPE egressguard_policy_info gauge\n"
                 "egressguard_policy_info{name=\"");
    label_value(&b, pol->name ? pol->name : "");
    buf_printf(&b, "\",hash=\"%s\"} 1\n", pol->hash);
    live_policy_put(ref);
    if (h->cluster)
        cluster_metrics(h->cluster, &b);
    if (h->auditor)
        auditor_metrics(h->auditor, &b);
    if (!text) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, len);
}

static enum MHD_Result answer(struct request *rq, struct MHD_Connection *c)
{
    struct http *h = rq->h;
    char *text;
    size_t len = 0;

    if (rq->reject)
        return reply_error(rq, c, (unsigned)rq->reject, rq->reject_msg);
    switch (rq->route) {
    case ROUTE_VALIDATE:
    case ROUTE_MUTATE:
        return answer_admission(rq, c);
    case ROUTE_HEALTHZ:
        return reply_text(h, c, MHD_HTTP_OK, "ok\n");
    case ROUTE_READYZ:
        return answer_ready(h, c);
    case ROUTE_METRICS:
        if (!(text = render_metrics(h, &len)))
            return reply_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return reply(h, c, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len, NULL, NULL);
    default:
        return reply_error(rq, c, MHD_HTTP_NOT_FOUND, "not found");
    }
}

/* Counts n more body bytes against --max-inflight-bytes; false when they do not fit. */
static bool hold_body(struct http *h, struct request *rq, size_t n)
{
    size_t cur = atomic_load(&h->body_bytes);

    do {
        if (n > h->max_inflight - cur)
            return false;
    } while (!atomic_compare_exchange_weak(&h->body_bytes, &cur, cur + n));
    rq->held += n;
    return true;
}

static void drop_body(struct request *rq)
{
    buf_release(&rq->body);
    atomic_fetch_sub(&rq->h->body_bytes, rq->held);
    rq->held = 0;
}

/*
 * Stores a piece of the body, or decides the request's refusal (the rest is drained unread). A
 * body of declared length is held and allocated whole with its first piece (one allocation of
 * exactly its size); a chunked one piece by piece (its buffer may then be up to twice as big).
 */
static void take_body(struct request *rq, const char *data, size_t n)
{
    struct http *h = rq->h;
    size_t want = rq->body.len + n;

    if (rq->declared > want)
        want = rq->declared;
    if (rq->body.len + n > h->max_body) {
        rq->reject = MHD_HTTP_CONTENT_TOO_LARGE;
        rq->reject_msg = "request body too large";
    } else if (want > rq->held && !hold_body(h, rq, want - rq->held)) {
        /* Every connection may send up to --max-body; together they may not exceed this. */
        rq->reject = MHD_HTTP_TOO_MANY_REQUESTS;
        rq->reject_msg = "too many request bytes in flight (--max-inflight-bytes): retry";
    } else if ((!rq->declared || buf_reserve(&rq->body, want - rq->body.len) == 0) &&
               buf_add(&rq->body, data, n) == 0) {
        return;
    } else {
        rq->reject = MHD_HTTP_INTERNAL_SERVER_ERROR;
        rq->reject_msg = "out of memory";
    }
    drop_body(rq);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **req_cls)
{
    struct http *h = cls;
    struct request *rq = *req_cls;

    (void)version;
    if (!rq) {
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        rq->h = h;
        clock_gettime(CLOCK_MONOTONIC, &rq->start);
        buf_init(&rq->body, h->max_body);
        rq->route = route_of(url);
        *req_cls = rq;
        atomic_fetch_add(&h->active, 1);
        classify(rq, c, url, method);
        /* A declared size over the cap is refused before any byte is read (and before curl's
         * Expect: 100-continue is answered), so the status arrives intact. */
        if (rq->reject == MHD_HTTP_CONTENT_TOO_LARGE)
            return answer(rq, c);
        return MHD_YES;
    }
    if (*size) {
        /* Rejected requests and over-long chunked bodies are drained, not stored:
         * libmicrohttpd 0.9.75 cannot queue a response in the middle of an upload. */
        if (!rq->reject)
            take_body(rq, data, *size);
        *size = 0;
        return MHD_YES;
    }
    return answer(rq, c);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct http *h = cls;
    struct request *rq = *req_cls;
    struct conn *cn = conn_of(c);

    if (!rq)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_msg(h->log, LOG_DEBUG, "request ended early (code %d)", (int)toe);
    drop_body(rq);
    free(rq);
    *req_cls = NULL;
    if (cn && !cn->answered) {
        cn->answered = true;
        atomic_fetch_sub(&h->unanswered, 1);
    }
    atomic_fetch_sub(&h->active, 1);
}

static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    struct http *h = cls;
    struct conn *cn = *socket_context;
    const union MHD_ConnectionInfo *si;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if ((cn = calloc(1, sizeof(*cn)))) {
            cn->h = h;
            atomic_fetch_add(&h->unanswered, 1);
        }
        *socket_context = cn;
        /* The TLS session exists and has not shaken hands yet: ask for a client certificate.
         * libmicrohttpd would do so only with CAs of its own, fixed at start; ours reload. */
        if (h->verify_clients &&
            (si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION)) &&
            si->tls_session)
            gnutls_certificate_server_set_request((gnutls_session_t)si->tls_session,
                                                  GNUTLS_CERT_REQUEST);
    } else if (cn) {
        if (!cn->answered)
            atomic_fetch_sub(&h->unanswered, 1);
        tls_creds_unref(cn->creds);
        tls_trust_unref(cn->trust);
        free(cn);
        *socket_context = NULL;
    }
}

/*
 * libmicrohttpd asks for the certificate on each handshake. The connection keeps a reference to
 * the credentials it was given, so a reload can free the old ones only once no session uses them.
 */
static int cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                         gnutls_pcert_st **pcert, unsigned int *pcert_length,
                         gnutls_privkey_t *pkey)
{
    struct conn *cn = conn_of(gnutls_session_get_ptr(session));

    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (!cn)
        return -1;
    if (!cn->creds)
        cn->creds = live_creds_get(cn->h->live);
    tls_creds_retrieve(cn->creds, pcert, pcert_length, pkey);
    return 0;
}

/* libmicrohttpd hands us its own printf-style format. */
static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    const struct http *h = cls;
    struct buf msg;
    size_t n;

    if (!log_enabled(h->log, LOG_WARN))
        return;
    buf_init(&msg, MHD_LOG_CAP);
    buf_vprintf(&msg, fmt, ap);
    n = msg.len;
    while (n && (msg.data[n - 1] == '\n' || msg.data[n - 1] == '\r'))
        msg.data[--n] = '\0';
    log_msg(h->log, LOG_WARN, "libmicrohttpd: %s",
            msg.failed ? "(a message over its cap)" : buf_str(&msg));
    buf_release(&msg);
}

struct http *http_start(const struct http_options *o, struct live *live, struct metrics *m,
                        const struct log *lg, struct err *e)
{
    struct http *h = calloc(1, sizeof(*h));
    unsigned threads = o->threads;
    unsigned flags = MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);

    memset(&bound, 0, sizeof(bound));
    if (!h) {
        close(o->listen_fd);
        err_set(e, "out of memory");
        return NULL;
    }
    h->live = live;
    h->metrics = m;
    h->log = lg;
    h->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
    h->max_inflight = o->max_inflight ? o->max_inflight : HTTP_DEFAULT_MAX_INFLIGHT;
    h->verify_clients = o->verify_clients;
    h->enforcer = o->enforcer;
    h->nscache = o->nscache;
    h->cluster = o->cluster;
    h->auditor = o->auditor;
    h->ns_unknown_allow = o->ns_unknown_allow;
    h->max_work = o->max_work ? o->max_work : BUDGET_DEFAULT_UNITS;
    atomic_init(&h->body_bytes, 0);
    atomic_init(&h->active, 0);
    atomic_init(&h->unanswered, 0);
    atomic_init(&h->draining, false);
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (getsockname(o->listen_fd, (struct sockaddr *)&bound, &bound_len) == 0)
        h->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&bound)->sin6_port
                            : ((struct sockaddr_in *)&bound)->sin_port);
    if (bound.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)o->listen_fd, MHD_OPTION_HTTPS_PRIORITIES,
        tls_priorities, MHD_OPTION_HTTPS_CERT_CALLBACK, cert_callback,
        MHD_OPTION_NOTIFY_CONNECTION, connection_notify, h, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, h, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, o->timeout ? o->timeout : 10u,
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 512u,
        /* headers of one request; the body goes to our own capped buffer */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_END);
    if (!h->daemon) {
        close(o->listen_fd);
        err_set(e, "cannot start the HTTPS server (see the libmicrohttpd message above)");
        free(h);
        return NULL;
    }
    return h;
}

unsigned http_port(const struct http *h)
{
    return h->port;
}

void http_drain(struct http *h)
{
    atomic_store(&h->draining, true);
}

void http_quiesce(struct http *h)
{
    MHD_socket s;

    atomic_store(&h->draining, true);
    s = MHD_quiesce_daemon(h->daemon);
    if (s != MHD_INVALID_SOCKET)
        close(s);
}

long http_pending(struct http *h)
{
    return atomic_load(&h->active) + atomic_load(&h->unanswered);
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
