#include "policy/model/model.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One kind's objects, sorted by (namespace, name). Shared between snapshots; never modified once
 * published. Each table holds one reference on each of its items. */
struct table {
    atomic_uint refs;
    struct model_item **items;
    size_t n, alloc;
    enum model_state state;
};

struct model {
    atomic_uint refs;
    uint64_t generation;
    struct table *t[MODEL_N_KINDS]; /* never NULL */
};

struct model_writer {
    struct model *cur;                  /* the last published snapshot (one reference) */
    struct table *draft[MODEL_N_KINDS]; /* private copies being edited, or NULL */
    bool dirty;
};

static struct table *table_new(void)
{
    struct table *t = calloc(1, sizeof(*t));

    if (t)
        atomic_init(&t->refs, 1);
    return t;
}

static void table_unref(struct table *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < t->n; i++)
        model_item_unref(t->items[i]);
    free(t->items);
    free(t);
}

static int key_cmp(const struct model_item *it, const char *ns, const char *name)
{
    int c = strcmp(it->ns, ns);

    return c ? c : strcmp(it->name, name);
}

/* The first index whose item is not before (ns, name); *found when it is that object. */
static size_t lower_bound(const struct table *t, const char *ns, const char *name, bool *found)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(t->items[mid], ns, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (found)
        *found = lo < t->n && key_cmp(t->items[lo], ns, name) == 0;
    return lo;
}

struct model *model_new_empty(void)
{
    struct model *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (!(m->t[k] = table_new())) {
            model_unref(m);
            return NULL;
        }
    }
    return m;
}

struct model *model_ref(struct model *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void model_unref(struct model *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int k = 0; k < MODEL_N_KINDS; k++)
        table_unref(m->t[k]);
    free(m);
}

static const struct table *table_of(const struct model *m, enum model_kind k)
{
    return (int)k >= 0 && k < MODEL_N_KINDS ? m->t[k] : NULL;
}

const struct model_item *model_find(const struct model *m, enum model_kind k, const char *ns,
                                    const char *name)
{
    const struct table *t = table_of(m, k);
    bool found;
    size_t i;

    if (!t || !ns || !name)
        return NULL;
    i = lower_bound(t, ns, name, &found);
    return found ? t->items[i] : NULL;
}

size_t model_list(const struct model *m, enum model_kind k, const char *ns,
                  struct model_item *const **items)
{
    const struct table *t = table_of(m, k);
    size_t first, last;

    *items = NULL;
    if (!t || !t->n)
        return 0;
    if (!ns) {
        *items = t->items;
        return t->n;
    }
    first = lower_bound(t, ns, "", NULL);
    for (last = first; last < t->n && !strcmp(t->items[last]->ns, ns); last++)
        ;
    *items = t->items + first;
    return last - first;
}

size_t model_count(const struct model *m, enum model_kind k)
{
    const struct table *t = table_of(m, k);

    return t ? t->n : 0;
}

bool model_complete(const struct model *m, enum model_kind k)
{
    const struct table *t = table_of(m, k);

    return t && t->state == MODEL_STATE_COMPLETE;
}

enum model_state model_state(const struct model *m, enum model_kind k)
{
    const struct table *t = table_of(m, k);

    return t ? t->state : MODEL_STATE_UNKNOWN;
}

bool model_known(const struct model *m, enum model_kind k)
{
    return model_state(m, k) != MODEL_STATE_UNKNOWN;
}

const json_t *model_ns_labels(const struct model *m, const char *ns)
{
    const struct model_item *it = model_find(m, MODEL_NAMESPACE, "", ns);

    return it ? it->labels : NULL;
}

static const json_t *view_lookup(const void *src, const char *ns)
{
    return model_ns_labels(src, ns);
}

void model_nsdb_view(struct nsdb *db, const struct model *m)
{
    nsdb_init_source(db, view_lookup, m);
}

uint64_t model_generation(const struct model *m)
{
    return m->generation;
}

struct model_writer *model_writer_new(void)
{
    struct model_writer *w = calloc(1, sizeof(*w));

    if (w && !(w->cur = model_new_empty())) {
        free(w);
        return NULL;
    }
    return w;
}

void model_writer_free(struct model_writer *w)
{
    if (!w)
        return;
    for (int k = 0; k < MODEL_N_KINDS; k++)
        table_unref(w->draft[k]);
    model_unref(w->cur);
    free(w);
}

/* The writer's private copy of kind k's table, made on first change since the last publish. */
static struct table *draft(struct model_writer *w, enum model_kind k)
{
    const struct table *src;
    struct table *t;

    if ((int)k < 0 || k >= MODEL_N_KINDS)
        return NULL;
    if (w->draft[k])
        return w->draft[k];
    src = w->cur->t[k];
    if (!(t = table_new()))
        return NULL;
    if (src->n && !(t->items = malloc(src->n * sizeof(*t->items)))) {
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < src->n; i++)
        t->items[i] = model_item_ref(src->items[i]);
    t->n = t->alloc = src->n;
    t->state = src->state;
    return w->draft[k] = t;
}

int model_writer_put(struct model_writer *w, struct model_item *it)
{
    struct table *t = draft(w, it->kind);
    bool found;
    size_t i;

    if (!t) {
        model_item_unref(it);
        return -1;
    }
    i = lower_bound(t, it->ns, it->name, &found);
    if (found) {
        model_item_unref(t->items[i]);
        t->items[i] = it;
    } else {
        if (t->n == t->alloc) {
            size_t na = t->alloc ? t->alloc * 2 : 16;
            struct model_item **grown = realloc(t->items, na * sizeof(*grown));
            if (!grown) {
                model_item_unref(it);
                return -1;
            }
            t->items = grown;
            t->alloc = na;
        }
        memmove(t->items + i + 1, t->items + i, (t->n - i) * sizeof(*t->items));
        t->items[i] = it;
        t->n++;
    }
    w->dirty = true;
    return 0;
}

int model_writer_delete(struct model_writer *w, enum model_kind k, const char *ns, const char *name)
{
    struct table *t;
    bool found;
    size_t i;

    if ((int)k < 0 || k >= MODEL_N_KINDS)
        return -1;
    /* Nothing to delete: no copy of the table. */
    if (!w->draft[k] && !model_find(w->cur, k, ns, name))
        return 0;
    if (!(t = draft(w, k)))
        return -1;
    i = lower_bound(t, ns, name, &found);
    if (!found)
        return 0;
    model_item_unref(t->items[i]);
    memmove(t->items + i, t->items + i + 1, (t->n - i - 1) * sizeof(*t->items));
    t->n--;
    w->dirty = true;
    return 0;
}

struct keyed {
    struct model_item *it;
    size_t order;
};

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = key_cmp(x->it, y->it->ns, y->it->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

int model_writer_replace(struct model_writer *w, enum model_kind k, struct model_item **items,
                         size_t n)
{
    struct keyed *ks = calloc(n ? n : 1, sizeof(*ks));
    struct table *t = table_new();
    size_t i, o = 0;

    if (!ks || !t || (n && !(t->items = malloc(n * sizeof(*t->items)))) || (int)k < 0 ||
        k >= MODEL_N_KINDS) {
        for (i = 0; i < n; i++)
            model_item_unref(items[i]);
        free(ks);
        table_unref(t);
        return -1;
    }
    for (i = 0; i < n; i++)
        ks[i] = (struct keyed){items[i], i};
    qsort(ks, n, sizeof(*ks), keyed_cmp);
    for (i = 0; i < n; i++) {
        /* Of duplicates, the last in the input wins: it sorts last among equals. */
        if (i + 1 < n && !key_cmp(ks[i].it, ks[i + 1].it->ns, ks[i + 1].it->name)) {
            model_item_unref(ks[i].it);
            continue;
        }
        t->items[o++] = ks[i].it;
    }
    t->n = o;
    t->alloc = n;
    t->state = MODEL_STATE_COMPLETE;
    free(ks);
    table_unref(w->draft[k]);
    w->draft[k] = t;
    w->dirty = true;
    return 0;
}

int model_writer_forget(struct model_writer *w, enum model_kind k)
{
    struct table *t;

    if ((int)k < 0 || k >= MODEL_N_KINDS || !(t = table_new()))
        return -1;
    table_unref(w->draft[k]);
    w->draft[k] = t;
    w->dirty = true;
    return 0;
}

int model_writer_set_not_served(struct model_writer *w, enum model_kind k)
{
    struct table *t;

    if ((int)k < 0 || k >= MODEL_N_KINDS || !(t = table_new()))
        return -1;
    t->state = MODEL_STATE_NOT_SERVED;
    table_unref(w->draft[k]);
    w->draft[k] = t;
    w->dirty = true;
    return 0;
}

int model_writer_set_complete(struct model_writer *w, enum model_kind k)
{
    struct table *t;

    if ((int)k >= 0 && k < MODEL_N_KINDS && !w->draft[k] &&
        w->cur->t[k]->state == MODEL_STATE_COMPLETE)
        return 0;
    if (!(t = draft(w, k)))
        return -1;
    t->state = MODEL_STATE_COMPLETE;
    w->dirty = true;
    return 0;
}

int model_writer_put_objects(struct model_writer *w, const struct object *const *objs, size_t n,
                             struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        int k = model_kind_of(objs[i]);
        struct model_item *it;
        struct err ie = {0};

        if (k < 0)
            continue;
        if (!(it = model_item_new((enum model_kind)k, objs[i]->json, &ie))) {
            if (!strcmp(ie.msg, "out of memory"))
                return err_set(e, "out of memory");
            continue; /* malformed: decide_object() says what is wrong with it */
        }
        if (model_writer_put(w, it) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

struct model *model_writer_publish(struct model_writer *w)
{
    struct model *m;

    if (!w->dirty)
        return model_ref(w->cur);
    if (!(m = calloc(1, sizeof(*m))))
        return NULL;
    atomic_init(&m->refs, 1);
    m->generation = w->cur->generation + 1;
    for (int k = 0; k < MODEL_N_KINDS; k++) {
        if (w->draft[k]) {
            m->t[k] = w->draft[k]; /* frozen from now on */
            w->draft[k] = NULL;
        } else {
            m->t[k] = w->cur->t[k];
            atomic_fetch_add_explicit(&m->t[k]->refs, 1, memory_order_relaxed);
        }
    }
    model_unref(w->cur);
    w->cur = m;
    w->dirty = false;
    return model_ref(m);
}
