#ifndef EGRESSGUARD_NSDB_H
#define EGRESSGUARD_NSDB_H

/*
 * What a run knows about namespaces: name → labels. Filled from Namespace objects in the same
 * input, from `--namespace-labels`, or (in the server) from Namespace admissions and the API.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/base/err.h"

/*
 * Visible so that the server can put a one-namespace view on the stack for each request
 * (nsdb_init_one) without allocating or copying labels. Treat the members as private.
 */
struct nsdb {
    json_t *map;              /* owned: name → labels; NULL in a one-namespace view */
    const char *one_ns;       /* borrowed (view only) */
    const json_t *one_labels; /* borrowed (view only) */
};

struct nsdb *nsdb_new(void); /* NULL on out of memory */
void nsdb_free(struct nsdb *db); /* not for a view */

/*
 * A view that knows one namespace, borrowing ns and labels (which must stay alive and unchanged
 * while the view is used, and should carry kubernetes.io/metadata.name as the API server's do).
 * labels NULL: the view knows nothing. Nothing to free; nsdb_set() on a view fails.
 */
void nsdb_init_one(struct nsdb *db, const char *ns, const json_t *labels);

/* Records (replacing) the labels of a namespace; labels may be NULL (none). 0 or -1 on OOM. */
int nsdb_set(struct nsdb *db, const char *ns, const json_t *labels);

/* Forgets a namespace (its labels become unknown again). Nothing on a view. */
void nsdb_forget(struct nsdb *db, const char *ns);

/* Parses "ns=key=value,key2=value2" (a --namespace-labels argument) and records it. */
int nsdb_set_spec(struct nsdb *db, const char *spec, struct err *e);

/* The labels of a known namespace (borrowed JSON object), or NULL when the namespace is unknown. */
const json_t *nsdb_labels(const struct nsdb *db, const char *ns);

/*
 * Records every namespace src knows into dst (replacing what dst knew of them), as a merge of
 * two sources (command-line labels into one input's). 0, or -1 on OOM or when dst is a view.
 */
int nsdb_merge(struct nsdb *dst, const struct nsdb *src);

#endif
