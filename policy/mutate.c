#include "policy/mutate.h"

#include <stdlib.h>
#include <string.h>

#include "policy/buf.h"

#define ANN_PROFILE "egressguard.io/profile"
#define ANN_HASH "egressguard.io/policy-hash"
#define ANN_MANAGED "egressguard.io/managed-by"

/* RFC 6901: "~" → "~0", "/" → "~1", in that order of thought (escape ~ first). */
static int pointer_escape(struct buf *b, const char *key)
{
    for (const char *p = key; *p; p++) {
        if (*p == '~')
            buf_puts(b, "~0");
        else if (*p == '/')
            buf_puts(b, "~1");
        else
            buf_add(b, p, 1);
    }
    return b->failed ? -1 : 0;
}

static int add_op(json_t *patch, const char *path, json_t *value)
{
    json_t *op = json_pack("{s:s, s:s, s:o}", "op", "add", "path", path, "value", value);

    return op ? json_array_append_new(patch, op) : -1;
}

/*
 * Adds every (key, value) the map lacks, under /metadata/<field>. When the map itself is absent
 * one op creates it whole (a JSON Patch "add" cannot create intermediate members).
 */
static int patch_map(json_t *patch, const json_t *meta, const char *field,
                     const char *const *keys, const char *const *vals, size_t n)
{
    const json_t *have = json_object_get(meta, field);
    struct buf path;
    int rc = -1;

    if (!n)
        return 0;
    if (!json_is_object(have)) {
        json_t *all = json_object();
        if (!all)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (json_object_set_new(all, keys[i], json_string(vals[i])) < 0) {
                json_decref(all);
                return -1;
            }
        buf_init(&path, 0);
        buf_printf(&path, "/metadata/%s", field);
        rc = path.failed ? -1 : add_op(patch, buf_str(&path), all);
        if (path.failed)
            json_decref(all);
        buf_release(&path);
        return rc;
    }
    buf_init(&path, 0);
    for (size_t i = 0; i < n; i++) {
        const char *cur = json_string_value(json_object_get(have, keys[i]));
        if (cur && !strcmp(cur, vals[i]))
            continue; /* already there: a reinvocation adds nothing */
        buf_reset(&path);
        buf_printf(&path, "/metadata/%s/", field);
        if (pointer_escape(&path, keys[i]) < 0 ||
            add_op(patch, buf_str(&path), json_string(vals[i])) < 0)
            goto out;
    }
    rc = 0;
out:
    buf_release(&path);
    return rc;
}

int mutate_decide(const struct policy *pol, const struct object *obj,
                  const struct request_ctx *ctx, struct verdict *v, struct err *e)
{
    const char *op = ctx && ctx->operation ? ctx->operation : "CREATE";
    const json_t *meta, *labels;
    const char *ann_keys[3] = {ANN_PROFILE, ANN_HASH, ANN_MANAGED};
    const char *ann_vals[3];
    const char **keys = NULL, **vals = NULL;
    size_t n = 0;
    json_t *patch = NULL;

    if (!pol->mutation_enabled || strcmp(obj->kind, "Namespace") || *obj->api_version == '\0' ||
        strcmp(obj->api_version, "v1") || (strcmp(op, "CREATE") && strcmp(op, "UPDATE")))
        return 0;
    meta = json_object_get(obj->json, "metadata");
    if (meta && !json_is_object(meta)) {
        err_set(e, "metadata must be a mapping");
        return doc_err_at(obj->doc, meta, e);
    }
    labels = json_object_get(meta, "labels");
    if (labels && !json_is_object(labels)) {
        err_set(e, "metadata.labels must be a mapping");
        return doc_err_at(obj->doc, labels, e);
    }
    if (!policy_ns_is_ai(pol, obj->name, labels))
        return 0;

    ann_vals[0] = pol->profile;
    ann_vals[1] = pol->hash;
    ann_vals[2] = "egressguard";
    n = pol->n_mut_annotations + 3;
    keys = calloc(n, sizeof(*keys));
    vals = calloc(n, sizeof(*vals));
    patch = json_array();
    if (!keys || !vals || !patch)
        goto oom;
    for (size_t i = 0; i < pol->n_mut_annotations; i++) {
        keys[i] = pol->mut_annotation_keys[i];
        vals[i] = pol->mut_annotation_values[i];
    }
    for (size_t i = 0; i < 3; i++) {
        keys[pol->n_mut_annotations + i] = ann_keys[i];
        vals[pol->n_mut_annotations + i] = ann_vals[i];
    }
    if (patch_map(patch, meta, "labels", (const char *const *)pol->mut_label_keys,
                  (const char *const *)pol->mut_label_values, pol->n_mut_labels) < 0 ||
        patch_map(patch, meta, "annotations", keys, vals, n) < 0)
        goto oom;
    if (!meta) {
        /* No metadata at all: one op creates it, ops above would not apply. */
        json_t *m = json_object(), *l = json_object(), *a = json_object();
        json_decref(patch);
        patch = json_array();
        if (!m || !l || !a || !patch) {
            json_decref(m);
            json_decref(l);
            json_decref(a);
            goto oom;
        }
        for (size_t i = 0; i < pol->n_mut_labels; i++)
            json_object_set_new(l, pol->mut_label_keys[i], json_string(pol->mut_label_values[i]));
        for (size_t i = 0; i < n; i++)
            json_object_set_new(a, keys[i], json_string(vals[i]));
        json_object_set_new(m, "labels", l);
        json_object_set_new(m, "annotations", a);
        if (add_op(patch, "/metadata", m) < 0)
            goto oom;
    }
    free((void *)keys);
    free((void *)vals);
    json_decref(v->patch);
    v->patch = patch;
    return 0;
oom:
    free((void *)keys);
    free((void *)vals);
    json_decref(patch);
    return err_set(e, "out of memory");
}
