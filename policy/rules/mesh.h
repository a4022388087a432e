#ifndef EGRESSGUARD_MESH_H
#define EGRESSGUARD_MESH_H

/*
 * Service-mesh settings that let an AI pod's traffic leave without its sidecar (rule pod.mesh).
 *
 * With rules.pods.serviceMesh.denyBypassAnnotations:
 *   Istio  traffic.sidecar.istio.io/excludeOutboundIPRanges  every range must lie inside the
 *          allow-list's CIDRs; `*` never does
 *          traffic.sidecar.istio.io/includeOutboundIPRanges  what it leaves out bypasses the
 *          sidecar: that must lie inside the allow-list's CIDRs (`*` leaves out nothing)
 *          traffic.sidecar.istio.io/excludeOutboundPorts     any port: traffic to every
 *          destination on it bypasses the sidecar
 *   Linkerd config.linkerd.io/skip-subnets                    as excludeOutboundIPRanges
 *          config.linkerd.io/skip-outbound-ports             as excludeOutboundPorts
 * With rules.pods.serviceMesh.requireSidecar:
 *   Istio  sidecar.istio.io/inject (annotation or label) with a value Istio reads as "no"
 *          (anything but y, yes, true, on, or empty)
 *   Linkerd linkerd.io/inject: disabled
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/rules/podview.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/*
 * Adds pod.mesh findings for one AI pod; `why` says why it is one (for messages). Returns 0, or
 * -1 with e set (malformed annotation or label values, out of memory).
 */
int mesh_check(const struct policy *pol, const struct object *obj, const struct pod_view *pv,
               const char *why, struct verdict *v, struct err *e);

#endif
