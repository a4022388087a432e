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
#include "policy/base/buf.h"
#include "server/webhook/admission.h"
#include "server/webhook/tls.h"

struct http {
    struct MHD_Daemon *daemon;
    struct live *live;
    struct metrics *metrics;
    const struct log *log;
    size_t max_body;
    bool verify_clients;
    struct enforcer *enforcer;
    struct nscache *nscache;
    atomic_bool stopping;
    unsigned port;
};

/* Per connection (socket_context): the credentials its handshake used, held until it closes. */
struct conn {
    struct http *h;
    struct tls_creds *creds;
};

enum route { ROUTE_NONE = 0, ROUTE_VALIDATE, ROUTE_MUTATE, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS };

/* Per request: created on the first callback, freed only in request_completed(). */
struct request {
    struct http *h;
    enum route route;
    int reject;             /* status to answer once the body is drained; 0 = none */
    const char *reject_msg; /* static text */
    struct buf body;
    struct timespec start;
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len, const char *allow)
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
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_error(struct request *rq, struct MHD_Connection *c, unsigned status,
                                   const char *msg)
{
    json_t *j = json_pack("{s:i, s:s}", "code", (int)status, "error", msg);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    const char *allow = NULL;

    json_decref(j);
    metrics_http_error(rq->h->metrics, (int)status);
    log_msg(rq->h->log, LOG_WARN, "HTTP %u: %s", status, msg);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        allow = (rq->route == ROUTE_VALIDATE || rq->route == ROUTE_MUTATE) ? "POST" : "GET, HEAD";
    return reply(c, status, "application/json", text, text ? strlen(text) : 0, allow);
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

static bool client_verified(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    unsigned status = 0;

    if (!ci || !ci->tls_session)
        return false;
    if (gnutls_certificate_type_get((gnutls_session_t)ci->tls_session) != GNUTLS_CRT_X509)
        return false;
    return gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) == 0 &&
           status == 0;
}

/* Looks at the headers once, before any body byte: route, method, type, size, client. */
static void classify(struct request *rq, struct MHD_Connection *c, const char *url,
                     const char *method)
{
    bool post = rq->route == ROUTE_VALIDATE || rq->route == ROUTE_MUTATE;
    const char *len_text;

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
    } else if (post && rq->h->verify_clients && !client_verified(c)) {
        rq->reject = MHD_HTTP_FORBIDDEN;
        rq->reject_msg = "a client certificate signed by the --client-ca is required";
    }
    len_text = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len_text && strtoull(len_text, NULL, 10) > rq->h->max_body) {
        rq->reject = MHD_HTTP_CONTENT_TOO_LARGE;
        rq->reject_msg = "request body too large";
    }
    (void)url;
}

/*
 * Namespaced mode: an AI Namespace admitted (not a dry run) is queued for its NetworkPolicies;
 * a Pod in an AI namespace whose policies are not confirmed yet is denied.
 */
static void namespaced_mode(struct enforcer *en, const struct policy *pol, enum admission_op op,
                            const struct admission *a, struct verdict *v)
{
    const struct object *o = &a->obj;
    const json_t *labels;
    char msg[400];

    if (!strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1")) {
        labels = json_object_get(json_object_get(o->json, "metadata"), "labels");
        if (!a->ctx.dry_run && (!strcmp(a->operation, "CREATE") || !strcmp(a->operation, "UPDATE")) &&
            (v->patch || policy_ns_is_ai(pol, o->name, json_is_object(labels) ? labels : NULL)))
            enforcer_enqueue(en, o->name);
        return;
    }
    if (op != ADMISSION_VALIDATE || strcmp(o->kind, "Pod") || strcmp(o->api_version, "v1") ||
        !strcmp(a->operation, "DELETE") || !*o->ns)
        return;
    labels = a->ctx.namespaces ? nsdb_labels(a->ctx.namespaces, o->ns) : NULL;
    if (!enforcer_pod_gate(en, o->ns, policy_ns_is_ai(pol, o->ns, labels), msg, sizeof(msg)))
        verdict_add(v, o, NULL, "namespacedMode.unconfirmed", MODE_ENFORCE, true, "", "%s", msg);
}

/*
 * The labels of the request's namespace (new reference, or NULL when unknown). A hit costs a hash
 * lookup; anything else is counted, and trouble is logged once per namespace per TTL.
 */
static json_t *namespace_labels(struct http *h, const char *ns)
{
    struct nscache_result r;
    json_t *labels = nscache_get(h->nscache, ns, &r);

    if (r.source == NSCACHE_HIT && !r.fetched)
        return labels;
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
        metrics_ns_lookup(h->metrics, METRICS_NS_UNKNOWN);
        if (r.warn)
            log_msg(h->log, LOG_WARN,
                    "namespace %s: labels unknown (%s); it is an AI namespace only if its name "
                    "matches aiWorkloads.namespaces.names",
                    ns,
                    r.fetch_failed ? r.err.msg
                    : r.no_fetch   ? "no Kubernetes API access and no Namespace admission seen"
                                   : "no API answer");
    }
    return labels;
}

/*
 * A Namespace admitted by /validate (the last word before it is stored: mutations are applied
 * by then) is what the cache should know; a deleted one is forgotten. Dry runs change nothing.
 */
static void learn_namespace(struct http *h, const struct admission *a, const struct verdict *v)
{
    const struct object *o = &a->obj;
    const json_t *labels;

    if (strcmp(o->kind, "Namespace") || strcmp(o->api_version, "v1") || !*o->name ||
        a->ctx.dry_run)
        return;
    if (!strcmp(a->operation, "DELETE")) {
        nscache_drop(h->nscache, o->name);
        return;
    }
    if (!v->allowed || (*a->operation && strcmp(a->operation, "CREATE") &&
                        strcmp(a->operation, "UPDATE")))
        return;
    labels = json_object_get(json_object_get(o->json, "metadata"), "labels");
    if (nscache_put(h->nscache, o->name, json_is_object(labels) ? labels : NULL) < 0)
        log_msg(h->log, LOG_WARN, "namespace %s: out of memory recording its labels", o->name);
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
    json_t *ns_labels = NULL;
    char *text;
    size_t len = 0;
    int rc;
    enum MHD_Result mrc;

    if (admission_decode(&a, rq->body.data ? rq->body.data : "", rq->body.len, 0, &e) < 0) {
        char msg[600];
        snprintf(msg, sizeof(msg), "bad AdmissionReview: %s", e.msg);
        return reply_error(rq, c, MHD_HTTP_BAD_REQUEST, msg);
    }
    ref = live_policy_get(h->live);
    pol = policy_ref_policy(ref);
    verdict_init(&v);
    if (h->nscache && decide_uses_namespace_labels(pol, &a.obj, &a.ctx)) {
        ns_labels = namespace_labels(h, a.obj.ns);
        nsdb_init_one(&ns_view, a.obj.ns, ns_labels);
        a.ctx.namespaces = &ns_view;
    }
    rc = admission_decide(pol, op, &a, &v, &eval);
    if (h->nscache && op == ADMISSION_VALIDATE && rc == 0)
        learn_namespace(h, &a, &v);
    if (h->enforcer && rc == 0)
        namespaced_mode(h->enforcer, pol, op, &a, &v);
    text = admission_encode(&a, pol, &v, rc < 0 ? &eval : NULL, &len);
    if (log_enabled(h->log, LOG_INFO)) {
        struct log_decision d = {
            .endpoint = endpoint, .uid = a.uid, .kind = a.obj.kind, .ns = a.obj.ns,
            .name = a.obj.name, .operation = a.operation, .user = a.username,
            .verdict = admission_verdict_word(&v, rc < 0 ? &eval : NULL),
            .dry_run = a.ctx.dry_run,
            .latency_us = (long)(seconds_since(&rq->start) * 1e6)};
        char reason[600] = "";
        if (rc < 0) {
            snprintf(reason, sizeof(reason), "cannot evaluate: %s", eval.msg);
        } else if (v.exemption) {
            snprintf(reason, sizeof(reason), "exempt: %s", v.exemption);
        } else {
            for (size_t i = 0; i < v.n_findings; i++) {
                if (v.findings[i].violation) {
                    snprintf(reason, sizeof(reason), "%s: %s", v.findings[i].rule,
                             v.findings[i].message ? v.findings[i].message : "");
                    break;
                }
            }
        }
        d.reason = reason;
        log_decision(h->log, &d);
    }
    metrics_request(h->metrics, endpoint, a.obj.kind, a.operation,
                    admission_verdict_word(&v, rc < 0 ? &eval : NULL), seconds_since(&rq->start));
    verdict_release(&v);
    live_policy_put(ref);
    admission_release(&a);
    json_decref(ns_labels);
    if (!text)
        return reply_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    mrc = reply(c, MHD_HTTP_OK, "application/json", text, len, NULL);
    return mrc;
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
        return reply(c, MHD_HTTP_OK, "text/plain", strdup("ok\n"), 3, NULL);
    case ROUTE_READYZ:
        /* live_new() loaded the policy and the certificates before the daemon started. */
        if (atomic_load(&h->stopping))
            return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", strdup("shutting down\n"),
                         14, NULL);
        return reply(c, MHD_HTTP_OK, "text/plain", strdup("ready\n"), 6, NULL);
    case ROUTE_METRICS: {
        /* Exemptions change state with the clock, not with events: counted at each scrape. */
        struct policy_ref *ref = live_policy_get(h->live);
        size_t counts[3];

        policy_exemption_counts(policy_ref_policy(ref), (int64_t)time(NULL), counts);
        live_policy_put(ref);
        metrics_exemptions(h->metrics, counts);
        text = metrics_render(h->metrics, &len);
        if (!text)
            return reply_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4", text, len, NULL);
    }
    default:
        return reply_error(rq, c, MHD_HTTP_NOT_FOUND, "not found");
    }
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
        metrics_in_flight(h->metrics, 1);
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
        if (!rq->reject && buf_add(&rq->body, data, *size) < 0) {
            rq->reject = rq->body.len + *size > h->max_body ? MHD_HTTP_CONTENT_TOO_LARGE
                                                            : MHD_HTTP_INTERNAL_SERVER_ERROR;
            rq->reject_msg = rq->reject == MHD_HTTP_CONTENT_TOO_LARGE ? "request body too large"
                                                                      : "out of memory";
            buf_release(&rq->body);
        }
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

    (void)c;
    if (!rq)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_msg(h->log, LOG_DEBUG, "request ended early (code %d)", (int)toe);
    buf_release(&rq->body);
    free(rq);
    *req_cls = NULL;
    metrics_in_flight(h->metrics, -1);
}

static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    struct http *h = cls;
    struct conn *cn = *socket_context;

    (void)c;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if ((cn = calloc(1, sizeof(*cn))))
            cn->h = h;
        *socket_context = cn;
    } else if (cn) {
        tls_creds_unref(cn->creds);
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
    struct MHD_Connection *c = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    struct conn *cn = ci ? ci->socket_context : NULL;

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
    char msg[512];
    size_t n;

    if (!log_enabled(h->log, LOG_WARN))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(h->log, LOG_WARN, "libmicrohttpd: %s", msg);
}

struct http *http_start(const struct http_options *o, struct live *live, struct metrics *m,
                        const struct log *lg, struct err *e)
{
    struct http *h = calloc(1, sizeof(*h));
    unsigned threads = o->threads;
    unsigned flags = MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *di;

    if (!h) {
        err_set(e, "out of memory");
        return NULL;
    }
    h->live = live;
    h->metrics = m;
    h->log = lg;
    h->max_body = o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY;
    h->verify_clients = o->client_ca != NULL;
    h->enforcer = o->enforcer;
    h->nscache = o->nscache;
    atomic_init(&h->stopping, false);
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    if (o->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&o->addr, MHD_OPTION_HTTPS_PRIORITIES, tls_priorities,
        MHD_OPTION_HTTPS_CERT_CALLBACK, cert_callback, MHD_OPTION_NOTIFY_CONNECTION,
        connection_notify, h, MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        o->timeout ? o->timeout : 10u, MHD_OPTION_CONNECTION_LIMIT,
        o->max_connections ? o->max_connections : 512u,
        /* headers of one request; the body goes to our own capped buffer */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        1u, o->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, o->client_ca,
        MHD_OPTION_END);
    if (!h->daemon) {
        err_set(e, "cannot start the HTTPS server (address in use, or bad TLS settings)");
        free(h);
        return NULL;
    }
    di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    return h;
}

unsigned http_port(const struct http *h)
{
    return h->port;
}

void http_quiesce(struct http *h)
{
    MHD_socket s;

    atomic_store(&h->stopping, true);
    s = MHD_quiesce_daemon(h->daemon);
    if (s != MHD_INVALID_SOCKET)
        close(s);
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}

int http_parse_listen(const char *text, struct sockaddr_storage *out, socklen_t *len,
                      bool *loopback, struct err *e)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    size_t hl;
    char *end;
    unsigned long port;

    memset(out, 0, sizeof(*out));
    if (!colon)
        return err_set(e, "--listen wants ADDR:PORT, not \"%s\"", text);
    port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535)
        return err_set(e, "bad port in --listen \"%s\"", text);
    hl = (size_t)(colon - text);
    if (hl >= 2 && text[0] == '[' && text[hl - 1] == ']') {
        text++;
        hl -= 2;
    }
    if (hl >= sizeof(host))
        return err_set(e, "bad address in --listen \"%s\"", text);
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (!hl)
        strcpy(host, "0.0.0.0");
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    return err_set(e, "bad address in --listen: \"%s\" is not an IPv4 or IPv6 address", host);
}
