#ifndef EGRESSGUARD_POD_H
#define EGRESSGUARD_POD_H

/*
 * Pods and pod templates: is this an AI workload, and do its settings keep its egress where the
 * policy file can govern it? A pod is an AI workload when its namespace is an AI namespace (by
 * name glob or by the namespace's labels, when the run knows them), when its labels match one of
 * aiWorkloads.pods.selectors, or when any of its containers (init and ephemeral ones included)
 * requests or limits one of aiWorkloads.accelerators.
 *
 * The rules (rules.pods in the policy file, each one switchable, all in rules.pods.mode), with
 * their rule ids:
 *   pod.hostNetwork            hostNetwork: true                                  (AI pods)
 *   pod.privileged             securityContext.privileged: true                   (AI pods)
 *   pod.capabilities           capabilities.add of a listed capability (or ALL)   (AI pods)
 *   pod.dns                    nameservers outside the allow-list, dnsPolicy None  (AI pods)
 *   pod.mesh                   sidecar bypass annotations, injection disabled      (AI pods)
 *   pod.proxyEnv               HTTP(S)_PROXY / NO_PROXY around the allow-list      (AI pods)
 *   pod.requiredLabels         labels every AI pod must carry                      (AI pods)
 *   pod.aiWorkloadOutsideAI    an AI workload by pod labels or accelerators whose namespace
 *                              is not an AI namespace (rules.pods.aiWorkloadsOutsideAI; a
 *                              namespace whose labels are unknown is judged by its name)
 * While aiWorkloadsOutsideAI is enforced, every AI workload lives in an AI namespace: scope.h
 * relies on it to leave network policies of other namespaces unjudged.
 * Field paths in findings are the object's real ones, so a Deployment's finding reads
 * "spec.template.spec.containers[0].securityContext.privileged".
 */

#include <jansson.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

#include "policy/rules/podview.h"

/*
 * Evaluates one pod or pod template of obj (namespace obj->ns; "" is read as "default", as
 * kubectl does) and adds findings to v. Returns 0, or -1 with e set when a field the rules read
 * is malformed.
 */
int pod_check(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
              const struct pod_view *pv, struct verdict *v, struct err *e);

/* The decider for kind Pod (verdict.c's table). */
int pod_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
               struct verdict *v, struct err *e);

#endif
