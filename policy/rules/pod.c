#include "policy/rules/pod.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/config/allowlist.h"
#include "policy/sets/cidr.h"
#include "policy/doc/member.h"
#include "policy/rules/mesh.h"
#include "policy/rules/podview.h"
#include "policy/sets/portset.h"
#include "policy/rules/proxyenv.h"

#define PATH_MAX_LEN 512

/* What makes a pod an AI workload; `why` goes into messages so people see the reason. */
struct ai {
    bool ns_ai;
    bool ai;
    char why[320];
    const char *ns_unknown; /* " (...labels unknown...)" when the namespace's labels could matter */
};

/* Does a resource quantity ask for at least some of the resource? "0" and 0 do not. */
static bool quantity_nonzero(const json_t *q)
{
    const char *s;
    char *end;
    double d;

    if (json_is_integer(q))
        return json_integer_value(q) != 0;
    if (json_is_real(q))
        return json_real_value(q) != 0.0;
    if (!json_is_string(q))
        return true; /* not a quantity at all: the API server decides; assume it asks */
    s = json_string_value(q);
    d = strtod(s, &end);
    return end == s || d != 0.0;
}

static bool is_accelerator(const struct policy *pol, const char *name)
{
    size_t i;

    for (i = 0; i < pol->n_accelerators; i++)
        if (strcmp(pol->accelerators[i], name) == 0)
            return true;
    return false;
}

/*
 * Every accelerator a container asks for (limits first, then requests not already limited):
 * the first one makes the pod an AI workload; outside an AI namespace each is a violation.
 */
static int scan_accelerators(const struct policy *pol, const struct object *obj,
                             const struct pod_view *pv, const char *ns, struct ai *ai,
                             struct verdict *v, struct err *e)
{
    static const char *const kinds[] = {"limits", "requests"};
    char path[PATH_MAX_LEN];
    size_t l, i, k;

    for (l = 0; l < POD_CONTAINER_LISTS; l++) {
        const json_t *list, *c;

        member_path(path, sizeof(path), "%s.%s", pv->spec_path, pod_container_list(l));
        if (member_get(obj, pv->spec, pod_container_list(l), MEMBER_ARRAY, path, &list, e) < 0)
            return -1;
        json_array_foreach(list, i, c) {
            const json_t *res, *q[2];
            const char *name;
            const json_t *val;

            member_path(path, sizeof(path), "%s.%s[%zu]", pv->spec_path, pod_container_list(l), i);
            if (member_check(obj, list, c, MEMBER_OBJECT, path, e) < 0)
                return -1;
            member_path(path, sizeof(path), "%s.%s[%zu].resources", pv->spec_path,
                     pod_container_list(l), i);
            if (member_get(obj, c, "resources", MEMBER_OBJECT, path, &res, e) < 0)
                return -1;
            for (k = 0; k < 2; k++) {
                member_path(path, sizeof(path), "%s.%s[%zu].resources.%s", pv->spec_path,
                         pod_container_list(l), i, kinds[k]);
                if (member_get(obj, res, kinds[k], MEMBER_OBJECT, path, &q[k], e) < 0)
                    return -1;
            }
            for (k = 0; k < 2; k++) {
                json_object_foreach((json_t *)q[k], name, val) {
                    if (!is_accelerator(pol, name) || !quantity_nonzero(val))
                        continue;
                    if (k == 1 && q[0] && json_object_get(q[0], name))
                        continue; /* reported with its limit */
                    member_path(path, sizeof(path), "%s.%s[%zu].resources.%s[%s]",
                             pv->spec_path, pod_container_list(l), i, kinds[k], name);
                    if (!ai->ai) {
                        ai->ai = true;
                        member_path(ai->why, sizeof(ai->why), "AI workload: requests %s at %s",
                                 name, path);
                    }
                    if (ai->ns_ai || !pol->pods.ai_outside_ai)
                        continue;
                    if (verdict_add(v, obj, val, "pod.aiWorkloadOutsideAI", pol->pods.mode,
                                    true, path,
                                    "requests accelerator %s in namespace \"%s\", which is not an "
                                    "AI namespace%s: AI work must run where its egress is governed "
                                    "(move it to an AI namespace or label the namespace as one)",
                                    name, ns, ai->ns_unknown) < 0)
                        return err_set(e, "out of memory");
                }
            }
        }
    }
    return 0;
}

static int identify(const struct policy *pol, const struct object *obj,
                    const struct request_ctx *ctx, const struct pod_view *pv, const char *ns,
                    struct ai *ai, struct verdict *v, struct err *e)
{
    const json_t *ns_labels = ctx && ctx->namespaces ? nsdb_labels(ctx->namespaces, ns) : NULL;
    char path[PATH_MAX_LEN];
    size_t i;

    memset(ai, 0, sizeof(*ai));
    ai->ns_unknown = "";
    ai->ns_ai = policy_ns_is_ai(pol, ns, ns_labels);
    if (ai->ns_ai) {
        ai->ai = true;
        member_path(ai->why, sizeof(ai->why), "AI workload: namespace \"%s\" is an AI namespace",
                 ns);
    } else if (!ns_labels && pol->n_ns_selectors) {
        /* It may be an AI namespace by labels nobody told us: say so rather than guess. */
        ai->ns_unknown = " (by its name; its labels, which aiWorkloads.namespaces.selectors look "
                         "at, are unknown here)";
    }
    for (i = 0; !ai->ai && i < pol->n_pod_selectors; i++) {
        if (!selector_matches(pol->pod_selectors[i], pv->labels))
            continue;
        ai->ai = true;
        member_path(ai->why, sizeof(ai->why),
                 "AI workload: %s.labels match aiWorkloads.pods.selectors[%zu]", pv->meta_path, i);
        if (!pol->pods.ai_outside_ai)
            break;
        /* rules.pods.aiWorkloadsOutsideAI: AI workloads live in AI namespaces (pod.h). */
        member_path(path, sizeof(path), "%s.labels", pv->meta_path);
        if (verdict_add(v, obj, pv->labels, "pod.aiWorkloadOutsideAI", pol->pods.mode, true, path,
                        "labels match aiWorkloads.pods.selectors[%zu], so this is an AI workload, "
                        "but namespace \"%s\" is not an AI namespace%s: AI work must run where its "
                        "egress is governed (move it to an AI namespace or label the namespace as "
                        "one)",
                        i, ns, ai->ns_unknown) < 0)
            return err_set(e, "out of memory");
    }
    return scan_accelerators(pol, obj, pv, ns, ai, v, e);
}

static int check_host_network(const struct policy *pol, const struct object *obj,
                              const struct pod_view *pv, const struct ai *ai, struct verdict *v,
                              struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *hn;

    member_path(path, sizeof(path), "%s.hostNetwork", pv->spec_path);
    if (member_get(obj, pv->spec, "hostNetwork", MEMBER_BOOL, path, &hn, e) < 0)
        return -1;
    if (!json_is_true(hn))
        return 0;
    if (verdict_add(v, obj, pv->spec, "pod.hostNetwork", pol->pods.mode, true, path,
                    "hostNetwork: true puts the pod on the node's network, where no network "
                    "policy applies: remove it (%s)",
                    ai->why) < 0)
        return err_set(e, "out of memory");
    return 0;
}

/* "cap_net_admin", "NET_ADMIN", "CAP_NET_ADMIN" all name NET_ADMIN. */
static bool cap_listed(const struct policy *pol, const char *cap)
{
    char norm[64];
    size_t i, n;

    if (strncasecmp(cap, "CAP_", 4) == 0)
        cap += 4;
    n = strlen(cap);
    if (n >= sizeof(norm))
        return false;
    for (i = 0; i <= n; i++)
        norm[i] = (char)toupper((unsigned char)cap[i]);
    for (i = 0; i < pol->pods.n_capabilities; i++)
        if (strcmp(pol->pods.capabilities[i], norm) == 0)
            return true;
    /* ALL holds every capability the policy lists. */
    return strcmp(norm, "ALL") == 0 && pol->pods.n_capabilities > 0;
}

static int check_container(const struct policy *pol, const struct object *obj,
                           const json_t *c, const char *cpath, const struct ai *ai,
                           struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *sc, *priv, *caps, *add, *cap;
    size_t i;

    member_path(path, sizeof(path), "%s.securityContext", cpath);
    if (member_get(obj, c, "securityContext", MEMBER_OBJECT, path, &sc, e) < 0)
        return -1;
    member_path(path, sizeof(path), "%s.securityContext.privileged", cpath);
    if (member_get(obj, sc, "privileged", MEMBER_BOOL, path, &priv, e) < 0)
        return -1;
    if (pol->pods.privileged && json_is_true(priv) &&
        verdict_add(v, obj, sc, "pod.privileged", pol->pods.mode, true, path,
                    "a privileged container can rewrite the pod's own packet filtering and "
                    "reach the node's network: remove privileged: true (%s)",
                    ai->why) < 0)
        return err_set(e, "out of memory");

    member_path(path, sizeof(path), "%s.securityContext.capabilities", cpath);
    if (member_get(obj, sc, "capabilities", MEMBER_OBJECT, path, &caps, e) < 0)
        return -1;
    member_path(path, sizeof(path), "%s.securityContext.capabilities.add", cpath);
    if (member_get(obj, caps, "add", MEMBER_ARRAY, path, &add, e) < 0)
        return -1;
    json_array_foreach(add, i, cap) {
        member_path(path, sizeof(path), "%s.securityContext.capabilities.add[%zu]", cpath, i);
        if (member_check(obj, add, cap, MEMBER_STRING, path, e) < 0)
            return -1;
        if (!cap_listed(pol, json_string_value(cap)))
            continue;
        if (verdict_add(v, obj, cap, "pod.capabilities", pol->pods.mode, true, path,
                        "capability %s lets the container change the pod's network filtering "
                        "and routes: drop it (%s)",
                        json_string_value(cap), ai->why) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

static int check_containers(const struct policy *pol, const struct object *obj,
                            const struct pod_view *pv, const struct ai *ai, struct verdict *v,
                            struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *list, *c;
    size_t l, i;

    if (!pol->pods.privileged && pol->pods.n_capabilities == 0)
        return 0;
    for (l = 0; l < POD_CONTAINER_LISTS; l++) {
        member_path(path, sizeof(path), "%s.%s", pv->spec_path, pod_container_list(l));
        if (member_get(obj, pv->spec, pod_container_list(l), MEMBER_ARRAY, path, &list, e) < 0)
            return -1;
        json_array_foreach(list, i, c) {
            member_path(path, sizeof(path), "%s.%s[%zu]", pv->spec_path, pod_container_list(l), i);
            if (member_check(obj, list, c, MEMBER_OBJECT, path, e) < 0 ||
                check_container(pol, obj, c, path, ai, v, e) < 0)
                return -1;
        }
    }
    return 0;
}

/* A nameserver is allowed when an allow entry's CIDRs hold it on UDP or TCP port 53. */
static int check_dns(const struct policy *pol, const struct object *obj,
                     const struct pod_view *pv, const struct ai *ai, struct verdict *v,
                     struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *policy, *config, *servers, *s;
    size_t i;

    member_path(path, sizeof(path), "%s.dnsPolicy", pv->spec_path);
    if (member_get(obj, pv->spec, "dnsPolicy", MEMBER_STRING, path, &policy, e) < 0)
        return -1;
    member_path(path, sizeof(path), "%s.dnsConfig", pv->spec_path);
    if (member_get(obj, pv->spec, "dnsConfig", MEMBER_OBJECT, path, &config, e) < 0)
        return -1;
    member_path(path, sizeof(path), "%s.dnsConfig.nameservers", pv->spec_path);
    if (member_get(obj, config, "nameservers", MEMBER_ARRAY, path, &servers, e) < 0)
        return -1;

    if (policy && strcmp(json_string_value(policy), "None") == 0 &&
        json_array_size(servers) == 0) {
        member_path(path, sizeof(path), "%s.dnsPolicy", pv->spec_path);
        if (verdict_add(v, obj, policy, "pod.dns", pol->pods.mode, true, path,
                        "dnsPolicy: None without dnsConfig.nameservers leaves the pod's DNS "
                        "outside the cluster's resolver and the allow-list: use ClusterFirst "
                        "or name nameservers the allow-list permits on port 53 (%s)",
                        ai->why) < 0)
            return err_set(e, "out of memory");
    }

    json_array_foreach(servers, i, s) {
        struct cidr c;
        bool norm = false;
        char text[CIDR_STRLEN];

        member_path(path, sizeof(path), "%s.dnsConfig.nameservers[%zu]", pv->spec_path, i);
        if (member_check(obj, servers, s, MEMBER_STRING, path, e) < 0)
            return -1;
        if (strchr(json_string_value(s), '/') ||
            cidr_parse(json_string_value(s), CIDR_BARE_IP, &c, &norm, e) < 0) {
            err_set(e, "%s: \"%s\" is not an IP address", path, json_string_value(s));
            return doc_err_at(obj->doc, s, e);
        }
        if (allowlist_addr(pol, c.family, c.addr, PROTO_UDP, 53) ||
            allowlist_addr(pol, c.family, c.addr, PROTO_TCP, 53))
            continue;
        cidr_format(&c, text, sizeof(text));
        /* Show the address, not the /32 the formatter adds. */
        text[strcspn(text, "/")] = '\0';
        if (verdict_add(v, obj, s, "pod.dns", pol->pods.mode, true, path,
                        "nameserver %s is not in the allow-list on UDP or TCP port 53: DNS "
                        "queries to it can carry data out (%s)",
                        text, ai->why) < 0)
            return err_set(e, "out of memory");
    }
    return 0;
}

static int check_required_labels(const struct policy *pol, const struct object *obj,
                                 const struct pod_view *pv, const struct ai *ai,
                                 struct verdict *v)
{
    char path[PATH_MAX_LEN];
    size_t i;

    member_path(path, sizeof(path), "%s.labels", pv->meta_path);
    for (i = 0; i < pol->pods.n_required_labels; i++) {
        const char *key = pol->pods.required_labels[i];
        const char *val = member_label(pv->labels, key);

        if (val && *val)
            continue;
        if (verdict_add(v, obj, pv->labels ? pv->labels : pv->meta ? pv->meta : pv->spec,
                        "pod.requiredLabels",
                        pol->pods.mode, true, path,
                        "AI pods must carry the label %s, which is %s (%s)", key,
                        val ? "empty" : "missing", ai->why) < 0)
            return -1;
    }
    return 0;
}

int pod_check(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
              const struct pod_view *pv, struct verdict *v, struct err *e)
{
    const char *ns = obj->ns && *obj->ns ? obj->ns : "default";
    struct ai ai;

    if (identify(pol, obj, ctx, pv, ns, &ai, v, e) < 0)
        return -1;
    if (!ai.ai)
        return 0;
    if (pol->pods.host_network && check_host_network(pol, obj, pv, &ai, v, e) < 0)
        return -1;
    if (check_containers(pol, obj, pv, &ai, v, e) < 0)
        return -1;
    if (pol->pods.dns && check_dns(pol, obj, pv, &ai, v, e) < 0)
        return -1;
    if ((pol->pods.mesh_deny_bypass || pol->pods.mesh_require_sidecar) &&
        mesh_check(pol, obj, pv, ai.why, v, e) < 0)
        return -1;
    if (pol->pods.proxy_env && proxyenv_check(pol, obj, pv, ai.why, v, e) < 0)
        return -1;
    if (check_required_labels(pol, obj, pv, &ai, v) < 0)
        return err_set(e, "out of memory");
    return 0;
}

int pod_decide(const struct policy *pol, const struct object *obj, const struct request_ctx *ctx,
               struct verdict *v, struct err *e)
{
    struct pod_view pv;

    /* Deleting a pod opens nothing. */
    if (ctx && ctx->operation && strcmp(ctx->operation, "DELETE") == 0)
        return 0;
    if (pod_view_init(obj, json_object_get(obj->json, "metadata"), "metadata",
                      json_object_get(obj->json, "spec"), "spec", &pv, e) < 0)
        return -1;
    return pod_check(pol, obj, ctx, &pv, v, e);
}
