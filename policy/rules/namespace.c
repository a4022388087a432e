#include "policy/rules/namespace.h"

#include <stdbool.h>
#include <string.h>

#include "policy/config/identity.h"
#include "policy/doc/member.h"

#define NAME_LABEL "kubernetes.io/metadata.name"

/*
 * The labels the API server will have stored: the object's own plus kubernetes.io/metadata.name.
 * New reference, NULL on out of memory.
 */
static json_t *stored_labels(const json_t *labels, const char *name)
{
    json_t *l = json_is_object(labels) ? json_copy((json_t *)labels) : json_object();

    if (!l)
        return NULL;
    if (*name && json_object_set_new(l, NAME_LABEL, json_string(name)) < 0) {
        json_decref(l);
        return NULL;
    }
    return l;
}

static int check_required(const struct policy *pol, const struct object *obj,
                          const json_t *labels, const json_t *meta, struct verdict *v,
                          struct err *e)
{
    size_t i;

    for (i = 0; i < pol->n_ns_required_labels; i++) {
        const char *key = pol->ns_required_labels[i];
        const char *val = member_label(labels, key);

        if (val && *val)
            continue;
        if (verdict_add(v, obj, labels ? labels : meta, "namespace.requiredLabels", pol->ns_mode,
                        true, "metadata.labels",
                        "AI namespace \"%s\" must carry the label %s, which is %s", obj->name,
                        key, val ? "empty" : "missing") < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

static int check_enforcement(const struct policy *pol, const struct object *obj,
                             const struct request_ctx *ctx, const json_t *labels,
                             const json_t *old_labels, const json_t *node, struct verdict *v,
                             struct err *e)
{
    const char *user = ctx->username ? ctx->username : "(unknown)";
    bool exempt = identity_exempt(pol, ctx);
    char path[512];
    size_t i;

    for (i = 0; i < pol->n_mut_labels; i++) {
        const char *key = pol->mut_label_keys[i], *want = pol->mut_label_values[i];
        const char *was = member_label(old_labels, key), *now = member_label(labels, key);

        if (!was || (now && (strcmp(now, was) == 0 || strcmp(now, want) == 0)))
            continue;
        member_path(path, sizeof(path), "metadata.labels[%s]", key);
        if (exempt) {
            if (verdict_add(v, obj, node, "namespace.enforcementLabel", pol->ns_mode, false, path,
                            "%s %s the enforcement label %s of AI namespace \"%s\", as one of "
                            "the policy's identities",
                            user, now ? "changes" : "removes", key, obj->name) < 0)
                return err_set(e, "out of memory");
            continue;
        }
        if (now && verdict_add(v, obj, node, "namespace.enforcementLabel", pol->ns_mode, true,
                               path,
                               "changing the enforcement label %s from \"%s\" to \"%s\" takes AI "
                               "namespace \"%s\" out of egressguard's enforcement: only the "
                               "policy's identities may do that, not %s",
                               key, was, now, obj->name, user) < 0)
            return err_set(e, "out of memory");
        if (!now && verdict_add(v, obj, node, "namespace.enforcementLabel", pol->ns_mode, true,
                                path,
                                "removing the enforcement label %s=\"%s\" takes AI namespace "
                                "\"%s\" out of egressguard's enforcement: only the policy's "
                                "identities may do that, not %s",
                                key, was, obj->name, user) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

int namespace_decide(const struct policy *pol, const struct object *obj,
                     const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const char *op = ctx && ctx->operation ? ctx->operation : "CREATE";
    const json_t *meta, *labels, *old_meta = NULL, *old_labels = NULL;
    json_t *now = NULL, *before = NULL;
    bool ai, old_ai = false;
    int ret = -1;

    if (strcmp(op, "DELETE") == 0)
        return 0;
    if (member_get(obj, obj->json, "metadata", MEMBER_OBJECT, "metadata", &meta, e) < 0 ||
        member_get(obj, meta, "labels", MEMBER_OBJECT, "metadata.labels", &labels, e) < 0)
        return -1;
    now = stored_labels(labels, obj->name);
    if (!now)
        return err_set(e, "out of memory");
    ai = policy_ns_is_ai(pol, obj->name, now);

    if (strcmp(op, "UPDATE") == 0 && ctx && json_is_object(ctx->old_object)) {
        old_meta = json_object_get(ctx->old_object, "metadata");
        old_labels = json_is_object(old_meta) ? json_object_get(old_meta, "labels") : NULL;
        before = stored_labels(old_labels, obj->name);
        if (!before) {
            err_set(e, "out of memory");
            goto out;
        }
        old_ai = policy_ns_is_ai(pol, obj->name, before);
    }
    if (ai && check_required(pol, obj, labels, meta ? meta : obj->json, v, e) < 0)
        goto out;
    if ((ai || old_ai) && before &&
        check_enforcement(pol, obj, ctx, labels, old_labels,
                          labels ? labels : (meta ? meta : obj->json), v, e) < 0)
        goto out;
    ret = 0;
out:
    json_decref(now);
    json_decref(before);
    return ret;
}
