#ifndef EGRESSGUARD_CHECKRUN_H
#define EGRESSGUARD_CHECKRUN_H

/*
 * One `check` run: the input streamed (mstream.h), each object decided as it is read and then
 * released, only its verdict and identity kept (a report item), so that memory grows with what
 * the report must say, not with the input.
 *
 * Namespace objects tell the run which labels each namespace carries, wherever they are in the
 * input. An object decided before its namespace's labels were known (decide_uses_namespace_labels)
 * is marked; when the run ends, if those labels turned up later, the marked objects are read
 * again (a second pass over the input, deciding only them) and decided with them, so the
 * verdicts are those of reading every Namespace first. With --effective, the network policies
 * are kept as read (effective.h needs their models and positions), and one stand-in per
 * namespace the input names.
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

/* How many times the input was read (1, or 2 when decisions waited for Namespaces). */
int check_run_passes(const struct check_run *r);

#endif
