#ifndef EGRESSGUARD_EXPLAIN_H
#define EGRESSGUARD_EXPLAIN_H

/*
 * Explanations of a composition (compose.h) as JSON: which policies take part and what each one
 * contributes, what they open together, what escapes the allow-list, and, for one destination,
 * the chain of rules that decides it. `egressguard explain` prints them (text or JSON) and
 * `check --effective -o json` carries them per workload, so both show the same computation.
 *
 * A subject's explanation (explain_subject):
 *   {"namespace": "ml-a",
 *    "workload": {"kind": "Deployment", "name": "web", "file": "app.yaml", "line": 1}, (or absent)
 *    "pods": "app == \"web\"",                                  (a pod selector subject, or absent)
 *    "isolated": true, "isolatedBy": "NetworkPolicy ml-a/default-deny (np.yaml:1)" (or null),
 *    "policies": [{"policy": "...", "kind", "namespace", "name", "file", "line", "path": "",
 *                  "applies": "yes" | "maybe", "defaultDeny": bool, "ordered": bool,
 *                  "order": 100 (when it has one),
 *                  "rules": [{"action": "allow", "path": "spec.egress[0]", "ports": "TCP/443",
 *                             "to": ["cidr 10.20.0.0/16", ...]}]}],
 *    "open": [{"policy": "...", "path": "<peer path>", "to": "<peer>", "ports": "..."}],
 *    "escapes": [{"policy": "...", "path": "...", "what": "...", "message": "..."}],
 *    "inside": bool}        (isolated and nothing escapes)
 *
 * A destination (explain_dest_parse): an IPv4/IPv6 address or a DNS name, optionally with
 * ":PORT" and "/PROTO" (TCP default): "10.20.1.5:443", "pypi.org:443/TCP", "[fd00::1]:53/UDP".
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/eval/compose.h"
#include "policy/sets/fqdn.h"

struct explain_dest {
    bool is_addr;       /* an address; else a DNS name */
    int family;         /* 4 or 6 */
    uint8_t addr[16];
    char name[FQDN_MAX]; /* normalized */
    bool has_port;
    int proto;          /* TCP when not given */
    unsigned port;
    char text[300];     /* as given */
};

/* Parses a destination; 0, or -1 with e set (`invalid destination "x:y": ...`). */
int explain_dest_parse(const char *text, struct explain_dest *out, struct err *e);

/* The JSON explanation of a composed subject (new reference; NULL on out of memory). */
json_t *explain_subject(const struct policy *pol, const struct compose_subject *s,
                        const struct compose_eval *ev);

/*
 * The verdict for one destination, as a new JSON object (NULL on out of memory):
 *   {"to": "10.20.1.5:443/TCP", "reachable": "yes" | "no" | "maybe",
 *    "allowList": "inside" | "outside" | "always-denied",
 *    "allowedBy": "model-registry" (when inside), "verdict": "ok" | "violation",
 *    "decidedBy": "...", "chain": [{"policy": "...", "path": "...", "action": "allow",
 *                                   "match": "yes" | "maybe", "effect": "..."}]}
 * A destination that some rule opens, or that nothing restricts, is reachable; "maybe" when a
 * rule may match it (a name against addresses, a cluster peer against an address) or when a
 * policy may apply. A violation is a destination that may be reached and is not inside the
 * allow-list.
 */
json_t *explain_trace(const struct policy *pol, const struct compose_subject *s,
                      const struct compose_eval *ev, const struct explain_dest *d);

/*
 * The explanation of namespace ns over `in` (the files `explain` reads, or the cluster model):
 *   {"namespace": ns, "ai": bool, "basis": "pod" | "workloads" | "namespace",
 *    "subjects": [explain_subject() + "trace": explain_trace() when d is given]}
 * The subjects: one pod with pod_labels when it is not NULL (a JSON object; the labels the CNIs
 * derive are added), else every workload of ns in `in`, else any pod of ns. A new reference, or
 * NULL with e set on out of memory.
 */
json_t *explain_namespace(const struct policy *pol, const struct compose_input *in,
                          const char *ns, const json_t *pod_labels, const struct explain_dest *d,
                          struct err *e);

#endif
