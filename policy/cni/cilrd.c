#include "policy/cni/cilrd.h"

#include "policy/doc/doc.h"
#include "policy/doc/member.h"

int cilrd_fail(const struct cilrd *r, const json_t *node, const char *path)
{
    if (path && *path)
        err_prefix(r->e, "%s", path);
    return doc_err_at(r->obj->doc, node, r->e);
}

int cilrd_failf(const struct cilrd *r, const json_t *node, const char *path, const char *msg)
{
    err_set(r->e, "%s", msg);
    return cilrd_fail(r, node, path);
}

int cilrd_note(struct cilrd *r, const json_t *node, const char *path, const char *msg)
{
    if (egress_model_note(r->m, node, path, "%s", msg) < 0)
        return err_set(r->e, "out of memory");
    return 0;
}

const json_t *cilrd_member(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

int cilrd_array(struct cilrd *r, const json_t *o, const char *key, const char *path,
                const json_t **out)
{
    const json_t *a = cilrd_member(o, key);
    char p[CILRD_PATH_LEN];

    *out = NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a)) {
        member_path(p, sizeof(p), "%s.%s", path, key);
        return cilrd_failf(r, a, p, "must be a list");
    }
    *out = a;
    return 0;
}

size_t cilrd_len(const json_t *a)
{
    return a ? json_array_size(a) : 0;
}
