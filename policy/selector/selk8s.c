/*
 * Kubernetes LabelSelector (metav1.LabelSelector) to a selector, with the API server's checks
 * (apimachinery ValidateLabelSelector, ValidateLabelName, IsValidLabelValue). Members other than
 * matchLabels and matchExpressions are rejected rather than dropped: a misspelt `matchLabel`
 * silently dropped would select everything. A JSON null member counts as absent, as Go's
 * decoder makes it nil; a null matchLabels value is "", as that decoder stores it.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selector.h"
#include "policy/selector/selnode.h"

#define NAME_CHARS                                                                                 \
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "        \
    "alphanumeric character"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], n >= 1 */
static bool is_name(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each starting and ending [a-z0-9]. */
static bool is_dns_subdomain(const char *s, size_t n)
{
    size_t i, start = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_lower_alnum(s[i]) && s[i] != '-')
                return false;
            continue;
        }
        if (i == start || !is_lower_alnum(s[start]) || !is_lower_alnum(s[i - 1]))
            return false;
        start = i + 1;
    }
    return true;
}

int selector_check_label_key(const char *key, struct err *e)
{
    const char *slash = strchr(key, '/');
    const char *name = slash ? slash + 1 : key;
    size_t plen = slash ? (size_t)(slash - key) : 0, nlen = strlen(name);
    const char *why = NULL;

    if (slash && strchr(name, '/'))
        why = "a qualified name must " NAME_CHARS " with an optional DNS subdomain prefix and '/'";
    else if (nlen == 0)
        why = "name part must be non-empty";
    else if (nlen > 63)
        why = "name part must be no more than 63 characters";
    else if (!is_name(name, nlen))
        why = "name part must " NAME_CHARS;
    else if (slash && plen == 0)
        why = "prefix part must be non-empty";
    else if (plen > 253)
        why = "prefix part must be no more than 253 characters";
    else if (slash && !is_dns_subdomain(key, plen))
        why = "prefix part a lowercase RFC 1123 subdomain must consist of lower case "
              "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
              "character";
    if (!why)
        return 0;
    return err_set(e, "invalid label key \"%.100s%s\": %s", key, strlen(key) > 100 ? "..." : "",
                   why);
}

int selector_check_label_value(const char *value, struct err *e)
{
    size_t n = strlen(value);
    const char *why = NULL;

    if (n > 63)
        why = "must be no more than 63 characters";
    else if (n > 0 && !is_name(value, n))
        why = "a valid label must be an empty string or " NAME_CHARS;
    if (!why)
        return 0;
    return err_set(e, "invalid label value \"%.100s%s\": %s", value, n > 100 ? "..." : "", why);
}

/* Appends s to the list, consuming it. NULL s means OOM. */
static int push(struct selector ***list, size_t *n, size_t *alloc, struct selector *s,
                struct err *e)
{
    struct selector **grown;

    if (!s)
        return err_set(e, "out of memory");
    if (*n == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 8;
        if (!(grown = realloc(*list, *alloc * sizeof(**list)))) {
            selector_free(s);
            return err_set(e, "out of memory");
        }
        *list = grown;
    }
    (*list)[(*n)++] = s;
    return 0;
}

struct terms {
    struct selector **list;
    size_t n, alloc;
};

/* What to point at for v inside container: true, false and null have no position of their own. */
static const json_t *located(const json_t *v, const json_t *container)
{
    return json_is_boolean(v) || json_is_null(v) ? container : v;
}

static int match_labels(const json_t *ml, struct terms *t, const json_t **where, struct err *e)
{
    const char *key;
    const char *val;
    json_t *v;

    if (!json_is_object(ml)) {
        *where = located(ml, NULL);
        return err_set(e, "matchLabels: expected an object");
    }
    json_object_foreach ((json_t *)ml, key, v) {
        /* true and false have no position of their own: point at the mapping instead */
        *where = located(v, ml);
        if (selector_check_label_key(key, e) < 0)
            return err_prefix(e, "matchLabels");
        /*
         * matchLabels is a Go map[string]string: the API server's decoder (encoding/json
         * semantics) stores a null value as the zero value "", so `app: null` selects app == "".
         */
        if (json_is_null(v))
            val = "";
        else if (!json_is_string(v))
            return err_set(e, "matchLabels[%.100s]: expected a string", key);
        else
            val = json_string_value(v);
        if (selector_check_label_value(val, e) < 0)
            return err_prefix(e, "matchLabels[%.100s]", key);
        if (push(&t->list, &t->n, &t->alloc, selnode_leaf(SEL_EQ, key, &val, 1), e) < 0)
            return -1;
    }
    return 0;
}

static const char *const operators[] = {"In", "NotIn", "Exists", "DoesNotExist"};

static int expression(const json_t *x, size_t i, struct terms *t, const json_t **where,
                      struct err *e)
{
    const json_t *key = NULL, *op = NULL, *values = NULL, *m, *v;
    const char *name, *k, *opname;
    const char **vals = NULL;
    enum selnode_op sel_op;
    struct selector *s;
    size_t j, o;
    int rc = -1;

    *where = x;
    if (!json_is_object(x))
        return err_set(e, "matchExpressions[%zu]: expected an object", i);
    json_object_foreach ((json_t *)x, name, m) {
        if (strcmp(name, "key") == 0)
            key = m;
        else if (strcmp(name, "operator") == 0)
            op = m;
        else if (strcmp(name, "values") == 0)
            values = json_is_null(m) ? NULL : m;
        else {
            *where = located(m, x);
            return err_set(e, "matchExpressions[%zu]: unknown member \"%.100s\"", i, name);
        }
    }
    if (!key)
        return err_set(e, "matchExpressions[%zu].key: required", i);
    *where = located(key, x);
    if (!json_is_string(key))
        return err_set(e, "matchExpressions[%zu].key: expected a string", i);
    k = json_string_value(key);
    if (selector_check_label_key(k, e) < 0)
        return err_prefix(e, "matchExpressions[%zu].key", i);
    *where = op ? located(op, x) : x;
    if (!op)
        return err_set(e, "matchExpressions[%zu].operator: required", i);
    if (!json_is_string(op))
        return err_set(e, "matchExpressions[%zu].operator: expected a string", i);
    opname = json_string_value(op);
    for (o = 0; o < 4 && strcmp(opname, operators[o]) != 0; o++)
        ;
    if (o == 4)
        return err_set(e, "matchExpressions[%zu].operator: unknown operator \"%.100s\"", i, opname);
    *where = values ? values : x;
    if (values && !json_is_array(values))
        return err_set(e, "matchExpressions[%zu].values: expected an array", i);
    if (o >= 2) {
        if (values && json_array_size(values) > 0)
            return err_set(e, "matchExpressions[%zu].values: may not be specified when operator "
                              "is \"%s\"", i, opname);
        s = selnode_leaf(SEL_HAS, k, NULL, 0);
        if (o == 3)
            s = selnode_not(s);
        return push(&t->list, &t->n, &t->alloc, s, e);
    }
    if (!values || json_array_size(values) == 0)
        return err_set(e, "matchExpressions[%zu].values: must be specified when operator is \"%s\"",
                       i, opname);
    if (!(vals = calloc(json_array_size(values), sizeof(*vals))))
        return err_set(e, "out of memory");
    json_array_foreach (values, j, v) {
        *where = located(v, values);
        if (!json_is_string(v)) {
            err_set(e, "matchExpressions[%zu].values[%zu]: expected a string", i, j);
            goto out;
        }
        vals[j] = json_string_value(v);
        if (selector_check_label_value(vals[j], e) < 0) {
            err_prefix(e, "matchExpressions[%zu].values[%zu]", i, j);
            goto out;
        }
    }
    /* NotIn, like Calico's `not in`, also matches a missing key. */
    sel_op = o == 0 ? SEL_IN : SEL_NOTIN;
    rc = push(&t->list, &t->n, &t->alloc,
              selnode_leaf(sel_op, k, vals, json_array_size(values)), e);
out:
    free(vals);
    return rc;
}

struct selector *selector_from_json(const json_t *j, const json_t **where, struct err *e)
{
    struct terms t = {0};
    struct selector *s;
    const json_t *at = j, *m;
    const char *name;
    size_t i;

    if (!json_is_object(j)) {
        err_set(e, "expected an object");
        goto fail;
    }
    json_object_foreach ((json_t *)j, name, m) {
        if (strcmp(name, "matchLabels") != 0 && strcmp(name, "matchExpressions") != 0) {
            at = located(m, j);
            err_set(e, "unknown member \"%.100s\"", name);
            goto fail;
        }
    }
    m = json_object_get(j, "matchLabels");
    if (m && !json_is_null(m) && match_labels(m, &t, &at, e) < 0)
        goto fail;
    m = json_object_get(j, "matchExpressions");
    if (m && !json_is_null(m)) {
        if (!json_is_array(m)) {
            at = located(m, j);
            err_set(e, "matchExpressions: expected an array");
            goto fail;
        }
        for (i = 0; i < json_array_size(m); i++)
            if (expression(json_array_get(m, i), i, &t, &at, e) < 0)
                goto fail;
    }
    /* An empty selector is a conjunction of nothing: everything. */
    s = selnode_nary(SEL_AND, t.list, t.n);
    free(t.list);
    if (!s)
        err_set(e, "out of memory");
    return s;
fail:
    if (where)
        *where = at ? at : j;
    for (i = 0; i < t.n; i++)
        selector_free(t.list[i]);
    free(t.list);
    return NULL;
}
