#include "server/kube/lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lease {
    char *ns, *name, *holder;
    long duration_s;
    char *seen_rv;   /* the resourceVersion of another's Lease as last seen, or NULL */
    int64_t seen_ms; /* when it was first seen with that resourceVersion */
};

struct lease *lease_new(const char *ns, const char *name, const char *holder, long duration_s)
{
    struct lease *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->ns = strdup(ns);
    l->name = strdup(name);
    l->holder = strdup(holder);
    l->duration_s = duration_s > 0 ? duration_s : 15;
    if (!l->ns || !l->name || !l->holder) {
        lease_free(l);
        return NULL;
    }
    return l;
}

void lease_free(struct lease *l)
{
    if (!l)
        return;
    free(l->ns);
    free(l->name);
    free(l->holder);
    free(l->seen_rv);
    free(l);
}

/* MicroTime, as the Lease's acquireTime and renewTime are written ("...T15:04:05.000000Z"). */
static json_t *micro_time(void)
{
    char s[64];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000));
    return json_string(s);
}

/* The Lease as we hold it: on top of cur (the one read, or NULL), taken (new acquireTime) or
 * renewed. A new reference, or NULL on out of memory. */
static json_t *held_by_us(struct lease *l, const json_t *cur, bool taken)
{
    json_t *o = cur ? json_deep_copy(cur) : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion",
                                                      "coordination.k8s.io/v1", "kind", "Lease",
                                                      "metadata", "name", l->name, "namespace",
                                                      l->ns);
    json_t *spec;
    json_int_t transitions;

    if (!o)
        return NULL;
    if (!(spec = json_object_get(o, "spec"))) {
        if (json_object_set_new(o, "spec", json_object()) < 0)
            goto fail;
        spec = json_object_get(o, "spec");
    }
    transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
    if (json_object_set_new(spec, "holderIdentity", json_string(l->holder)) < 0 ||
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(l->duration_s)) < 0 ||
        json_object_set_new(spec, "renewTime", micro_time()) < 0)
        goto fail;
    if (taken && (json_object_set_new(spec, "acquireTime", micro_time()) < 0 ||
                  json_object_set_new(spec, "leaseTransitions",
                                      json_integer(cur ? transitions + 1 : 0)) < 0))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

int lease_try(struct lease *l, struct kube *k, int64_t now_ms, struct err *e)
{
    char path[512];
    json_t *cur = NULL, *want = NULL, *resp = NULL;
    const json_t *spec;
    const char *holder, *rv;
    long st, dur;
    bool taken;
    int rc = -1;

    snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", l->ns,
             l->name);
    st = kube_request(k, "GET", path, NULL, &cur, e);
    if (st == 404) {
        if (!(want = held_by_us(l, NULL, true))) {
            err_set(e, "out of memory");
            goto out;
        }
        snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
        st = kube_request(k, "POST", path, want, &resp, e);
        rc = st == 201 || st == 200 ? 1 : st == 409 ? 0 : -1;
        goto status;
    }
    if (st != 200)
        goto status;
    spec = json_object_get(cur, "spec");
    holder = json_string_value(json_object_get(spec, "holderIdentity"));
    rv = json_string_value(json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
    taken = !holder || strcmp(holder, l->holder) != 0;
    if (taken && holder && *holder) {
        /* Another's: expired only once unchanged for its duration on our clock. */
        dur = (long)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
        if (!rv || !l->seen_rv || strcmp(rv, l->seen_rv) != 0) {
            free(l->seen_rv);
            l->seen_rv = rv ? strdup(rv) : NULL;
            l->seen_ms = now_ms;
            rc = 0;
            goto out;
        }
        if (now_ms - l->seen_ms < (int64_t)(dur > 0 ? dur : l->duration_s) * 1000) {
            rc = 0;
            goto out;
        }
    }
    if (!(want = held_by_us(l, cur, taken))) {
        err_set(e, "out of memory");
        goto out;
    }
    st = kube_request(k, "PUT", path, want, &resp, e);
    rc = st == 200 ? 1 : st == 409 ? 0 : -1;
status:
    if (rc < 0 && st >= 0)
        err_set(e, "Lease %s/%s: HTTP %ld", l->ns, l->name, st);
    else if (rc < 0)
        err_prefix(e, "Lease %s/%s", l->ns, l->name);
out:
    json_decref(cur);
    json_decref(want);
    json_decref(resp);
    return rc;
}
