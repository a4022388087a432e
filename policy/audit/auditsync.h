#ifndef EGRESSGUARD_AUDITSYNC_H
#define EGRESSGUARD_AUDITSYNC_H

/*
 * The audit (audit.h) kept in step with the cluster model (model.h) by the difference between
 * two snapshots, so that `serve` audits what its watches see, event by event, without listing
 * anything itself. Snapshots share the tables of kinds that did not change and the items that
 * did not change (copy-on-write), so the difference costs nothing for an unchanged kind and a
 * walk of pointers for a changed one; only the items that differ are put into the audit
 * (audit_put_item()) or deleted from it.
 *
 * Besides the objects themselves, a change reaches the verdicts of objects judged in its
 * context (audit_touch()): see touch() in auditsync.c for which, kind by kind. A Namespace's
 * labels are handled by the audit itself; Pods reach no other verdict (the decision context
 * holds no pods) and no policy or set change reaches a Pod's. A set kind, or the Namespaces,
 * becoming known or unknown (model_known()) reaches every policy and set.
 */

#include <stddef.h>

#include "policy/audit/audit.h"
#include "policy/base/err.h"
#include "policy/model/model.h"

struct auditsync_stats {
    size_t put, deleted; /* items put into and deleted from the audit */
    size_t skipped;      /* items the audit could not take (no text, no name): see first */
    struct err first;
};

/*
 * Applies to a what changed from `before` (NULL: the empty cluster, so every object of `after`
 * is put: the first sync) to `after`; both borrowed, items of `after` referenced by the audit.
 * 0 with *st filled, or -1 with e set (out of memory: the audit may lack some changes, so the
 * caller starts over from before = NULL with a new audit).
 */
int auditsync_apply(struct audit *a, const struct model *before, const struct model *after,
                    struct auditsync_stats *st, struct err *e);

#endif
