#include "policy/eval/effective.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/doc/doc.h"
#include "policy/eval/compose.h"
#include "policy/eval/explain.h"
#include "policy/eval/inventory.h"

#define RULE "egress.effective"
#define MAX_NAMED 8 /* workloads named in one message before "and N more" */
/* The most the texts of a finding may take (they name workloads, quote reach.c's messages). */
#define EFFECTIVE_WHO_CAP ((size_t)4096)
#define EFFECTIVE_MESSAGE_CAP ((size_t)24576)

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
        json_decref(r->items[i].detail);
    }
    free(r->items);
    effective_result_init(r);
}

/*
 * A finding about namespace-wide egress. It may come from any object of the input, so the
 * policy's file and line go into the message and the finding itself carries no position.
 */
static int add(struct verdict *v, const struct compose_policy *p, const json_t *node,
               bool violation, const struct policy *pol, const char *path, const char *msg,
               struct err *e)
{
    char who[800] = "";
    int line = 0, col = 0;

    if (p) {
        struct compose_policy at = *p;

        /* the line of the peer when known, else the object's */
        if (node && p->obj && p->obj->doc && doc_pos(p->obj->doc, node, &line, &col))
            at.line = line;
        compose_policy_name(&at, who, sizeof(who));
    }
    if (verdict_add(v, NULL, NULL, RULE, pol->egress_mode, violation, path ? path : "",
                    "%s%s%s", who, *who ? ": " : "", msg) < 0)
        return err_set(e, "out of memory");
    return 0;
}

static void name_workload(struct buf *b, const struct compose_workload *w)
{
    buf_printf(b, "%s/%s", w->kind, *w->name ? w->name : "(unnamed)");
}

/* One escaping peer over the workloads that reach it with the same message. */
struct group {
    const struct compose_part *part;
    const struct egress_peer *peer;
    const char *message; /* borrowed from the first evaluation's escape */
    const char *what;    /* borrowed: what escapes */
    bool cut;            /* what was cut at its cap (reach.h): never merged with another */
    struct buf who;      /* the workloads */
    size_t n_who;
};

static int group_add(struct group **gs, size_t *n, const struct compose_part *part,
                     const struct reach_escape *x, const struct compose_workload *w)
{
    struct group *g = NULL, *grown;
    size_t i;

    /* a message cut at its cap may not tell two escapes apart: each keeps its own finding */
    for (i = 0; i < *n && !x->cut; i++)
        if ((*gs)[i].part->model == part->model && (*gs)[i].peer == x->peer && !(*gs)[i].cut &&
            !strcmp((*gs)[i].message, x->message)) {
            g = &(*gs)[i];
            break;
        }
    if (!g) {
        if (!(grown = realloc(*gs, (*n + 1) * sizeof(**gs))))
            return -1;
        *gs = grown;
        g = &grown[(*n)++];
        memset(g, 0, sizeof(*g));
        g->part = part;
        g->peer = x->peer;
        g->message = x->message;
        g->what = x->what;
        g->cut = x->cut;
        buf_init_cut(&g->who, EFFECTIVE_WHO_CAP, "...");
    }
    if (w) {
        if (g->n_who < MAX_NAMED) {
            if (g->n_who)
                buf_puts(&g->who, ", ");
            name_workload(&g->who, w);
        }
        g->n_who++;
    }
    return g->who.failed ? -1 : 0;
}

static int report_groups(const struct policy *pol, struct group *gs, size_t n,
                         struct verdict *v, struct err *e)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        struct group *g = &gs[i];
        struct buf msg;

        buf_init_cut(&msg, EFFECTIVE_MESSAGE_CAP, "...");
        if (!g->n_who && g->part->applies != TRI_TRUE)
            buf_puts(&msg, "for the pods it may select, ");
        buf_puts(&msg, g->message);
        if (g->n_who) {
            buf_printf(&msg, " (reached by %s", buf_str(&g->who));
            if (g->n_who > MAX_NAMED)
                buf_printf(&msg, " and %zu more", g->n_who - MAX_NAMED);
            buf_puts(&msg, ")");
        }
        rc = msg.failed ? err_set(e, "out of memory")
                        : add(v, g->part->policy, g->peer->node, true, pol, g->peer->path,
                              buf_str(&msg), e);
        if (rc == 0 && g->what &&
            !(v->findings[v->n_findings - 1].escapes = strdup(g->what)))
            rc = err_set(e, "out of memory");
        buf_release(&msg);
    }
    return rc;
}

/* Reach notes (a peer that opens only always-denied addresses), each said once. */
static int report_notes(const struct policy *pol, const struct compose_eval *evs, size_t n,
                        struct verdict *v, struct err *e)
{
    size_t i, k, j;

    for (i = 0; i < n; i++)
        for (k = 0; k < evs[i].res.n_notes; k++) {
            const struct reach_note *x = &evs[i].res.notes[k];
            const struct compose_part *part = compose_part_of(&evs[i], x->model);
            bool seen = false;

            for (j = 0; j < i && !seen; j++)
                for (size_t q = 0; q < evs[j].res.n_notes && !seen; q++)
                    seen = evs[j].res.notes[q].peer == x->peer &&
                           !strcmp(evs[j].res.notes[q].message, x->message);
            if (!seen && part &&
                add(v, part->policy, x->peer->node, false, pol, x->peer->path, x->message, e) < 0)
                return -1;
        }
    return 0;
}

/* Is some policy that only MAY apply one with default deny (so isolation is unknown)? */
static bool maybe_isolated(const struct compose_eval *ev)
{
    size_t i;

    for (i = 0; i < ev->n_parts; i++)
        if (ev->parts[i].applies != TRI_TRUE && ev->parts[i].model->default_deny)
            return true;
    return false;
}

/* The "egress not restricted" finding of the workloads that no default deny isolates. */
static int report_unisolated(const struct policy *pol, const struct compose_subject *subj,
                             const struct compose_eval *evs, size_t n, bool per_workload,
                             struct verdict *v, struct err *e)
{
    struct buf who, msg;
    size_t i, named = 0, count = 0;
    bool maybe = false;
    int rc;

    if (!per_workload) {
        const char *text;

        if (evs[0].isolating)
            return 0;
        if (!evs[0].n_parts)
            text = "no network policy of the input selects this namespace's AI workloads: "
                   "their egress is not restricted";
        else if (maybe_isolated(&evs[0]))
            text = "the input shows no pods of this namespace, and no policy with egress default "
                   "deny surely selects all of them: the egress of some AI workloads may not be "
                   "restricted";
        else
            text = "not every AI workload of this namespace is selected by a policy with egress "
                   "default deny: their egress is not restricted";
        return add(v, NULL, NULL, true, pol, "", text, e);
    }
    buf_init_cut(&who, EFFECTIVE_WHO_CAP, "...");
    for (i = 0; i < n; i++) {
        if (evs[i].isolating)
            continue;
        count++;
        maybe |= maybe_isolated(&evs[i]);
        if (named++ < MAX_NAMED) {
            if (named > 1)
                buf_puts(&who, ", ");
            name_workload(&who, subj[i].workload);
        }
    }
    if (!count) {
        buf_release(&who);
        return 0;
    }
    buf_init_cut(&msg, EFFECTIVE_MESSAGE_CAP, "...");
    buf_printf(&msg, "%s%s %s %s selected by any policy with egress default deny%s: %s egress %s",
               buf_str(&who), count > MAX_NAMED ? " and more" : "", count == 1 ? "is" : "are",
               maybe ? "perhaps not" : "not",
               maybe ? " (selectors depend on namespace labels the run does not know)" : "",
               count == 1 ? "its" : "their",
               maybe ? "may not be restricted" : "is not restricted: every destination is open");
    rc = msg.failed || who.failed ? err_set(e, "out of memory")
                                  : add(v, NULL, NULL, true, pol, "", buf_str(&msg), e);
    buf_release(&who);
    buf_release(&msg);
    return rc;
}

static int report_clean(const struct policy *pol, const struct compose_eval *evs, size_t n,
                        bool per_workload, struct verdict *v, struct err *e)
{
    const struct compose_policy **seen;
    char msg[256];
    size_t i, k, j, distinct = 0, total = 0;

    for (i = 0; i < n; i++) {
        if (!evs[i].isolating || evs[i].res.n_escapes)
            return 0;
        total += evs[i].n_parts;
    }
    if (!(seen = calloc(total ? total : 1, sizeof(*seen))))
        return err_set(e, "out of memory");
    for (i = 0; i < n; i++)
        for (k = 0; k < evs[i].n_parts; k++) {
            for (j = 0; j < distinct && seen[j] != evs[i].parts[k].policy; j++)
                ;
            if (j == distinct)
                seen[distinct++] = evs[i].parts[k].policy;
        }
    free(seen);
    if (per_workload)
        snprintf(msg, sizeof(msg),
                 "each of the %zu workload%s of this namespace in the input stays inside the "
                 "allow-list with the %zu network polic%s that select%s %s",
                 n, n == 1 ? "" : "s", distinct, distinct == 1 ? "y" : "ies",
                 distinct == 1 ? "s" : "", n == 1 ? "it" : "them");
    else
        snprintf(msg, sizeof(msg),
                 "the %zu network polic%s selecting this namespace's AI workloads stay%s inside "
                 "the allow-list together",
                 distinct, distinct == 1 ? "y" : "ies", distinct == 1 ? "s" : "");
    return add(v, NULL, NULL, false, pol, "", msg, e);
}

int effective_namespace(const struct policy *pol, const struct compose_input *in, const char *ns,
                        bool per_workload, struct effective_ns *out, struct err *e)
{
    struct compose_subject *subj = NULL;
    struct compose_eval *evs = NULL;
    struct group *groups = NULL;
    size_t n = 0, n_groups = 0, i, k;
    json_t *list;
    int rc = -1;

    if (per_workload)
        for (i = 0; i < in->n_workloads; i++)
            n += !strcmp(in->workloads[i].ns, ns);
    if (!n)
        per_workload = false, n = 1;
    subj = calloc(n, sizeof(*subj));
    evs = calloc(n, sizeof(*evs));
    if (!subj || !evs || !(out->detail = json_pack("{s:s, s:s, s:[]}", "namespace", ns, "basis",
                                                   per_workload ? "workloads" : "namespace",
                                                   "subjects")))
        goto oom;
    list = json_object_get(out->detail, "subjects");
    for (i = k = 0; i < n; i++) {
        subj[i].ns = ns;
        if (per_workload) {
            while (strcmp(in->workloads[k].ns, ns))
                k++;
            subj[i].workload = &in->workloads[k++];
        }
        compose_eval_init(&evs[i]);
        if (compose_eval_run(pol, in, NULL, 0, NULL, NULL, &subj[i], &evs[i], e) < 0)
            goto out;
        if (json_array_append_new(list, explain_subject(pol, &subj[i], &evs[i])) < 0)
            goto oom;
        for (size_t x = 0; x < evs[i].res.n_escapes; x++) {
            const struct reach_escape *esc = &evs[i].res.escapes[x];
            const struct compose_part *part = compose_part_of(&evs[i], esc->model);

            if (part && group_add(&groups, &n_groups, part, esc, subj[i].workload) < 0)
                goto oom;
        }
    }
    if (report_unisolated(pol, subj, evs, n, per_workload, &out->v, e) < 0 ||
        report_groups(pol, groups, n_groups, &out->v, e) < 0 ||
        report_notes(pol, evs, n, &out->v, e) < 0 ||
        report_clean(pol, evs, n, per_workload, &out->v, e) < 0)
        goto out;
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    for (i = 0; i < n_groups; i++)
        buf_release(&groups[i].who);
    free(groups);
    for (i = 0; evs && i < n; i++)
        compose_eval_release(&evs[i]);
    free(evs);
    free(subj);
    return rc;
}

int effective_evaluate(const struct policy *pol, const struct object *const *objs, size_t n,
                       const struct nsdb *db, const struct setdb *sets,
                       struct effective_result *out, struct err *e)
{
    struct inventory inv;
    size_t i, r;
    int rc = -1;

    if (inventory_build(&inv, objs, n, db, sets, e) < 0)
        goto out;
    for (i = 0; i < inv.n_namespaces; i++) {
        const char *ns = inv.namespaces[i];
        struct effective_ns *item, *grown;

        if (!policy_ns_is_ai(pol, ns, db ? nsdb_labels(db, ns) : NULL))
            continue;
        grown = realloc(out->items, (out->n + 1) * sizeof(*out->items));
        if (!grown)
            goto oom;
        out->items = grown;
        item = &out->items[out->n];
        memset(item, 0, sizeof(*item));
        verdict_init(&item->v);
        if (!(item->ns = strdup(ns)))
            goto oom;
        out->n++;
        /* Policies their readers refuse take part in nothing (decide_object reports them). */
        for (r = 0; r < inv.n_policies; r++)
            if (inv.policies[r].error &&
                add(&item->v, &inv.policies[r], NULL, false, pol, "",
                    "cannot be read, not counted in effective egress", e) < 0)
                goto out;
        if (effective_namespace(pol, &inv.in, ns, true, item, e) < 0)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    inventory_release(&inv);
    return rc;
}
