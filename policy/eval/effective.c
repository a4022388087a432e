#include "policy/eval/effective.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"
#include "policy/cni/calico.h"
#include "policy/doc/doc.h"
#include "policy/cni/cilium.h"
#include "policy/eval/egress.h"
#include "policy/cni/netpol.h"
#include "policy/eval/opening.h"
#include "policy/eval/reach.h"

#define RULE "egress.effective"

typedef int (*reader_fn)(const struct object *obj, struct egress_list *out, struct err *e);

static bool is_netpol(const struct object *obj)
{
    char group[128];

    object_group(obj, group, sizeof(group));
    return !strcmp(obj->kind, "NetworkPolicy") &&
           (!strcmp(group, "networking.k8s.io") || !strcmp(group, "extensions"));
}

/* Every policy kind with an egress reader. */
static const struct {
    bool (*is)(const struct object *obj);
    reader_fn read;
} readers[] = {
    {is_netpol, netpol_read},
    {cilium_is_policy, cilium_read},
    {calico_is_policy, calico_read},
};

/* The models read from one object. */
struct source {
    const struct object *obj;
    struct egress_list models;
};

/* A model as it takes part in one namespace's evaluation. */
struct part {
    const struct egress_model *orig; /* the model read */
    struct egress_model view;        /* shallow: orig with only its allow rules (partial cover) */
    bool use_view;
    const struct object *obj;
};

void effective_result_init(struct effective_result *r)
{
    r->items = NULL;
    r->n = 0;
}

void effective_result_release(struct effective_result *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->items[i].ns);
        verdict_release(&r->items[i].v);
    }
    free(r->items);
    effective_result_init(r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The namespaces the input names, sorted and unique (borrowed strings). */
static const char **input_namespaces(const struct object *const *objs, size_t n, size_t *count)
{
    const char **names = calloc(n ? n : 1, sizeof(*names));
    size_t i, k = 0, u = 0;

    if (!names)
        return NULL;
    for (i = 0; i < n; i++) {
        const struct object *o = objs[i];
        if (!strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1") && *o->name)
            names[k++] = o->name;
        else if (*o->ns)
            names[k++] = o->ns;
    }
    qsort(names, k, sizeof(*names), cmp_str);
    for (i = 0; i < k; i++)
        if (!u || strcmp(names[u - 1], names[i]))
            names[u++] = names[i];
    *count = u;
    return names;
}

/* How a model's subject meets namespace ns: FALSE (not at all), UNKNOWN (some pods), TRUE (all). */
static enum tri subject_meets(const struct egress_model *m, const char *ns, const json_t *labels,
                              bool complete)
{
    enum tri ns_match = TRI_TRUE;

    if (!m->governs_egress || m->host_policy)
        return TRI_FALSE;
    if (m->ns && strcmp(m->ns, ns))
        return TRI_FALSE;
    if (m->ns_sel && !selector_is_all(m->ns_sel))
        ns_match = selector_eval(m->ns_sel, labels, complete);
    if (ns_match == TRI_FALSE)
        return TRI_FALSE;
    if (m->pod_sel && selector_is_none(m->pod_sel))
        return TRI_FALSE;
    if (m->pod_sel && !selector_is_all(m->pod_sel))
        return TRI_UNKNOWN;
    return ns_match;
}

/*
 * A finding about namespace-wide egress. It may come from any object of the input, so the
 * policy's file and line go into the message and the finding itself carries no position.
 */
static int add(struct verdict *v, const struct object *obj, const json_t *node, bool violation,
               const struct policy *pol, const char *path, const char *kind, const char *name,
               const char *msg, struct err *e)
{
    char where[512] = "";
    int line = 0, col = 0;

    if (obj && *obj->file) {
        if (!node || !obj->doc || !doc_pos(obj->doc, node, &line, &col))
            line = obj->line;
        snprintf(where, sizeof(where), " (%s:%d)", obj->file, line);
    }
    if (verdict_add(v, NULL, NULL, RULE, pol->egress_mode, violation, path ? path : "",
                    "%s%s%s%s%s%s", kind ? kind : "", kind ? " " : "", name ? name : "", where,
                    kind || name ? ": " : "", msg) < 0)
        return err_set(e, "out of memory");
    return 0;
}

static const struct object *part_obj(const struct part *parts, size_t n,
                                     const struct egress_model *m)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (parts[i].orig == m || (parts[i].use_view && &parts[i].view == m))
            return parts[i].obj;
    return NULL;
}

static int evaluate_ns(const struct policy *pol, const char *ns, const struct nsdb *db,
                       const struct source *srcs, size_t n_srcs, struct verdict *v,
                       struct err *e)
{
    const json_t *known = db ? nsdb_labels(db, ns) : NULL;
    json_t *labels = known ? json_deep_copy(known) : json_object();
    struct part *parts = NULL;
    const struct egress_model **ptrs = NULL;
    struct opening_list ops;
    struct reach_result res;
    size_t total = 0, np = 0, i, j, k;
    bool isolated = false;
    int rc = -1;

    opening_list_init(&ops);
    reach_result_init(&res);
    if (!labels || json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(ns)) < 0)
        goto oom;
    for (i = 0; i < n_srcs; i++)
        total += srcs[i].models.n;
    parts = calloc(total ? total : 1, sizeof(*parts));
    ptrs = calloc(total ? total : 1, sizeof(*ptrs));
    if (!parts || !ptrs)
        goto oom;
    for (i = 0; i < n_srcs; i++) {
        for (j = 0; j < srcs[i].models.n; j++) {
            const struct egress_model *m = &srcs[i].models.models[j];
            enum tri t = subject_meets(m, ns, labels, known != NULL);
            struct part *p = &parts[np];

            if (t == TRI_FALSE)
                continue;
            p->orig = m;
            p->obj = srcs[i].obj;
            if (t == TRI_TRUE) {
                isolated = isolated || m->default_deny;
            } else {
                /* Only some pods: its denies must not take anything from the others. */
                p->view = *m;
                p->use_view = true;
                p->view.rules = calloc(m->n_rules ? m->n_rules : 1, sizeof(*m->rules));
                if (!p->view.rules)
                    goto oom;
                p->view.n_rules = 0;
                for (k = 0; k < m->n_rules; k++)
                    if (m->rules[k].action == EGRESS_ALLOW)
                        p->view.rules[p->view.n_rules++] = m->rules[k];
            }
            ptrs[np] = p->use_view ? &p->view : p->orig;
            np++;
        }
    }
    if (!isolated) {
        if (add(v, NULL, NULL, true, pol, "", NULL, NULL,
                np ? "not every AI workload of this namespace is selected by a policy with "
                     "egress default deny: their egress is not restricted"
                   : "no network policy governs the egress of this namespace's AI workloads: "
                     "their egress is not restricted",
                e) < 0)
            goto out;
    }
    if (opening_list_build(ptrs, np, &ops, e) < 0 || reach_check(pol, ns, &ops, &res, e) < 0)
        goto out;
    for (i = 0; i < res.n_escapes; i++) {
        const struct reach_escape *x = &res.escapes[i];
        if (add(v, part_obj(parts, np, x->model), x->peer->node, true, pol, x->peer->path,
                x->model->kind, x->model->name, x->message, e) < 0)
            goto out;
    }
    for (i = 0; i < res.n_notes; i++) {
        const struct reach_note *x = &res.notes[i];
        if (add(v, part_obj(parts, np, x->model), x->peer->node, false, pol, x->peer->path,
                x->model->kind, x->model->name, x->message, e) < 0)
            goto out;
    }
    if (isolated && !res.n_escapes) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "the %zu network polic%s selecting this namespace's AI workloads stay%s inside "
                 "the allow-list together", np, np == 1 ? "y" : "ies", np == 1 ? "s" : "");
        if (add(v, NULL, NULL, false, pol, "", NULL, NULL, msg, e) < 0)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    reach_result_release(&res);
    opening_list_release(&ops);
    for (i = 0; parts && i < np; i++)
        if (parts[i].use_view)
            free(parts[i].view.rules);
    free(parts);
    free(ptrs);
    json_decref(labels);
    return rc;
}

int effective_evaluate(const struct policy *pol, const struct object *const *objs, size_t n,
                       const struct nsdb *db, struct effective_result *out, struct err *e)
{
    struct source *srcs = calloc(n ? n : 1, sizeof(*srcs));
    const char **names = NULL;
    struct verdict unread;
    size_t n_srcs = 0, n_names = 0, i, r;
    int rc = -1;

    verdict_init(&unread);
    if (!srcs)
        return err_set(e, "out of memory");
    for (i = 0; i < n; i++) {
        for (r = 0; r < sizeof(readers) / sizeof(readers[0]); r++)
            if (readers[r].is(objs[i]))
                break;
        if (r == sizeof(readers) / sizeof(readers[0]))
            continue;
        struct source *s = &srcs[n_srcs];
        struct err re = {0};

        s->obj = objs[i];
        egress_list_init(&s->models);
        if (readers[r].read(objs[i], &s->models, &re) < 0) {
            /* Rejected by the API server or the CNI: it takes part in nothing. */
            egress_list_release(&s->models);
            if (add(&unread, objs[i], objs[i]->json, false, pol, "", objs[i]->kind,
                    objs[i]->name, "cannot be read, not counted in effective egress", e) < 0)
                goto out;
            continue;
        }
        n_srcs++;
    }
    if (!(names = input_namespaces(objs, n, &n_names)))
        goto oom;
    for (i = 0; i < n_names; i++) {
        const char *ns = names[i];
        struct effective_ns *item, *grown;

        if (!policy_ns_is_ai(pol, ns, db ? nsdb_labels(db, ns) : NULL))
            continue;
        grown = realloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (!grown)
            goto oom;
        out->items = grown;
        item = &out->items[out->n];
        verdict_init(&item->v);
        if (!(item->ns = strdup(ns)))
            goto oom;
        out->n++;
        for (r = 0; r < unread.n_findings; r++) {
            const struct finding *f = &unread.findings[r];
            if (verdict_add(&item->v, NULL, NULL, f->rule, f->mode, false, f->path, "%s",
                            f->message) < 0)
                goto oom;
        }
        if (evaluate_ns(pol, ns, db, srcs, n_srcs, &item->v, e) < 0)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    for (i = 0; i < n_srcs; i++)
        egress_list_release(&srcs[i].models);
    free(srcs);
    free(names);
    verdict_release(&unread);
    return rc;
}
