#include "policy/cni/cilsel.h"

#include <string.h>

#include "policy/doc/doc.h"
#include "policy/doc/member.h"

enum keyclass { KEY_POD, KEY_NS_NAME, KEY_NS_LABEL, KEY_CLUSTER, KEY_RESERVED, KEY_OTHER_SRC };

#define NS_NAME_KEY "io.kubernetes.pod.namespace"
#define NS_LABEL_PREFIX "io.cilium.k8s.namespace.labels."
#define CLUSTER_KEY "io.cilium.k8s.policy.cluster"

/* Cilium label keys are "source:key"; k8s: and any: name pod labels as Kubernetes sees them. */
static enum keyclass classify(const char *key, const char **rest)
{
    const char *colon = strchr(key, ':');

    if (colon) {
        size_t n = (size_t)(colon - key);
        if (n == 8 && !strncmp(key, "reserved", 8)) {
            *rest = colon + 1;
            return KEY_RESERVED;
        }
        if ((n == 3 && !strncmp(key, "k8s", 3)) || (n == 3 && !strncmp(key, "any", 3)))
            key = colon + 1;
        else {
            *rest = key;
            return KEY_OTHER_SRC;
        }
    }
    *rest = key;
    if (!strcmp(key, NS_NAME_KEY)) {
        *rest = "kubernetes.io/metadata.name";
        return KEY_NS_NAME;
    }
    if (!strncmp(key, NS_LABEL_PREFIX, strlen(NS_LABEL_PREFIX))) {
        *rest = key + strlen(NS_LABEL_PREFIX);
        return KEY_NS_LABEL;
    }
    if (!strcmp(key, CLUSTER_KEY))
        return KEY_CLUSTER;
    return KEY_POD;
}

void cilsel_release(struct cilsel *s)
{
    json_decref(s->ns_part);
    json_decref(s->pod_part);
}

static int add_expr(json_t *part, const json_t *expr, const char *key)
{
    json_t *arr = json_object_get(part, "matchExpressions");
    json_t *copy = json_object();
    const char *k;
    json_t *v;

    if (!copy)
        return -1;
    /* Share the original nodes so that a selector error still points into the file. */
    json_object_foreach((json_t *)expr, k, v) {
        if (!strcmp(k, "key"))
            continue;
        if (json_object_set(copy, k, v) < 0)
            goto oom;
    }
    if (json_object_set_new(copy, "key", json_string(key)) < 0)
        goto oom;
    if (!arr) {
        if (json_object_set_new(part, "matchExpressions", json_array()) < 0)
            goto oom;
        arr = json_object_get(part, "matchExpressions");
    }
    return json_array_append_new(arr, copy);
oom:
    json_decref(copy);
    return -1;
}

static int add_label(json_t *part, const char *key, json_t *value)
{
    json_t *ml = json_object_get(part, "matchLabels");

    if (!ml) {
        if (json_object_set_new(part, "matchLabels", json_object()) < 0)
            return -1;
        ml = json_object_get(part, "matchLabels");
    }
    return json_object_set(ml, key, value);
}

int cilsel_split(struct cilrd *r, const json_t *sel, const char *path, struct cilsel *s)
{
    const json_t *ml = cilrd_member(sel, "matchLabels"),
                 *me = cilrd_member(sel, "matchExpressions");
    const char *k, *rest;
    json_t *v;
    size_t i;
    char p[CILRD_PATH_LEN];

    memset(s, 0, sizeof(*s));
    if (!json_is_object(sel))
        return cilrd_failf(r, sel, path, "must be a label selector (an object)");
    s->ns_part = json_object();
    s->pod_part = json_object();
    if (!s->ns_part || !s->pod_part)
        goto oom;
    json_object_foreach((json_t *)sel, k, v) {
        if (strcmp(k, "matchLabels") && strcmp(k, "matchExpressions") &&
            json_object_set(s->pod_part, k, v) < 0) /* selector_from_json reports it */
            goto oom;
    }
    if (ml && !json_is_object(ml)) {
        member_path(p, sizeof(p), "%s.matchLabels", path);
        return cilrd_failf(r, ml, p, "must be an object of strings");
    }
    if (me && !json_is_array(me)) {
        member_path(p, sizeof(p), "%s.matchExpressions", path);
        return cilrd_failf(r, me, p, "must be a list");
    }
    json_object_foreach((json_t *)ml, k, v) {
        switch (classify(k, &rest)) {
        case KEY_RESERVED:
            s->reserved = rest;
            break;
        case KEY_OTHER_SRC:
            s->other_src = k;
            break;
        case KEY_CLUSTER:
            s->cluster_narrowed = true;
            break;
        case KEY_NS_NAME:
            s->has_ns_name = true;
            s->fixed_ns = json_string_value(v);
            s->n_ns_labels++;
            if (add_label(s->ns_part, rest, v) < 0)
                goto oom;
            break;
        case KEY_NS_LABEL:
            s->has_ns_label = true;
            s->n_ns_labels++;
            if (add_label(s->ns_part, rest, v) < 0)
                goto oom;
            break;
        case KEY_POD:
            if (add_label(s->pod_part, rest, v) < 0)
                goto oom;
            break;
        }
    }
    for (i = 0; i < cilrd_len(me); i++) {
        const json_t *x = json_array_get(me, i);
        const char *key = json_string_value(cilrd_member(x, "key"));
        const char *op = json_string_value(cilrd_member(x, "operator"));

        if (!key) {
            member_path(p, sizeof(p), "%s.matchExpressions[%zu].key", path, i);
            return cilrd_failf(r, x, p, "must be a string");
        }
        switch (classify(key, &rest)) {
        case KEY_RESERVED:
        case KEY_OTHER_SRC:
            s->other_src = key;
            break;
        case KEY_CLUSTER:
            if (!op || strcmp(op, "Exists"))
                s->cluster_narrowed = true;
            break;
        case KEY_NS_NAME:
        case KEY_NS_LABEL:
            if (classify(key, &rest) == KEY_NS_NAME)
                s->has_ns_name = true;
            else
                s->has_ns_label = true;
            s->n_ns_exprs++;
            if (add_expr(s->ns_part, x, rest) < 0)
                goto oom;
            break;
        case KEY_POD:
            if (add_expr(s->pod_part, x, rest) < 0)
                goto oom;
            break;
        }
    }
    if (s->n_ns_exprs || s->n_ns_labels != 1 || !s->has_ns_name)
        s->fixed_ns = NULL;
    return 0;
oom:
    return err_set(r->e, "out of memory");
}

struct selector *cilsel_compile(struct cilrd *r, const json_t *part, const json_t *orig,
                                const char *path)
{
    const json_t *where = NULL;
    struct selector *s = selector_from_json(part, &where, r->e);
    int line, col;

    if (s)
        return s;
    if (!where || !doc_pos(r->obj->doc, where, &line, &col))
        where = orig;
    cilrd_fail(r, where, path);
    return NULL;
}
