#ifndef EGRESSGUARD_UNKNOWN_H
#define EGRESSGUARD_UNKNOWN_H

/*
 * Values nobody knows yet (rule "unknown", in spec.mode). An object read from a Pulumi file
 * (obj->source is a resource URN, policy/doc/pulumi.h) may carry placeholders for values Pulumi
 * learns only during `pulumi up` (outputs of resources not created yet) and blinded secrets. The
 * engine would judge a placeholder as if it were the value, so where one stands the object may
 * be anything, and it is denied, one finding per unknown field (the first 8), positioned at it:
 *
 *   - in an object of a kind egressguard evaluates, or in its apiVersion, kind, name or namespace
 *     (then egressguard cannot even tell what or where it is);
 *   - when the placeholder made the object unreadable (a CIDR that is a UUID), the read error
 *     becomes a note and the object is denied for the unknown value instead.
 *
 * Two kinds of Pulumi resources hide the object they deploy and are denied as well: server-side
 * apply patches (types "...Patch": the rest of the patched object is not in the file), when the
 * patched kind is one egressguard evaluates; and Helm releases (kubernetes:helm.sh/v3:Release: the
 * chart's manifests are not in the file). An exemption that applies by known fields is kept.
 */

#include <stdbool.h>

#include "policy/base/err.h"
#include "policy/config/policy.h"
#include "policy/doc/manifest.h"
#include "policy/verdict.h"

/*
 * Applies the rule after decide_object(): `failed` says whether that failed (e holds why).
 * Returns 0 when v is the verdict (maybe with denials added; a failure may have become one),
 * or -1 when the object still cannot be evaluated (e set; also on out of memory). Objects that
 * do not come from Pulumi are left as they are.
 */
int unknown_judge(const struct policy *pol, const struct object *obj, struct verdict *v,
                  bool failed, struct err *e);

#endif
