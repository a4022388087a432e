#include "policy/mutate/jsonpatch.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN 1024

int jsonpatch_escape(struct buf *b, const char *key)
{
    /* "~" first: escaping "/" to "~1" and then "~" would turn it into "~01". */
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

/*
 * Reads the reference token starting at *p (just after a '/') into tok, unescaped, and advances
 * *p to the next '/' or the end. -1 on a bad escape ("~" not followed by 0 or 1) or overflow.
 */
static int next_token(const char **p, char *tok, size_t size)
{
    size_t n = 0;
    const char *s = *p;

    for (; *s && *s != '/'; s++) {
        char c = *s;
        if (c == '~') {
            if (s[1] == '0')
                c = '~';
            else if (s[1] == '1')
                c = '/';
            else
                return -1;
            s++;
        }
        if (n + 1 >= size)
            return -1;
        tok[n++] = c;
    }
    tok[n] = '\0';
    *p = s;
    return 0;
}

/* An array index token: "0" or digits without a leading zero; "-" (append) when dash_ok. */
static int array_index(const char *tok, size_t size, int dash_ok, size_t *out)
{
    char *end;
    unsigned long long v;

    if (dash_ok && !strcmp(tok, "-")) {
        *out = size;
        return 0;
    }
    if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] < '0' || tok[0] > '9')
        return -1;
    v = strtoull(tok, &end, 10);
    if (*end || v > size)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* One operation on root (modified in place). i is the op's index, for messages. */
static int apply_op(json_t *root, const json_t *op, size_t i, struct err *e)
{
    const char *name = NULL, *path = NULL, *p;
    json_t *value = NULL, *parent = root;
    char tok[MAX_TOKEN];
    size_t idx;

    if (json_unpack((json_t *)op, "{s:s, s:s, s?o}", "op", &name, "path", &path, "value", &value) < 0)
        return err_set(e, "patch[%zu]: an operation needs string members op and path", i);
    if (strcmp(name, "add") && strcmp(name, "replace") && strcmp(name, "remove"))
        return err_set(e, "patch[%zu]: operation \"%s\" is not supported (add, replace, remove)",
                       i, name);
    if (strcmp(name, "remove") && !value)
        return err_set(e, "patch[%zu]: %s needs a value", i, name);
    if (path[0] != '/')
        return err_set(e, "patch[%zu]: path \"%s\" must start with / (the whole document cannot "
                          "be replaced here)", i, path);
    p = path + 1;
    for (;;) {
        if (next_token(&p, tok, sizeof(tok)) < 0)
            return err_set(e, "patch[%zu]: path \"%s\": bad escape or token too long", i, path);
        if (*p == '\0')
            break;
        p++;
        if (json_is_object(parent)) {
            parent = json_object_get(parent, tok);
        } else if (json_is_array(parent) &&
                   array_index(tok, json_array_size(parent), 0, &idx) == 0) {
            parent = json_array_get(parent, idx);
        } else {
            parent = NULL;
        }
        if (!parent)
            return err_set(e, "patch[%zu]: path \"%s\": no member \"%s\"", i, path, tok);
    }
    if (json_is_object(parent)) {
        int has = json_object_get(parent, tok) != NULL;
        if (strcmp(name, "add") && !has)
            return err_set(e, "patch[%zu]: path \"%s\": no member \"%s\" to %s", i, path, tok,
                           name);
        if (!strcmp(name, "remove"))
            return json_object_del(parent, tok) < 0 ? err_set(e, "out of memory") : 0;
        return json_object_set(parent, tok, value) < 0 ? err_set(e, "out of memory") : 0;
    }
    if (json_is_array(parent)) {
        size_t n = json_array_size(parent);
        int dash = !strcmp(name, "add");
        if (array_index(tok, n, dash, &idx) < 0 || (!dash && idx >= n))
            return err_set(e, "patch[%zu]: path \"%s\": index \"%s\" out of range", i, path, tok);
        if (!strcmp(name, "remove"))
            return json_array_remove(parent, idx) < 0 ? err_set(e, "out of memory") : 0;
        if (!strcmp(name, "replace"))
            return json_array_set(parent, idx, value) < 0 ? err_set(e, "out of memory") : 0;
        return json_array_insert(parent, idx, value) < 0 ? err_set(e, "out of memory") : 0;
    }
    return err_set(e, "patch[%zu]: path \"%s\": the parent is not an object or array", i, path);
}

json_t *jsonpatch_apply(const json_t *doc, const json_t *patch, struct err *e)
{
    json_t *root;

    if (!json_is_array(patch)) {
        err_set(e, "a JSON Patch must be an array of operations");
        return NULL;
    }
    if (!(root = json_deep_copy(doc))) {
        err_set(e, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(patch); i++) {
        if (apply_op(root, json_array_get(patch, i), i, e) < 0) {
            json_decref(root);
            return NULL;
        }
    }
    return root;
}
