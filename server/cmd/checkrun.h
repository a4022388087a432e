#ifndef EGRESSGUARD_CHECKRUN_H
#define EGRESSGUARD_CHECKRUN_H

/*
 * One `check` run: the input streamed (mstream.h), each object decided as it is read and then
 * released, only its verdict and identity kept (a report item), so that memory grows with what
 * the report must say, not with the input.
 *
 * Network policies and address sets are judged in the context of the whole input (context.h,
 * netset.h): while reading, the run keeps what they tell the other decisions in compact form
 * (each policy's egress models, without JSON, in an inventory built object by object; each
 * set's addresses; the unresolved models of the policies that reach sets by reference), and
 * decides them when the input is read, in a second pass over it that decides only them.
 *
 * Namespace objects tell the run which labels each namespace carries, wherever they are in the
 * input (the last of a name wins, as in the cluster model; --namespace-labels win over them). An
 * object whose verdict used its namespace's labels (decide_uses_namespace_labels) records them as
 * they were; if they changed later (turned up, or were replaced), the second pass decides it
 * again, so the verdicts are those of reading every Namespace first. With --effective, the documents of the network
 * policies are kept (effective.h positions its findings in them), and the inventory holds the
 * workloads and the namespaces the input names.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/eval/effective.h"
#include "server/output/report.h"

struct check_run;

struct model_item;

struct check_run_opts {
    struct model_item *const *cli_ns; /* --namespace-labels, as Namespaces of the model
                                         (borrowed, for the call): they win over the input's */
    size_t n_cli_ns;
    bool ns_unknown_allow; /* --namespace-labels-unknown=allow */
    bool effective;        /* --effective */
    int64_t now;           /* when exemptions are judged (request_ctx.now; 0: the current time) */
};

/* A run against pol (borrowed). NULL on out of memory. */
struct check_run *check_run_new(const struct policy *pol, const struct check_run_opts *o);
void check_run_free(struct check_run *r);

/* Reads and decides a path (file, directory, "-"). -1 only when memory runs out. */
int check_run_read(struct check_run *r, const char *path);

/*
 * Ends the run: decides again what depended on labels read later, then (with effective) the
 * effective egress into eff. -1 with e set on out of memory.
 */
int check_run_finish(struct check_run *r, struct effective_result *eff, struct err *e);

/*
 * The report of the run: items (in input order), input errors. Borrowed from the run, which
 * must outlive the report; the caller may append items of its own to a copy.
 */
void check_run_report(struct check_run *r, struct report *out);

#endif
