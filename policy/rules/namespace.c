#include "policy/rules/namespace.h"

#include <stdbool.h>
#include <stdlib.h>
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

/*
 * The label keys aiWorkloads.namespaces.selectors read: what makes a namespace an AI namespace
 * by its labels. kubernetes.io/metadata.name is the API server's and cannot change. *keys is
 * malloc()ed (strings borrowed from the policy); 0, or -1 on out of memory.
 */
static int ai_label_keys(const struct policy *pol, const char ***keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    for (size_t i = 0; i < pol->n_ns_selectors; i++)
        if (selector_keys(pol->ns_selectors[i], keys, n) < 0)
            return -1;
    for (size_t i = 0; i < *n;)
        if (!strcmp((*keys)[i], NAME_LABEL))
            (*keys)[i] = (*keys)[--*n];
        else
            i++;
    return 0;
}

/*
 * The labels that make a namespace an AI namespace are guarded like the enforcement labels: on
 * an AI namespace (before or after the UPDATE) only spec.identities may remove or change them,
 * or add one that takes the namespace out of aiWorkloads.namespaces.selectors.
 */
static int check_ai_labels(const struct policy *pol, const struct object *obj,
                           const struct request_ctx *ctx, const json_t *labels,
                           const json_t *old_labels, bool leaves_ai, const json_t *node,
                           struct verdict *v, struct err *e)
{
    const char *user = ctx->username ? ctx->username : "(unknown)";
    bool exempt = identity_exempt(pol, ctx);
    const char **keys;
    const json_t *at;
    struct buf who;
    char path[512];
    size_t n, i;
    int rc = -1;

    buf_init(&who, 0);
    identity_describe(pol, &who);
    if (ai_label_keys(pol, &keys, &n) < 0 || who.failed)
        goto out;
    for (i = 0; i < n; i++) {
        const char *key = keys[i];
        const char *was = member_label(old_labels, key), *now = member_label(labels, key);
        int r;

        if (was ? now && !strcmp(now, was) : !now || !leaves_ai)
            continue;
        member_path(path, sizeof(path), "metadata.labels[%s]", key);
        /* point at the label when it is still there, else at the labels */
        if (now && json_object_get(labels, key))
            at = json_object_get(labels, key);
        else
            at = node;
        if (exempt)
            r = verdict_add(v, obj, at, "namespace.aiLabel", pol->ns_mode, false, path,
                            "%s %s the label %s, which aiWorkloads.namespaces.selectors read, of "
                            "AI namespace \"%s\", as one of the policy's identities",
                            user, !was ? "adds" : now ? "changes" : "removes", key, obj->name);
        else if (!was)
            r = verdict_add(v, obj, at, "namespace.aiLabel", pol->ns_mode, true, path,
                            "adding the label %s=\"%s\" takes \"%s\" out of "
                            "aiWorkloads.namespaces.selectors, so it is no longer an AI "
                            "namespace: only the policy's identities (%s) may do that, not %s",
                            key, now, obj->name, buf_str(&who), user);
        else if (now)
            r = verdict_add(v, obj, at, "namespace.aiLabel", pol->ns_mode, true, path,
                            "changing the label %s from \"%s\" to \"%s\" on AI namespace \"%s\" "
                            "(aiWorkloads.namespaces.selectors read it to make a namespace an "
                            "AI namespace): only the policy's identities (%s) may do that, not %s",
                            key, was, now, obj->name, buf_str(&who), user);
        else
            r = verdict_add(v, obj, at, "namespace.aiLabel", pol->ns_mode, true, path,
                            "removing the label %s=\"%s\" from AI namespace \"%s\" "
                            "(aiWorkloads.namespaces.selectors read it to make a namespace an "
                            "AI namespace): only the policy's identities (%s) may do that, not %s",
                            key, was, obj->name, buf_str(&who), user);
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    free(keys);
    buf_release(&who);
    return rc < 0 ? err_set(e, "out of memory") : 0;
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
    if ((ai || old_ai) && before &&
        check_ai_labels(pol, obj, ctx, labels, old_labels, old_ai && !ai,
                        labels ? labels : (meta ? meta : obj->json), v, e) < 0)
        goto out;
    ret = 0;
out:
    json_decref(now);
    json_decref(before);
    return ret;
}
