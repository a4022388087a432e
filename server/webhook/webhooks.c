#include "server/webhook/webhooks.h"

#include <stdlib.h>
#include <string.h>

#include "certs/certgen.h"
#include "policy/base/err.h"

enum { OP_CREATE = 1, OP_UPDATE = 2, OP_DELETE = 4 };
#define CU (OP_CREATE | OP_UPDATE)
/* Network policies: deleting one of egressguard's managed policies opens egress, so the
 * validating webhook sees DELETEs too (policy/verdict.c guards them). */
#define CUD (OP_CREATE | OP_UPDATE | OP_DELETE)

/* What the webhooks intercept. `validate`/`mutate` are the operations each configuration
 * registers for the row (0: that configuration leaves the row out). This table is the one source
 * of truth for the rules: deploy/ is generated from it. */
static const struct rule_row {
    const char *group, *version;
    const char *resources[5]; /* NULL-terminated */
    unsigned validate, mutate;
} rule_rows[] = {
    {"", "v1", {"pods", NULL}, CU, CU},
    /* `kubectl debug` adds an ephemeral container through this subresource (UPDATE of the whole
     * Pod since Kubernetes 1.22, kubernetes/kubernetes#101034); a rule on "pods" does not match
     * subresources, so it is listed on its own and judged by the pod rules. */
    {"", "v1", {"pods/ephemeralcontainers", NULL}, OP_UPDATE, 0},
    {"", "v1", {"namespaces", NULL}, CUD, CU},
    {"", "v1", {"replicationcontrollers", "podtemplates", NULL}, CU, CU},
    {"apps", "v1", {"deployments", "statefulsets", "daemonsets", "replicasets", NULL}, CU, CU},
    {"batch", "v1", {"jobs", "cronjobs", NULL}, CU, CU},
    {"networking.k8s.io", "v1", {"networkpolicies", NULL}, CUD, CU},
    {"cilium.io", "v2", {"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies", NULL}, CUD, CU},
    {"projectcalico.org", "v3", {"networkpolicies", "globalnetworkpolicies", NULL}, CUD, CU},
    {"crd.projectcalico.org", "v1", {"networkpolicies", "globalnetworkpolicies", NULL}, CUD, CU},
    /* Only Namespaces are mutated: the kinds below need no mutating webhook. Address sets are
     * judged by what reaches them; removing one only takes addresses away. A HostEndpoint is
     * one too: Calico selectors match it and stand for its expectedIPs (netset.h). */
    {"projectcalico.org", "v3", {"networksets", "globalnetworksets", "hostendpoints", NULL}, CU, 0},
    {"crd.projectcalico.org", "v1", {"networksets", "globalnetworksets", "hostendpoints", NULL},
     CU, 0},
    {"cilium.io", "v2alpha1", {"ciliumcidrgroups", NULL}, CU, 0},
    {"policy.networking.k8s.io", "v1alpha1",
     {"adminnetworkpolicies", "baselineadminnetworkpolicies", NULL}, CUD, 0},
};

/* sideEffects is NoneOnDryRun for both: in namespaced mode (serve --namespaced-mode) an admitted
 * AI Namespace, validated or mutated, makes the server create NetworkPolicies through the API,
 * and /validate records admitted Namespaces' labels; neither happens for a dry run
 * (request.dryRun), which is what NoneOnDryRun promises ("Side effects", Kubernetes dynamic
 * admission control docs). Without namespaced mode the declaration is still true. */
static const struct kind {
    const char *kind, *webhook, *path;
    int mutating;
} kinds[] = {
    {"ValidatingWebhookConfiguration", "validate.egressguard.io", "/validate", 0},
    {"MutatingWebhookConfiguration", "mutate.egressguard.io", "/mutate", 1},
};

const char *const webhooks_default_exclude[] = {
    "calico-system",   /* Calico installed by the Tigera operator: calico-node, typha */
    "tigera-operator", /* ... and the operator itself */
    "cilium",          /* Cilium when not installed into kube-system */
    "kube-flannel",    /* flannel's manifests */
    "cert-manager",    /* issues and renews egressguard's serving certificate */
    NULL,
};

static json_t *operations(unsigned ops)
{
    json_t *a = json_array();

    if (ops & OP_CREATE)
        json_array_append_new(a, json_string("CREATE"));
    if (ops & OP_UPDATE)
        json_array_append_new(a, json_string("UPDATE"));
    if (ops & OP_DELETE)
        json_array_append_new(a, json_string("DELETE"));
    return a;
}

static json_t *rules(int mutating)
{
    json_t *list = json_array();

    for (size_t i = 0; list && i < sizeof(rule_rows) / sizeof(rule_rows[0]); i++) {
        const struct rule_row *r = &rule_rows[i];
        unsigned ops = mutating ? r->mutate : r->validate;
        json_t *res = json_array(), *rule;

        if (!ops) {
            json_decref(res);
            continue;
        }
        for (size_t j = 0; res && r->resources[j]; j++)
            json_array_append_new(res, json_string(r->resources[j]));
        rule = json_pack("{s:[s], s:[s], s:o, s:o, s:s}", "apiGroups", r->group, "apiVersions",
                         r->version, "operations", operations(ops), "resources", res, "scope", "*");
        if (!rule || json_array_append_new(list, rule) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *client_config(const struct webhooks_opts *o, const char *path)
{
    json_t *cc;

    if (o->url) {
        size_t len = strlen(o->url);
        char *url;

        while (len > 0 && o->url[len - 1] == '/')
            len--;
        url = malloc(len + strlen(path) + 1);
        if (!url)
            return NULL;
        memcpy(url, o->url, len);
        strcpy(url + len, path);
        cc = json_pack("{s:s}", "url", url);
        free(url);
    } else {
        cc = json_pack("{s:{s:s, s:s, s:s, s:i}}", "service", "namespace", o->service_ns, "name",
                       o->service_name, "path", path, "port", 443);
    }
    if (cc && o->ca_bundle && json_object_set_new(cc, "caBundle", json_string(o->ca_bundle)) < 0) {
        json_decref(cc);
        return NULL;
    }
    return cc;
}

static int add_unique(json_t *values, const char *ns)
{
    size_t i;
    json_t *v;

    json_array_foreach(values, i, v)
        if (!strcmp(json_string_value(v), ns))
            return 0;
    return json_array_append_new(values, json_string(ns));
}

/* kube-system and egressguard's own namespace are never intercepted: whatever the webhook does,
 * the control plane and egressguard itself can always be repaired; the others excluded are
 * those egressguard's recovery depends on (webhooks_default_exclude). The API server sets
 * kubernetes.io/metadata.name on every namespace (1.21 on), and a Namespace object is matched by
 * its own labels (admissionregistration.k8s.io/v1 ValidatingWebhook.namespaceSelector: "If the
 * object itself is a namespace, the matching is performed on object.metadata.labels"), so these
 * namespaces can also always be recreated. */
static json_t *namespace_selector(const struct webhooks_opts *o, const char *own)
{
    json_t *values = json_array();
    const char *const *extra = o->exclude ? o->exclude : webhooks_default_exclude;
    size_t n = o->exclude ? o->n_exclude : (size_t)-1;

    if (!values || add_unique(values, "kube-system") < 0 || add_unique(values, own) < 0)
        goto fail;
    for (size_t i = 0; i < n && extra[i]; i++)
        if (add_unique(values, extra[i]) < 0)
            goto fail;
    return json_pack("{s:[{s:s, s:s, s:o}]}", "matchExpressions", "key",
                     "kubernetes.io/metadata.name", "operator", "NotIn", "values", values);
fail:
    json_decref(values);
    return NULL;
}

static json_t *configuration(const struct webhooks_opts *o, const struct kind *k, const char *own,
                             const char *failure_policy, int timeout)
{
    json_t *hook, *doc, *meta;

    hook = json_pack("{s:s, s:[s, s], s:o, s:o, s:o, s:s, s:s, s:s, s:i}", "name", k->webhook,
                     "admissionReviewVersions", "v1", "v1beta1", "clientConfig",
                     client_config(o, k->path), "rules", rules(k->mutating), "namespaceSelector",
                     namespace_selector(o, own), "matchPolicy", "Equivalent", "sideEffects",
                     "NoneOnDryRun", "failurePolicy", failure_policy, "timeoutSeconds", timeout);
    if (hook && k->mutating && json_object_set_new(hook, "reinvocationPolicy",
                                                   json_string("Never")) < 0) {
        json_decref(hook);
        return NULL;
    }
    meta = json_pack("{s:s, s:{s:s, s:s}}", "name", "egressguard", "labels",
                     "app.kubernetes.io/name", "egressguard", "app.kubernetes.io/component",
                     "webhook");
    if (meta && o->inject_ca_from &&
        json_object_set_new(meta, "annotations",
                            json_pack("{s:s}", "cert-manager.io/inject-ca-from",
                                      o->inject_ca_from)) < 0) {
        json_decref(meta);
        meta = NULL;
    }
    doc = json_pack("{s:s, s:s, s:o, s:[o]}", "apiVersion", "admissionregistration.k8s.io/v1",
                    "kind", k->kind, "metadata", meta, "webhooks", hook);
    return doc;
}

/* What the API server accepts in clientConfig.url: https, a host, no user info, query or fragment. */
static int check_url(const char *url, struct err *e)
{
    const char *host = url + strlen("https://");

    if (strncmp(url, "https://", strlen("https://")))
        return err_set(e, "--url must start with https:// (got \"%s\")", url);
    if (!*host || *host == '/')
        return err_set(e, "--url has no host: \"%s\"", url);
    if (strpbrk(url, "?#@ \t\r\n"))
        return err_set(e, "--url must not hold user info, a query, a fragment or spaces: \"%s\"",
                       url);
    return 0;
}

json_t *webhooks_build(const struct webhooks_opts *o, struct err *e)
{
    const char *fp = o->failure_policy ? o->failure_policy : "Fail";
    const char *own = o->own_namespace ? o->own_namespace
                      : o->service_ns  ? o->service_ns
                                       : "egressguard";
    int timeout = o->timeout_seconds ? o->timeout_seconds : 5;
    json_t *docs;

    if (strcmp(fp, "Fail") && strcmp(fp, "Ignore")) {
        err_set(e, "failure policy must be Fail or Ignore, not \"%s\"", fp);
        return NULL;
    }
    if (timeout < 1 || timeout > 30) {
        err_set(e, "timeout must be 1 to 30 seconds, not %d", timeout);
        return NULL;
    }
    if (o->url) {
        if (check_url(o->url, e) < 0)
            return NULL;
    } else if (!o->service_ns || !o->service_name || !certgen_valid_label(o->service_ns) ||
               !certgen_valid_label(o->service_name)) {
        err_set(e, "the Service must be NAMESPACE/NAME, both DNS-1123 labels");
        return NULL;
    }
    if (!certgen_valid_label(own)) {
        err_set(e, "invalid namespace \"%s\": want a DNS-1123 label", own);
        return NULL;
    }
    for (size_t i = 0; o->exclude && i < o->n_exclude; i++) {
        if (!certgen_valid_label(o->exclude[i])) {
            err_set(e, "invalid namespace \"%s\" to exclude: want a DNS-1123 label",
                    o->exclude[i]);
            return NULL;
        }
    }
    if (o->inject_ca_from && !strchr(o->inject_ca_from, '/')) {
        err_set(e, "inject-ca-from must be NAMESPACE/CERTIFICATE, not \"%s\"", o->inject_ca_from);
        return NULL;
    }
    docs = json_pack("[o, o]", configuration(o, &kinds[0], own, fp, timeout),
                     configuration(o, &kinds[1], own, fp, timeout));
    if (!docs)
        err_set(e, "out of memory");
    return docs;
}
