#ifndef EGRESSGUARD_IDENTITY_H
#define EGRESSGUARD_IDENTITY_H

/*
 * Who is asking: the request's user against the policy file's identities (spec.identities), the
 * people and controllers that may change what egressguard protects.
 */

#include <stdbool.h>

#include "policy/base/buf.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* Is the user one of identities.users, in one of identities.groups, or one of the service
 * accounts (as system:serviceaccount:NS:NAME)? ctx may be NULL (nobody). */
bool identity_exempt(const struct policy *p, const struct request_ctx *ctx);

/*
 * Appends who the policy's identities are, for messages: "users alice; groups system:masters;
 * service accounts egressguard/egressguard", or "nobody: spec.identities is empty".
 */
void identity_describe(const struct policy *p, struct buf *b);

/* Is the user one of identities.serviceAccounts — egressguard's own? */
bool identity_is_service_account(const struct policy *p, const struct request_ctx *ctx);

#endif
