#include "server/kube/kube.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/base/buf.h"
#include "policy/doc/manifest.h"
#include "server/webhook/tls.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_REPLY (16u * 1024 * 1024)
#define MAX_FILE (1024 * 1024)

struct kube {
    CURL *curl;
    char *server;
    char *token;          /* NULL: client certificate */
    char *ca_pem;         /* the CA bundle, PEM text */
    char *cert_pem, *key_pem;
    long connect_ms, total_ms;
};

void kube_free(struct kube *k)
{
    if (!k)
        return;
    if (k->curl)
        curl_easy_cleanup(k->curl);
    free(k->server);
    free(k->token);
    free(k->ca_pem);
    free(k->cert_pem);
    free(k->key_pem);
    free(k);
}

static char *read_text(const char *path, struct err *e)
{
    size_t len;

    return tls_read_file(path, &len, MAX_FILE, e);
}

/* Standard base64 (kubeconfig *-data fields) into a malloc()ed NUL-terminated string. */
static char *unbase64(const char *in, struct err *e)
{
    size_t n = strlen(in), o = 0;
    char *out = malloc(n * 3 / 4 + 4);
    unsigned acc = 0;
    int bits = 0;

    if (!out) {
        err_set(e, "out of memory");
        return NULL;
    }
    for (const char *p = in; *p; p++) {
        const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *c = strchr(tab, *p);
        if (*p == '=' || *p == '\n' || *p == '\r' || *p == ' ')
            continue;
        if (!c || !*p) {
            free(out);
            err_set(e, "bad base64 in kubeconfig");
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(c - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return out;
}

/* The named entry of a kubeconfig list (clusters, users, contexts): its inner object. */
static const json_t *named(const json_t *cfg, const char *list, const char *inner,
                           const char *name)
{
    size_t i;
    const json_t *it;

    json_array_foreach(json_object_get(cfg, list), i, it) {
        const char *n = json_string_value(json_object_get(it, "name"));
        if (n && name && !strcmp(n, name))
            return json_object_get(it, inner);
    }
    return NULL;
}

/* A file field or its -data twin. *out NULL when neither is there. 0 or -1. */
static int file_or_data(const json_t *o, const char *file_key, const char *data_key, char **out,
                        struct err *e)
{
    const char *f = json_string_value(json_object_get(o, file_key));
    const char *d = json_string_value(json_object_get(o, data_key));

    *out = NULL;
    if (d)
        *out = unbase64(d, e);
    else if (f)
        *out = read_text(f, e);
    else
        return 0;
    return *out ? 0 : -1;
}

static int from_kubeconfig(struct kube *k, const char *path, struct err *e)
{
    struct manifest *m = manifest_new();
    const json_t *cfg, *ctx, *cluster, *user;
    const char *s;
    int rc = -1;

    if (!m || manifest_read(m, path) < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    if (manifest_n_errors(m)) {
        *e = *manifest_error(m, 0);
        goto out;
    }
    if (manifest_n_objects(m) != 1) {
        err_set(e, "%s: want one kubeconfig document", path);
        goto out;
    }
    cfg = manifest_object(m, 0)->json;
    s = json_string_value(json_object_get(cfg, "current-context"));
    if (!(ctx = named(cfg, "contexts", "context", s))) {
        err_set(e, "%s: current-context \"%s\" not found", path, s ? s : "");
        goto out;
    }
    cluster = named(cfg, "clusters", "cluster", json_string_value(json_object_get(ctx, "cluster")));
    user = named(cfg, "users", "user", json_string_value(json_object_get(ctx, "user")));
    if (!cluster || !(s = json_string_value(json_object_get(cluster, "server")))) {
        err_set(e, "%s: the current context's cluster has no server", path);
        goto out;
    }
    if (strncmp(s, "https://", 8)) {
        err_set(e, "%s: server %s: only https:// is supported", path, s);
        goto out;
    }
    if (!(k->server = strdup(s))) {
        err_set(e, "out of memory");
        goto out;
    }
    if (file_or_data(cluster, "certificate-authority", "certificate-authority-data", &k->ca_pem,
                     e) < 0 ||
        file_or_data(user, "client-certificate", "client-certificate-data", &k->cert_pem, e) < 0 ||
        file_or_data(user, "client-key", "client-key-data", &k->key_pem, e) < 0)
        goto out;
    if ((s = json_string_value(json_object_get(user, "token"))) && !(k->token = strdup(s))) {
        err_set(e, "out of memory");
        goto out;
    }
    if ((s = json_string_value(json_object_get(user, "tokenFile"))) &&
        !(k->token = read_text(s, e)))
        goto out;
    if (!k->token && !(k->cert_pem && k->key_pem)) {
        err_set(e, "%s: the current context's user has neither a token nor a client certificate",
                path);
        goto out;
    }
    rc = 0;
out:
    manifest_free(m);
    return rc;
}

static int in_cluster(struct kube *k, struct err *e)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    char url[300];

    if (!host || !*host) {
        err_set(e, "not in a cluster (KUBERNETES_SERVICE_HOST is unset): give --kubeconfig FILE");
        return -1;
    }
    snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
             port && *port ? port : "443");
    if (!(k->server = strdup(url)))
        return err_set(e, "out of memory");
    if (!(k->token = read_text(SA_DIR "/token", e)) || !(k->ca_pem = read_text(SA_DIR "/ca.crt", e)))
        return -1;
    return 0;
}

struct kube *kube_new(const char *kubeconfig, struct err *e)
{
    struct kube *k = calloc(1, sizeof(*k));

    if (!k) {
        err_set(e, "out of memory");
        return NULL;
    }
    if ((kubeconfig ? from_kubeconfig(k, kubeconfig, e) : in_cluster(k, e)) < 0)
        goto fail;
    if (k->token) { /* token files end with a newline */
        size_t n = strlen(k->token);
        while (n && (k->token[n - 1] == '\n' || k->token[n - 1] == '\r'))
            k->token[--n] = '\0';
    }
    k->connect_ms = 3000;
    k->total_ms = 10000;
    if (!(k->curl = curl_easy_init())) {
        err_set(e, "cannot initialise libcurl");
        goto fail;
    }
    return k;
fail:
    kube_free(k);
    return NULL;
}

bool kube_in_cluster(void)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");

    return host && *host && access(SA_DIR "/token", R_OK) == 0;
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

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
    struct buf *b = cls;

    return buf_add(b, p, size * n) < 0 ? 0 : size * n;
}

long kube_request(struct kube *k, const char *method, const char *path, const json_t *body,
                  json_t **resp, struct err *e)
{
    struct curl_slist *h = NULL;
    struct buf reply, url, auth;
    char *text = NULL;
    long status = -1;
    CURLcode cc;

    *resp = NULL;
    buf_init(&reply, MAX_REPLY);
    buf_init(&url, 0);
    buf_init(&auth, 0);
    buf_printf(&url, "%s%s", k->server, path);
    if (k->token)
        buf_printf(&auth, "Authorization: Bearer %s", k->token);
    if (body && !(text = json_dumps(body, JSON_COMPACT))) {
        err_set(e, "out of memory");
        goto out;
    }
    h = curl_slist_append(h, "Accept: application/json");
    if (h && text)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (h && k->token)
        h = curl_slist_append(h, buf_str(&auth));
    if (!h || url.failed || auth.failed) {
        err_set(e, "out of memory");
        goto out;
    }
    curl_easy_reset(k->curl);
    curl_easy_setopt(k->curl, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(k->curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(k->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(k->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT_MS, k->connect_ms);
    curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, k->total_ms);
    curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, &reply);
    if (text) {
        curl_easy_setopt(k->curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(k->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    if (k->ca_pem) {
        struct curl_blob ca = {k->ca_pem, strlen(k->ca_pem), CURL_BLOB_NOCOPY};
        curl_easy_setopt(k->curl, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (k->cert_pem && k->key_pem) {
        struct curl_blob c = {k->cert_pem, strlen(k->cert_pem), CURL_BLOB_NOCOPY};
        struct curl_blob key = {k->key_pem, strlen(k->key_pem), CURL_BLOB_NOCOPY};
        curl_easy_setopt(k->curl, CURLOPT_SSLCERT_BLOB, &c);
        curl_easy_setopt(k->curl, CURLOPT_SSLKEY_BLOB, &key);
    }
    if ((cc = curl_easy_perform(k->curl)) != CURLE_OK) {
        err_set(e, "%s %s: %s", method, path, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
    if (reply.len)
        *resp = json_loadb(reply.data, reply.len, 0, NULL);
out:
    curl_slist_free_all(h);
    free(text);
    buf_release(&reply);
    buf_release(&url);
    buf_release(&auth);
    return status;
}
