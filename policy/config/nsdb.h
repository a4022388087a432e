#ifndef EGRESSGUARD_NSDB_H
#define EGRESSGUARD_NSDB_H

/*
 * What a decision knows about namespaces: name → labels. A view over the cluster model (model.h,
 * which `check` builds from its input and `serve` from the API), a one-namespace view (the
 * server's per-request answer), or a map of its own (tests). A namespace it does not know has
 * unknown labels, which is not the same as no labels.
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
    /* A view over another store (the cluster model: model_nsdb_view()): its lookup. */
    const json_t *(*lookup)(const void *src, const char *ns);
    const void *src; /* borrowed */
    bool complete;   /* it knows every namespace there is (nsdb_set_complete) */
};

struct nsdb *nsdb_new(void); /* NULL on out of memory */
void nsdb_free(struct nsdb *db); /* not for a view */

/*
 * A view that knows one namespace, borrowing ns and labels (which must stay alive and unchanged
 * while the view is used, and should carry kubernetes.io/metadata.name as the API server's do).
 * labels NULL: the view knows nothing. Nothing to free; nsdb_set() on a view fails.
 */
void nsdb_init_one(struct nsdb *db, const char *ns, const json_t *labels);

/*
 * A view over another store of namespace labels: lookup(src, ns) answers as nsdb_labels() does
 * (src borrowed; must outlive the view). Nothing to free; nsdb_set() on a view fails.
 */
void nsdb_init_source(struct nsdb *db, const json_t *(*lookup)(const void *src, const char *ns),
                      const void *src);

/*
 * Records whether db knows every namespace that exists (the cluster model's complete list): a
 * namespace it does not know then does not exist yet, and when it is created its labels are
 * judged by the namespace rules. Views and new stores start incomplete.
 */
void nsdb_set_complete(struct nsdb *db, bool complete);
bool nsdb_complete(const struct nsdb *db); /* false for NULL */

/* Records (replacing) the labels of a namespace; labels may be NULL (none). 0 or -1 on OOM. */
int nsdb_set(struct nsdb *db, const char *ns, const json_t *labels);

/* Forgets a namespace (its labels become unknown again). Nothing on a view. */
void nsdb_forget(struct nsdb *db, const char *ns);

/* Parses "ns=key=value,key2=value2" (a --namespace-labels argument) and records it. */
int nsdb_set_spec(struct nsdb *db, const char *spec, struct err *e);

/*
 * Parses a --namespace-labels argument into its namespace (*ns, malloc()ed) and labels (*labels,
 * a new JSON object). 0, or -1 with e set (and nothing to free).
 */
int nsdb_parse_spec(const char *spec, char **ns, json_t **labels, struct err *e);

/* The labels of a known namespace (borrowed JSON object), or NULL when the namespace is unknown. */
const json_t *nsdb_labels(const struct nsdb *db, const char *ns);

/*
 * Records every namespace src knows into dst (replacing what dst knew of them), as a merge of
 * two sources (command-line labels into one input's). 0, or -1 on OOM or when dst is a view.
 */
int nsdb_merge(struct nsdb *dst, const struct nsdb *src);

#endif
