#ifndef EGRESSGUARD_NSDB_H
#define EGRESSGUARD_NSDB_H

/*
 * What a run knows about namespaces: name → labels. Filled from Namespace objects in the same
 * input, from `--namespace-labels`, or (in the server) from Namespace admissions and the API.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/err.h"

struct nsdb;

struct nsdb *nsdb_new(void); /* NULL on out of memory */
void nsdb_free(struct nsdb *db);

/* Records (replacing) the labels of a namespace; labels may be NULL (none). 0 or -1 on OOM. */
int nsdb_set(struct nsdb *db, const char *ns, const json_t *labels);

/* Parses "ns=key=value,key2=value2" (a --namespace-labels argument) and records it. */
int nsdb_set_spec(struct nsdb *db, const char *spec, struct err *e);

/* The labels of a known namespace (borrowed JSON object), or NULL when the namespace is unknown. */
const json_t *nsdb_labels(const struct nsdb *db, const char *ns);

#endif
