#ifndef EGRESSGUARD_DIFF_H
#define EGRESSGUARD_DIFF_H

/*
 * The egress a change of policies adds and removes (`check --diff BASE HEAD`, the pull-request
 * view): for every AI namespace named in either input, what its workloads can reach in BASE and
 * in HEAD — the composition of compose.h, per workload when the input holds workloads of the
 * namespace, else for any pod of it, and "every destination" for workloads no policy with egress
 * default deny selects — and the difference, destination by destination (address ranges exactly,
 * names and in-cluster peers as far as provable) and port by port.
 *
 * Each change names what causes it: an addition the HEAD policy peer that opens it (its object,
 * field path and position), a removal the BASE one; a change of isolation names no peer. An
 * addition that lies outside the allow-list (reach_check) is flagged, with the message reach.h
 * writes ("... opens X; allowed here: ...").
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/eval/compose.h"

struct diff_change {
    const char *ns;                       /* borrowed from the inputs */
    bool added;                           /* else removed */
    const struct compose_policy *policy;  /* what opens it (HEAD for added, BASE for removed);
                                             NULL: a workload's isolation changed */
    const struct egress_peer *peer;       /* the policy's peer (path, node); NULL with policy */
    char *what;                           /* "cidr 8.8.8.0/24 on TCP/443" (owned) */
    bool outside;                         /* added, and outside the allow-list */
    char *message;                        /* a sentence (owned) */
};

struct diff_result {
    struct diff_change *items;
    size_t n;
};

void diff_result_init(struct diff_result *r);
void diff_result_release(struct diff_result *r);

/*
 * Compares the egress of every AI namespace of `names` (n_names namespace names, borrowed)
 * between base and head into out (init'ed). AI-ness is judged with each side's namespace labels
 * (an AI namespace on either side counts). Everything is borrowed: the inputs must outlive out.
 * 0, or -1 with e set on out of memory.
 */
int diff_evaluate(const struct policy *pol, const struct compose_input *base,
                  const struct compose_input *head, const char *const *names, size_t n_names,
                  struct diff_result *out, struct err *e);

#endif
