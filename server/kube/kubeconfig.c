#include "server/kube/kubeconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/doc/manifest.h"
#include "server/webhook/tls.h"

#define MAX_FILE (1024 * 1024)

void kube_config_release(struct kube_config *c)
{
    free(c->server);
    free(c->ca_pem);
    free(c->cert_pem);
    secret_clear(&c->key);
    secret_clear(&c->token);
    free(c->token_file);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    memset(c, 0, sizeof(*c));
}

/* Standard base64 (the kubeconfig *-data fields), strictly: padding only at the end. */
static int unbase64(const char *in, const char *what, struct secret *out, struct err *e)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    char *buf = malloc(n * 3 / 4 + 4);
    unsigned acc = 0;
    int bits = 0, pad = 0;

    if (!buf)
        return err_set(e, "out of memory");
    for (const char *p = in; *p; p++) {
        const char *c;
        if (*p == '\n' || *p == '\r' || *p == ' ')
            continue;
        if (*p == '=') {
            pad++;
            continue;
        }
        if (pad || !(c = strchr(tab, *p))) {
            secret_wipe(buf, n * 3 / 4 + 4);
            free(buf);
            return err_set(e, "%s is not valid base64", what);
        }
        acc = (acc << 6) | (unsigned)(c - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[o] = '\0';
    if (secret_set(out, buf, o) < 0) {
        secret_wipe(buf, o);
        free(buf);
        return err_set(e, "out of memory");
    }
    secret_wipe(buf, o);
    free(buf);
    return 0;
}

static int decode_public(const char *in, const char *what, char **out, struct err *e)
{
    struct secret s = {0};

    if (unbase64(in, what, &s, e) < 0)
        return -1;
    *out = s.data; /* not secret: handed over as a plain string */
    return 0;
}

/* The named entry of a kubeconfig list (clusters, users, contexts): its inner object. */
static const json_t *named(const json_t *cfg, const char *list, const char *inner, const char *name)
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

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A path as written, resolved against dir when relative. NULL on OOM. */
static char *resolve(const char *path, const char *dir)
{
    size_t n;
    char *out;

    if (path[0] == '/' || !dir || !*dir)
        return strdup(path);
    n = strlen(dir) + strlen(path) + 2;
    if ((out = malloc(n)))
        snprintf(out, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path);
    return out;
}

static int file_field(const json_t *o, const char *key, const char *dir, char **out, struct err *e)
{
    const char *f = str(o, key);

    if (f && *f && !(*out = resolve(f, dir)))
        return err_set(e, "out of memory");
    return 0;
}

static int from_document(const json_t *cfg, const char *name, const char *dir,
                         struct kube_config *c, struct err *e)
{
    const json_t *ctx, *cluster, *user;
    const char *s, *current = str(cfg, "current-context");
    static const char *const refused[] = {"exec", "auth-provider", "username", "password"};

    if (!(ctx = named(cfg, "contexts", "context", current)))
        return err_set(e, "%s: current-context \"%s\" not found", name, current ? current : "");
    cluster = named(cfg, "clusters", "cluster", str(ctx, "cluster"));
    user = named(cfg, "users", "user", str(ctx, "user"));
    if (!json_is_object(cluster) || !(s = str(cluster, "server")))
        return err_set(e, "%s: the current context's cluster has no server", name);
    if (strncmp(s, "https://", 8) || strlen(s) < 9)
        return err_set(e, "%s: server %.200s: only https:// is supported", name, s);
    if (json_is_true(json_object_get(cluster, "insecure-skip-tls-verify")))
        return err_set(e,
                       "%s: insecure-skip-tls-verify is not supported: give the cluster's "
                       "certificate-authority",
                       name);
    if (!(c->server = strdup(s)))
        return err_set(e, "out of memory");
    while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
        c->server[strlen(c->server) - 1] = '\0';
    if ((s = str(cluster, "certificate-authority-data"))) {
        if (decode_public(s, "certificate-authority-data", &c->ca_pem, e) < 0)
            return -1;
    } else if (file_field(cluster, "certificate-authority", dir, &c->ca_file, e) < 0) {
        return -1;
    }
    if (!json_is_object(user))
        return err_set(e, "%s: the current context's user is missing", name);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (json_object_get(user, refused[i]))
            return err_set(e,
                           "%s: user.%s is not supported: give a token, tokenFile or a "
                           "client certificate",
                           name, refused[i]);
    if ((s = str(user, "client-certificate-data"))) {
        if (decode_public(s, "client-certificate-data", &c->cert_pem, e) < 0)
            return -1;
    } else if (file_field(user, "client-certificate", dir, &c->cert_file, e) < 0) {
        return -1;
    }
    if ((s = str(user, "client-key-data"))) {
        if (unbase64(s, "client-key-data", &c->key, e) < 0)
            return -1;
    } else if (file_field(user, "client-key", dir, &c->key_file, e) < 0) {
        return -1;
    }
    /* clientcmd: an inline token wins over tokenFile. */
    if ((s = str(user, "token")) && *s) {
        if (secret_set(&c->token, s, strlen(s)) < 0)
            return err_set(e, "out of memory");
    } else if (file_field(user, "tokenFile", dir, &c->token_file, e) < 0) {
        return -1;
    }
    if (!c->token.data && !c->token_file &&
        !((c->cert_pem || c->cert_file) && (c->key.data || c->key_file)))
        return err_set(e,
                       "%s: the current context's user has neither a token nor a client "
                       "certificate and key",
                       name);
    return 0;
}

int kubeconfig_parse(const char *data, size_t len, const char *name, const char *dir,
                     struct kube_config *c, struct err *e)
{
    struct manifest *m = manifest_new();
    int rc = -1;

    memset(c, 0, sizeof(*c));
    if (!m || manifest_read_buffer(m, data, len, name) < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    if (manifest_n_errors(m)) {
        *e = *manifest_error(m, 0);
        goto out;
    }
    if (manifest_n_objects(m) != 1 || !json_is_object(manifest_object(m, 0)->json)) {
        err_set(e, "%s: want one kubeconfig document", name);
        goto out;
    }
    rc = from_document(manifest_object(m, 0)->json, name, dir, c, e);
out:
    manifest_free(m);
    if (rc < 0)
        kube_config_release(c);
    return rc;
}

static char *read_text(const char *path, struct err *e)
{
    size_t len;

    return tls_read_file(path, &len, MAX_FILE, e);
}

int kubeconfig_load_files(struct kube_config *c, struct err *e)
{
    if (c->ca_file && !c->ca_pem && !(c->ca_pem = read_text(c->ca_file, e)))
        return -1;
    if (c->cert_file && !c->cert_pem && !(c->cert_pem = read_text(c->cert_file, e)))
        return -1;
    if (c->key_file && !c->key.data) {
        char *k = read_text(c->key_file, e);
        int rc;
        if (!k)
            return -1;
        rc = secret_set(&c->key, k, strlen(k));
        secret_free_str(k);
        if (rc < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

int kubeconfig_load(const char *path, struct kube_config *c, struct err *e)
{
    size_t len;
    char *text = tls_read_file(path, &len, MAX_FILE, e), *dir = NULL, *slash;
    int rc = -1;

    memset(c, 0, sizeof(*c));
    if (!text)
        return -1;
    if ((slash = strrchr(path, '/')) &&
        !(dir = strndup(path, slash == path ? 1 : (size_t)(slash - path)))) {
        err_set(e, "out of memory");
        goto out;
    }
    if (kubeconfig_parse(text, len, path, dir, c, e) < 0)
        goto out;
    if (kubeconfig_load_files(c, e) < 0) {
        kube_config_release(c);
        goto out;
    }
    rc = 0;
out:
    secret_wipe(text, len); /* it may hold a token */
    free(text);
    free(dir);
    return rc;
}

bool kubeconfig_have_in_cluster(void)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");

    return host && *host && access(KUBE_SA_DIR "/token", R_OK) == 0;
}

int kubeconfig_in_cluster(struct kube_config *c, struct err *e)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    char url[300];

    memset(c, 0, sizeof(*c));
    if (!host || !*host)
        return err_set(e, "not in a cluster (KUBERNETES_SERVICE_HOST is unset): give --kubeconfig "
                          "FILE");
    snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
             port && *port ? port : "443");
    if (!(c->server = strdup(url)) || !(c->token_file = strdup(KUBE_SA_DIR "/token")) ||
        !(c->ca_file = strdup(KUBE_SA_DIR "/ca.crt"))) {
        kube_config_release(c);
        return err_set(e, "out of memory");
    }
    if (kubeconfig_load_files(c, e) < 0 || access(c->token_file, R_OK) != 0) {
        if (!e->msg[0] || access(c->token_file, R_OK) != 0)
            err_set(e, "cannot read the service account token %s", c->token_file);
        kube_config_release(c);
        return -1;
    }
    return 0;
}
