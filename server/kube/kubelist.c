#include "server/kube/kubelist.h"

#include <stdbool.h>
#include <stdlib.h>

#include "policy/model/wire.h"
#include "server/kube/discovery.h"
#include "server/kube/kube.h"
#include "server/kube/lister.h"

#define PAGE 500
#define LIST_TIMEOUT_MS 60000

/* Each page's items straight into the writer (lister.h's sink). */
static int put_page(void *cls, struct wire_page *page)
{
    struct model_writer *w = cls;

    for (size_t i = 0; i < page->n; i++) {
        struct model_item *it = page->items[i];

        page->items[i] = NULL;
        if (model_writer_put(w, it) < 0)
            return -1;
    }
    return 0;
}

/*
 * LIST every page of api into w, in namespace ns alone when ns is not NULL; then the kind is
 * complete. 0, or -1 with e set.
 */
static int list_kind(struct kube *kube, const struct model_api *a, const char *ns,
                     struct model_writer *w, struct err *e)
{
    /* No restart: the writer cannot take back what earlier pages put, so a 410 fails. */
    struct lister_sink sink = {.cls = w, .page = put_page};

    if (lister_list(kube, a, ns, PAGE, &sink, NULL, NULL, e) < 0)
        return -1;
    return model_writer_set_complete(w, a->kind) < 0 ? err_set(e, "out of memory") : 0;
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
    /* Pods only feed the server's audit: a command that exits does not list them. */
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (model_kind_info((enum model_kind)k)->form == MODEL_FORM_POD)
            continue;
        /*
         * Not served (discovery answered and no API of the kind is listed: its CRD is not
         * installed): there are none, which is knowledge, as serve's watch records it
         * (cluster.c). Left unknown, a selector that may reach such sets would stay "possibly
         * anything" here and not in serve or check.
         */
        if (chosen[k] < 0) {
            if (model_writer_set_not_served(w, (enum model_kind)k) < 0) {
                err_set(e, "out of memory");
                goto out;
            }
            continue;
        }
        if ((size_t)chosen[k] < n_apis &&
            list_kind(kube, &apis[chosen[k]],
                      only_ns && in_ns_only((enum model_kind)k) ? only_ns : NULL, w, e) < 0)
            goto out;
    }
    if (!(m = model_writer_publish(w)))
        err_set(e, "out of memory");
out:
    model_writer_free(w);
    kube_free(kube);
    return m;
}
