#include "policy/mutate/mutate.h"

#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/mutate/jsonpatch.h"

/* The three annotations egressguard always sets; they win over same-named policy annotations. */
static const char *const builtin_keys[] = {MUTATE_ANN_PROFILE, MUTATE_ANN_HASH,
                                           MUTATE_ANN_MANAGED};

static bool is_builtin(const char *key)
{
    for (size_t i = 0; i < sizeof(builtin_keys) / sizeof(builtin_keys[0]); i++)
        if (!strcmp(key, builtin_keys[i]))
            return true;
    return false;
}

/* The wanted annotations, built-ins last: a JSON object (new reference) or NULL on OOM. */
static json_t *wanted_annotations(const struct policy *pol)
{
    json_t *a = json_object();
    const char *vals[] = {pol->profile, pol->hash, MUTATE_MANAGER};

    if (!a)
        return NULL;
    for (size_t i = 0; i < pol->n_mut_annotations; i++)
        if (!is_builtin(pol->mut_annotation_keys[i]) &&
            json_object_set_new(a, pol->mut_annotation_keys[i],
                                json_string(pol->mut_annotation_values[i])) < 0)
            goto oom;
    for (size_t i = 0; i < 3; i++)
        if (json_object_set_new(a, builtin_keys[i], json_string(vals[i])) < 0)
            goto oom;
    return a;
oom:
    json_decref(a);
    return NULL;
}

static json_t *wanted_labels(const struct policy *pol)
{
    json_t *l = json_object();

    if (!l)
        return NULL;
    for (size_t i = 0; i < pol->n_mut_labels; i++)
        if (json_object_set_new(l, pol->mut_label_keys[i], json_string(pol->mut_label_values[i])) <
            0) {
            json_decref(l);
            return NULL;
        }
    return l;
}

static int add_op(json_t *patch, const char *path, json_t *value)
{
    json_t *op = json_pack("{s:s, s:s, s:o}", "op", "add", "path", path, "value", value);

    return op ? json_array_append_new(patch, op) : -1;
}

/*
 * Adds to `patch` whatever of `want` (steals it) the map metadata.<field> lacks or holds with
 * another value. An absent (or null) map is created whole by one op: JSON Patch "add" does not
 * create intermediate members. Ops on existing maps go key by key, in the order of `want`
 * (jansson keeps insertion order), so the patch is deterministic.
 */
static int patch_map(json_t *patch, const json_t *meta, const char *field, json_t *want)
{
    const json_t *have = json_object_get(meta, field);
    const char *key;
    json_t *val;
    struct buf path;
    int rc = -1;

    if (!want)
        return -1;
    if (!json_object_size(want)) {
        json_decref(want);
        return 0;
    }
    buf_init(&path, 0);
    if (!json_is_object(have)) {
        buf_printf(&path, "/metadata/%s", field);
        rc = path.failed ? -1 : add_op(patch, buf_str(&path), json_incref(want));
        goto out;
    }
    json_object_foreach(want, key, val) {
        const json_t *cur = json_object_get(have, key);
        if (json_equal(cur, val))
            continue; /* already there: a reinvocation adds nothing */
        buf_reset(&path);
        buf_printf(&path, "/metadata/%s/", field);
        if (jsonpatch_escape(&path, key) < 0 ||
            add_op(patch, buf_str(&path), json_incref(val)) < 0)
            goto out;
    }
    rc = 0;
out:
    buf_release(&path);
    json_decref(want);
    return rc;
}

/* metadata.<field> must be a mapping when present; null counts as absent. */
static int check_map(const struct object *obj, const json_t *meta, const char *field,
                     struct err *e)
{
    const json_t *m = json_object_get(meta, field);

    if (m && !json_is_object(m) && !json_is_null(m)) {
        err_set(e, "metadata.%s must be a mapping", field);
        return doc_err_at(obj->doc, m, e);
    }
    return 0;
}

/*
 * On UPDATE, the enforcement labels the namespace already had are not put back: removing or
 * changing one is for the validating webhook to judge (allowed to the policy's identities,
 * denied to everyone else). Re-adding it here would hide the attempt from /validate, which sees
 * the object after mutation. Labels the namespace never had (it just became an AI namespace)
 * are still added. Takes and returns `want`.
 */
static json_t *keep_unjudged(json_t *want, const char *op, const struct request_ctx *ctx)
{
    const json_t *old_labels;
    const char *key;
    json_t *val;
    void *tmp;

    if (!want || strcmp(op, "UPDATE") || !ctx || !ctx->old_object)
        return want;
    old_labels = json_object_get(json_object_get(ctx->old_object, "metadata"), "labels");
    if (!json_is_object(old_labels))
        return want;
    json_object_foreach_safe(want, tmp, key, val) {
        if (json_object_get(old_labels, key))
            json_object_del(want, key);
    }
    return want;
}

int mutate_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const char *op = ctx && ctx->operation ? ctx->operation : "CREATE";
    const json_t *meta, *labels;
    json_t *patch = NULL;

    if (!pol->mutation_enabled || strcmp(obj->kind, "Namespace") ||
        strcmp(obj->api_version, "v1") || (strcmp(op, "CREATE") && strcmp(op, "UPDATE")))
        return 0;
    meta = json_object_get(obj->json, "metadata");
    if (meta && !json_is_object(meta)) {
        err_set(e, "metadata must be a mapping");
        return doc_err_at(obj->doc, meta, e);
    }
    if (check_map(obj, meta, "labels", e) < 0 || check_map(obj, meta, "annotations", e) < 0)
        return -1;
    labels = json_object_get(meta, "labels");
    if (!json_is_object(labels))
        labels = NULL;
    /* An unlabeled namespace is known to have no labels: an empty set, not "unknown". */
    if (!labels) {
        json_t *none = json_object();
        bool ai;
        if (!none)
            return err_set(e, "out of memory");
        ai = policy_ns_is_ai(pol, obj->name, none);
        json_decref(none);
        if (!ai)
            return 0;
    } else if (!policy_ns_is_ai(pol, obj->name, labels)) {
        return 0;
    }

    if (!(patch = json_array()))
        return err_set(e, "out of memory");
    if (!meta) {
        /* No metadata at all (a stand-in object): one op creates it whole. */
        json_t *m = json_object(), *l = wanted_labels(pol), *a = wanted_annotations(pol);
        int bad = !m || !l || !a;
        if (!bad && json_object_size(l))
            bad = json_object_set(m, "labels", l) < 0;
        if (!bad)
            bad = json_object_set(m, "annotations", a) < 0;
        json_decref(l);
        json_decref(a);
        if (bad || add_op(patch, "/metadata", m) < 0) {
            json_decref(patch);
            return err_set(e, "out of memory");
        }
    } else if (patch_map(patch, meta, "labels", keep_unjudged(wanted_labels(pol), op, ctx)) < 0 ||
               patch_map(patch, meta, "annotations", wanted_annotations(pol)) < 0) {
        json_decref(patch);
        return err_set(e, "out of memory");
    }
    json_decref(v->patch);
    v->patch = patch;
    return 0;
}
