#include "policy/audit/auditsync.h"

#include <string.h>

#include "policy/model/kinds.h"

/*
 * Whose verdicts a change of kind k in namespace ns reaches besides the object's own:
 *   - a namespaced policy: the policies and sets of ns (policies compose with the others that
 *     select the same pods, context.h) and the cluster-scoped sets (judged by the policies that
 *     select them, netset.h); cluster-wide policies are judged alone (context.h);
 *   - a namespaced set: the policies and sets of ns, the cluster-scoped policies (a
 *     GlobalNetworkPolicy may select sets in any namespace), and the namespaced Calico policies
 *     of other namespaces whose namespaceSelector may reach it (audit.c);
 *   - a cluster-scoped policy or set: every policy and set (they reach every namespace).
 */
static int touch(struct audit *a, enum model_kind k, const char *ns, bool *all, struct err *e)
{
    enum model_form f = model_kind_info(k)->form;
    int rc;

    if (f == MODEL_FORM_NAMESPACE || f == MODEL_FORM_POD || *all)
        return 0;
    if (!*ns) {
        *all = true;
        rc = audit_touch(a, NULL, 0);
    } else {
        rc = audit_touch(a, ns,
                         f == MODEL_FORM_NETSET
                             ? AUDIT_REACH_CLUSTER_POLICIES | AUDIT_REACH_OTHER_NAMESPACES
                             : AUDIT_REACH_CLUSTER_SETS);
    }
    return rc < 0 ? err_set(e, "out of memory") : 0;
}

static int put(struct audit *a, struct model_item *it, struct auditsync_stats *st, struct err *e)
{
    struct err pe = {0};

    if (audit_put_item(a, it, &pe) == 0) {
        st->put++;
        return 0;
    }
    if (!strcmp(pe.msg, "out of memory")) {
        *e = pe;
        return -1;
    }
    if (!st->skipped++)
        st->first = pe;
    return 0;
}

static int order(const struct model_item *x, const struct model_item *y)
{
    int c = strcmp(x->ns, y->ns);

    return c ? c : strcmp(x->name, y->name);
}

/* One kind: a merge of the two tables, both sorted by (namespace, name) (model.h). */
static int apply_kind(struct audit *a, enum model_kind k, const struct model *before,
                      const struct model *after, bool *all, struct auditsync_stats *st,
                      struct err *e)
{
    struct model_item *const *b = NULL, *const *n = NULL;
    size_t nb = before ? model_list(before, k, NULL, &b) : 0;
    size_t nn = model_list(after, k, NULL, &n);
    size_t i = 0, j = 0;
    const char *last_touched = NULL; /* one touch per namespace and kind */
    enum model_form f = model_kind_info(k)->form;

    /*
     * A set kind (or the Namespaces) becoming known or unknown with the same objects: what a
     * selector may reach beyond the known sets, or an unknown namespace's labels, are "possibly
     * anything" or not (modelctx.c), which every policy and set may read.
     */
    if (before && !*all && (f == MODEL_FORM_NETSET || f == MODEL_FORM_NAMESPACE) &&
        model_known(before, k) != model_known(after, k)) {
        *all = true;
        if (audit_touch(a, NULL, 0) < 0)
            return err_set(e, "out of memory");
    }
    if (b == n && nb == nn)
        return 0; /* the same table: the kind did not change */
    while (i < nb || j < nn) {
        const struct model_item *changed;
        int c;

        /* Most items are the same ones: a pointer compare, no string compare. */
        if (i < nb && j < nn && b[i] == n[j]) {
            i++;
            j++;
            continue;
        }
        c = i == nb ? 1 : j == nn ? -1 : order(b[i], n[j]);
        if (c < 0) {
            changed = b[i++];
            if (audit_delete_item(a, changed) < 0)
                return err_set(e, "out of memory");
            st->deleted++;
        } else {
            changed = n[j];
            if (c == 0)
                i++;
            if (put(a, n[j++], st, e) < 0)
                return -1;
        }
        /* The first sync decides every object anyway: nothing to touch. */
        if (before && (!last_touched || strcmp(last_touched, changed->ns))) {
            if (touch(a, k, changed->ns, all, e) < 0)
                return -1;
            last_touched = changed->ns;
        }
    }
    return 0;
}

int auditsync_apply(struct audit *a, const struct model *before, const struct model *after,
                    struct auditsync_stats *st, struct err *e)
{
    bool all = false;

    memset(st, 0, sizeof(*st));
    /* Namespaces first (kind 0): the audit knows their labels before it decides in them. */
    for (int k = 0; k < MODEL_N_KINDS; k++)
        if (apply_kind(a, (enum model_kind)k, before, after, &all, st, e) < 0)
            return -1;
    return 0;
}
