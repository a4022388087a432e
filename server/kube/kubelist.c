#include "server/kube/kubelist.h"

#include <stdbool.h>
#include <stdlib.h>

#include "policy/base/buf.h"
#include "policy/model/wire.h"
#include "server/kube/discovery.h"
#include "server/kube/kube.h"

#define PAGE 500
#define LIST_TIMEOUT_MS 60000

/*
 * LIST every page of kind k through api a into w (items put one by one), in namespace ns alone
 * when ns is not NULL. 0, or -1 with e set.
 */
static int list_kind(struct kube *kube, const struct model_api *a, const char *ns,
                     struct model_writer *w, struct err *e)
{
    char *cont = NULL;
    int rc = -1;

    for (;;) {
        struct buf path;
        struct wire_page page;
        json_t *resp = NULL;
        long st;

        buf_init(&path, 0);
        if (*a->group)
            buf_printf(&path, "/apis/%s/%s/", a->group, a->version);
        else
            buf_printf(&path, "/api/%s/", a->version);
        if (ns) {
            /* a namespace name is a DNS label: nothing in it needs escaping, but be safe */
            buf_puts(&path, "namespaces/");
            kube_query_escape(ns, &path);
            buf_puts(&path, "/");
        }
        buf_printf(&path, "%s?limit=%d", a->resource, PAGE);
        if (cont) {
            buf_puts(&path, "&continue=");
            kube_query_escape(cont, &path);
        }
        st = path.failed ? err_set(e, "out of memory")
                         : kube_request(kube, "GET", buf_str(&path), NULL, &resp, e);
        buf_release(&path);
        if (st != 200) {
            const char *msg = json_string_value(json_object_get(resp, "message"));

            if (st >= 0)
                err_set(e, "LIST %s: HTTP %ld%s%.200s", a->resource, st, msg ? ": " : "",
                        msg ? msg : "");
            json_decref(resp);
            goto out;
        }
        if (wire_list_json(resp, a->kind, &page, e) < 0) {
            err_prefix(e, "LIST %s", a->resource);
            json_decref(resp);
            goto out;
        }
        json_decref(resp);
        for (size_t i = 0; i < page.n; i++) {
            struct model_item *it = page.items[i];

            page.items[i] = NULL;
            if (model_writer_put(w, it) < 0) {
                wire_page_release(&page);
                err_set(e, "out of memory");
                goto out;
            }
        }
        free(cont);
        cont = page.cont;
        page.cont = NULL;
        wire_page_release(&page);
        if (!cont)
            break;
    }
    rc = model_writer_set_complete(w, a->kind) < 0 ? err_set(e, "out of memory") : 0;
out:
    free(cont);
    return rc;
}

/* Is kind k LISTed in only_ns alone (a namespaced policy kind)? */
static bool in_ns_only(enum model_kind k)
{
    const struct model_kind_info *info = model_kind_info(k);

    return info->namespaced && info->form == MODEL_FORM_POLICY;
}

struct model *kubelist_snapshot(const char *kubeconfig, const char *only_ns, struct err *e)
{
    struct kube *kube = kube_new(kubeconfig, e);
    struct model_writer *w = NULL;
    struct model *m = NULL;
    int chosen[MODEL_N_KINDS];
    const struct model_api *apis;
    size_t n_apis;

    if (!kube)
        return NULL;
    kube_set_timeout(kube, 5000, LIST_TIMEOUT_MS);
    apis = model_apis(&n_apis);
    if (discovery_round(kube, chosen, e) < 0)
        goto out;
    if (!(w = model_writer_new())) {
        err_set(e, "out of memory");
        goto out;
    }
    for (int k = 0; k < MODEL_N_KINDS; k++)
        if (chosen[k] >= 0 && (size_t)chosen[k] < n_apis &&
            list_kind(kube, &apis[chosen[k]], only_ns && in_ns_only((enum model_kind)k) ? only_ns : NULL,
                      w, e) < 0)
            goto out;
    if (!(m = model_writer_publish(w)))
        err_set(e, "out of memory");
out:
    model_writer_free(w);
    kube_free(kube);
    return m;
}
