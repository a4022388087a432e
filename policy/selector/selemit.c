#include "policy/selector/selemit.h"

#include <stdio.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/selector/selnode.h"

/* Adds one leaf to sel (matchLabels or matchExpressions). 0, 1 (no LabelSelector form), -1 OOM. */
static int add_leaf(json_t *sel, const struct selector *s, const char *prefix)
{
    const struct selector *leaf = s;
    const char *op = NULL;
    json_t *ml = json_object_get(sel, "matchLabels"), *me = json_object_get(sel, "matchExpressions");
    json_t *vals, *expr;
    struct buf key;
    int rc = -1;

    if (s->op == SEL_NOT && s->kids[0]->op == SEL_HAS) {
        leaf = s->kids[0];
        op = "DoesNotExist";
    } else if (s->op == SEL_HAS) {
        op = "Exists";
    } else if (s->op == SEL_IN) {
        op = "In";
    } else if (s->op == SEL_NOTIN || s->op == SEL_NE) {
        op = "NotIn";
    } else if (s->op != SEL_EQ) {
        return 1;
    }
    buf_init(&key, 0);
    buf_printf(&key, "%s%s", prefix ? prefix : "", leaf->key);
    if (key.failed)
        goto out;
    if (s->op == SEL_EQ) {
        rc = json_object_set_new(ml, buf_str(&key), json_string(s->vals[0])) < 0 ? -1 : 0;
        goto out;
    }
    if (!(vals = json_array()))
        goto out;
    for (size_t i = 0; i < leaf->nvals; i++)
        if (json_array_append_new(vals, json_string(leaf->vals[i])) < 0) {
            json_decref(vals);
            goto out;
        }
    if (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"))
        expr = json_pack("{s:s, s:s}", "key", buf_str(&key), "operator", op);
    else
        expr = json_pack("{s:s, s:s, s:O}", "key", buf_str(&key), "operator", op, "values", vals);
    json_decref(vals);
    rc = expr && json_array_append_new(me, expr) == 0 ? 0 : -1;
out:
    buf_release(&key);
    return rc;
}

json_t *selemit_k8s(const struct selector *s, const char *prefix, struct err *e)
{
    json_t *sel = json_pack("{s:{}, s:[]}", "matchLabels", "matchExpressions");
    const struct selector *const *kids = (const struct selector *const *)&s;
    size_t n = 1;
    int rc = 0;

    if (!sel) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (s->op == SEL_AND) {
        kids = (const struct selector *const *)s->kids;
        n = s->nkids;
    }
    for (size_t i = 0; i < n && rc == 0 && kids[i]->op != SEL_ALL; i++)
        rc = add_leaf(sel, kids[i], prefix);
    if (rc != 0) {
        struct buf text;
        buf_init(&text, 0);
        selector_format(s, &text);
        if (rc > 0)
            err_set(e, "selector %s has no Kubernetes LabelSelector form", buf_str(&text));
        else
            err_set(e, "out of memory");
        buf_release(&text);
        json_decref(sel);
        return NULL;
    }
    if (!json_object_size(json_object_get(sel, "matchLabels")))
        json_object_del(sel, "matchLabels");
    if (!json_array_size(json_object_get(sel, "matchExpressions")))
        json_object_del(sel, "matchExpressions");
    return sel;
}
