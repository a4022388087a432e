#ifndef EGRESSGUARD_VERDICT_H
#define EGRESSGUARD_VERDICT_H

/*
 * A verdict: the findings one decision produced about one object, and whether the object is
 * admitted. Every rule module adds its findings with verdict_add(); decide.h runs the modules.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/budget.h"
#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/config/setdb.h"
#include "policy/eval/egress.h"

struct compose_input; /* policy/eval/compose.h */

struct finding {
    char *rule;      /* rule id: "egress", "pod.hostNetwork", "namespace.enforcementLabel", ... */
    enum mode mode;  /* the mode of the rule's group */
    bool violation;  /* false: a note (exemption, conservative assumption, skipped kind) */
    char *path;      /* field path inside the object, "spec.egress[1].to[0].ipBlock"; "" if none */
    char *message;   /* a sentence a person can act on */
    int line, col;   /* position in the object's file; 0 when unknown */
    char *escapes;   /* rule "egress": what escapes the allow-list ("11.0.0.0/8 on TCP/443"),
                        for reports that keep it apart from the message; else NULL */
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
    struct budget *budget;     /* the decision's work budget (budget.h), written by the engine;
                                  NULL: decide_object() counts against the default itself */
    /*
     * When `namespaces` is given but does not know the labels of the object's namespace, and
     * the verdict depends on them, the decision fails closed (nsunknown.h); these say why the
     * labels are unknown (a sentence, e.g. "no Namespace in the input") and whether the caller
     * opted out (--namespace-labels-unknown=allow: judged as not an AI namespace).
     */
    const char *ns_unknown_reason;
    bool ns_unknown_allow;
    /*
     * nsunknown.h's reading "not an AI namespace": this namespace (the object's) is taken to be
     * no AI namespace while its labels stay otherwise unknown. NULL: no such assumption.
     */
    const char *ns_assumed_not_ai;
    /*
     * The other objects known to the decision (check: its input; the server: the cluster model),
     * for judging a network-policy change in context (context.h). NULL: each object alone.
     */
    const struct compose_input *context;
    /*
     * The address sets known to the run (Calico NetworkSets, GlobalNetworkSets, HostEndpoints,
     * Cilium CIDR groups) and whether they are all of them (setdb.h); NULL = none known.
     */
    const struct setdb *sets;
    /*
     * The network policies known to the run, read into models (check: every policy of its
     * input), for kinds judged by what selects them (NetworkSet, GlobalNetworkSet); NULL = none.
     */
    const struct egress_list *policies;
    int64_t now;               /* Unix time that exemption lifetimes are judged at; 0 = the
                                  current time (tests and `check --now` pass their own) */
};

void verdict_init(struct verdict *v);
void verdict_release(struct verdict *v);

/*
 * The most a finding's message may take. Messages quote the objects; a longer one is cut there
 * with "...": the finding is kept, only its text is shorter.
 */
#define VERDICT_MESSAGE_CAP ((size_t)32768)

/*
 * Adds a finding. `node` (may be NULL) is located in obj's file for the position. Returns 0, or
 * -1 on out of memory (never because the message is long: VERDICT_MESSAGE_CAP). A violation in
 * enforce mode clears v->allowed.
 */
int verdict_add(struct verdict *v, const struct object *obj, const json_t *node,
                const char *rule, enum mode mode, bool violation, const char *path,
                const char *fmt, ...) __attribute__((format(printf, 8, 9)));

#endif
