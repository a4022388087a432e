#ifndef EGRESSGUARD_STRMAP_H
#define EGRESSGUARD_STRMAP_H

/*
 * A hash map from strings to pointers, for tables that must answer in constant time however
 * large the cluster (the audit's objects and namespaces). Keys are copied; values are borrowed:
 * the map never frees them. Not thread-safe: one owner.
 */

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);    /* NULL on out of memory */
void strmap_free(struct strmap *m); /* NULL is a no-op; the values are the caller's */

/* The value of key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/* Adds or replaces key → value (value must not be NULL). 0, or -1 on out of memory (unchanged). */
int strmap_put(struct strmap *m, const char *key, void *value);

/* Removes key; returns its value, or NULL when absent. */
void *strmap_del(struct strmap *m, const char *key);

size_t strmap_size(const struct strmap *m);

/*
 * Calls fn on every entry, in no particular order, until it returns false. The map must not
 * change meanwhile.
 */
void strmap_each(const struct strmap *m, bool (*fn)(const char *key, void *value, void *ctx),
                 void *ctx);

#endif
