#ifndef EGRESSGUARD_DISCOVERY_H
#define EGRESSGUARD_DISCOVERY_H

/*
 * Which of the model's kinds the API server serves, and through which API (kinds.h lists them
 * in order of preference). Asked of the discovery endpoints, GET /api/v1 and
 * GET /apis/GROUP/VERSION, whose APIResourceList names the resources served
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/, "Discovery API"): 404 means the
 * group or version is not served (its CRD is not installed). A CRD installed later shows up on
 * the next round, so callers repeat it.
 */

#include "policy/base/err.h"
#include "policy/model/kinds.h"
#include "server/kube/kube.h"

/*
 * One round: chosen[k] is the index into model_apis() of the API that serves kind k, or -1 when
 * none does. Returns 0, or -1 with e set when some answer was neither a list nor 404 (then
 * chosen says nothing: keep the previous round's).
 */
int discovery_round(struct kube *k, int chosen[MODEL_N_KINDS], struct err *e);

#endif
