#ifndef EGRESSGUARD_FQDN_H
#define EGRESSGUARD_FQDN_H

/*
 * DNS names and Cilium-style name patterns. In a pattern `*` matches zero or more characters
 * within one DNS label: `*.s3.amazonaws.com` matches `a.s3.amazonaws.com` but neither
 * `s3.amazonaws.com` nor `a.b.s3.amazonaws.com`. A bare `*` matches every name. Comparison is
 * case-insensitive and a trailing dot is ignored, so patterns are kept normalized (lower case, no
 * trailing dot).
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"

#define FQDN_MAX 254 /* a normalized name or pattern, with its NUL */

/*
 * Validates and normalizes a name (allow_wildcard false) or a pattern (true) into out
 * (FQDN_MAX bytes): lower case, trailing dot removed. Labels of letters, digits, '-' and '_'
 * (and '*' in patterns), each 1..63 long, 253 in all. Returns 0, or -1 with e set
 * (`invalid DNS name "exa mple.com": ...`).
 */
int fqdn_normalize(const char *text, bool allow_wildcard, char *out, struct err *e);

/* Does the normalized pattern match the normalized name? */
bool fqdn_matches(const char *pattern, const char *name);

/* Is every name matched by pattern a also matched by pattern b? Exact for these patterns. */
bool fqdn_subset(const char *a, const char *b);

/* Is every name matched by a matched by at least one of list[0..n)? (per-pattern: sound) */
bool fqdn_subset_of_any(const char *a, const char *const *list, size_t n);

/*
 * A list of patterns indexed for the questions every decision asks of an allow-list, so that
 * their cost does not grow with the list: fqdn_index_covers(ix, a) answers exactly what
 * fqdn_subset_of_any(a, list, n) answers, fqdn_index_matches(ix, name) whether some pattern
 * matches the name. Only patterns that can say yes are tried: apart from a bare `*`, a pattern
 * covers or matches only what has its own number of labels, and when its last label has no `*`,
 * only what ends in that same label. The index borrows the strings (they must outlive it); once
 * built it is read-only and safe to share between threads.
 */
struct fqdn_index;

/* NULL on out of memory. Free with fqdn_index_free() (NULL is a no-op). */
struct fqdn_index *fqdn_index_new(const char *const *list, size_t n);
void fqdn_index_free(struct fqdn_index *ix);
bool fqdn_index_covers(const struct fqdn_index *ix, const char *a);
bool fqdn_index_matches(const struct fqdn_index *ix, const char *name);
size_t fqdn_index_size(const struct fqdn_index *ix); /* patterns in the list */

#endif
