#include "policy/nsunknown.h"

#include <fnmatch.h>
#include <string.h>

#include "policy/config/nsdb.h"
#include "policy/selector/selwitness.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"
#define RULE "namespace.labelsUnknown"

static bool ai_by_name(const struct policy *pol, const char *ns)
{
    for (size_t i = 0; i < pol->n_ns_globs; i++)
        if (fnmatch(pol->ns_globs[i], ns, 0) == 0)
            return true;
    return false;
}

/* Appends from's findings to v, keeping their positions. 0, or -1 on out of memory. */
static int copy_findings(struct verdict *v, const struct verdict *from)
{
    for (size_t i = 0; i < from->n_findings; i++) {
        const struct finding *f = &from->findings[i];
        if (verdict_add(v, NULL, NULL, f->rule, f->mode, f->violation, f->path, "%s", f->message) <
            0)
            return -1;
        v->findings[v->n_findings - 1].line = f->line;
        v->findings[v->n_findings - 1].col = f->col;
    }
    if (!from->evaluated)
        v->evaluated = false;
    return 0;
}

static const struct finding *first_denial(const struct verdict *v)
{
    for (size_t i = 0; i < v->n_findings; i++)
        if (v->findings[i].violation && v->findings[i].mode == MODE_ENFORCE)
            return &v->findings[i];
    return NULL;
}

/* The union of the policy's namespace selectors: "is an AI namespace by its labels". */
static struct selector *ai_selector(const struct policy *pol)
{
    struct selector *any = selector_none();

    for (size_t i = 0; any && i < pol->n_ns_selectors; i++) {
        struct selector *next = selector_or(any, pol->ns_selectors[i]);
        selector_free(any);
        any = next;
    }
    return any;
}

/* Judges obj with the namespace's labels taken to be `labels`. */
static int reading(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, nsunknown_decider decide, const json_t *labels,
                   struct verdict *out, struct err *e)
{
    struct request_ctx c = *ctx;
    struct nsdb view;

    nsdb_init_one(&view, obj->ns, labels);
    c.namespaces = &view;
    verdict_init(out);
    return decide(pol, obj, &c, out, e);
}

int nsunknown_decide(const struct policy *pol, const struct object *obj,
                     const struct request_ctx *ctx, nsunknown_decider decide, struct verdict *v,
                     struct err *e)
{
    struct selector *ai = NULL, *not_ai = NULL;
    json_t *fixed = NULL, *as_ai = NULL, *as_other = NULL;
    struct verdict va, vn;
    const char *why;
    bool gave_up_ai = false, gave_up_other = false;
    int rc = -1;

    if (!ctx || !ctx->namespaces || !pol->n_ns_selectors || !*obj->ns ||
        !strcmp(obj->kind, "Namespace") || nsdb_labels(ctx->namespaces, obj->ns) ||
        ai_by_name(pol, obj->ns))
        return decide(pol, obj, ctx, v, e);

    verdict_init(&va);
    verdict_init(&vn);
    why = ctx->ns_unknown_reason && *ctx->ns_unknown_reason ? ctx->ns_unknown_reason
                                                            : "not known to this run";
    if (!(fixed = json_pack("{s:s}", NS_NAME_LABEL, obj->ns)) || !(ai = ai_selector(pol)) ||
        !(not_ai = selector_not(ai)))
        goto oom;
    /* Labels that make it an AI namespace, and labels that do not (the name label is fixed:
     * the API server sets it to the name). */
    as_ai = selector_witness(ai, fixed, &gave_up_ai);
    as_other = selector_witness(not_ai, fixed, &gave_up_other);
    if (gave_up_ai || gave_up_other) {
        rc = verdict_add(v, obj, obj->json, RULE, pol->mode, true, "metadata.namespace",
                         "the labels of namespace \"%s\" are unknown (%s), and egressguard cannot "
                         "explore which of them would make it an AI namespace "
                         "(aiWorkloads.namespaces.selectors): denied, since it may be one",
                         obj->ns, why) < 0
                 ? -1
                 : 0;
        if (rc < 0)
            goto oom;
        goto out;
    }
    if (as_ai && reading(pol, obj, ctx, decide, as_ai, &va, e) < 0)
        goto out;
    /*
     * The other reading is the decision as asked, the labels unknown: the namespace is not an AI
     * namespace by them (policy_ns_is_ai() without labels), and every other selector over its
     * labels stays unknown to the modules that reason with partial knowledge (setres, scope).
     * A label set standing for "not AI" would make those selectors known, and could admit what
     * "may be anything" must not.
     */
    if (as_other) {
        struct request_ctx c = *ctx;

        /* scope.h reads the assumption: a policy there then governs no AI workload */
        c.ns_assumed_not_ai = obj->ns;
        verdict_init(&vn);
        if (decide(pol, obj, &c, &vn, e) < 0)
            goto out;
    }
    if (!as_ai || !as_other) {
        /* Only one reading is possible: whatever the labels, the answer is that one. */
        if (copy_findings(v, as_ai ? &va : &vn) < 0)
            goto oom;
    } else if (va.allowed == vn.allowed) {
        /* The same answer either way: the labels do not matter here, nothing to say. */
        if (copy_findings(v, &vn) < 0)
            goto oom;
    } else if (ctx->ns_unknown_allow) {
        if (copy_findings(v, &vn) < 0 ||
            verdict_add(v, obj, NULL, RULE, pol->mode, false, "metadata.namespace",
                        "the labels of namespace \"%s\" are unknown (%s); judged as not an AI "
                        "namespace (--namespace-labels-unknown=allow), although as one it would "
                        "be refused",
                        obj->ns, why) < 0)
            goto oom;
    } else {
        /* The labels decide, and they are unknown: fail closed, saying what is unknown. */
        /* Neither reading's findings are copied: each assumed labels that are unknown. */
        const struct finding *f = first_denial(va.allowed ? &vn : &va);
        if (verdict_add(v, NULL, NULL, RULE, MODE_ENFORCE, true, f ? f->path : "",
                        "the labels of namespace \"%s\" are unknown (%s): if they %s it an AI "
                        "namespace (aiWorkloads.namespaces.selectors), %s: %s. Denied, since "
                        "egressguard cannot tell; make the labels known, or opt out with "
                        "--namespace-labels-unknown=allow",
                        obj->ns, why, va.allowed ? "do not make" : "make",
                        va.allowed ? "it is refused" : "it is refused as one",
                        f && f->message ? f->message : "a rule denies it") < 0)
            goto oom;
        if (f) {
            v->findings[v->n_findings - 1].line = f->line;
            v->findings[v->n_findings - 1].col = f->col;
        }
    }
    rc = 0;
    goto out;
oom:
    err_set(e, "out of memory");
out:
    verdict_release(&va);
    verdict_release(&vn);
    json_decref(fixed);
    json_decref(as_ai);
    json_decref(as_other);
    selector_free(ai);
    selector_free(not_ai);
    return rc;
}
