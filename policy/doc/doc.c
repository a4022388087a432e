#include "policy/doc/doc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define DOC_MAX_NODES (4u << 20) /* per stream; bounds memory well before DOC_MAX_BYTES does */

struct pos {
    const json_t *node;
    int line, col;
    int key_line, key_col; /* the mapping key that holds the node; 0 for list items */
};

/*
 * Where a true, false or null sits. Those are shared jansson singletons, so the node pointer
 * cannot find them: they are recorded by their place instead (the container, and the key or
 * the index). Looked up only to position an error, so a plain array suffices.
 */
struct slot {
    const json_t *value; /* json_true(), json_false() or json_null() */
    const json_t *parent;
    char *key;    /* owned; NULL for a list item */
    size_t index; /* list items */
    int line, col;
};

struct doc {
    json_t *root;
    const char *file;
    int line, col;
    struct pos *pos; /* open addressing on the node pointer; cap is a power of two */
    size_t n_pos, cap_pos;
    struct slot *slots;
    size_t n_slots, cap_slots;
};

/* One open mapping or sequence while events stream in. */
struct frame {
    json_t *node;
    char *key; /* mapping: the key awaiting its value, or NULL */
    int key_line, key_col;
};

/* memmem is a GNU extension; the template sniff only needs this. */
static bool has_template(const char *data, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (data[i] == '{' && data[i + 1] == '{')
            return true;
    return false;
}

struct builder {
    const char *file;
    const char *data;
    size_t len;
    struct doc *doc;
    struct frame stack[DOC_MAX_DEPTH];
    int depth;
    size_t nodes;
    struct err *e;
};

static size_t hash_ptr(const void *p)
{
    uintptr_t x = (uintptr_t)p;

    x ^= x >> 33;
    x *= (uintptr_t)0xff51afd7ed558ccdULL;
    x ^= x >> 29;
    return (size_t)x;
}

static int pos_put(struct doc *d, const json_t *node, int line, int col, int key_line, int key_col)
{
    if ((d->n_pos + 1) * 4 > d->cap_pos * 3) {
        size_t ncap = d->cap_pos ? d->cap_pos * 2 : 64;
        struct pos *np = calloc(ncap, sizeof(*np));

        if (!np)
            return -1;
        for (size_t i = 0; i < d->cap_pos; i++) {
            if (!d->pos[i].node)
                continue;
            size_t h = hash_ptr(d->pos[i].node) & (ncap - 1);
            while (np[h].node)
                h = (h + 1) & (ncap - 1);
            np[h] = d->pos[i];
        }
        free(d->pos);
        d->pos = np;
        d->cap_pos = ncap;
    }
    size_t h = hash_ptr(node) & (d->cap_pos - 1);
    while (d->pos[h].node && d->pos[h].node != node)
        h = (h + 1) & (d->cap_pos - 1);
    if (!d->pos[h].node)
        d->n_pos++;
    d->pos[h].node = node;
    d->pos[h].line = line;
    d->pos[h].col = col;
    d->pos[h].key_line = key_line;
    d->pos[h].key_col = key_col;
    return 0;
}

static const struct pos *pos_get(const struct doc *d, const json_t *node)
{
    if (!d || !node || !d->cap_pos)
        return NULL;
    size_t h = hash_ptr(node) & (d->cap_pos - 1);
    while (d->pos[h].node) {
        if (d->pos[h].node == node)
            return &d->pos[h];
        h = (h + 1) & (d->cap_pos - 1);
    }
    return NULL;
}

bool doc_pos(const struct doc *d, const json_t *node, int *line, int *col)
{
    const struct pos *p = pos_get(d, node);

    if (!p)
        return false;
    *line = p->line;
    *col = p->col;
    return true;
}

bool doc_key_pos(const struct doc *d, const json_t *node, int *line, int *col)
{
    const struct pos *p = pos_get(d, node);

    if (!p || !p->key_line)
        return false;
    *line = p->key_line;
    *col = p->key_col;
    return true;
}

static bool is_singleton(const json_t *j)
{
    return json_is_true(j) || json_is_false(j) || json_is_null(j);
}

static int slot_put(struct doc *d, const json_t *value, const json_t *parent, const char *key,
                    size_t index, int line, int col)
{
    struct slot *s;

    if (d->n_slots == d->cap_slots) {
        size_t ncap = d->cap_slots ? d->cap_slots * 2 : 16;

        if (!(s = realloc(d->slots, ncap * sizeof(*s))))
            return -1;
        d->slots = s;
        d->cap_slots = ncap;
    }
    s = &d->slots[d->n_slots];
    s->key = key ? strdup(key) : NULL;
    if (key && !s->key)
        return -1;
    s->value = value;
    s->parent = parent;
    s->index = index;
    s->line = line;
    s->col = col;
    d->n_slots++;
    return 0;
}

bool doc_member_pos(const struct doc *d, const json_t *parent, const char *key, size_t index,
                    int *line, int *col)
{
    const json_t *v;

    if (!d || !parent)
        return false;
    v = key ? json_object_get(parent, key) : json_array_get(parent, index);
    if (!v)
        return false;
    if (!is_singleton(v))
        return doc_pos(d, v, line, col);
    for (size_t i = 0; i < d->n_slots; i++) {
        const struct slot *s = &d->slots[i];

        if (s->parent != parent || (key ? !s->key || strcmp(s->key, key) : s->key != NULL) ||
            (!key && s->index != index))
            continue;
        *line = s->line;
        *col = s->col;
        return true;
    }
    return false;
}

int doc_err_in(const struct doc *d, const json_t *parent, const json_t *value, struct err *e)
{
    int line, col;
    const char *k;
    json_t *v;
    size_t i;

    if (!d)
        return -1;
    if (!is_singleton(value))
        return doc_err_at(d, value, e);
    if (json_is_object(parent)) {
        json_object_foreach((json_t *)parent, k, v)
            if (v == value && doc_member_pos(d, parent, k, 0, &line, &col))
                return err_at(e, d->file, line, col);
    } else if (json_is_array(parent)) {
        json_array_foreach(parent, i, v)
            if (v == value && doc_member_pos(d, parent, NULL, i, &line, &col))
                return err_at(e, d->file, line, col);
    }
    return doc_err_at(d, parent, e);
}

int doc_err_at(const struct doc *d, const json_t *node, struct err *e)
{
    int line, col;
    const struct slot *only = NULL;

    if (!d)
        return -1;
    if (doc_pos(d, node, &line, &col))
        return err_at(e, d->file, line, col);
    /* A true, false or null that occurs once in the document can only be that one. */
    for (size_t i = 0; node && is_singleton(node) && i < d->n_slots; i++) {
        if (d->slots[i].value != node)
            continue;
        if (only) {
            only = NULL;
            break;
        }
        only = &d->slots[i];
    }
    if (only)
        return err_at(e, d->file, only->line, only->col);
    return err_at(e, d->file, d->line, d->col);
}

const char *doc_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

json_t *doc_root(const struct doc *d)
{
    return d->root;
}

const char *doc_file(const struct doc *d)
{
    return d->file;
}

int doc_line(const struct doc *d)
{
    return d->line;
}

void doc_free(struct doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    free(d->pos);
    for (size_t i = 0; i < d->n_slots; i++)
        free(d->slots[i].key);
    free(d->slots);
    free(d);
}

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(b->e->msg, sizeof(b->e->msg), fmt, ap);
    va_end(ap);
    b->e->file = NULL;
    b->e->line = b->e->col = 0;
    return err_at(b->e, b->file, (int)m->line + 1, (int)m->column + 1);
}

/* YAML 1.2 core schema for plain scalars; see doc.h. */
static json_t *plain_scalar(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    char *end;

    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (n == strlen(nulls[i]) && !memcmp(s, nulls[i], n))
            return json_null();
    for (size_t i = 0; i < 3; i++) {
        if (n == strlen(trues[i]) && !memcmp(s, trues[i], n))
            return json_true();
        if (n == strlen(falses[i]) && !memcmp(s, falses[i], n))
            return json_false();
    }
    if (n == 0 || n > 64 || strlen(s) != n)
        return json_stringn(s, n);

    /* Integers: decimal with optional sign, 0o octal, 0x hex. */
    const char *p = s;
    int base = 10;
    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p == s) {
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (*p) {
        const char *q = p;
        while (*q && (base == 16 ? strchr("0123456789abcdefABCDEF", *q) != NULL
                                 : (*q >= '0' && *q <= (base == 8 ? '7' : '9'))))
            q++;
        if (!*q) {
            errno = 0;
            long long v = strtoll(base == 10 ? s : p, &end, base);
            if (!errno && !*end)
                return json_integer(v);
            return json_stringn(s, n); /* out of range: keep the text */
        }
    }
    /* Floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    p = s;
    if (*p == '-' || *p == '+')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (digits && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return json_stringn(s, n);
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (digits && !*p) {
        errno = 0;
        double v = strtod(s, &end);
        if (!errno && !*end)
            return json_real(v);
    }
    return json_stringn(s, n);
}

static json_t *scalar_node(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;

    if (tag && !strcmp(tag, YAML_STR_TAG))
        return json_stringn(s, n);
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, n);
    return plain_scalar(s, n);
}

/* Tags we understand are the core ones; anything else (!Ref, !!binary) is refused. */
static int check_tag(struct builder *b, const yaml_event_t *ev, const yaml_char_t *tag)
{
    static const char *const ok[] = {YAML_STR_TAG,  YAML_INT_TAG, YAML_FLOAT_TAG, YAML_BOOL_TAG,
                                     YAML_NULL_TAG, YAML_SEQ_TAG, YAML_MAP_TAG,   "!"};

    if (!tag)
        return 0;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp((const char *)tag, ok[i]))
            return 0;
    return fail_at(b, &ev->start_mark, "unsupported YAML tag \"%s\"", (const char *)tag);
}

/* Places a new node under the current container (or as the root). Steals `node`. */
static int attach(struct builder *b, json_t *node, const yaml_mark_t *m)
{
    int line = (int)m->line + 1, col = (int)m->column + 1;

    if (!node) {
        err_set(b->e, "cannot store this value (invalid UTF-8 or out of memory)");
        return err_at(b->e, b->file, line, col);
    }
    if (++b->nodes > DOC_MAX_NODES) {
        json_decref(node);
        err_set(b->e, "document too large: more than %u nodes", DOC_MAX_NODES);
        return err_at(b->e, b->file, line, col);
    }
    const struct frame *parent = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
    bool in_map = parent && json_is_object(parent->node);
    if (is_singleton(node) ? parent && slot_put(b->doc, node, parent->node, in_map ? parent->key : NULL,
                                               in_map ? 0 : json_array_size(parent->node), line,
                                               col) < 0
                           : pos_put(b->doc, node, line, col, in_map ? parent->key_line : 0,
                                     in_map ? parent->key_col : 0) < 0) {
        json_decref(node);
        err_set(b->e, "out of memory");
        return -1;
    }
    if (b->depth == 0) {
        b->doc->root = node;
        b->doc->line = line;
        b->doc->col = col;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (json_is_array(f->node)) {
        if (json_array_append_new(f->node, node) < 0)
            goto oom;
        return 0;
    }
    if (!f->key) {
        /* A mapping key that is itself a mapping or sequence: `{{ .Values.x }}` lands here. */
        json_decref(node);
        if (has_template(b->data, b->len))
            return fail_at(b, m, "%s",
                           "this looks like a Helm/Go template ({{ ... }}): render it first "
                           "(helm template, kustomize build) and check the output");
        return fail_at(b, m, "%s", "a mapping key must be a plain string, not a mapping or list");
    }
    if (json_object_set_new(f->node, f->key, node) < 0) {
        free(f->key);
        f->key = NULL;
        goto oom;
    }
    free(f->key);
    f->key = NULL;
    return 0;
oom:
    err_set(b->e, "out of memory");
    return err_at(b->e, b->file, line, col);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    if (ev->data.scalar.anchor)
        return fail_at(b, &ev->start_mark,
                       "anchors (&%s) and aliases are not supported in manifests",
                       (const char *)ev->data.scalar.anchor);
    if (check_tag(b, ev, ev->data.scalar.tag) < 0)
        return -1;
    if (b->depth > 0) {
        struct frame *f = &b->stack[b->depth - 1];
        if (json_is_object(f->node) && !f->key) {
            const char *k = (const char *)ev->data.scalar.value;
            if (strlen(k) != ev->data.scalar.length)
                return fail_at(b, &ev->start_mark, "%s", "a mapping key contains a NUL byte");
            json_t *prev = json_object_get(f->node, k);
            if (prev) {
                const struct pos *pp = pos_get(b->doc, prev);
                if (pp && pp->key_line)
                    return fail_at(b, &ev->start_mark,
                                   "duplicate key \"%.400s\" (first at line %d)", k, pp->key_line);
                return fail_at(b, &ev->start_mark, "duplicate key \"%.400s\"", k);
            }
            f->key = strdup(k);
            if (!f->key) {
                err_set(b->e, "out of memory");
                return -1;
            }
            f->key_line = (int)ev->start_mark.line + 1;
            f->key_col = (int)ev->start_mark.column + 1;
            return 0;
        }
    }
    return attach(b, scalar_node(ev), &ev->start_mark);
}

static int on_start(struct builder *b, const yaml_event_t *ev, bool mapping)
{
    const yaml_char_t *anchor =
        mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    json_t *node;

    if (anchor)
        return fail_at(b, &ev->start_mark,
                       "anchors (&%s) and aliases are not supported in manifests",
                       (const char *)anchor);
    if (check_tag(b, ev, tag) < 0)
        return -1;
    if (b->depth >= DOC_MAX_DEPTH) {
        return fail_at(b, &ev->start_mark, "nesting deeper than %d levels", DOC_MAX_DEPTH);
    }
    node = mapping ? json_object() : json_array();
    if (!node) {
        err_set(b->e, "out of memory");
        return -1;
    }
    json_incref(node); /* the frame's reference, dropped on the matching end event */
    if (attach(b, node, &ev->start_mark) < 0) {
        json_decref(node);
        return -1;
    }
    b->stack[b->depth].node = node;
    b->stack[b->depth].key = NULL;
    b->depth++;
    return 0;
}

static void on_end(struct builder *b)
{
    struct frame *f = &b->stack[--b->depth];

    free(f->key);
    f->key = NULL;
    json_decref(f->node);
}

static void unwind(struct builder *b)
{
    while (b->depth > 0)
        on_end(b);
}

static int parser_fail(struct builder *b, const yaml_parser_t *p)
{
    const yaml_mark_t *m = &p->problem_mark;
    const char *problem = p->problem ? p->problem : "malformed YAML";

    if (has_template(b->data, b->len)) {
        err_set(b->e,
                "%s; this looks like a Helm/Go template ({{ ... }}): render it first "
                "(helm template, kustomize build) and check the output",
                problem);
    } else if (p->context) {
        err_set(b->e, "%s %s", problem, p->context);
    } else {
        err_set(b->e, "%s", problem);
    }
    return err_at(b->e, b->file, (int)m->line + 1, (int)m->column + 1);
}

static int push_doc(struct doc ***docs, size_t *n, size_t *alloc, struct doc *d)
{
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 4;
        struct doc **nd = realloc(*docs, na * sizeof(*nd));
        if (!nd)
            return -1;
        *docs = nd;
        *alloc = na;
    }
    (*docs)[(*n)++] = d;
    return 0;
}

int doc_parse_stream(const char *data, size_t len, const char *file, struct doc ***docs, size_t *n,
                     struct err *e)
{
    struct builder b = {.file = file, .data = data, .len = len, .e = e};
    yaml_parser_t parser;
    yaml_event_t ev;
    size_t alloc = 0;
    bool done = false;
    int rc = -1;

    *docs = NULL;
    *n = 0;
    if (len > DOC_MAX_BYTES) {
        err_set(e, "input too large: %zu bytes (the limit is %u MiB)", len, DOC_MAX_BYTES >> 20);
        return err_at(e, file, 0, 0);
    }
    if (!yaml_parser_initialize(&parser))
        return err_set(e, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_fail(&b, &parser);
            goto out;
        }
        int r = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            b.doc = calloc(1, sizeof(*b.doc));
            if (!b.doc)
                r = err_set(e, "out of memory");
            else
                b.doc->file = file;
            break;
        case YAML_DOCUMENT_END_EVENT:
            /* `---` followed by nothing (or only comments) is an empty document, not null. */
            if (b.doc && b.doc->root && !json_is_null(b.doc->root)) {
                if (push_doc(docs, n, &alloc, b.doc) < 0) {
                    r = err_set(e, "out of memory");
                    break;
                }
            } else {
                doc_free(b.doc); /* an empty document: nothing to check */
            }
            b.doc = NULL;
            break;
        case YAML_ALIAS_EVENT:
            r = fail_at(&b, &ev.start_mark, "aliases (*%s) are not supported in manifests",
                        (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            r = on_scalar(&b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            r = on_start(&b, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            r = on_start(&b, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_end(&b);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    unwind(&b);
    doc_free(b.doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            doc_free((*docs)[i]);
        free(*docs);
        *docs = NULL;
        *n = 0;
    }
    return rc;
}
