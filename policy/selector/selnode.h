#ifndef EGRESSGUARD_SELNODE_H
#define EGRESSGUARD_SELNODE_H

/*
 * The inside of a selector, shared by the modules that build and reason about selectors
 * (selector.c: lifecycle, matching, formatting; selparse.c: Calico text; selk8s.c: Kubernetes
 * LabelSelector JSON; selsubset.c: subset/overlap). Nothing outside policy/sel*.c includes this.
 *
 * A selector is a tree. Leaves are label predicates with Calico's meaning for a missing label:
 * EQ, IN, HAS, CONTAINS, STARTS and ENDS need the label present; NE and NOTIN match when it is
 * absent. ALL matches everything, NONE nothing. GLOBAL is Calico's `global()`: as a predicate on
 * labels it matches everything (Calico's own evaluator does the same); what it means in a
 * namespaceSelector (only non-namespaced endpoints) is for the reader of that field to apply,
 * having asked selector_has_global().
 *
 * Built only through the constructors below, which keep the tree in a normal form: AND/OR have
 * at least two children and none of their own kind (flattened), NOT never wraps ALL, NONE, NOT,
 * EQ, NE, IN or NOTIN (those have exact complements), IN/NOTIN value lists are sorted and unique.
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "policy/base/tri.h"

enum selnode_op {
    SEL_ALL,
    SEL_NONE,
    SEL_GLOBAL,
    SEL_EQ,
    SEL_NE,
    SEL_HAS,
    SEL_IN,
    SEL_NOTIN,
    SEL_CONTAINS,
    SEL_STARTS,
    SEL_ENDS,
    SEL_AND,
    SEL_OR,
    SEL_NOT,
};

struct selector {
    enum selnode_op op;
    char *key;    /* leaves with a label; NULL otherwise */
    char **vals;  /* EQ, NE, CONTAINS, STARTS, ENDS: one; IN, NOTIN: sorted, unique, maybe 0 */
    size_t nvals;
    struct selector **kids; /* AND, OR: two or more; NOT: one */
    size_t nkids;
};

/* Deepest nesting the parsers build; every recursive walk stays within it plus a little. */
#define SELNODE_MAX_DEPTH 64

/* True for ops that are label predicates (have a key). */
static inline int selnode_is_pred(enum selnode_op op)
{
    return op >= SEL_EQ && op <= SEL_ENDS;
}

/*
 * A leaf: ALL, NONE, GLOBAL (key NULL, n 0), HAS (n 0), EQ/NE/CONTAINS/STARTS/ENDS (n 1),
 * IN/NOTIN (any n; duplicates dropped). Copies key and values. NULL on OOM.
 */
struct selector *selnode_leaf(enum selnode_op op, const char *key, const char *const *vals,
                              size_t n);

/*
 * AND or OR of n children, consuming them (also on failure). Simplifies: nested nodes of the same
 * op are flattened, ALL/NONE absorb or vanish, zero children give ALL (AND) or NONE (OR), one
 * child is returned as is. NULL on OOM, or if any child is NULL (the others are freed), so a
 * caller may pass the results of constructors unchecked.
 */
struct selector *selnode_nary(enum selnode_op op, struct selector **kids, size_t n);

/* Two-child shorthand of selnode_nary(), consuming both. */
struct selector *selnode_and2(struct selector *a, struct selector *b);
struct selector *selnode_or2(struct selector *a, struct selector *b);

/* Does predicate leaf s hold for its label present with value v (NULL: label absent)? */
/* Kleene evaluation: an AND is false if any child is, an OR true if any child is (selector.c). */
enum tri selnode_eval(const struct selector *s, const json_t *labels, bool complete);

/*
 * The same with completeness per key: a key absent from labels is known to be absent unless
 * open(key, arg) says it may be present with any value (open NULL: every key known).
 */
enum tri selnode_eval_open(const struct selector *s, const json_t *labels,
                           bool (*open)(const char *key, void *arg), void *arg);
/* An `open` for which every key is open (selnode_eval with complete false). */
bool selnode_every_key_open(const char *key, void *arg);

bool selnode_pred_holds(const struct selector *s, const char *v);

/* NOT of a, consuming it; uses the exact complement where one exists. NULL on OOM or a NULL. */
struct selector *selnode_not(struct selector *a);

#endif
