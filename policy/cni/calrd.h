#ifndef EGRESSGUARD_CALRD_H
#define EGRESSGUARD_CALRD_H

/*
 * The state of reading one Calico policy object into an egress model, shared by the parts of the
 * Calico reader (calico.c: the policy, its rules and ports; caldst.c: rule destinations). Not an
 * API for other modules: use calico.h.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/base/tri.h"
#include "policy/doc/manifest.h"
#include "policy/eval/egress.h"
#include "policy/selector/selector.h"

#define CALRD_PATH_LEN 256

/*
 * Calico sets this label on every namespace's profile to the namespace's name, and a
 * namespaceSelector is matched against the profile's labels (libcalico-go
 * backend/k8s/conversion: NameLabel, NamespaceToProfile): in a namespaceSelector it is exactly
 * kubernetes.io/metadata.name, which the API server sets to the name.
 */
#define CALRD_NS_NAME_LABEL "projectcalico.org/name"
/* Calico's label on every workload endpoint and NetworkSet: the namespace it lives in. */
#define CALRD_NS_LABEL "projectcalico.org/namespace"
#define CALRD_K8S_NS_NAME_LABEL "kubernetes.io/metadata.name"

struct calrd {
    const struct object *obj;
    struct egress_model *m; /* the model being read (notes, rules and peers go here) */
    bool global;            /* a GlobalNetworkPolicy */
    struct err *e;
};

/* Positions r->e (already set) at node, with the field path in front of the message. -1. */
int calrd_fail(const struct calrd *r, const json_t *node, const char *path);

/* Sets r->e to msg, then as calrd_fail(). Returns -1. */
int calrd_failf(const struct calrd *r, const json_t *node, const char *path, const char *msg);

/* Adds a note to the model. 0, or -1 with r->e set on out of memory. */
int calrd_note(struct calrd *r, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* o[key] when o is an object and the member is not null, else NULL. Borrowed. */
const json_t *calrd_member(const json_t *o, const char *key);

/* The length of a JSON array; 0 for anything else. */
size_t calrd_len(const json_t *a);

/* Is j present and not an empty object, array or string? */
bool calrd_nonempty(const json_t *j);

/* 0 when a is absent or a list; else -1 with "<path>: must be a list". */
int calrd_want_array(struct calrd *r, const json_t *a, const char *path);

/*
 * A Calico selector string. A parse error points into the string: the selector's column is added
 * to the node's position. NULL with r->e set.
 */
struct selector *calrd_parse_sel(struct calrd *r, const json_t *node, const char *path);

/*
 * A namespaceSelector: as calrd_parse_sel(), with projectcalico.org/name read as the namespace's
 * name (kubernetes.io/metadata.name), so that it compares with the allow-list and the namespace
 * labels the run knows.
 */
struct selector *calrd_parse_ns_sel(struct calrd *r, const json_t *node, const char *path);

/*
 * Moves the top-level conjuncts of an endpoint selector *sel that test projectcalico.org/namespace
 * (the endpoint's namespace) into a namespace selector over kubernetes.io/metadata.name: *sel
 * keeps the rest and *ns_part receives them (NULL when there were none). 0, or -1 on OOM.
 */
int calrd_split_ns(struct calrd *r, struct selector **sel, struct selector **ns_part);

/*
 * Does a selector over kubernetes.io/metadata.name (calrd_split_ns's ns_part) hold for namespace
 * ns? TRI_UNKNOWN only when memory runs out.
 */
enum tri calrd_ns_test(const struct selector *ns_part, const char *ns);

/* A new peer of the model's last rule (node NULL: at the rule); NULL with r->e set on OOM. */
struct egress_peer *calrd_new_peer(struct calrd *r, enum peer_kind kind, const char *path,
                                   const json_t *node);

#endif
