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

#endif
