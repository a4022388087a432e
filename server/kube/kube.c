#include "server/kube/kube.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/webhook/tls.h"

#define MAX_REPLY (16u * 1024 * 1024)
#define MAX_OTHER (64u * 1024)
#define MAX_TOKEN (64 * 1024)

struct kube {
    CURL *curl;
    char *server;
    char *ca_pem;
    char *cert_pem;
    struct secret key;
    struct secret token;  /* the bearer token, or empty: client certificate */
    char *token_file;     /* where the token comes from, re-read when it changes */
    struct stat token_st; /* the file as last read */
    struct secret auth;   /* "Authorization: Bearer ..." of the current request */
    long connect_ms, total_ms;
};

void kube_free(struct kube *k)
{
    if (!k)
        return;
    if (k->curl)
        curl_easy_cleanup(k->curl);
    free(k->server);
    free(k->ca_pem);
    free(k->cert_pem);
    secret_clear(&k->key);
    secret_clear(&k->token);
    secret_clear(&k->auth);
    free(k->token_file);
    free(k);
}

bool kube_in_cluster(void)
{
    return kubeconfig_have_in_cluster();
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Reads the token file again when it changed (or when forced). The kubelet replaces a projected
 * token through a symlink swap: stat() follows it, so the inode changes. A file that cannot be
 * read keeps the last token in use (it may still be valid); without one it is an error.
 */
static int refresh_token(struct kube *k, bool force, struct err *e)
{
    struct stat st;
    size_t len, n;
    char *text;
    int rc;

    if (!k->token_file)
        return 0;
    if (stat(k->token_file, &st) < 0) {
        if (k->token.data)
            return 0;
        return err_set(e, "cannot read the token file %s", k->token_file);
    }
    if (!force && k->token.data && same_file(&st, &k->token_st))
        return 0;
    if (!(text = tls_read_file(k->token_file, &len, MAX_TOKEN, e)))
        return k->token.data ? 0 : -1;
    n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    rc = n ? secret_set(&k->token, text, n) : -1;
    secret_wipe(text, len);
    free(text);
    if (rc < 0)
        return n ? err_set(e, "out of memory")
                 : err_set(e, "the token file %s is empty", k->token_file);
    k->token_st = st;
    return 0;
}

struct kube *kube_from_config(struct kube_config *c, struct err *e)
{
    struct kube *k = calloc(1, sizeof(*k));

    if (!k) {
        kube_config_release(c);
        err_set(e, "out of memory");
        return NULL;
    }
    /* Take everything over; the config is left empty. */
    k->server = c->server;
    k->ca_pem = c->ca_pem;
    k->cert_pem = c->cert_pem;
    k->key = c->key;
    k->token = c->token;
    k->token_file = c->token_file;
    c->server = c->ca_pem = c->cert_pem = c->token_file = NULL;
    memset(&c->key, 0, sizeof(c->key));
    memset(&c->token, 0, sizeof(c->token));
    kube_config_release(c);
    k->connect_ms = 3000;
    k->total_ms = 10000;
    if (refresh_token(k, true, e) < 0)
        goto fail;
    if (!(k->curl = curl_easy_init())) {
        err_set(e, "cannot initialise libcurl");
        goto fail;
    }
    return k;
fail:
    kube_free(k);
    return NULL;
}

struct kube *kube_new(const char *kubeconfig, struct err *e)
{
    struct kube_config c;

    if ((kubeconfig ? kubeconfig_load(kubeconfig, &c, e) : kubeconfig_in_cluster(&c, e)) < 0)
        return NULL;
    return kube_from_config(&c, e);
}

void kube_set_timeout(struct kube *k, long connect_ms, long total_ms)
{
    k->connect_ms = connect_ms;
    k->total_ms = total_ms;
}

const char *kube_server(const struct kube *k)
{
    return k->server;
}

int kube_query_escape(const char *s, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_add(out, s, 1);
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_add(out, pct, 3);
        }
    }
    return out->failed ? -1 : 0;
}

void kube_redact(char *msg)
{
    char *at;

    while ((at = strchr(msg, '@'))) {
        char *start = at;
        /* Back to where the URL's authority starts: after "://", a quote, a space or a '('. */
        while (start > msg && !strchr(" '\"(<", start[-1]) &&
               !(start - msg >= 3 && !strncmp(start - 3, "://", 3)))
            start--;
        if (at - start == 3 && !strncmp(start, "***", 3)) {
            msg = at + 1;
            continue;
        }
        memmove(start + 3, at, strlen(at) + 1);
        memcpy(start, "***", 3);
        msg = start + 4;
    }
}

/*
 * libcurl reads these for an https:// URL; one it cannot parse would fail the request with a
 * message that quotes it, credentials included. Say which variable is wrong instead.
 */
static int check_proxy_env(struct err *e)
{
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        CURLU *u;
        CURLUcode uc;

        if (!v || !*v)
            continue;
        if (!(u = curl_url()))
            return err_set(e, "out of memory");
        uc = curl_url_set(u, CURLUPART_URL, v, CURLU_GUESS_SCHEME);
        curl_url_cleanup(u);
        if (uc != CURLUE_OK)
            return err_set(e,
                           "the %s environment variable is not a proxy URL libcurl can use "
                           "(its value is not shown: it may hold credentials)",
                           vars[i]);
    }
    return 0;
}

static int set_long(struct kube *k, CURLoption o, const char *name, long v, struct err *e)
{
    CURLcode c = curl_easy_setopt(k->curl, o, v);

    return c == CURLE_OK ? 0
                         : err_set(e, "libcurl refused %s (%s): no request made", name,
                                   curl_easy_strerror(c));
}

/* Options that take an object pointer (strings, lists, blobs). */
static int set_ptr(struct kube *k, CURLoption o, const char *name, const void *v, struct err *e)
{
    CURLcode c = curl_easy_setopt(k->curl, o, v);

    return c == CURLE_OK ? 0
                         : err_set(e, "libcurl refused %s (%s): no request made", name,
                                   curl_easy_strerror(c));
}

/* Everything but the body handling, each option checked. 0, or -1 with e set. */
static int setup(struct kube *k, const char *method, const char *url, struct curl_slist *h,
                 long total_ms, char *errbuf, struct err *e)
{
    struct curl_blob ca = {k->ca_pem, k->ca_pem ? strlen(k->ca_pem) : 0, CURL_BLOB_NOCOPY};
    struct curl_blob cert = {k->cert_pem, k->cert_pem ? strlen(k->cert_pem) : 0, CURL_BLOB_NOCOPY};
    struct curl_blob key = {k->key.data, k->key.len, CURL_BLOB_NOCOPY};

    curl_easy_reset(k->curl);
    if (set_ptr(k, CURLOPT_ERRORBUFFER, "CURLOPT_ERRORBUFFER", errbuf, e) < 0 ||
        set_ptr(k, CURLOPT_URL, "CURLOPT_URL", url, e) < 0 ||
#if LIBCURL_VERSION_NUM >= 0x075500
        set_ptr(k, CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR", "https", e) < 0 ||
#else
        set_long(k, CURLOPT_PROTOCOLS, "CURLOPT_PROTOCOLS", (long)CURLPROTO_HTTPS, e) < 0 ||
#endif
        set_long(k, CURLOPT_SSL_VERIFYPEER, "CURLOPT_SSL_VERIFYPEER", 1L, e) < 0 ||
        set_long(k, CURLOPT_SSL_VERIFYHOST, "CURLOPT_SSL_VERIFYHOST", 2L, e) < 0 ||
        set_long(k, CURLOPT_FOLLOWLOCATION, "CURLOPT_FOLLOWLOCATION", 0L, e) < 0 ||
        set_ptr(k, CURLOPT_CUSTOMREQUEST, "CURLOPT_CUSTOMREQUEST", method, e) < 0 ||
        set_ptr(k, CURLOPT_HTTPHEADER, "CURLOPT_HTTPHEADER", h, e) < 0 ||
        set_long(k, CURLOPT_NOSIGNAL, "CURLOPT_NOSIGNAL", 1L, e) < 0 ||
        set_long(k, CURLOPT_CONNECTTIMEOUT_MS, "CURLOPT_CONNECTTIMEOUT_MS", k->connect_ms, e) < 0 ||
        set_long(k, CURLOPT_TIMEOUT_MS, "CURLOPT_TIMEOUT_MS", total_ms, e) < 0 ||
        /* A dead peer on an idle watch is found by TCP keepalive, not left hanging. */
        set_long(k, CURLOPT_TCP_KEEPALIVE, "CURLOPT_TCP_KEEPALIVE", 1L, e) < 0 ||
        set_long(k, CURLOPT_TCP_KEEPIDLE, "CURLOPT_TCP_KEEPIDLE", 30L, e) < 0 ||
        set_long(k, CURLOPT_TCP_KEEPINTVL, "CURLOPT_TCP_KEEPINTVL", 10L, e) < 0)
        return -1;
    /* Without its CA the request would trust the system's CAs instead: never go on. */
    if (k->ca_pem && set_ptr(k, CURLOPT_CAINFO_BLOB, "CURLOPT_CAINFO_BLOB", &ca, e) < 0)
        return -1;
    if (k->cert_pem && k->key.data &&
        (set_ptr(k, CURLOPT_SSLCERT_BLOB, "CURLOPT_SSLCERT_BLOB", &cert, e) < 0 ||
         set_ptr(k, CURLOPT_SSLKEY_BLOB, "CURLOPT_SSLKEY_BLOB", &key, e) < 0))
        return -1;
    return 0;
}

/* Headers, with the Authorization header built into k->auth (wiped after the request). */
static struct curl_slist *headers(struct kube *k, bool json_body)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");

    if (h && json_body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (h && k->token.data) {
        size_t n = strlen("Authorization: Bearer ") + k->token.len;
        char *line = malloc(n + 1);
        if (!line)
            goto fail;
        snprintf(line, n + 1, "Authorization: Bearer %s", k->token.data);
        if (secret_set(&k->auth, line, n) < 0) {
            secret_wipe(line, n);
            free(line);
            goto fail;
        }
        secret_wipe(line, n);
        free(line);
        h = curl_slist_append(h, k->auth.data);
    }
    return h;
fail:
    curl_slist_free_all(h);
    return NULL;
}

/* The list holds its own copy of the Authorization line: wipe it with ours. */
static void free_headers(struct kube *k, struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        if (p->data && !strncmp(p->data, "Authorization:", 14))
            secret_wipe(p->data, strlen(p->data));
    curl_slist_free_all(h);
    secret_clear(&k->auth);
}

static void transfer_error(CURLcode cc, const char *method, const char *path, char *errbuf,
                           struct err *e)
{
    kube_redact(errbuf);
    err_set(e, "%s %s: %s", method, path, *errbuf ? errbuf : curl_easy_strerror(cc));
}

static size_t on_reply(char *p, size_t size, size_t n, void *cls)
{
    return buf_add(cls, p, size * n) < 0 ? 0 : size * n;
}

static long request_once(struct kube *k, const char *method, const char *path, const char *text,
                         json_t **resp, struct err *e)
{
    struct curl_slist *h = NULL;
    struct buf reply, url;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = -1;
    CURLcode cc;

    buf_init(&reply, MAX_REPLY);
    buf_init(&url, 0);
    buf_printf(&url, "%s%s", k->server, path);
    if (url.failed || !(h = headers(k, text != NULL))) {
        err_set(e, "out of memory");
        goto out;
    }
    if (setup(k, method, buf_str(&url), h, k->total_ms, errbuf, e) < 0)
        goto out;
    if (curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_reply) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &reply) != CURLE_OK ||
        (text &&
         (curl_easy_setopt(k->curl, CURLOPT_POSTFIELDS, text) != CURLE_OK ||
          curl_easy_setopt(k->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text)) != CURLE_OK))) {
        err_set(e, "libcurl refused a body option: no request made");
        goto out;
    }
    if ((cc = curl_easy_perform(k->curl)) != CURLE_OK) {
        transfer_error(cc, method, path, errbuf, e);
        goto out;
    }
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
    if (reply.len)
        *resp = json_loadb(reply.data, reply.len, 0, NULL);
out:
    free_headers(k, h);
    buf_release(&reply);
    buf_release(&url);
    return status;
}

long kube_request(struct kube *k, const char *method, const char *path, const json_t *body,
                  json_t **resp, struct err *e)
{
    char *text = NULL;
    long status;

    *resp = NULL;
    if (check_proxy_env(e) < 0 || refresh_token(k, false, e) < 0)
        return -1;
    if (body && !(text = json_dumps(body, JSON_COMPACT))) {
        err_set(e, "out of memory");
        return -1;
    }
    status = request_once(k, method, path, text, resp, e);
    /* A rotated token: the file may hold a newer one already. */
    if (status == 401 && k->token_file) {
        struct stat before = k->token_st;
        if (refresh_token(k, true, e) == 0 && !same_file(&before, &k->token_st)) {
            json_decref(*resp);
            *resp = NULL;
            status = request_once(k, method, path, text, resp, e);
        }
    }
    free(text);
    return status;
}

struct stream {
    struct kube *k;
    kube_data_fn on_data;
    void *cls;
    const atomic_bool *stop;
    struct buf *other;
    long status;
    bool stopped;
};

static size_t on_stream(char *p, size_t size, size_t n, void *cls)
{
    struct stream *s = cls;

    if (!s->status)
        curl_easy_getinfo(s->k->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200) {
        if (s->other && s->other->len < MAX_OTHER)
            buf_add(s->other, p, size * n);
        return size * n;
    }
    if (s->on_data(s->cls, p, size * n) < 0) {
        s->stopped = true;
        return 0;
    }
    return size * n;
}

static int on_progress(void *cls, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    struct stream *s = cls;

    (void)dlt;
    (void)dln;
    (void)ult;
    (void)uln;
    if (s->stop && atomic_load(s->stop)) {
        s->stopped = true;
        return 1;
    }
    return 0;
}

long kube_stream(struct kube *k, const char *path, long total_ms, long idle_ms,
                 kube_data_fn on_data, void *cls, const atomic_bool *stop, struct buf *other,
                 struct err *e)
{
    struct stream s = {.k = k, .on_data = on_data, .cls = cls, .stop = stop, .other = other};
    struct curl_slist *h = NULL;
    struct buf url;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = -1;
    CURLcode cc;

    if (check_proxy_env(e) < 0 || refresh_token(k, false, e) < 0)
        return -1;
    buf_init(&url, 0);
    buf_printf(&url, "%s%s", k->server, path);
    if (url.failed || !(h = headers(k, false))) {
        err_set(e, "out of memory");
        goto out;
    }
    if (setup(k, "GET", buf_str(&url), h, total_ms, errbuf, e) < 0)
        goto out;
    if (curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_stream) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &s) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_XFERINFODATA, &s) != CURLE_OK ||
        curl_easy_setopt(k->curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        (idle_ms > 0 &&
         (curl_easy_setopt(k->curl, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
          curl_easy_setopt(k->curl, CURLOPT_LOW_SPEED_TIME, (idle_ms + 999) / 1000) != CURLE_OK))) {
        err_set(e, "libcurl refused a streaming option: no request made");
        goto out;
    }
    cc = curl_easy_perform(k->curl);
    if (!s.status)
        curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &s.status);
    if (s.stopped) {
        err_set(e, "GET %s: stopped", path);
        goto out;
    }
    if (cc != CURLE_OK) {
        transfer_error(cc, "GET", path, errbuf, e);
        goto out;
    }
    status = s.status;
out:
    free_headers(k, h);
    buf_release(&url);
    return status;
}
