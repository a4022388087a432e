#include "policy/selector/selwitness.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selnode.h"

#define MAX_KEYS 8
#define MAX_VALUES 16
#define MAX_COMBINATIONS 65536
#define OTHER_VALUE "egressguard-witness" /* a value no predicate names, usually */

/* The label keys a predicate mentions, each with the values worth trying. */
struct key {
    const char *key;
    const char *vals[MAX_VALUES]; /* NULL first: the label absent */
    size_t n;
    char *joined; /* prefix + infix + suffix, for STARTS && CONTAINS && ENDS */
};

struct search {
    struct key keys[MAX_KEYS];
    size_t n;
    bool too_big;
};

static struct key *key_of(struct search *s, const char *k)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i].key, k))
            return &s->keys[i];
    if (s->n == MAX_KEYS) {
        s->too_big = true;
        return NULL;
    }
    s->keys[s->n] = (struct key){.key = k, .vals = {NULL, OTHER_VALUE}, .n = 2};
    return &s->keys[s->n++];
}

static void add_value(struct search *s, struct key *k, const char *v)
{
    for (size_t i = 1; i < k->n; i++)
        if (!strcmp(k->vals[i], v))
            return;
    if (k->n == MAX_VALUES)
        s->too_big = true;
    else
        k->vals[k->n++] = v;
}

/* Every literal of every predicate is a candidate value for its key (an exact value satisfies
 * EQ/IN and breaks NE/NOTIN; a prefix satisfies STARTS, and so on). */
static void collect(struct search *s, const struct selector *n, const json_t *fixed, int depth)
{
    struct key *k;

    if (depth > SELNODE_MAX_DEPTH + 4) {
        s->too_big = true;
        return;
    }
    for (size_t i = 0; i < n->nkids; i++)
        collect(s, n->kids[i], fixed, depth + 1);
    if (!selnode_is_pred(n->op) || !n->key || json_object_get(fixed, n->key) ||
        !(k = key_of(s, n->key)))
        return;
    for (size_t i = 0; i < n->nvals; i++)
        add_value(s, k, n->vals[i]);
}

/* STARTS x && CONTAINS y && ENDS z holds for "xyz": one more candidate per key. */
static void add_joined(const struct selector *n, const char *key, enum selnode_op op, struct buf *b)
{
    for (size_t i = 0; i < n->nkids; i++)
        add_joined(n->kids[i], key, op, b);
    if (n->op == op && n->key && !strcmp(n->key, key) && n->nvals)
        buf_puts(b, n->vals[0]);
}

json_t *selector_witness(const struct selector *sel, const json_t *fixed, bool *gave_up)
{
    struct search s = {0};
    size_t idx[MAX_KEYS] = {0}, combos = 1;
    json_t *labels = NULL, *found = NULL;

    if (gave_up)
        *gave_up = false;
    collect(&s, sel, fixed, 0);
    if (s.too_big)
        goto out;
    for (size_t i = 0; i < s.n; i++) {
        struct buf b;
        buf_init(&b, 4096);
        add_joined(sel, s.keys[i].key, SEL_STARTS, &b);
        add_joined(sel, s.keys[i].key, SEL_CONTAINS, &b);
        add_joined(sel, s.keys[i].key, SEL_ENDS, &b);
        if (b.len && !b.failed && (s.keys[i].joined = buf_detach(&b, NULL)))
            add_value(&s, &s.keys[i], s.keys[i].joined);
        buf_release(&b);
        combos *= s.keys[i].n;
        if (combos > MAX_COMBINATIONS)
            s.too_big = true;
    }
    if (s.too_big)
        goto out;
    labels = json_is_object(fixed) ? json_deep_copy(fixed) : json_object();
    if (!labels)
        goto out;
    for (size_t c = 0; c < combos; c++) {
        bool ok = true;
        for (size_t i = 0; i < s.n && ok; i++) {
            const char *v = s.keys[i].vals[idx[i]];
            ok = v ? json_object_set_new(labels, s.keys[i].key, json_string(v)) == 0
                   : (json_object_del(labels, s.keys[i].key), true);
        }
        if (!ok) {
            s.too_big = true;
            break;
        }
        if (selector_matches(sel, labels)) {
            found = labels;
            labels = NULL;
            break;
        }
        for (size_t i = 0; i < s.n && ++idx[i] == s.keys[i].n; i++)
            idx[i] = 0;
    }
out:
    if (!found && (s.too_big || !labels) && gave_up)
        *gave_up = true;
    json_decref(labels);
    for (size_t i = 0; i < s.n; i++)
        free(s.keys[i].joined);
    return found;
}
