#ifndef EGRESSGUARD_SELSUBSET_H
#define EGRESSGUARD_SELSUBSET_H

/*
 * Reasoning about selectors rather than evaluating them on one label set: matching under partial
 * knowledge, and set relations between selectors (selsubset.c explains the method). Everything
 * here is sound in the direction callers rely on: "proven" answers are true, and anything not
 * proven is reported as such, which callers treat as a possible escape.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/base/tri.h"
#include "policy/selector/selector.h"

/*
 * Matching when only some labels are known: `labels` holds the known ones; when `complete` is
 * false, any key absent from it may or may not be present with any value. Returns TRI_UNKNOWN
 * when the answer depends on the unknown labels.
 */
enum tri selector_eval(const struct selector *s, const json_t *labels, bool complete);

/*
 * Matching a label set that is complete except for some keys: a key absent from `labels` is
 * known to be absent unless open(key, arg) says it may be present with any value (open NULL:
 * every key is known). For a pod whose own labels are all known while the labels a CNI adds
 * (projectcalico.org/..., io.cilium...) are not.
 */
enum tri selector_eval_open(const struct selector *s, const json_t *labels,
                            bool (*open)(const char *key, void *arg), void *arg);

bool selector_is_all(const struct selector *s);  /* provably matches everything */
bool selector_is_none(const struct selector *s); /* provably matches nothing */

/*
 * Is every label set matched by a also matched by b (a ⊆ b)? Sound but not complete: true only
 * when proven; false means "not proven", which callers treat as a possible escape.
 */
bool selector_subset(const struct selector *a, const struct selector *b);

/* Can some label set match both (a ∩ b ≠ ∅)? Sound the other way: false only when proven. */
bool selector_may_overlap(const struct selector *a, const struct selector *b);

/*
 * Does s pin label `key` to finitely many values, i.e. does every label set s matches carry key
 * with one of them (`key == 'a'`, `key in {'a','b'}`, in any conjunct, or in every disjunct)?
 * Then true, with *vals a malloc()ed, sorted array of *n values borrowed from s (free the array
 * only; *n may be 0: s matches nothing). false when it is not proven (or on out of memory), which
 * callers read as "any value".
 */
bool selector_pinned(const struct selector *s, const char *key, const char ***vals, size_t *n);

#endif
