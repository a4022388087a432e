#ifndef EGRESSGUARD_PODVIEW_H
#define EGRESSGUARD_PODVIEW_H

/*
 * Where a pod sits inside an object: a Pod's own metadata and spec, or a workload's pod template.
 * Every pod rule module (pod.c, proxyenv.c, mesh.c) reads a pod through this view, so they share
 * it without depending on each other.
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"

/* Where a pod (or a workload's pod template) sits inside its object. Everything borrowed. */
struct pod_view {
    const json_t *spec;        /* the pod spec: an object */
    const char *spec_path;     /* "spec", "spec.template.spec", "template.spec" */
    const json_t *meta;        /* the pod's metadata (object) or NULL */
    const char *meta_path;     /* "metadata", "spec.template.metadata", ... */
    const json_t *labels;      /* the pod's labels (object) or NULL */
    const json_t *annotations; /* the pod's annotations (object) or NULL */
};

/*
 * Fills pv from a pod's metadata (may be NULL) and spec, checking the types of labels,
 * annotations and spec. Returns 0, or -1 with e set and positioned (malformed object).
 */
int pod_view_init(const struct object *obj, const json_t *meta, const char *meta_path,
                  const json_t *spec, const char *spec_path, struct pod_view *pv, struct err *e);

/* The container lists of a pod spec: "containers", "initContainers", "ephemeralContainers". */
#define POD_CONTAINER_LISTS 3
const char *pod_container_list(size_t i);

#endif
