/* egressguard serve: options, signals, reloads and the shutdown sequence. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/cmd/cli.h"
#include "server/cmd/opts.h"
#include "server/webhook/devcerts.h"
#include "server/kube/auditor.h"
#include "server/kube/cluster.h"
#include "server/kube/enforcer.h"
#include "server/webhook/http.h"
#include "server/webhook/listener.h"
#include "server/webhook/live.h"
#include "server/webhook/log.h"
#include "server/webhook/metrics.h"
#include "server/kube/nsapi.h"
#include "server/kube/nscache.h"
#include "server/webhook/tls.h"

extern const char embedded_example_policy[];
extern const size_t embedded_example_policy_len;

#define SHUTDOWN_GRACE_MS 10000 /* once no longer accepting, requests get this long to finish */
#define SHUTDOWN_DELAY_MS 5000  /* --shutdown-delay: still accepting after SIGTERM */
#define RELOAD_SETTLE_MS 150    /* let a writer finish (cert, then key) before reloading */
#define NS_LOOKUP_TIMEOUT_MS 2000 /* an API lookup delays an admission at most this long */

struct serve_opts {
    const char *policy, *cert, *key, *listen, *client_ca, *dev_certs, *kubeconfig;
    int namespaced;
    bool no_audit;
    unsigned audit_s; /* --audit-interval */
    enum ns_lookup { NS_LOOKUP_AUTO = 0, NS_LOOKUP_API, NS_LOOKUP_OFF } ns_lookup;
    unsigned ns_ttl; /* seconds */
    unsigned discovery_s; /* --kube-discovery-interval */
    bool ns_unknown_allow;
    enum log_level level;
    size_t max_body, max_inflight;
    unsigned long long max_work;
    long shutdown_delay_ms; /* -1: the default */
    unsigned threads;
    int dev;
};

static const char usage_text[] =
    "usage: egressguard serve --policy FILE --tls-cert FILE --tls-key FILE [options]\n"
    "       egressguard serve --dev [--listen 127.0.0.1:PORT]\n\n"
    "Runs the admission webhook over HTTPS: POST /validate, POST /mutate, GET /healthz,\n"
    "GET /readyz, GET /metrics. The policy, certificate and key are reloaded on SIGHUP and\n"
    "when their files change (ConfigMap/Secret symlink swaps included); a file that does not\n"
    "load is logged and the old one keeps serving, and so is a serving certificate that\n"
    "has expired or is not valid yet.\n\n"
    "SIGTERM drains: /readyz fails at once, connections are still accepted for\n"
    "--shutdown-delay but every answer closes its connection (so clients reconnect to\n"
    "another replica), then the server stops accepting, finishes what is in flight and\n"
    "exits 0. A second SIGTERM, or SIGINT, skips the rest of the delay.\n\n"
    "Options:\n"
    "  -p, --policy FILE     the egress policy (YAML)\n"
    "  --tls-cert FILE       serving certificate chain (PEM, leaf first)\n"
    "  --tls-key FILE        its private key (PEM)\n"
    "  --listen ADDR:PORT    where to listen (default 0.0.0.0:8443; port 0 picks a free one)\n"
    "  --client-ca FILE      require /validate and /mutate clients to present a certificate\n"
    "                        signed by these CAs with extended key usage clientAuth\n"
    "                        (health and metrics stay open); reloaded like the certificate\n"
    "  --log-level LEVEL     debug, info (default), warn or error\n"
    "  --max-body BYTES      largest request body (default 8388608): 413 beyond it\n"
    "  --max-inflight-bytes BYTES\n"
    "                        request bodies held by all connections together (default\n"
    "                        67108864, at least --max-body): 429 beyond it\n"
    "  --max-decision-work UNITS\n"
    "                        the most work one decision may take (default 16000000,\n"
    "                        about a second); an object that needs more is denied as\n"
    "                        too complex and counted in\n"
    "                        egressguard_decisions_over_budget_total\n"
    "  --shutdown-delay DURATION\n"
    "                        how long to keep accepting after SIGTERM, e.g. 5s (default),\n"
    "                        500ms, 0\n"
    "  --threads N           worker threads (default: one per core)\n"
    "  --dev                 development mode: the embedded example policy, loopback only;\n"
    "                        a development CA and certificate are created in --dev-certs\n"
    "                        unless --tls-cert/--tls-key are given\n"
    "  --dev-certs DIR       where --dev keeps its certificates (default build/dev-certs)\n"
    "  --namespaced-mode     for clusters without a cluster-wide policy: keep the rendered\n"
    "                        NetworkPolicies (render networkpolicy) in every AI namespace\n"
    "                        of the cluster model through the Kubernetes API (created,\n"
    "                        re-created, repaired, re-applied after a reload, dropped when\n"
    "                        no longer wanted); pods in an AI namespace are denied until\n"
    "                        its policies are in the model\n"
    "  --kubeconfig FILE     the API server and credentials for the cluster model and\n"
    "                        --namespaced-mode (default: the in-cluster service account)\n\n"
    "The cluster model: with API credentials (--kubeconfig, or in a cluster with a\n"
    "service account) the server LISTs and WATCHes Namespaces and every network policy\n"
    "kind the API server serves (discovery, repeated every --kube-discovery-interval, so a\n"
    "CRD installed later is picked up) into a model that decisions read; /readyz answers\n"
    "503 until the first LIST of every served kind is in. Admission requests never change\n"
    "it. The labels of a request's namespace come from the model, or from\n"
    "GET /api/v1/namespaces/NAME when the model does not have it yet (2 s timeout). When\n"
    "they cannot be known and the verdict depends on them, the request is denied with a\n"
    "message that says so (logged once per namespace per TTL, counted in\n"
    "egressguard_namespace_lookup_failures_total).\n"
    "  --namespace-labels-unknown deny|allow\n"
    "                        deny (default): fail closed as above; allow: judge such a\n"
    "                        namespace as not an AI namespace (by its name only)\n"
    "  --namespace-labels-from-api\n"
    "                        require API access: fail at start without credentials\n"
    "  --no-namespace-lookup never ask the API (no model, no GET): every verdict that\n"
    "                        depends on namespace labels fails closed\n"
    "  --namespace-cache-ttl SECONDS\n"
    "                        how long a GET's answer is fresh (default 60)\n"
    "  --kube-discovery-interval SECONDS\n"
    "                        how often to ask which kinds are served (default 60)\n\n"
    "The continuous audit: with the cluster model, every Namespace, Pod and network policy\n"
    "of the cluster is judged at the first sync, and again as the watches see it change,\n"
    "when the policy file is reloaded and when an exemption starts warning or ends; the\n"
    "results are written as wgpolicyk8s.io PolicyReports (one per namespace, a\n"
    "ClusterPolicyReport for cluster-scoped objects; install deploy/policyreport/ for their\n"
    "CRDs and permissions) by the replica holding the Lease egressguard-audit.\n"
    "  --no-audit            no continuous audit\n"
    "  --audit-interval SECONDS\n"
    "                        how often the audit renews its Lease and asks whether the\n"
    "                        PolicyReport CRDs are served (default 30; the Lease lasts\n"
    "                        three intervals, at least 15 s)\n\n"
    "Exit status: 0 after SIGTERM or SIGINT, 1 when it cannot listen (the address or port\n"
    "is in use, or not this machine's), 2 for usage or configuration errors.\n";

enum {
    O_DEV,
    O_NAMESPACED,
    O_FROM_API,
    O_NO_LOOKUP,
    O_POLICY,
    O_TLS_CERT,
    O_TLS_KEY,
    O_LISTEN,
    O_CLIENT_CA,
    O_KUBECONFIG,
    O_NO_AUDIT,
    O_AUDIT_INTERVAL,
    O_DEV_CERTS,
    O_LOG_LEVEL,
    O_MAX_BODY,
    O_NS_TTL,
    O_THREADS,
    O_MAX_INFLIGHT,
    O_SHUTDOWN_DELAY,
    O_NS_UNKNOWN,
    O_DISCOVERY,
    O_MAX_WORK,
};

/* "5s", "500ms", "2" (seconds) or "0", up to 10 minutes, in milliseconds; -1 if not that. */
static long parse_duration(const char *text)
{
    unsigned long long n;
    char num[24];
    size_t digits = strspn(text, "0123456789");
    const char *unit = text + digits;
    unsigned long long scale = !*unit || !strcmp(unit, "s") ? 1000 : !strcmp(unit, "ms") ? 1 : 0;

    if (!digits || digits >= sizeof(num) || !scale)
        return -1;
    memcpy(num, text, digits);
    num[digits] = '\0';
    errno = 0;
    n = strtoull(num, NULL, 10); /* digits only: no sign, no junk */
    if (errno || n > 600000 || n * scale > 600000)
        return -1;
    return (long)(n * scale);
}

/* Returns OPTS_GO, or the exit code to stop with. */
static int parse_opts(int argc, char **argv, struct serve_opts *o)
{
    static const struct opt table[] = {
        {"dev", 0, OPT_FLAG, O_DEV},
        {"namespaced-mode", 0, OPT_FLAG, O_NAMESPACED},
        {"namespace-labels-from-api", 0, OPT_FLAG, O_FROM_API},
        {"no-namespace-lookup", 0, OPT_FLAG, O_NO_LOOKUP},
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"tls-cert", 0, OPT_VALUE, O_TLS_CERT},
        {"tls-key", 0, OPT_VALUE, O_TLS_KEY},
        {"listen", 0, OPT_VALUE, O_LISTEN},
        {"client-ca", 0, OPT_VALUE, O_CLIENT_CA},
        {"kubeconfig", 0, OPT_VALUE, O_KUBECONFIG},
        {"dev-certs", 0, OPT_VALUE, O_DEV_CERTS},
        {"log-level", 0, OPT_VALUE, O_LOG_LEVEL},
        {"max-body", 0, OPT_VALUE, O_MAX_BODY},
        {"namespace-cache-ttl", 0, OPT_VALUE, O_NS_TTL},
        {"threads", 0, OPT_VALUE, O_THREADS},
        {"max-inflight-bytes", 0, OPT_VALUE, O_MAX_INFLIGHT},
        {"shutdown-delay", 0, OPT_VALUE, O_SHUTDOWN_DELAY},
        {"namespace-labels-unknown", 0, OPT_VALUE, O_NS_UNKNOWN},
        {"kube-discovery-interval", 0, OPT_VALUE, O_DISCOVERY},
        {"no-audit", 0, OPT_FLAG, O_NO_AUDIT},
        {"audit-interval", 0, OPT_VALUE, O_AUDIT_INTERVAL},
        {"max-decision-work", 0, OPT_VALUE, O_MAX_WORK},
        {NULL, 0, 0, 0},
    };
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    struct opts p;
    const char *val;
    long long n;
    int id;

    o->listen = NULL;
    o->shutdown_delay_ms = -1;
    o->level = LOG_INFO;
    o->dev_certs = "build/dev-certs";
    opts_init(&p, "serve", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            return cli_usage_error("serve", "unexpected argument '%s'", val);
        case O_DEV:
            o->dev = 1;
            break;
        case O_NAMESPACED:
            o->namespaced = 1;
            break;
        case O_FROM_API:
        case O_NO_LOOKUP: {
            enum ns_lookup want = id == O_NO_LOOKUP ? NS_LOOKUP_OFF : NS_LOOKUP_API;
            if (o->ns_lookup != NS_LOOKUP_AUTO && o->ns_lookup != want)
                return cli_usage_error("serve", "--namespace-labels-from-api and "
                                                "--no-namespace-lookup exclude each other");
            o->ns_lookup = want;
            break;
        }
        case O_POLICY:
            o->policy = val;
            break;
        case O_TLS_CERT:
            o->cert = val;
            break;
        case O_TLS_KEY:
            o->key = val;
            break;
        case O_LISTEN:
            o->listen = val;
            break;
        case O_CLIENT_CA:
            o->client_ca = val;
            break;
        case O_KUBECONFIG:
            o->kubeconfig = val;
            break;
        case O_DEV_CERTS:
            o->dev_certs = val;
            break;
        case O_LOG_LEVEL:
            if (opts_choice(&p, val, "log level", levels) < 0 ||
                log_parse_level(val, &o->level) < 0)
                return EXIT_USAGE;
            break;
        case O_MAX_BODY:
            if (opts_number(&p, val, "bytes", 1024, 1ll << 31, &n) != 0)
                return EXIT_USAGE;
            o->max_body = (size_t)n;
            break;
        case O_NS_UNKNOWN:
            if (strcmp(val, "deny") && strcmp(val, "allow"))
                return opts_error(&p, "--namespace-labels-unknown wants deny or allow");
            o->ns_unknown_allow = !strcmp(val, "allow");
            break;
        case O_NO_AUDIT:
            o->no_audit = true;
            break;
        case O_AUDIT_INTERVAL:
            if (opts_number(&p, val, "seconds", 1, 86400, &n) != 0)
                return EXIT_USAGE;
            o->audit_s = (unsigned)n;
            break;
        case O_DISCOVERY:
            if (opts_number(&p, val, "seconds", 1, 86400, &n) != 0)
                return EXIT_USAGE;
            o->discovery_s = (unsigned)n;
            break;
        case O_MAX_INFLIGHT:
            if (opts_number(&p, val, "bytes", 1024, 1ll << 40, &n) != 0)
                return EXIT_USAGE;
            o->max_inflight = (size_t)n;
            break;
        case O_MAX_WORK:
            if (opts_number(&p, val, "units", 1000, 1ll << 40, &n) != 0)
                return EXIT_USAGE;
            o->max_work = (unsigned long long)n;
            break;
        case O_SHUTDOWN_DELAY:
            if ((o->shutdown_delay_ms = parse_duration(val)) < 0)
                return cli_usage_error("serve", "--shutdown-delay wants a duration such as 5s, "
                                                "500ms or 0 (at most 600s), not '%s'",
                                       val);
            break;
        case O_NS_TTL:
            if (opts_number(&p, val, "seconds", 1, 86400, &n) != 0)
                return EXIT_USAGE;
            o->ns_ttl = (unsigned)n;
            break;
        case O_THREADS:
            if (opts_number(&p, val, NULL, 1, 256, &n) != 0)
                return EXIT_USAGE;
            o->threads = (unsigned)n;
            break;
        }
    }
    if (!o->dev && !o->policy)
        return cli_usage_error("serve", "--policy FILE is required (or --dev)");
    if (o->dev && o->policy)
        return cli_usage_error("serve", "--dev uses the embedded example policy; drop --policy");
    if (!o->dev && (!o->cert || !o->key))
        return cli_usage_error("serve", "--tls-cert and --tls-key are required");
    if (!o->cert != !o->key)
        return cli_usage_error("serve", "--tls-cert and --tls-key go together");
    if (o->kubeconfig && o->ns_lookup == NS_LOOKUP_OFF && !o->namespaced)
        return cli_usage_error("serve", "--kubeconfig is for --namespaced-mode or namespace "
                                        "lookups, and --no-namespace-lookup turns those off");
    if (!o->listen)
        o->listen = o->dev ? "127.0.0.1:8443" : "0.0.0.0:8443";
    if (o->max_inflight &&
        o->max_inflight < (o->max_body ? o->max_body : HTTP_DEFAULT_MAX_BODY))
        return cli_usage_error("serve", "--max-inflight-bytes must be at least --max-body "
                                        "(one request of the largest size must fit)");
    return OPTS_GO;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The next signal if one arrives within timeout_ms (-1: wait), else 0. */
static int next_signal(int sfd, int timeout_ms)
{
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    struct signalfd_siginfo si;

    if (poll(&p, 1, timeout_ms) <= 0 || !(p.revents & POLLIN) ||
        read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return 0;
    return (int)si.ssi_signo;
}

/* Serves until SIGTERM or SIGINT, which it returns; SIGHUP and file changes reload (and
 * namespaced mode, if on, re-applies). */
static int run_loop(struct live *live, struct enforcer *en, struct auditor *au, int sfd,
                    int wfd, const struct log *lg)
{
    struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = wfd, .events = POLLIN}};
    int pending = 0;

    for (;;) {
        long retry = live_retry_ms(live);
        int timeout = pending     ? RELOAD_SETTLE_MS
                      : retry < 0 ? -1
                                  : (int)(retry > 60000 ? 60000 : retry);
        /* Decision lines wait in the log at most LOG_FLUSH_MS (log.h). */
        bool flush_only = timeout < 0 || timeout > LOG_FLUSH_MS;
        int n = poll(fds, wfd >= 0 ? 2 : 1, flush_only ? LOG_FLUSH_MS : timeout);

        if (n < 0 && errno != EINTR)
            return SIGTERM;
        log_flush(lg);
        if (n == 0 && flush_only)
            continue;
        if (n == 0) {
            /* Quiet for a moment after a change, or a certificate's time has come: reload what
             * differs (or is due). */
            pending = 0;
            live_reload(live, false);
            enforcer_wake(en);
            auditor_wake(au);
            continue;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    log_msg(lg, LOG_INFO, "SIGHUP: reloading the policy and the certificates");
                    live_reload(live, true);
                    enforcer_wake(en);
                    auditor_wake(au);
                } else {
                    return (int)si.ssi_signo;
                }
            }
        }
        if (wfd >= 0 && (fds[1].revents & POLLIN) && live_watch_drain(live))
            pending = 1;
    }
}

/*
 * The shutdown sequence. SIGTERM comes when the Pod is being deleted, while the Service still
 * sends it new connections for a moment: keep answering them, closing each connection after its
 * answer, for the delay (skipped after SIGINT or a second signal). Then stop accepting, wait for
 * what is in flight and for connections that have not been answered yet, and stop.
 */
static void shut_down(struct http *h, int sfd, int signo, long delay_ms, const struct log *lg)
{
    struct timespec t0;
    long waited;

    http_drain(h);
    if (signo == SIGTERM && delay_ms > 0) {
        log_msg(lg, LOG_INFO,
                "SIGTERM: draining: /readyz fails, answers close their connections; accepting "
                "for %ld ms more",
                delay_ms);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while ((waited = ms_since(&t0)) < delay_ms) {
            int s = next_signal(sfd, (int)(delay_ms - waited));
            if (s == SIGTERM || s == SIGINT) {
                log_msg(lg, LOG_INFO, "%s: ending the delay", s == SIGTERM ? "SIGTERM" : "SIGINT");
                break;
            }
        }
    } else {
        log_msg(lg, LOG_INFO, "%s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    http_quiesce(h);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (http_pending(h) > 0 && ms_since(&t0) < SHUTDOWN_GRACE_MS) {
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    if (http_pending(h) > 0)
        log_msg(lg, LOG_WARN, "%ld requests or new connections still open after %d ms; closing",
                http_pending(h), SHUTDOWN_GRACE_MS);
}

/*
 * What the server knows of the cluster: the watched model, and the GET of a Namespace the model
 * does not have yet (through the cache). Both only with API access, wanted and possible. -1 with
 * e set when access is required (--namespace-labels-from-api, --namespaced-mode) and fails.
 */
static int start_api(const struct serve_opts *o, const struct log *lg, struct cluster **cl,
                     struct nscache **nsc, struct nsapi **api, struct err *e)
{
    struct nscache_config cfg = {.ttl_ms = (o->ns_ttl ? o->ns_ttl : 60) * 1000u,
                                 .max_fetches = NSAPI_SLOTS};
    struct cluster_options co = {.kubeconfig = o->kubeconfig,
                                 .discovery_interval_ms = (long)(o->discovery_s ? o->discovery_s
                                                                                : 60) *
                                                          1000,
                                 .log = lg,
                                 .pods = !o->no_audit};
    bool required = o->ns_lookup == NS_LOOKUP_API || o->namespaced;
    const char *unknown = o->ns_unknown_allow ? "judged as not AI namespaces "
                                                "(--namespace-labels-unknown=allow)"
                                              : "verdicts that depend on them fail closed";

    *cl = NULL;
    *nsc = NULL;
    *api = NULL;
    if (!required && (o->ns_lookup == NS_LOOKUP_OFF || (!o->kubeconfig && !kube_in_cluster()))) {
        log_msg(lg, LOG_INFO, "namespace labels: unknown (%s): %s",
                o->ns_lookup == NS_LOOKUP_OFF ? "--no-namespace-lookup"
                                              : "no API credentials: give --kubeconfig",
                unknown);
        return 0;
    }
    if (!(*cl = cluster_start(&co, e)) || !(*api = nsapi_new(o->kubeconfig, NS_LOOKUP_TIMEOUT_MS, e))) {
        cluster_stop(*cl);
        *cl = NULL;
        if (required)
            return -1;
        log_msg(lg, LOG_WARN, "namespace labels: no Kubernetes API: %s; %s", e->msg, unknown);
        return 0;
    }
    cfg.fetch = nsapi_fetch;
    cfg.fetch_cls = *api;
    if (!(*nsc = nscache_new(&cfg))) {
        cluster_stop(*cl);
        nsapi_free(*api);
        *cl = NULL;
        *api = NULL;
        return err_set(e, "out of memory");
    }
    log_msg(lg, LOG_INFO,
            "namespace labels: from the cluster model watched at %s, and GET of a Namespace it "
            "does not have yet (fresh for %u s); when unknown: %s",
            cluster_server(*cl), cfg.ttl_ms / 1000, unknown);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {0};
    struct log lg;
    struct err e = {0};
    struct metrics *m = NULL;
    struct live *live = NULL;
    struct enforcer *en = NULL;
    struct auditor *au = NULL;
    struct nscache *nsc = NULL;
    struct cluster *cl = NULL;
    struct nsapi *nsa = NULL;
    struct http *h = NULL;
    struct http_options ho = {0};
    struct live_config lc = {0};
    struct devcerts dc = {0};
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int rc = EXIT_USAGE, sfd = -1, wfd, signo;
    bool loopback;
    sigset_t sigs;
    char msg[768];

    if ((rc = parse_opts(argc, argv, &o)) != OPTS_GO)
        return rc;
    rc = EXIT_USAGE;
    lg.level = o.level;
    lg.out = stderr;
    lg.buffer = NULL;
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (listener_parse(o.listen, &addr, &addr_len, &loopback, &e) < 0)
        return cli_usage_error("serve", "%s", e.msg);
    if (o.dev && !loopback)
        return cli_usage_error("serve", "--dev listens on loopback only (127.0.0.1 or ::1), "
                                        "not %s",
                               o.listen);
    /* First, so that a port taken by another server is the first thing said. */
    if ((ho.listen_fd = listener_open(&addr, addr_len, &e)) < 0) {
        fprintf(stderr, "egressguard serve: %s\n", e.msg);
        return 1;
    }
    if (o.dev && !o.cert) {
        if (devcerts_make(o.dev_certs, &dc, &e) < 0) {
            fprintf(stderr, "egressguard serve: %s\n", e.msg);
            goto out;
        }
        o.cert = dc.cert_path;
        o.key = dc.key_path;
    }
    ho.verify_clients = o.client_ca != NULL;
    ho.max_body = o.max_body;
    ho.max_inflight = o.max_inflight;
    ho.max_work = o.max_work;
    ho.threads = o.threads;

    /* Every thread (libmicrohttpd's included) inherits this mask; only signalfd sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
        (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "egressguard serve: signalfd: %s\n", strerror(errno));
        goto out;
    }

    if (!(m = metrics_new())) {
        fprintf(stderr, "egressguard serve: out of memory\n");
        goto out;
    }
    lc.policy_path = o.policy;
    lc.policy_data = embedded_example_policy;
    lc.policy_len = embedded_example_policy_len;
    lc.cert_path = o.cert;
    lc.key_path = o.key;
    lc.client_ca_path = o.client_ca;
    if (!(live = live_new(&lc, m, &lg, &e))) {
        err_format(&e, msg, sizeof(msg));
        fprintf(stderr, "egressguard serve: %s\n", msg);
        goto out;
    }
    if ((wfd = live_watch_start(live, &e)) < 0)
        log_msg(&lg, LOG_WARN, "not watching files (reload with SIGHUP): %s", e.msg);
    if (start_api(&o, &lg, &cl, &nsc, &nsa, &e) < 0) {
        fprintf(stderr, "egressguard serve: namespace labels: %s\n", e.msg);
        goto out;
    }
    if (o.namespaced) {
        struct kube *k = kube_new(o.kubeconfig, &e);
        if (!k || !(en = enforcer_start(k, live, cl, &lg, &e))) {
            fprintf(stderr, "egressguard serve: --namespaced-mode: %s\n", e.msg);
            goto out;
        }
        ho.enforcer = en;
        log_msg(&lg, LOG_INFO, "namespaced mode: Kubernetes API at %s", kube_server(k));
    }
    if (cl && !o.no_audit) {
        struct auditor_config ac = {.cluster = cl,
                                    .kubeconfig = o.kubeconfig,
                                    .interval_ms = (long)(o.audit_s ? o.audit_s : 30) * 1000,
                                    .live = live,
                                    .log = &lg};
        if (!(au = auditor_start(&ac, &e)))
            log_msg(&lg, LOG_WARN, "audit: not running: %s", e.msg);
        else
            log_msg(&lg, LOG_INFO, "audit: on every change of the cluster model, PolicyReports "
                                   "at %s (Lease renewed every %u s)",
                    cluster_server(cl), o.audit_s ? o.audit_s : 30);
    }
    ho.auditor = au;
    ho.nscache = nsc;
    ho.cluster = cl;
    ho.ns_unknown_allow = o.ns_unknown_allow;
    /* Decision lines are written together (log.h); run_loop flushes them every LOG_FLUSH_MS. */
    if (log_buffer_start(&lg) < 0)
        log_msg(&lg, LOG_WARN, "out of memory: decision lines written one by one");
    h = http_start(&ho, live, m, &lg, &e);
    ho.listen_fd = -1; /* http_start() owns it now, started or not */
    if (!h) {
        fprintf(stderr, "egressguard serve: %s: %s\n", o.listen, e.msg);
        rc = 1;
        goto out;
    }
    {
        char host[64];
        size_t hl = strrchr(o.listen, ':') - o.listen;
        snprintf(host, sizeof(host), "%.*s", (int)hl, o.listen);
        /* Always printed, whatever the level: with port 0 it is the only way to learn the port. */
        log_msg(&lg, lg.level > LOG_INFO ? lg.level : LOG_INFO, "listening on %s:%u (policy %s, %s)", *host ? host : "0.0.0.0",
                http_port(h), o.policy ? o.policy : "embedded example",
                o.client_ca ? "client certificates required" : "no client certificates");
        if (o.dev && dc.ca_path[0]) {
            printf("egressguard dev server: https://%s:%u\n  caBundle: %s\n"
                   "  try: curl --cacert %s -H 'Content-Type: application/json' "
                   "--data @tests/data/admission/pod-v1.json https://%s:%u/validate\n",
                   host, http_port(h), dc.ca_path, dc.ca_path, host, http_port(h));
            fflush(stdout);
        }
    }
    signo = run_loop(live, en, au, sfd, wfd, &lg);
    shut_down(h, sfd, signo, o.shutdown_delay_ms < 0 ? SHUTDOWN_DELAY_MS : o.shutdown_delay_ms,
              &lg);
    http_stop(h);
    log_msg(&lg, LOG_INFO, "stopped");
    rc = EXIT_PASS;
out:
    if (ho.listen_fd >= 0)
        close(ho.listen_fd);
    auditor_stop(au);
    enforcer_stop(en);
    cluster_stop(cl);
    nscache_free(nsc);
    nsapi_free(nsa);
    live_free(live);
    metrics_free(m);
    if (sfd >= 0)
        close(sfd);
    log_buffer_stop(&lg);
    return rc;
}
