#ifndef EGRESSGUARD_VERDICT_H
#define EGRESSGUARD_VERDICT_H

/*
 * The one decision path. `check`, `review`, `mutate` and `serve` all call verdict_decide() with
 * an object view and differ only in where the object came from and how the verdict is printed,
 * so a manifest on disk and the same object inside an AdmissionReview get the same verdict.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"

struct finding {
    char *rule;      /* rule id: "egress", "pod.hostNetwork", "namespace.enforcementLabel", ... */
    enum mode mode;  /* the mode of the rule's group */
    bool violation;  /* false: a note (exemption, conservative assumption, skipped kind) */
    char *path;      /* field path inside the object, "spec.egress[1].to[0].ipBlock"; "" if none */
    char *message;   /* a sentence a person can act on */
    int line, col;   /* position in the object's file; 0 when unknown */
};

struct verdict {
    bool allowed;        /* false iff some violation's mode is enforce (and no exemption) */
    bool evaluated;      /* false when the kind is not one egressguard evaluates */
    struct finding *findings;
    size_t n_findings;
    char *exemption;     /* the exemption's reason when one applied, else NULL */
    json_t *patch;       /* JSON Patch (array) for a mutation, else NULL; owned */
};

/* What the decision knows besides the object. Everything borrowed; all of it may be empty. */
struct request_ctx {
    const char *operation;     /* "CREATE", "UPDATE", "DELETE", "CONNECT"; NULL = CREATE */
    const json_t *old_object;  /* UPDATE and DELETE */
    const char *username;      /* userInfo.username */
    const json_t *groups;      /* userInfo.groups: array of strings */
    bool dry_run;              /* evaluated normally; callers must cause no side effects */
    const struct nsdb *namespaces; /* labels of known namespaces; NULL = none known */
};

void verdict_init(struct verdict *v);
void verdict_release(struct verdict *v);

/*
 * Adds a finding. `node` (may be NULL) is located in obj's file for the position. Returns 0, or
 * -1 on out of memory. A violation in enforce mode clears v->allowed.
 */
int verdict_add(struct verdict *v, const struct object *obj, const json_t *node,
                const char *rule, enum mode mode, bool violation, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/*
 * Evaluates obj against pol. Returns 0 with v filled in, or -1 with e set when the object cannot
 * be evaluated (a malformed field of a kind egressguard knows); callers turn that into a denial
 * (server) or an input error (check) — never into an allow.
 */
int verdict_decide(const struct policy *pol, const struct object *obj,
                   const struct request_ctx *ctx, struct verdict *v, struct err *e);

/*
 * May verdict_decide() ask ctx->namespaces for the labels of obj->ns? false for kinds it does
 * not evaluate, Namespaces (their labels are in the object), cluster-scoped objects, DELETEs and
 * policies without aiWorkloads.namespaces.selectors (labels then change nothing but wording).
 * Lets the server skip looking labels up when they cannot matter.
 */
bool verdict_uses_namespace_labels(const struct policy *pol, const struct object *obj,
                                   const struct request_ctx *ctx);

#endif
