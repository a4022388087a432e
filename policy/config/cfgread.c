#include "policy/config/cfgread.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/base/suggest.h"
#include "policy/doc/doc.h"
#include "policy/sets/fqdn.h"

int cfgread_fail(struct cfgread *l, const json_t *node, const char *path, const char *fmt, ...)
{
    va_list ap;
    char msg[sizeof(l->e->msg)];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (path && *path)
        err_set(l->e, "%s: %s", path, msg);
    else
        err_set(l->e, "%s", msg);
    return doc_err_at(l->doc, node, l->e);
}

int cfgread_note(struct cfgread *l, const json_t *parent, const char *key, const char *fmt, ...)
{
    struct err *n = realloc(l->notes, (l->n_notes + 1) * sizeof(*n));
    int line = 0, col = 0;
    va_list ap;

    if (!n)
        return err_set(l->e, "out of memory");
    l->notes = n;
    n = &n[l->n_notes++];
    memset(n, 0, sizeof(*n));
    va_start(ap, fmt);
    vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
    va_end(ap);
    if (!doc_member_pos(l->doc, parent, key, 0, &line, &col))
        doc_pos(l->doc, parent, &line, &col);
    err_at(n, doc_file(l->doc), line, col);
    return 0;
}

/* An error already carrying its message (from cidr_parse and friends): add path and position. */
int cfgread_fail_inner(struct cfgread *l, const json_t *node, const char *path)
{
    if (path && *path)
        err_prefix(l->e, "%s", path);
    return doc_err_at(l->doc, node, l->e);
}

/* Every key of obj must be one of `allowed` (NULL-terminated): typos are errors, not no-ops. */
int cfgread_check_fields(struct cfgread *l, const json_t *obj, const char *path,
                        const char *const *allowed)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        const char *best;
        struct suggest near;
        bool ok = false;

        suggest_init(&near, key, 2);
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(key, *a)) {
                ok = true;
                break;
            }
            suggest_add(&near, *a);
        }
        if (ok)
            continue;
        best = suggest_best(&near);
        /* Point at the key itself; singletons (true, null) have no position: use the parent's. */
        int line, col;
        const json_t *at =
            json_is_object(val) || json_is_array(val) || json_is_string(val) || json_is_number(val)
                ? val
                : obj;
        if (best)
            cfgread_fail(l, at, path, "unknown field \"%s\" (did you mean \"%s\"?)", key, best);
        else
            cfgread_fail(l, at, path, "unknown field \"%s\"", key);
        if (at == val && doc_key_pos(l->doc, val, &line, &col)) {
            l->e->line = line;
            l->e->col = col;
        }
        return -1;
    }
    return 0;
}

json_t *cfgread_want(struct cfgread *l, const json_t *parent, const char *key, json_type type,
                    const char *path, bool required)
{
    json_t *v = json_object_get(parent, key);

    if (!v || json_is_null(v)) {
        if (required)
            cfgread_fail(l, parent, path, "missing required field \"%s\"", key);
        return NULL;
    }
    if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
        static const char *const names[] = {"a mapping", "a list",    "a string",  "an integer",
                                            "a number",  "a boolean", "a boolean", "null"};
        cfgread_fail(l, v, path, "\"%s\" must be %s, not %s", key, names[type], doc_type_name(v));
        return NULL;
    }
    return v;
}

/* Optional field of the given type: 0 if absent (out untouched), 1 if present, -1 on error. */
int cfgread_opt(struct cfgread *l, const json_t *parent, const char *key, json_type type,
               const char *path, json_t **out)
{
    json_t *v = json_object_get(parent, key);

    if (!v || json_is_null(v))
        return 0;
    if (!(*out = cfgread_want(l, parent, key, type, path, true)))
        return -1;
    return 1;
}

int cfgread_opt_bool(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                    bool *out)
{
    json_t *v;
    int r = cfgread_opt(l, parent, key, JSON_TRUE, path, &v);

    if (r > 0)
        *out = json_is_true(v);
    return r < 0 ? -1 : 0;
}

int cfgread_opt_string(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                      char **out)
{
    json_t *v;
    int r = cfgread_opt(l, parent, key, JSON_STRING, path, &v);

    if (r <= 0)
        return r;
    free(*out);
    if (!(*out = strdup(json_string_value(v))))
        return err_set(l->e, "out of memory");
    return 1;
}

int cfgread_mode(struct cfgread *l, const json_t *parent, const char *path, enum mode dflt,
                      enum mode *out)
{
    json_t *v;
    int r = cfgread_opt(l, parent, "mode", JSON_STRING, path, &v);
    const char *s;

    *out = dflt;
    if (r <= 0)
        return r;
    s = json_string_value(v);
    if (!strcmp(s, "enforce"))
        *out = MODE_ENFORCE;
    else if (!strcmp(s, "warn"))
        *out = MODE_WARN;
    else if (!strcmp(s, "audit"))
        *out = MODE_AUDIT;
    else
        return cfgread_fail(l, v, path, "mode \"%s\" is not one of enforce, warn, audit", s);
    return 0;
}

/* A list of non-empty strings into a new array; *n set. `what` checks each item (may be NULL). */
int cfgread_string_list(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                       char ***out, size_t *n,
                       int (*check)(struct cfgread *, const json_t *, const char *, char **))
{
    json_t *arr, *item;
    size_t i;
    int r = cfgread_opt(l, parent, key, JSON_ARRAY, path, &arr);
    char sub[256];

    *out = NULL;
    *n = 0;
    if (r <= 0)
        return r;
    if (json_array_size(arr) == 0)
        return 0;
    *out = calloc(json_array_size(arr), sizeof(char *));
    if (!*out)
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path, *path ? "." : "", key, i);
        if (!json_is_string(item) || !*json_string_value(item))
            return cfgread_fail(l, item, sub, "must be a non-empty string, not %s",
                        json_is_string(item) ? "an empty one" : doc_type_name(item));
        char *s = NULL;
        if (check) {
            if (check(l, item, sub, &s) < 0)
                return -1;
        } else if (!(s = strdup(json_string_value(item)))) {
            return err_set(l->e, "out of memory");
        }
        (*out)[(*n)++] = s;
    }
    return 0;
}

int cfgread_glob(struct cfgread *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item);

    /* fnmatch has no compile step; reject what it would treat oddly rather than guess. */
    if (strchr(s, '[') && !strchr(s, ']'))
        return cfgread_fail(l, item, path, "unbalanced '[' in glob \"%s\"", s);
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    return 0;
}

int cfgread_fqdn(struct cfgread *l, const json_t *item, const char *path, char **out)
{
    char norm[FQDN_MAX];

    if (fqdn_normalize(json_string_value(item), true, norm, l->e) < 0)
        return cfgread_fail_inner(l, item, path);
    if (!(*out = strdup(norm)))
        return err_set(l->e, "out of memory");
    return 0;
}

int cfgread_service_account(struct cfgread *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item), *slash = strchr(s, '/');

    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
        return cfgread_fail(l, item, path, "service account \"%s\" must be NAMESPACE/NAME", s);
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    return 0;
}

int cfgread_capability(struct cfgread *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item);
    size_t n;

    (void)path;
    if (!strncasecmp(s, "CAP_", 4))
        s += 4;
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    n = strlen(*out);
    for (size_t i = 0; i < n; i++)
        if ((*out)[i] >= 'a' && (*out)[i] <= 'z')
            (*out)[i] = (char)((*out)[i] - 'a' + 'A');
    return 0;
}

int cfgread_selector_list(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                         struct selector ***out, size_t *n)
{
    json_t *arr, *item;
    size_t i;
    int r = cfgread_opt(l, parent, key, JSON_ARRAY, path, &arr);
    char sub[256];

    *out = NULL;
    *n = 0;
    if (r <= 0)
        return r;
    if (!json_array_size(arr))
        return 0;
    if (!(*out = calloc(json_array_size(arr), sizeof(**out))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        const json_t *where = NULL;
        snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
        if (!json_is_object(item))
            return cfgread_fail(l, item, sub, "must be a LabelSelector mapping, not %s",
                        doc_type_name(item));
        if (!((*out)[*n] = selector_from_json(item, &where, l->e)))
            return cfgread_fail_inner(l, where ? where : item, sub);
        (*n)++;
    }
    return 0;
}

int cfgread_selector(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                          struct selector **out)
{
    json_t *v;
    const json_t *where = NULL;
    char sub[256];
    int r = cfgread_opt(l, parent, key, JSON_OBJECT, path, &v);

    if (r < 0)
        return -1;
    if (r == 0) {
        *out = selector_all();
        return *out ? 0 : err_set(l->e, "out of memory");
    }
    snprintf(sub, sizeof(sub), "%s.%s", path, key);
    if (!(*out = selector_from_json(v, &where, l->e)))
        return cfgread_fail_inner(l, where ? where : v, sub);
    return 0;
}
