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
 * input. An object decided before its namespace's labels were known (decide_uses_namespace_labels)
 * is marked; if those labels turned up later, the second pass decides it again, so the verdicts
 * are those of reading every Namespace first. With --effective, the documents of the network
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

/*
 * A run against pol, with the namespace labels ns knows already (--namespace-labels: they win
 * over Namespace objects). Both are borrowed; the run adds to ns. `now` is the time exemptions
 * are judged at (request_ctx.now; 0: the current time). NULL on out of memory.
 */
struct check_run *check_run_new(const struct policy *pol, struct nsdb *ns, bool effective,
                                int64_t now);
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
