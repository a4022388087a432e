#ifndef EGRESSGUARD_MANIFEST_H
#define EGRESSGUARD_MANIFEST_H

/*
 * The manifests people keep: files, directories and `kubectl get -o yaml` output, read into a
 * flat list of Kubernetes objects that remember their file and line.
 *
 * Multi-document streams, `kind: List` and `*List` wrappers (items without a kind take it from
 * the list, e.g. NetworkPolicyList → NetworkPolicy), directories (recursively, *.yaml, *.yml,
 * *.json, in sorted order), "-" for stdin, CRLF line endings, and Pulumi's `preview --json` and
 * `stack export` files (their Kubernetes resources, each with its URN as the object's source). A
 * broken file or document is recorded as a positioned error and reading goes on with the rest.
 *
 * This keeps every object it reads; mstream.h reads the same way and hands each object over as
 * soon as it is complete, for callers (`check`) that need not hold the whole input.
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/doc/doc.h"
#include "policy/doc/object.h"
#include "policy/base/err.h"

struct manifest;

struct manifest *manifest_new(void); /* NULL on out of memory */
void manifest_free(struct manifest *m);

/*
 * Reads a file, a directory or "-". Input errors are recorded (manifest_error) and do not stop
 * the reading; returns -1 only when memory runs out.
 */
int manifest_read(struct manifest *m, const char *path);

/* Reads bytes as if they were the file `name`. */
int manifest_read_buffer(struct manifest *m, const char *data, size_t len, const char *name);

size_t manifest_n_objects(const struct manifest *m);
const struct object *manifest_object(const struct manifest *m, size_t i);
size_t manifest_n_errors(const struct manifest *m);
const struct err *manifest_error(const struct manifest *m, size_t i);

#endif
