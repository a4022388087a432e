#include "server/kube/nsapi.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/kube/kube.h"

struct nsapi {
    pthread_mutex_t mu;
    struct kube *kube[NSAPI_SLOTS];
    bool busy[NSAPI_SLOTS];
};

void nsapi_free(struct nsapi *a)
{
    if (!a)
        return;
    for (int i = 0; i < NSAPI_SLOTS; i++)
        kube_free(a->kube[i]);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

struct nsapi *nsapi_new(const char *kubeconfig, long timeout_ms, struct err *e)
{
    struct nsapi *a = calloc(1, sizeof(*a));

    if (!a) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        free(a);
        err_set(e, "out of memory");
        return NULL;
    }
    /* All clients now, in the main thread: file reads and libcurl's global init stay out of the
     * request threads. */
    for (int i = 0; i < NSAPI_SLOTS; i++) {
        if (!(a->kube[i] = kube_new(kubeconfig, e))) {
            nsapi_free(a);
            return NULL;
        }
        kube_set_timeout(a->kube[i], timeout_ms < 1000 ? timeout_ms : 1000, timeout_ms);
    }
    return a;
}

const char *nsapi_server(const struct nsapi *a)
{
    return kube_server(a->kube[0]);
}

/* RFC 1123 label, as Kubernetes requires of namespace names; also keeps the URL path plain. */
static bool dns_label(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

int nsapi_fetch(void *cls, const char *ns, json_t **labels, struct err *e)
{
    struct nsapi *a = cls;
    char path[128];
    json_t *resp = NULL, *meta, *l;
    const char *kind, *name;
    int slot = -1, rc = -1;
    long status;

    *labels = NULL;
    if (!dns_label(ns))
        return err_set(e, "\"%.63s\" is not a valid namespace name", ns);
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < NSAPI_SLOTS && slot < 0; i++)
        if (!a->busy[i])
            slot = i;
    if (slot >= 0)
        a->busy[slot] = true;
    pthread_mutex_unlock(&a->mu);
    if (slot < 0)
        return err_set(e, "all %d API clients are busy", NSAPI_SLOTS);

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s", ns);
    status = kube_request(a->kube[slot], "GET", path, NULL, &resp, e);
    if (status < 0)
        goto out;
    if (status == 404) {
        rc = 0;
        goto out;
    }
    if (status != 200) {
        err_set(e, "GET %s: HTTP %ld", path, status);
        goto out;
    }
    meta = json_object_get(resp, "metadata");
    kind = json_string_value(json_object_get(resp, "kind"));
    name = json_string_value(json_object_get(meta, "name"));
    l = json_object_get(meta, "labels");
    if (!kind || strcmp(kind, "Namespace") || !name || strcmp(name, ns) ||
        (l && !json_is_object(l))) {
        err_set(e, "GET %s: the reply is not that Namespace", path);
        goto out;
    }
    if (!(*labels = l ? json_incref(l) : json_object())) {
        err_set(e, "out of memory");
        goto out;
    }
    rc = 1;
out:
    json_decref(resp);
    pthread_mutex_lock(&a->mu);
    a->busy[slot] = false;
    pthread_mutex_unlock(&a->mu);
    return rc;
}
