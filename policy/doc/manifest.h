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
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/doc/doc.h"
#include "policy/base/err.h"

/* One Kubernetes object. Everything is borrowed from the manifest (or the AdmissionReview). */
struct object {
    json_t *json;          /* the object */
    const struct doc *doc; /* positions of sub-nodes; NULL when not from a file */
    const char *file;      /* "" when not from a file */
    int line;              /* where the object starts; 0 when unknown */
    const char *api_version, *kind, *ns, *name; /* "" when absent */
    const char *source; /* what declared it besides file:line, e.g. a Pulumi resource URN (see
                           policy/doc/pulumi.h); NULL or "" when nothing */
};

/*
 * Fills the identity fields of an object view from its JSON (apiVersion, kind,
 * metadata.namespace, metadata.name); file, line and doc are left for the caller.
 */
void object_init(struct object *o, json_t *json, const struct doc *doc);

/* The API group of apiVersion: "networking.k8s.io" for "networking.k8s.io/v1", "" for "v1". */
void object_group(const struct object *o, char *buf, size_t size);

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
