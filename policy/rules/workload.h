#ifndef EGRESSGUARD_WORKLOAD_H
#define EGRESSGUARD_WORKLOAD_H

/*
 * Workload objects: the pod template inside them is evaluated exactly as a Pod is (pod.h), with
 * the template's real field paths. Where the template sits:
 *   Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController  spec.template
 *   CronJob                                                   spec.jobTemplate.spec.template
 *   PodTemplate                                               template
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/*
 * The decider for every workload kind above (verdict.c's table). A workload without a pod
 * template, or with one of the wrong shape, is malformed: -1 with e set and positioned.
 */
int workload_decide(const struct policy *pol, const struct object *obj,
                    const struct request_ctx *ctx, struct verdict *v, struct err *e);

#endif
