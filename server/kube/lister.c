#include "server/kube/lister.h"

#include <stdlib.h>

#include "policy/base/buf.h"

#define MAX_RESTARTS 3

static void base_path(const struct model_api *a, const char *ns, long limit, struct buf *b)
{
    if (*a->group)
        buf_printf(b, "/apis/%s/%s/", a->group, a->version);
    else
        buf_printf(b, "/api/%s/", a->version);
    if (ns) {
        /* a namespace name is a DNS label: nothing in it needs escaping, but be safe */
        buf_puts(b, "namespaces/");
        kube_query_escape(ns, b);
        buf_puts(b, "/");
    }
    buf_printf(b, "%s?limit=%ld", a->resource, limit > 0 ? limit : 500);
}

int lister_list(struct kube *kube, const struct model_api *api, const char *ns, long limit,
                const struct lister_sink *sink, const atomic_bool *stop, char **rv,
                struct err *e)
{
    char *cont = NULL, *last_rv = NULL;
    int restarts = 0, rc = -1;

    for (;;) {
        struct buf path;
        struct wire_page page;
        json_t *resp = NULL;
        long st;

        if (stop && atomic_load(stop)) {
            err_set(e, "LIST %s: stopped", api->resource);
            goto out;
        }
        buf_init(&path, 0);
        base_path(api, ns, limit, &path);
        if (cont) {
            buf_puts(&path, "&continue=");
            kube_query_escape(cont, &path);
        }
        st = path.failed ? err_set(e, "out of memory")
                         : kube_request(kube, "GET", buf_str(&path), NULL, &resp, e);
        buf_release(&path);
        if (st == 410 && cont && sink->restart && restarts++ < MAX_RESTARTS) {
            /* The continue token expired: list from the start again. */
            json_decref(resp);
            sink->restart(sink->cls);
            free(cont);
            cont = NULL;
            continue;
        }
        if (st != 200) {
            const char *msg = json_string_value(json_object_get(resp, "message"));

            if (st >= 0)
                err_set(e, "LIST %s: HTTP %ld%s%.200s", api->resource, st, msg ? ": " : "",
                        msg ? msg : "");
            json_decref(resp);
            goto out;
        }
        if (wire_list_json(resp, api->kind, &page, e) < 0) {
            err_prefix(e, "LIST %s", api->resource);
            json_decref(resp);
            goto out;
        }
        json_decref(resp);
        if (sink->page(sink->cls, &page) < 0) {
            wire_page_release(&page);
            err_set(e, "out of memory");
            goto out;
        }
        free(last_rv);
        last_rv = page.rv;
        page.rv = NULL;
        free(cont);
        cont = page.cont;
        page.cont = NULL;
        wire_page_release(&page);
        if (!cont)
            break;
    }
    if (rv) {
        *rv = last_rv;
        last_rv = NULL;
    }
    rc = 0;
out:
    free(cont);
    free(last_rv);
    return rc;
}
