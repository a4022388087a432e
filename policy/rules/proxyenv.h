#ifndef EGRESSGUARD_PROXYENV_H
#define EGRESSGUARD_PROXYENV_H

/*
 * Proxy environment variables that route an AI pod's traffic around the allow-list
 * (rule pod.proxyEnv), in every container, init and ephemeral ones included.
 *
 * HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (upper or lower case): the proxy must be an allowed
 * destination — an IP inside an allow entry's CIDRs, or a name inside its FQDN patterns, on the
 * proxy's TCP port — or a loopback address (a proxy in the pod itself). Without a port, clients
 * disagree (Go: 80 for http://, curl: 1080), so every port a client may pick must be allowed.
 *
 * NO_PROXY: each entry sends its destinations around the proxy. `*` is a violation; an address or
 * CIDR must lie inside the allow-list's CIDRs; a domain (which NO_PROXY matches with all its
 * subdomains) must be covered, with one level of subdomains (`*.domain`), by the allow-list's FQDN
 * patterns. Loopback, `localhost` and in-cluster names (`.svc`, `.cluster.local`) stay inside the
 * cluster, where network policies govern them, and pass. Ports are not compared for NO_PROXY.
 *
 * Values from valueFrom, and whole environments from envFrom, cannot be read offline: a note.
 */

#include "policy/base/err.h"
#include "policy/doc/manifest.h"
#include "policy/rules/podview.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* Adds pod.proxyEnv findings for one AI pod (why: for messages). 0, or -1 with e set. */
int proxyenv_check(const struct policy *pol, const struct object *obj, const struct pod_view *pv,
                   const char *why, struct verdict *v, struct err *e);

#endif
