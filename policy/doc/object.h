#ifndef EGRESSGUARD_OBJECT_H
#define EGRESSGUARD_OBJECT_H

/*
 * A view of one Kubernetes object: its JSON and where it came from, with its identity read out.
 * Read from manifests (manifest.h, mstream.h) or taken from an AdmissionReview.
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/doc/doc.h"

/* One Kubernetes object. Everything is borrowed from where it was read (or the AdmissionReview). */
struct object {
    json_t *json;          /* the object */
    const struct doc *doc; /* positions of sub-nodes; NULL when not from a file */
    const char *file;      /* "" when not from a file */
    int line;              /* where the object starts; 0 when unknown */
    const char *api_version, *kind, *ns, *name; /* "" when absent */
    const char *uid;       /* metadata.uid; "" when absent (NULL in a view built by hand) */
    const char *source; /* what declared it besides file:line, e.g. a Pulumi resource URN (see
                           policy/doc/pulumi.h); NULL or "" when nothing */
};

/*
 * Fills the identity fields of an object view from its JSON (apiVersion, kind,
 * metadata.namespace, metadata.name, metadata.uid); file, line and doc are left for the caller.
 */
void object_init(struct object *o, json_t *json, const struct doc *doc);

/* The API group of apiVersion: "networking.k8s.io" for "networking.k8s.io/v1", "" for "v1". */
void object_group(const struct object *o, char *buf, size_t size);

#endif
