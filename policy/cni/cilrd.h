#ifndef EGRESSGUARD_CILRD_H
#define EGRESSGUARD_CILRD_H

/*
 * The state of reading one Cilium policy object into egress models, shared by the parts of the
 * Cilium reader (cilium.c: rules and peers, cilsel.c: endpoint selectors, cilports.c: toPorts).
 * Not an API for other modules: use cilium.h.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/eval/egress.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"

#define CILRD_PATH_LEN 256

struct cilrd {
    const struct object *obj;
    struct egress_model *m; /* the model being read (notes go here) */
    const char *ns;         /* namespaced policy: its namespace; NULL for a clusterwide one */
    bool deny;              /* reading egressDeny: under-approximate */
    struct err *e;
};

/* Positions r->e (already set) at node, with the field path in front of the message. -1. */
int cilrd_fail(const struct cilrd *r, const json_t *node, const char *path);

/* Sets r->e to msg, then as cilrd_fail(). Returns -1. */
int cilrd_failf(const struct cilrd *r, const json_t *node, const char *path, const char *msg);

/* Adds msg as a note of the current model. 0, or -1 with r->e set on out of memory. */
int cilrd_note(struct cilrd *r, const json_t *node, const char *path, const char *msg);

/* o[key] when o is an object, else NULL (JSON null is returned as is). Borrowed. */
const json_t *cilrd_member(const json_t *o, const char *key);

/*
 * o[key], which must be a list when present: *out is the list, or NULL when absent or null.
 * 0, or -1 with r->e set and positioned at "<path>.<key>".
 */
int cilrd_array(struct cilrd *r, const json_t *o, const char *key, const char *path,
                const json_t **out);

/* The length of a list from cilrd_array(); 0 for NULL. */
size_t cilrd_len(const json_t *a);

#endif
