#include "policy/cni/calrd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/doc/doc.h"
#include "policy/selector/selsubset.h"

int calrd_fail(const struct calrd *r, const json_t *node, const char *path)
{
    if (path && *path)
        err_prefix(r->e, "%s", path);
    return doc_err_at(r->obj->doc, node, r->e);
}

int calrd_failf(const struct calrd *r, const json_t *node, const char *path, const char *msg)
{
    err_set(r->e, "%s", msg);
    return calrd_fail(r, node, path);
}

int calrd_note(struct calrd *r, const json_t *node, const char *path, const char *fmt, ...)
{
    char msg[480];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (egress_model_note(r->m, node, path, "%s", msg) < 0)
        return err_set(r->e, "out of memory");
    return 0;
}

const json_t *calrd_member(const json_t *o, const char *key)
{
    const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_null(v) ? NULL : v;
}

size_t calrd_len(const json_t *a)
{
    return json_is_array(a) ? json_array_size(a) : 0;
}

bool calrd_nonempty(const json_t *j)
{
    return j && !(json_is_object(j) && json_object_size(j) == 0) &&
           !(json_is_array(j) && json_array_size(j) == 0) &&
           !(json_is_string(j) && !*json_string_value(j));
}

int calrd_want_array(struct calrd *r, const json_t *a, const char *path)
{
    return !a || json_is_array(a) ? 0 : calrd_failf(r, a, path, "must be a list");
}

struct selector *calrd_parse_sel(struct calrd *r, const json_t *node, const char *path)
{
    const char *text = json_string_value(node);
    struct selector *s;
    int line, col, scol;

    if (!text) {
        calrd_failf(r, node, path, "must be a selector string");
        return NULL;
    }
    s = selector_parse(text, r->e);
    if (s)
        return s;
    scol = r->e->col;
    err_prefix(r->e, "%s", path);
    if (doc_pos(r->obj->doc, node, &line, &col)) {
        r->e->line = 0;
        err_at(r->e, doc_file(r->obj->doc), line, col + (scol > 0 ? scol - 1 : 0));
    } else {
        r->e->col = 0;
        doc_err_at(r->obj->doc, node, r->e);
    }
    return NULL;
}

struct selector *calrd_parse_ns_sel(struct calrd *r, const json_t *node, const char *path)
{
    struct selector *s = calrd_parse_sel(r, node, path), *renamed;

    if (!s)
        return NULL;
    renamed = selector_rename_key(s, CALRD_NS_NAME_LABEL, CALRD_K8S_NS_NAME_LABEL);
    selector_free(s);
    if (!renamed)
        err_set(r->e, "out of memory");
    return renamed;
}

int calrd_split_ns(struct calrd *r, struct selector **sel, struct selector **ns_part)
{
    struct selector *on, *rest, *renamed;

    *ns_part = NULL;
    if (!*sel)
        return 0;
    if (selector_split_key(*sel, CALRD_NS_LABEL, &on, &rest) < 0)
        return err_set(r->e, "out of memory");
    if (selector_is_all(on)) {
        selector_free(on);
        selector_free(rest);
        return 0;
    }
    renamed = selector_rename_key(on, CALRD_NS_LABEL, CALRD_K8S_NS_NAME_LABEL);
    selector_free(on);
    if (!renamed) {
        selector_free(rest);
        return err_set(r->e, "out of memory");
    }
    selector_free(*sel);
    *sel = rest;
    *ns_part = renamed;
    return 0;
}

enum tri calrd_ns_test(const struct selector *ns_part, const char *ns)
{
    json_t *known = json_pack("{s:s}", CALRD_K8S_NS_NAME_LABEL, ns);
    enum tri t;

    if (!known)
        return TRI_UNKNOWN;
    t = selector_eval(ns_part, known, false);
    json_decref(known);
    return t;
}

struct egress_peer *calrd_new_peer(struct calrd *r, enum peer_kind kind, const char *path,
                                   const json_t *node)
{
    struct egress_rule *rule = &r->m->rules[r->m->n_rules - 1];
    /* A rule without a destination is positioned at the rule. */
    struct egress_peer *p = egress_rule_add_peer(rule, kind, path, node ? node : rule->node);

    if (!p)
        err_set(r->e, "out of memory");
    return p;
}
