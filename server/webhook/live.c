#include "server/webhook/live.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCH 4

struct policy_ref {
    atomic_int refs;
    struct policy *pol;
};

/* What a file looked like when last tried; a change means a new file or a new target. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool valid;
};

struct live {
    pthread_mutex_t mu; /* guards the three pointers below */
    struct policy_ref *policy;
    struct tls_creds *creds;
    struct tls_trust *trust; /* NULL without --client-ca */

    struct live_config cfg;
    struct metrics *metrics;
    const struct log *log;
    struct file_id policy_id, cert_id, key_id, ca_id; /* of the last attempt, good or bad */
    time_t creds_valid_from; /* a refused certificate becomes valid then; 0: none waits */

    int watch_fd;
    char *watch_dirs[MAX_WATCH];
    int watch_wd[MAX_WATCH];
    size_t n_watch;
};

static struct policy_ref *ref_new(struct policy *p)
{
    struct policy_ref *r = malloc(sizeof(*r));

    if (!r)
        return NULL;
    atomic_init(&r->refs, 1);
    r->pol = p;
    return r;
}

void live_policy_put(struct policy_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        policy_free(r->pol);
        free(r);
    }
}

const struct policy *policy_ref_policy(const struct policy_ref *r)
{
    return r->pol;
}

struct policy_ref *live_policy_get(struct live *l)
{
    struct policy_ref *r;

    pthread_mutex_lock(&l->mu);
    r = l->policy;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&l->mu);
    return r;
}

struct tls_trust *live_trust_get(struct live *l)
{
    struct tls_trust *t;

    pthread_mutex_lock(&l->mu);
    t = l->trust ? tls_trust_ref(l->trust) : NULL;
    pthread_mutex_unlock(&l->mu);
    return t;
}

struct tls_creds *live_creds_get(struct live *l)
{
    struct tls_creds *c;

    pthread_mutex_lock(&l->mu);
    c = tls_creds_ref(l->creds);
    pthread_mutex_unlock(&l->mu);
    return c;
}

static struct file_id file_id_of(const char *path)
{
    struct file_id id = {0};
    struct stat st;

    if (path && stat(path, &st) == 0) {
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.size = st.st_size;
        id.mtime = st.st_mtim;
        id.valid = true;
    }
    return id;
}

static bool same_id(const struct file_id *a, const struct file_id *b)
{
    return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static struct policy *load_policy(const struct live_config *cfg, struct err *e)
{
    if (cfg->policy_path)
        return policy_load(cfg->policy_path, e);
    return policy_load_buffer(cfg->policy_data, cfg->policy_len, "embedded example policy", e);
}

/* The loader's notes (an old field name...): worth a warning each time the policy is loaded. */
static void log_notes(const struct live *l, const struct policy *p)
{
    for (size_t i = 0; i < p->n_notes; i++) {
        char msg[800];

        err_format(&p->notes[i], msg, sizeof(msg));
        log_msg(l->log, LOG_WARN, "policy note: %s", msg);
    }
}

/*
 * Says at each load which exemptions have ended or end soon: they change verdicts without
 * anyone touching the objects they cover.
 */
static void log_exemptions(const struct log *lg, const struct policy *p)
{
    int64_t now = (int64_t)time(NULL);

    for (size_t i = 0; i < p->n_exemptions; i++) {
        const struct exemption *x = &p->exemptions[i];
        enum exemption_state st = exemption_state(x, p->exemption_warning_days, now);
        char who[300], end[96];

        if (st == EXEMPTION_ACTIVE)
            continue;
        exemption_describe(x, who, sizeof(who));
        exemption_end_text(x, st == EXEMPTION_EXPIRED, end, sizeof(end));
        log_msg(lg, LOG_WARN, "exemption %s%s (%s)", end,
                st == EXEMPTION_EXPIRED ? " and no longer applies" : "", who);
    }
}

/* Returns 0 (reloaded or unchanged) or -1 (failed; the old policy stays). */
static int reload_policy(struct live *l, bool force)
{
    struct file_id id = file_id_of(l->cfg.policy_path);
    struct err e = {0};
    struct policy *p;
    struct policy_ref *r, *old;
    char msg[768];

    if (!l->cfg.policy_path || (!force && same_id(&id, &l->policy_id)))
        return 0;
    l->policy_id = id;
    if (!(p = policy_load(l->cfg.policy_path, &e)) || !(r = ref_new(p))) {
        if (p) {
            policy_free(p);
            err_set(&e, "out of memory");
        }
        err_format(&e, msg, sizeof(msg));
        log_msg(l->log, LOG_ERROR, "policy reload failed, the previous policy keeps serving: %s",
                msg);
        metrics_reload(l->metrics, "policy", false);
        return -1;
    }
    pthread_mutex_lock(&l->mu);
    old = l->policy;
    l->policy = r;
    pthread_mutex_unlock(&l->mu);
    live_policy_put(old);
    metrics_reload(l->metrics, "policy", true);
    log_msg(l->log, LOG_INFO, "policy reloaded: %s (%s, sha256 %s)", l->cfg.policy_path,
            p->name ? p->name : "", p->hash);
    log_notes(l, p);
    log_exemptions(l->log, p);
    return 0;
}

/*
 * The serving certificate and key, checked as a client will check them: a pair that does not
 * load or has expired or is not valid yet is refused (NULL, e set, the refusal counted by its
 * reason). One not valid yet sets *valid_from so that it is tried again then.
 */
static struct tls_creds *load_creds(struct live *l, time_t *valid_from, struct err *e)
{
    struct tls_creds *c = tls_creds_load(l->cfg.cert_path, l->cfg.key_path, e);
    enum tls_validity v;

    *valid_from = 0;
    if (!c) {
        metrics_cert_refused(l->metrics, METRICS_CERT_INVALID);
        return NULL;
    }
    if ((v = tls_creds_check_time(c, time(NULL), e)) != TLS_VALID) {
        err_prefix(e, "%s", l->cfg.cert_path);
        metrics_cert_refused(l->metrics, v == TLS_EXPIRED ? METRICS_CERT_EXPIRED
                                                          : METRICS_CERT_NOT_YET_VALID);
        if (v == TLS_NOT_YET_VALID)
            *valid_from = tls_creds_not_before(c);
        tls_creds_unref(c);
        return NULL;
    }
    return c;
}

static int reload_creds(struct live *l, bool force)
{
    struct file_id cid = file_id_of(l->cfg.cert_path), kid = file_id_of(l->cfg.key_path);
    struct err e = {0};
    struct tls_creds *c, *old;
    char msg[768];
    bool due = l->creds_valid_from && time(NULL) >= l->creds_valid_from;

    if (!l->cfg.cert_path ||
        (!force && !due && same_id(&cid, &l->cert_id) && same_id(&kid, &l->key_id)))
        return 0;
    l->cert_id = cid;
    l->key_id = kid;
    if (!(c = load_creds(l, &l->creds_valid_from, &e))) {
        err_format(&e, msg, sizeof(msg));
        log_msg(l->log, LOG_ERROR,
                "certificate reload refused, the previous certificate keeps serving: %s", msg);
        metrics_reload(l->metrics, "certificate", false);
        return -1;
    }
    pthread_mutex_lock(&l->mu);
    old = l->creds;
    l->creds = c;
    pthread_mutex_unlock(&l->mu);
    tls_creds_unref(old);
    metrics_reload(l->metrics, "certificate", true);
    metrics_cert_expiry(l->metrics, tls_creds_not_after(c));
    log_msg(l->log, LOG_INFO, "certificate reloaded: %s (serial %s)", l->cfg.cert_path,
            tls_creds_serial(c));
    return 0;
}

static int reload_trust(struct live *l, bool force)
{
    struct file_id id = file_id_of(l->cfg.client_ca_path);
    struct err e = {0};
    struct tls_trust *t, *old;
    char msg[768];

    if (!l->cfg.client_ca_path || (!force && same_id(&id, &l->ca_id)))
        return 0;
    l->ca_id = id;
    if (!(t = tls_trust_load(l->cfg.client_ca_path, &e))) {
        err_format(&e, msg, sizeof(msg));
        log_msg(l->log, LOG_ERROR, "client CA reload refused, the previous CAs keep serving: %s",
                msg);
        metrics_reload(l->metrics, "client_ca", false);
        return -1;
    }
    pthread_mutex_lock(&l->mu);
    old = l->trust;
    l->trust = t;
    pthread_mutex_unlock(&l->mu);
    tls_trust_unref(old);
    metrics_reload(l->metrics, "client_ca", true);
    log_msg(l->log, LOG_INFO, "client CAs reloaded: %s (%u certificates)", l->cfg.client_ca_path,
            tls_trust_count(t));
    return 0;
}

long live_retry_ms(struct live *l)
{
    time_t now = time(NULL);

    if (!l->creds_valid_from)
        return -1;
    return l->creds_valid_from <= now ? 0 : (long)(l->creds_valid_from - now) * 1000 + 1000;
}

int live_reload(struct live *l, bool force)
{
    return -reload_policy(l, force) - reload_creds(l, force) - reload_trust(l, force);
}

struct live *live_new(const struct live_config *cfg, struct metrics *m, const struct log *lg,
                      struct err *e)
{
    struct live *l = calloc(1, sizeof(*l));
    struct policy *p = NULL;

    if (!l) {
        err_set(e, "out of memory");
        return NULL;
    }
    l->cfg = *cfg;
    l->metrics = m;
    l->log = lg;
    l->watch_fd = -1;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l);
        err_set(e, "cannot create a mutex");
        return NULL;
    }
    l->policy_id = file_id_of(cfg->policy_path);
    l->cert_id = file_id_of(cfg->cert_path);
    l->key_id = file_id_of(cfg->key_path);
    l->ca_id = file_id_of(cfg->client_ca_path);
    if (!(p = load_policy(cfg, e)))
        goto fail;
    log_notes(l, p);
    if (!(l->policy = ref_new(p))) {
        policy_free(p);
        err_set(e, "out of memory");
        goto fail;
    }
    if (!(l->creds = load_creds(l, &l->creds_valid_from, e)))
        goto fail;
    log_exemptions(lg, p);
    l->creds_valid_from = 0; /* nothing to retry: a server without a certificate does not start */
    metrics_cert_expiry(m, tls_creds_not_after(l->creds));
    if (cfg->client_ca_path && !(l->trust = tls_trust_load(cfg->client_ca_path, e))) {
        err_prefix(e, "--client-ca");
        goto fail;
    }
    return l;
fail:
    live_free(l);
    return NULL;
}

void live_free(struct live *l)
{
    if (!l)
        return;
    live_policy_put(l->policy);
    tls_creds_unref(l->creds);
    tls_trust_unref(l->trust);
    if (l->watch_fd >= 0)
        close(l->watch_fd);
    for (size_t i = 0; i < l->n_watch; i++)
        free(l->watch_dirs[i]);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int watch_dir_of(struct live *l, const char *path, struct err *e)
{
    char *dir;
    int wd;

    if (!path)
        return 0;
    if (!(dir = dir_of(path)))
        return err_set(e, "out of memory");
    for (size_t i = 0; i < l->n_watch; i++) {
        if (!strcmp(l->watch_dirs[i], dir)) {
            free(dir);
            return 0;
        }
    }
    wd = inotify_add_watch(l->watch_fd, dir,
                           IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                               IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
    if (wd < 0) {
        err_set(e, "cannot watch %s: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    l->watch_dirs[l->n_watch] = dir;
    l->watch_wd[l->n_watch++] = wd;
    return 0;
}

int live_watch_start(struct live *l, struct err *e)
{
    if ((l->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        return err_set(e, "inotify: %s", strerror(errno));
    if (watch_dir_of(l, l->cfg.policy_path, e) < 0 || watch_dir_of(l, l->cfg.cert_path, e) < 0 ||
        watch_dir_of(l, l->cfg.key_path, e) < 0 || watch_dir_of(l, l->cfg.client_ca_path, e) < 0)
        return -1;
    return l->watch_fd;
}

bool live_watch_drain(struct live *l)
{
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;
    ssize_t n;

    /* Which entry changed does not matter: live_reload() compares file identities, which also
     * covers the ConfigMap case where only `..data` and a timestamped directory change. */
    while ((n = read(l->watch_fd, events, sizeof(events))) > 0)
        any = true;
    return any;
}
