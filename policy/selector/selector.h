#ifndef EGRESSGUARD_SELECTOR_H
#define EGRESSGUARD_SELECTOR_H

/*
 * Label selectors, one representation for every CNI: a boolean expression over label predicates.
 * Kubernetes LabelSelectors (matchLabels + matchExpressions, also what Cilium's endpointSelector
 * is) and Calico's selector language (`app == 'web' && has(tier)`, `all()`, `global()`) both
 * compile into it, so the egress model and the allow-list compare selectors of any origin.
 *
 * A selector is immutable once built and safe to share between threads.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"

struct selector;

/*
 * From a Kubernetes LabelSelector object. An empty object `{}` selects everything; the caller
 * decides what a *missing* selector means (it differs by field). Operators In, NotIn, Exists,
 * DoesNotExist, with Kubernetes' rules (In/NotIn need values, Exists/DoesNotExist must have
 * none, NotIn also matches a missing key). Label keys and values are validated as Kubernetes does.
 * Returns NULL with e set; the message names the offending member relative to the selector
 * (`matchExpressions[1].operator: unknown operator "Inn"`) and *where (if not NULL) is set to the
 * innermost offending JSON node so the caller can add its position — for true, false and null,
 * which have no position of their own, the mapping or list that holds them. A null matchLabels value is "", as the API server stores it.
 */
struct selector *selector_from_json(const json_t *j, const json_t **where, struct err *e);

/*
 * Parses Calico's selector language: ==, !=, has(k), !has(k), k in {'a','b'}, k not in {...},
 * contains, starts with, ends with, &&, ||, !, parentheses, all(), global(). Empty text is all().
 * Returns NULL with e set; e->col is the 1-based column within `text` (e->line is 0), so a caller
 * with the string's position can point into it.
 */
struct selector *selector_parse(const char *text, struct err *e);

struct selector *selector_all(void);  /* matches every label set */
struct selector *selector_none(void); /* matches nothing */
/* New selectors combining a and b (neither consumed): a && b, a || b, !a. NULL on OOM. */
struct selector *selector_and(const struct selector *a, const struct selector *b);
struct selector *selector_or(const struct selector *a, const struct selector *b);
struct selector *selector_not(const struct selector *a);
struct selector *selector_dup(const struct selector *s);
void selector_free(struct selector *s); /* NULL is a no-op */

/* Does the label set (a JSON object of strings; NULL = no labels) match? */
bool selector_matches(const struct selector *s, const json_t *labels);

/*
 * Appends a canonical Calico-syntax rendering: `app == "web" && has(tier)`, `all()`. Values are
 * quoted with " unless they contain one; IN/NOTIN sets are sorted; parentheses only where
 * precedence needs them; a selector matching nothing is `!all()`. The output parses back with
 * selector_parse() into a selector that formats identically. Returns 0, or -1 when `out` fails.
 */
int selector_format(const struct selector *s, struct buf *out);

/*
 * Does the selector use Calico's `global()`? As a predicate on labels global() matches every
 * label set (as in Calico's evaluator, and so it counts as all() for matching, subset and
 * overlap); in a namespaceSelector Calico gives it the meaning "non-namespaced endpoints only"
 * (host endpoints, global network sets), which the reader of that field must apply itself.
 */
bool selector_has_global(const struct selector *s);

/* A copy of s whose predicates on label `from` test label `to` instead. NULL on OOM. */
struct selector *selector_rename_key(const struct selector *s, const char *from, const char *to);

/* A copy of s with every global() made all() (value true) or "matches nothing". NULL on OOM. */
struct selector *selector_set_global(const struct selector *s, bool value);

/*
 * Splits s into on && rest: `on` gathers the top-level conjuncts of s that are predicates on
 * label `key`, `rest` the others (each all() when empty; s itself is one conjunct when it is not
 * an AND). Exact: s matches a label set iff both do. 0, or -1 on OOM (both NULL then).
 */
int selector_split_key(const struct selector *s, const char *key, struct selector **on,
                       struct selector **rest);

/*
 * The value s pins label `key` to: when a top-level conjunct of s is `key == v` (or `key in {v}`),
 * every label set s matches has key = v. Returns v (borrowed from s), or NULL when s does not
 * pin key. selector_first_eq_key() gives the key of the first such conjunct (borrowed), or NULL.
 * Used to index selectors: two selectors pinning one key to different values never overlap.
 */
const char *selector_eq_value(const struct selector *s, const char *key);
const char *selector_first_eq_key(const struct selector *s);

/*
 * Appends to *keys (a malloc()ed array of *n strings borrowed from s; both may start empty) every
 * label key s tests that is not there yet. Returns 0, or -1 on out of memory.
 */
int selector_keys(const struct selector *s, const char ***keys, size_t *n);

/*
 * Kubernetes label syntax, as the API server checks it. A key is a qualified name: an optional
 * DNS-subdomain prefix (at most 253 characters, lower case) and '/', then a name of 1-63
 * characters [A-Za-z0-9._-] starting and ending alphanumeric. A value is empty or such a name.
 * Return 0, or -1 with `e` set to Kubernetes' wording (`invalid label key "a b": name part
 * must consist of ...`).
 */
int selector_check_label_key(const char *key, struct err *e);
int selector_check_label_value(const char *value, struct err *e);

#endif
