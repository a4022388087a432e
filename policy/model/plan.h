#ifndef EGRESSGUARD_PLAN_H
#define EGRESSGUARD_PLAN_H

/*
 * Namespaced mode's reconciliation, decided from the cluster model: what to write so that a
 * namespace holds exactly the NetworkPolicies egressguard wants there (render.h's networkpolicy
 * target for an AI namespace, none for any other). Pure: the caller does the writing, each write
 * conditional on the model's view, so that several replicas can do it at once (create-if-absent:
 * a POST answered 409 means another one did it; update-if-different and delete with the
 * resourceVersion the model saw: a 409 means the object moved and the next round looks again).
 *
 *   - a wanted policy the namespace lacks: CREATE;
 *   - one that differs (a wanted label, annotation or spec member missing or different in the
 *     stored object; members the API server adds by defaulting do not count): UPDATE;
 *   - a policy labelled app.kubernetes.io/managed-by: egressguard that is not wanted (the policy
 *     file no longer asks for it, the namespace is no longer an AI namespace): DELETE.
 * Objects egressguard does not manage are never touched, except one with a wanted name, which
 * is taken over (UPDATE) since those names are egressguard's.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/buf.h"
#include "policy/base/err.h"
#include "policy/model/model.h"

enum plan_op { PLAN_CREATE, PLAN_UPDATE, PLAN_DELETE };

struct plan_action {
    enum plan_op op;
    char *name;  /* the NetworkPolicy (owned) */
    json_t *doc; /* CREATE, UPDATE: the object to send (owned; UPDATE carries the stored
                    metadata.resourceVersion as its precondition) */
    char *rv;    /* UPDATE, DELETE: the resourceVersion the model saw (owned) */
};

struct plan {
    struct plan_action *actions;
    size_t n;
};

void plan_init(struct plan *p);
void plan_release(struct plan *p);

/*
 * What to do in namespace ns of model m so that its NetworkPolicies are `want` (a JSON array of
 * NetworkPolicy objects, possibly empty; borrowed). Appends to out. 0, or -1 with e set.
 */
int plan_namespace(const struct model *m, const char *ns, const json_t *want, struct plan *out,
                   struct err *e);

/*
 * Are all the wanted policies (by name) in the model, managed by egressguard, in namespace ns?
 * When not, the names missing are appended to `missing` ("a, b"; may be NULL).
 */
bool plan_in_place(const struct model *m, const char *ns, const json_t *want, struct buf *missing);

/* Does `have` hold everything `want` says (objects member by member, arrays element by element
 * with equal length, scalars equal)? Members only in `have` are ignored. */
bool plan_covers(const json_t *have, const json_t *want);

#endif
