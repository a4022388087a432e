#ifndef EGRESSGUARD_JUDGE_H
#define EGRESSGUARD_JUDGE_H

/*
 * Judging network-policy objects: scope (scope.h), openings (opening.h) and containment
 * (reach.h) put together into findings on a verdict. reach.h's header comment is the overview.
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/eval/egress.h"
#include "policy/eval/reach.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/*
 * Adds r to v: each escape as a violation (rule "egress", mode pol->egress_mode, the peer's
 * path and node), each note as a note. With name_models the messages start with
 * "<kind> <name>: " (for findings about several policies at once). 0, or -1 on out of memory.
 */
int judge_report(const struct policy *pol, const struct object *obj, const struct reach_result *r,
                 bool name_models, struct verdict *v);

/*
 * Evaluates every model of `models` (read from obj) on its own, as summarized above. ctx may
 * be NULL. Returns 0, or -1 with e set on out of memory only.
 */
int judge_models(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
                 const struct egress_list *models, struct verdict *v, struct err *e);

/* A CNI reader: appends obj's models to out; 0, or -1 with e set (netpol_read, cilium_read...). */
typedef int judge_reader(const struct object *obj, struct egress_list *out, struct err *e);

/*
 * The whole decider of a CNI policy kind (engine contract, see verdict.h): read(obj) into a
 * temporary list, its set references resolved against ctx->sets (setres.h), then judge_models()
 * over it. Returns read's, setres_apply's or judge_models's failure.
 */
int judge_read(const struct policy *pol, const struct object *obj,
                      const struct request_ctx *ctx, judge_reader *read, struct verdict *v,
                      struct err *e);

/* More judgement of the same models, after judge_models() (Cilium's DNS rules: cildns.h). */
typedef int judge_after(const struct policy *pol, const struct object *obj,
                        const struct request_ctx *ctx, const struct egress_list *models,
                        struct verdict *v, struct err *e);

/* judge_read(), then after() (may be NULL) over the same models. */
int judge_read_then(const struct policy *pol, const struct object *obj,
                    const struct request_ctx *ctx, judge_reader *read, judge_after *after,
                    struct verdict *v, struct err *e);

#endif
