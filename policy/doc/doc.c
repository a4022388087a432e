#include "policy/doc/doc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/base/room.h"

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

/*
 * Positions are appended as nodes are built (O(1), nothing hashed) and sorted by node pointer
 * the first time one is looked up: most documents of a large input are never asked.
 */
struct doc {
    json_t *root;
    const char *file;
    int line, col;
    struct pos *pos;
    size_t n_pos, cap_pos;
    size_t sorted; /* pos[0, sorted) is in pointer order */
    struct slot *slots;
    size_t n_slots, cap_slots;
};

/* One open mapping or sequence while events stream in. */
struct frame {
    json_t *node;
    char *key; /* mapping: the key awaiting its value (short_key or malloc()ed), or NULL */
    int key_line, key_col;
    char short_key[40]; /* most keys fit: no allocation per key */
};

static void frame_drop_key(struct frame *f)
{
    if (f->key != f->short_key)
        free(f->key);
    f->key = NULL;
}

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
    const char *data; /* the whole input, when it is a buffer (for the template sniff) */
    size_t len;
    const bool *template_seen; /* when reading a file: set once "{{" went by */
    const size_t *first_high;  /* when reading a file: offset of its first non-ASCII byte */
    bool one_doc;              /* stop after the first document (doc_stream_file_at) */
    struct doc *doc;
    struct frame stack[DOC_MAX_DEPTH];
    int depth;
    size_t nodes;
    struct err *e;
    /* Streaming (doc_stream_*): */
    const struct doc_sink *sink;
    void *cls;
    struct doc *cur;   /* where positions go: doc, or the item being read */
    int items_depth;   /* stack index of the root's "items" sequence while its items stream; -1 */
    size_t nodes_at_item;
    bool cap_per_unit; /* DOC_MAX_NODES per document or item rather than per stream */
    bool skipping;     /* the current document is passed over (doc_sink.skip) */
};

static bool saw_template(const struct builder *b)
{
    return b->template_seen ? *b->template_seen : has_template(b->data, b->len);
}

static int pos_put(struct doc *d, const json_t *node, int line, int col, int key_line, int key_col)
{
    if (room_for_one((void **)&d->pos, d->n_pos, &d->cap_pos, sizeof(*d->pos)) < 0)
        return -1;
    d->pos[d->n_pos++] = (struct pos){node, line, col, key_line, key_col};
    return 0;
}

static int cmp_pos(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct pos *)a)->node;
    uintptr_t y = (uintptr_t)((const struct pos *)b)->node;

    return x < y ? -1 : x > y;
}

static const struct pos *pos_get(const struct doc *d, const json_t *node)
{
    struct doc *sortable = (struct doc *)d; /* the lazy sort: doc.h says one thread at a time */
    size_t lo = 0, hi;

    if (!d || !node || !d->n_pos)
        return NULL;
    if (d->sorted != d->n_pos) {
        qsort(sortable->pos, d->n_pos, sizeof(*d->pos), cmp_pos);
        sortable->sorted = d->n_pos;
    }
    hi = d->n_pos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if ((uintptr_t)d->pos[mid].node < (uintptr_t)node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n_pos && d->pos[lo].node == node ? &d->pos[lo] : NULL;
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

    if (room_for_one((void **)&d->slots, d->n_slots, &d->cap_slots, sizeof(*s)) < 0)
        return -1;
    s = &d->slots[d->n_slots];
    s->key = key ? strdup(key) : NULL;
    if (key && !s->key)
        return -1;
    *s = (struct slot){value, parent, s->key, index, line, col};
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
        return json_stringn_nocheck(s, n);

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
            return json_stringn_nocheck(s, n); /* out of range: keep the text */
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
            return json_stringn_nocheck(s, n);
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (digits && !*p) {
        errno = 0;
        double v = strtod(s, &end);
        if (!errno && !*end)
            return json_real(v);
    }
    return json_stringn_nocheck(s, n);
}

static json_t *scalar_node(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;

    if (tag && !strcmp(tag, YAML_STR_TAG))
        return json_stringn_nocheck(s, n);
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn_nocheck(s, n);
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

/* Hands a complete item to the sink, which takes it; its nodes no longer count. */
static int deliver_item(struct builder *b, struct doc *item)
{
    if (b->cap_per_unit)
        b->nodes = b->nodes_at_item;
    if (b->sink->item(b->cls, item, b->doc) < 0) {
        if (!b->e->msg[0])
            err_set(b->e, "out of memory");
        return -1;
    }
    return 0;
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
    struct doc *item = NULL;

    if (b->items_depth >= 0 && b->depth - 1 == b->items_depth) {
        if (!(item = calloc(1, sizeof(*item)))) {
            json_decref(node);
            err_set(b->e, "out of memory");
            return -1;
        }
        item->file = b->file;
        b->nodes_at_item = b->nodes - 1;
    }
    /* an item is a document of its own: a true, false or null one has no place in it */
    if (is_singleton(node) ? parent && !item &&
                                 slot_put(b->cur, node, parent->node, in_map ? parent->key : NULL,
                                          in_map ? 0 : json_array_size(parent->node), line,
                                          col) < 0
                           : pos_put(item ? item : b->cur, node, line, col,
                                     in_map ? parent->key_line : 0,
                                     in_map ? parent->key_col : 0) < 0) {
        json_decref(node);
        doc_free(item);
        err_set(b->e, "out of memory");
        return -1;
    }
    if (item) {
        /* An item of a streamed `items` list: a document of its own, not part of the list. */
        item->root = node;
        item->line = line;
        item->col = col;
        if (!json_is_object(node) && !json_is_array(node))
            return deliver_item(b, item);
        b->cur = item; /* its frame's end delivers it (on_end) */
        return 0;
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
        if (saw_template(b))
            return fail_at(b, m, "%s",
                           "this looks like a Helm/Go template ({{ ... }}): render it first "
                           "(helm template, kustomize build) and check the output");
        return fail_at(b, m, "%s", "a mapping key must be a plain string, not a mapping or list");
    }
    /* libyaml hands over valid UTF-8 only (its reader checks every sequence): no second check. */
    if (json_object_set_new_nocheck(f->node, f->key, node) < 0) {
        frame_drop_key(f);
        goto oom;
    }
    frame_drop_key(f);
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
                const struct pos *pp = pos_get(b->cur, prev);
                if (pp && pp->key_line)
                    return fail_at(b, &ev->start_mark,
                                   "duplicate key \"%.400s\" (first at line %d)", k, pp->key_line);
                return fail_at(b, &ev->start_mark, "duplicate key \"%.400s\"", k);
            }
            size_t kl = ev->data.scalar.length;

            f->key = kl < sizeof(f->short_key) ? memcpy(f->short_key, k, kl + 1) : strdup(k);
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
    bool streams;

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
    /* The `items` list of a root mapping: each item streams out on its own (doc_sink.item). */
    streams = !mapping && b->sink && b->sink->item && b->depth == 1 && b->items_depth < 0 &&
              json_is_object(b->stack[0].node) && b->stack[0].key &&
              !strcmp(b->stack[0].key, "items");
    json_incref(node); /* the frame's reference, dropped on the matching end event */
    if (attach(b, node, &ev->start_mark) < 0) {
        json_decref(node);
        return -1;
    }
    b->stack[b->depth].node = node;
    b->stack[b->depth].key = NULL;
    if (streams)
        b->items_depth = b->depth;
    b->depth++;
    return 0;
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->stack[--b->depth];

    frame_drop_key(f);
    json_decref(f->node);
    if (b->items_depth >= 0 && b->depth == b->items_depth + 1) {
        struct doc *item = b->cur;

        b->cur = b->doc;
        return deliver_item(b, item);
    }
    if (b->depth == b->items_depth)
        b->items_depth = -1;
    return 0;
}

static void unwind(struct builder *b)
{
    while (b->depth > 0) {
        struct frame *f = &b->stack[--b->depth];

        frame_drop_key(f);
        json_decref(f->node);
    }
    if (b->cur != b->doc)
        doc_free(b->cur); /* an item cut short */
    b->cur = b->doc;
    b->items_depth = -1;
}

static int parser_fail(struct builder *b, const yaml_parser_t *p)
{
    const yaml_mark_t *m = &p->problem_mark;
    const char *problem = p->problem ? p->problem : "malformed YAML";

    if (saw_template(b)) {
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

/* Runs the parser to the end of the stream, handing every document to b->sink. */
static int run(struct builder *b, yaml_parser_t *parser)
{
    yaml_event_t ev;
    bool done = false;
    int rc = -1;

    b->cur = NULL;
    b->items_depth = -1;
    while (!done) {
        if (!yaml_parser_parse(parser, &ev)) {
            if (!b->e->msg[0])
                parser_fail(b, parser);
            goto out;
        }
        int r = 0;
        if (b->skipping && ev.type != YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (b->sink->skip && !b->one_doc) {
                const yaml_mark_t *m = &ev.start_mark;
                /* every character before the document a byte: the line's start is a byte offset */
                struct doc_start at = {
                    m->line, b->first_high && *b->first_high >= m->index && m->index <= LONG_MAX
                                 ? (long)(m->index - m->column)
                                 : -1};

                if (b->sink->skip(b->cls, &at)) {
                    b->skipping = true;
                    break;
                }
            }
            b->doc = calloc(1, sizeof(*b->doc));
            if (!b->doc)
                r = err_set(b->e, "out of memory");
            else
                b->doc->file = b->file;
            b->cur = b->doc;
            break;
        case YAML_DOCUMENT_END_EVENT: {
            struct doc *d = b->doc;

            if (b->skipping) {
                b->skipping = false;
                break;
            }
            done = b->one_doc;
            b->doc = b->cur = NULL;
            if (b->cap_per_unit)
                b->nodes = 0;
            /* `---` followed by nothing (or only comments) is an empty document, not null. */
            if (d && d->root && !json_is_null(d->root)) {
                r = b->sink->doc(b->cls, d);
                if (r < 0 && !b->e->msg[0])
                    err_set(b->e, "out of memory");
            } else {
                doc_free(d); /* an empty document: nothing to check */
            }
            break;
        }
        case YAML_ALIAS_EVENT:
            r = fail_at(b, &ev.start_mark, "aliases (*%s) are not supported in manifests",
                        (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            r = on_scalar(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            r = on_start(b, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            r = on_start(b, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            r = on_end(b);
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
    unwind(b);
    doc_free(b->doc);
    b->doc = b->cur = NULL;
    return rc;
}

int doc_too_large(struct err *e, const char *file, size_t len)
{
    err_set(e, "input too large: %zu bytes (the limit is %u MiB)", len, DOC_MAX_BYTES >> 20);
    return err_at(e, file, 0, 0);
}

int doc_run(struct yaml_parser_s *parser, const struct doc_run_opts *o,
            const struct doc_sink *sink, void *cls, struct err *e)
{
    struct builder b = {.file = o->file, .data = o->data, .len = o->len,
                        .template_seen = o->template_seen, .first_high = o->first_high,
                        .one_doc = o->one_doc, .e = e, .sink = sink, .cls = cls};

    b.cap_per_unit = sink->item && !sink->stream_cap;
    return run(&b, parser);
}

int doc_stream_buffer(const char *data, size_t len, const char *file, const struct doc_sink *sink,
                      void *cls, struct err *e)
{
    struct doc_run_opts o = {.file = file, .data = data, .len = len};
    yaml_parser_t parser;
    int rc;

    if (len > DOC_MAX_BYTES)
        return doc_too_large(e, file, len);
    if (!yaml_parser_initialize(&parser))
        return err_set(e, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    rc = doc_run(&parser, &o, sink, cls, e);
    yaml_parser_delete(&parser);
    return rc;
}

/* doc_parse_stream's sink: every document into one array. */
struct collect {
    struct doc **docs;
    size_t n, alloc;
};

static int collect_doc(void *cls, struct doc *d)
{
    struct collect *c = cls;

    if (room_for_one((void **)&c->docs, c->n, &c->alloc, sizeof(*c->docs)) < 0) {
        doc_free(d);
        return -1;
    }
    c->docs[c->n++] = d;
    return 0;
}

int doc_parse_stream(const char *data, size_t len, const char *file, struct doc ***docs, size_t *n,
                     struct err *e)
{
    static const struct doc_sink sink = {.doc = collect_doc};
    struct collect c = {0};

    *docs = NULL;
    *n = 0;
    if (doc_stream_buffer(data, len, file, &sink, &c, e) < 0) {
        for (size_t i = 0; i < c.n; i++)
            doc_free(c.docs[i]);
        free(c.docs);
        return -1;
    }
    *docs = c.docs;
    *n = c.n;
    return 0;
}
