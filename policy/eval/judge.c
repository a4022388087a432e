#include "policy/eval/judge.h"

#include <stdlib.h>
#include <string.h>

#include "policy/eval/context.h"
#include "policy/eval/reach.h"
#include "policy/eval/scope.h"
#include "policy/eval/setres.h"

/* The most "why a policy is judged" may take: it names namespaces and selectors of the object. */
#define JUDGE_WHY_CAP ((size_t)4096)

int judge_report(const struct policy *pol, const struct object *obj, const struct reach_result *r,
                 bool name_models, struct verdict *v)
{
    size_t i;

    for (i = 0; i < r->n_escapes; i++) {
        const struct reach_escape *x = &r->escapes[i];
        const char *kind = name_models && x->model->kind ? x->model->kind : "";
        const char *name = name_models && x->model->name ? x->model->name : "";

        if (verdict_add(v, obj, x->peer->node, "egress", pol->egress_mode, true,
                        x->peer->path ? x->peer->path : "", "%s%s%s%s%s", kind,
                        name_models ? " " : "", name, name_models ? ": " : "", x->message) < 0)
            return -1;
        if (x->what && !(v->findings[v->n_findings - 1].escapes = strdup(x->what)))
            return -1;
    }
    for (i = 0; i < r->n_notes; i++) {
        const struct reach_note *n = &r->notes[i];
        const char *kind = name_models && n->model->kind ? n->model->kind : "";
        const char *name = name_models && n->model->name ? n->model->name : "";

        if (verdict_add(v, obj, n->peer->node, "egress", pol->egress_mode, false,
                        n->peer->path ? n->peer->path : "", "%s%s%s%s%s", kind,
                        name_models ? " " : "", name, name_models ? ": " : "", n->message) < 0)
            return -1;
    }
    /* What reach_check only counted: still violations, said once. */
    if (r->n_unlisted &&
        verdict_add(v, obj, NULL, "egress", pol->egress_mode, true, "",
                    "%zu more destinations open outside the allow-list (the first %zu are "
                    "listed)",
                    r->n_unlisted, r->n_escapes) < 0)
        return -1;
    if (r->n_notes_unlisted &&
        verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, "",
                    "%zu more destinations open only addresses the policy file always denies",
                    r->n_notes_unlisted) < 0)
        return -1;
    return 0;
}

/*
 * Says, after each violation from `first` on, why the policy is judged at all: a person who sees
 * a policy in a non-AI namespace denied needs to know it may select AI-labelled pods.
 */
static int explain(struct verdict *v, size_t first, const char *why)
{
    for (size_t i = first; *why && i < v->n_findings; i++) {
        struct finding *f = &v->findings[i];
        size_t n = strlen(f->message) + strlen(why) + 20;
        char *msg;

        if (!f->violation)
            continue;
        if (!(msg = malloc(n)))
            return -1;
        snprintf(msg, n, "%s (AI workloads: %s)", f->message, why);
        free(f->message);
        f->message = msg;
    }
    return 0;
}

static int decide_model(const struct policy *pol, const struct object *obj,
                        const struct request_ctx *ctx, const struct compose_policy *self,
                        const struct egress_model *m, bool name_models, struct verdict *v,
                        struct err *e)
{
    struct opening_list ops;
    struct reach_result res;
    struct buf why;
    const char *prefix = name_models && m->path && *m->path ? m->path : "";
    const char *sep = *prefix ? ": " : "";
    size_t i, first;
    bool governs;
    int rc = -1;

    for (i = 0; i < m->n_notes; i++)
        if (verdict_add(v, obj, m->notes[i].node, "egress", pol->egress_mode, false,
                        m->notes[i].path ? m->notes[i].path : "", "%s", m->notes[i].message) < 0)
            return err_set(e, "out of memory");
    if (!m->governs_egress) {
        if (verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, m->path ? m->path : "",
                        "%s%snot evaluated: the policy does not govern egress, so it opens and "
                        "restricts nothing",
                        prefix, sep) < 0)
            return err_set(e, "out of memory");
        return 0;
    }
    buf_init_cut(&why, JUDGE_WHY_CAP, "...");
    governs = scope_governs_ai_assuming(pol, m, ctx ? ctx->namespaces : NULL,
                                        ctx ? ctx->ns_assumed_not_ai : NULL, &why);
    if (why.failed) {
        buf_release(&why);
        return err_set(e, "out of memory");
    }
    if (!governs) {
        rc = verdict_add(v, obj, NULL, "egress", pol->egress_mode, false, m->path ? m->path : "",
                         "%s%snot evaluated: it governs no AI workload: %s", prefix, sep,
                         buf_str(&why));
        buf_release(&why);
        return rc < 0 ? err_set(e, "out of memory") : 0;
    }
    opening_list_init(&ops);
    ops.budget = ctx ? ctx->budget : NULL;
    reach_result_init(&res);
    if (opening_list_build_one(m, &ops, e) < 0)
        goto out;
    if (reach_check(pol, m->ns, &ops, &res, e) < 0)
        goto out;
    if (ctx && context_applies(pol, ctx->context, m)) {
        /* With the other policies known, what counts is what the model still opens among them. */
        rc = context_judge_model(pol, obj, ctx->context, self, m, &res, buf_str(&why), v, e);
        goto out;
    }
    first = v->n_findings;
    if (judge_report(pol, obj, &res, false, v) < 0 || explain(v, first, buf_str(&why)) < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    rc = 0;
out:
    buf_release(&why);
    reach_result_release(&res);
    opening_list_release(&ops);
    return rc;
}

int judge_models(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
                 const struct egress_list *models, struct verdict *v, struct err *e)
{
    struct compose_policy self;
    size_t i;

    /* The object as composition knows it: its identity is the kind its models name. */
    memset(&self, 0, sizeof(self));
    self.kind = models->n && models->models[0].kind ? models->models[0].kind : obj->kind;
    self.ns = models->n && models->models[0].ns ? models->models[0].ns : "";
    self.name = obj->name;
    self.file = obj->file;
    self.line = obj->line;
    self.obj = obj;
    self.models = models;
    for (i = 0; i < models->n; i++)
        if (decide_model(pol, obj, ctx, &self, &models->models[i], models->n > 1, v, e) < 0)
            return -1;
    return 0;
}

int judge_read_then(const struct policy *pol, const struct object *obj,
                    const struct request_ctx *ctx, judge_reader *read, judge_after *after,
                    struct verdict *v, struct err *e)
{
    struct egress_list models;
    int rc;

    egress_list_init(&models);
    rc = read(obj, &models, e);
    /* What the object reaches through address sets is what the sets known to the run hold. */
    if (rc == 0)
        rc = setres_apply(&models, ctx ? ctx->sets : NULL, ctx ? ctx->namespaces : NULL, e);
    if (rc == 0)
        rc = judge_models(pol, obj, ctx, &models, v, e);
    if (rc == 0 && after)
        rc = after(pol, obj, ctx, &models, v, e);
    egress_list_release(&models);
    return rc;
}

int judge_read(const struct policy *pol, const struct object *obj,
                      const struct request_ctx *ctx, judge_reader *read, struct verdict *v,
                      struct err *e)
{
    return judge_read_then(pol, obj, ctx, read, NULL, v, e);
}
