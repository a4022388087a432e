#ifndef EGRESSGUARD_LEASE_H
#define EGRESSGUARD_LEASE_H

/*
 * One holder at a time of a coordination.k8s.io/v1 Lease, as client-go's leader election keeps
 * one (k8s.io/client-go/tools/leaderelection/leaderelection.go, tryAcquireOrRenew):
 *   - no Lease: create it holding it (POST; 409 means another replica was faster);
 *   - held by us: renew it (renewTime, PUT on the resourceVersion read);
 *   - held by another: it has expired when the Lease has not changed (same resourceVersion) for
 *     leaseDurationSeconds as measured on OUR monotonic clock since we first saw it so — never
 *     by comparing its renewTime with our wall clock, which may be skewed — and then it is
 *     taken over (PUT on the resourceVersion read: of two replicas trying, one gets 409).
 * Every write is conditional on the resourceVersion read, so two replicas never both hold it.
 * One struct lease per replica, used by one thread.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "server/kube/kube.h"

struct lease;

/* The Lease ns/name, held as holder (copied), for duration_s seconds. NULL on out of memory. */
struct lease *lease_new(const char *ns, const char *name, const char *holder, long duration_s);
void lease_free(struct lease *l); /* NULL is a no-op */

/*
 * One attempt to acquire or renew, at now_ms (a monotonic clock). 1 when we hold the Lease
 * after it, 0 when another replica does, -1 with e set when the API did not say (then we hold
 * it no more: a replica that cannot renew must stop writing before its Lease expires).
 */
int lease_try(struct lease *l, struct kube *k, int64_t now_ms, struct err *e);

#endif
