#include "policy/base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Chained buckets, a power of two of them, at most one entry per bucket on average. */
struct entry {
    struct entry *next;
    uint64_t hash;
    void *value;
    char key[]; /* NUL-terminated */
};

struct strmap {
    struct entry **buckets;
    size_t n_buckets, size;
};

#define MIN_BUCKETS 16

static uint64_t hash_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = calloc(1, sizeof(*m));

    if (m && !(m->buckets = calloc(MIN_BUCKETS, sizeof(*m->buckets)))) {
        free(m);
        return NULL;
    }
    if (m)
        m->n_buckets = MIN_BUCKETS;
    return m;
}

void strmap_free(struct strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_buckets; i++)
        for (struct entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(m->buckets);
    free(m);
}

static struct entry **slot(const struct strmap *m, const char *key, uint64_t h)
{
    struct entry **p = &m->buckets[h & (m->n_buckets - 1)];

    while (*p && ((*p)->hash != h || strcmp((*p)->key, key)))
        p = &(*p)->next;
    return p;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct entry *e = *slot(m, key, hash_of(key));

    return e ? e->value : NULL;
}

/* Doubles the buckets; a failure leaves the map as it was (only slower). */
static void grow(struct strmap *m)
{
    size_t n = m->n_buckets * 2;
    struct entry **b = calloc(n, sizeof(*b));

    if (!b)
        return;
    for (size_t i = 0; i < m->n_buckets; i++)
        for (struct entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = n;
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
    uint64_t h = hash_of(key);
    struct entry **p = slot(m, key, h), *e;
    size_t len = strlen(key);

    if (*p) {
        (*p)->value = value;
        return 0;
    }
    if (!(e = malloc(sizeof(*e) + len + 1)))
        return -1;
    e->next = NULL;
    e->hash = h;
    e->value = value;
    memcpy(e->key, key, len + 1);
    *p = e;
    if (++m->size > m->n_buckets)
        grow(m);
    return 0;
}

void *strmap_del(struct strmap *m, const char *key)
{
    struct entry **p = slot(m, key, hash_of(key)), *e = *p;
    void *v;

    if (!e)
        return NULL;
    *p = e->next;
    v = e->value;
    free(e);
    m->size--;
    return v;
}

size_t strmap_size(const struct strmap *m)
{
    return m->size;
}

void strmap_each(const struct strmap *m, bool (*fn)(const char *key, void *value, void *ctx),
                 void *ctx)
{
    for (size_t i = 0; i < m->n_buckets; i++)
        for (const struct entry *e = m->buckets[i]; e; e = e->next)
            if (!fn(e->key, e->value, ctx))
                return;
}
