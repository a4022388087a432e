#include "policy/model/item.h"

#include <stdlib.h>
#include <string.h>

#include "policy/cni/calico.h"
#include "policy/cni/cilium.h"
#include "policy/cni/netpol.h"
#include "policy/doc/member.h"
#include "policy/rules/managed.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

static void free_item(struct model_item *it)
{
    free(it->ns);
    free(it->name);
    free(it->rv);
    json_decref(it->labels);
    json_decref(it->spec);
    json_decref(it->annotations);
    egress_list_release(&it->egress);
    cidrset_free(it->nets);
    for (size_t i = 0; i < it->n_domains; i++)
        free(it->domains[i]);
    free(it->domains);
    json_decref(it->raw);
    free(it->error);
    free(it);
}

struct model_item *model_item_ref(struct model_item *it)
{
    atomic_fetch_add_explicit(&it->refs, 1, memory_order_relaxed);
    return it;
}

void model_item_unref(struct model_item *it)
{
    if (it && atomic_fetch_sub_explicit(&it->refs, 1, memory_order_acq_rel) == 1)
        free_item(it);
}

static char *dup_str(const json_t *j)
{
    const char *s = json_string_value(j);

    return strdup(s ? s : "");
}

static int set_error(struct model_item *it, const struct err *re)
{
    char msg[600];

    err_format(re, msg, sizeof(msg));
    return (it->error = strdup(msg)) ? 0 : -1;
}

/*
 * The reader's models no longer point into the source JSON, which is not kept: positions only
 * matter for findings about a file, and the model's items are judged by kind and name.
 */
static void detach_nodes(struct egress_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct egress_model *m = &l->models[i];
        for (size_t r = 0; r < m->n_rules; r++) {
            m->rules[r].node = NULL;
            for (size_t p = 0; p < m->rules[r].n_peers; p++)
                m->rules[r].peers[p].node = NULL;
        }
        for (size_t n = 0; n < m->n_notes; n++)
            m->notes[n].node = NULL;
    }
}

static int read_policy(struct model_item *it, const json_t *obj)
{
    const struct model_kind_info *info = model_kind_info(it->kind);
    struct object o;
    struct err re = {0};
    int rc;

    object_init(&o, (json_t *)obj, NULL);
    if (!*o.kind)
        o.kind = info->kind; /* list items carry no kind of their own */
    if (!*o.api_version)
        o.api_version = it->kind == MODEL_NETWORKPOLICY ? "networking.k8s.io/v1"
                        : it->kind == MODEL_CILIUM_NP || it->kind == MODEL_CILIUM_CCNP
                            ? "cilium.io/v2"
                            : "projectcalico.org/v3";
    if (it->kind == MODEL_NETWORKPOLICY)
        rc = netpol_read(&o, &it->egress, &re);
    else if (it->kind == MODEL_CILIUM_NP || it->kind == MODEL_CILIUM_CCNP)
        rc = cilium_read(&o, &it->egress, &re);
    else
        rc = calico_read(&o, &it->egress, &re);
    if (rc < 0) {
        /* What cannot be read opens or holds "anything": consumers must treat it so. */
        egress_list_release(&it->egress);
        egress_list_init(&it->egress);
        return set_error(it, &re);
    }
    detach_nodes(&it->egress);
    /* The list grows by doubling from 4: give the slack back, the model keeps it for long. */
    if (it->egress.alloc > it->egress.n && it->egress.n) {
        struct egress_model *fit =
            realloc(it->egress.models, it->egress.n * sizeof(*it->egress.models));
        if (fit) {
            it->egress.models = fit;
            it->egress.alloc = it->egress.n;
        }
    }
    return 0;
}

/*
 * CiliumCIDRGroup spec.externalCIDRs (docs.cilium.io, network/kubernetes/ciliumcidrgroup);
 * Calico NetworkSet and GlobalNetworkSet spec.nets, which also take bare addresses, and
 * spec.allowedEgressDomains (docs.tigera.io, reference/resources/networkset); Calico
 * HostEndpoint spec.expectedIPs, the addresses a selector that matches the endpoint stands for
 * (docs.tigera.io, reference/resources/hostendpoint), read as policy/cni/netset.c reads them.
 */
static int read_netset(struct model_item *it, const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    bool cilium = it->kind == MODEL_CILIUM_CIDRGROUP;
    bool hep = it->kind == MODEL_CALICO_HOSTENDPOINT;
    const char *field = cilium ? "externalCIDRs" : hep ? "expectedIPs" : "nets";
    const json_t *nets = json_object_get(spec, field), *v;
    const json_t *domains =
        cilium || hep ? NULL : json_object_get(spec, "allowedEgressDomains");
    struct err re = {0};
    size_t i;

    if (!(it->nets = cidrset_new()))
        return -1;
    if (spec && !json_is_object(spec)) {
        err_set(&re, "spec: want an object");
        return set_error(it, &re);
    }
    if (nets && !json_is_array(nets)) {
        err_set(&re, "spec.%s: want a list of CIDRs", field);
        return set_error(it, &re);
    }
    json_array_foreach(nets, i, v) {
        struct cidr c;
        const char *s = json_string_value(v);
        if (!s || cidr_parse(s, cilium ? CIDR_STRICT : CIDR_BARE_IP, &c, NULL, &re) < 0) {
            if (!s)
                err_set(&re, "want a string");
            err_prefix(&re, "spec.%s[%zu]", field, i);
            cidrset_free(it->nets);
            it->nets = NULL;
            return set_error(it, &re);
        }
        if (cidrset_add(it->nets, &c) < 0)
            return -1;
    }
    if (hep && !json_array_size(nets)) {
        const json_t *ifname = json_object_get(spec, "interfaceName");

        /* Without expectedIPs its addresses are its interface's, unknown here (netset.c). */
        cidrset_free(it->nets);
        it->nets = NULL;
        err_set(&re, "no spec.expectedIPs: its addresses are those of interface %s on its "
                     "node, which are not known here",
                json_is_string(ifname) ? json_string_value(ifname) : "(none given)");
        return set_error(it, &re);
    }
    if (domains && !json_is_array(domains)) {
        err_set(&re, "spec.allowedEgressDomains: want a list of names");
        return set_error(it, &re);
    }
    if (json_array_size(domains) &&
        !(it->domains = calloc(json_array_size(domains), sizeof(char *))))
        return -1;
    json_array_foreach(domains, i, v) {
        if (!json_is_string(v)) {
            err_set(&re, "spec.allowedEgressDomains[%zu]: want a string", i);
            return set_error(it, &re);
        }
        if (!(it->domains[it->n_domains] = strdup(json_string_value(v))))
            return -1;
        it->n_domains++;
    }
    return 0;
}

static json_t *namespace_labels(const json_t *labels, const char *name)
{
    json_t *l = json_is_object(labels) ? json_deep_copy(labels) : json_object();

    /* Set by the API server on every namespace from Kubernetes 1.21 (the NamespaceDefaultLabelName
     * feature); earlier servers lack it, but selectors may rely on it either way. */
    if (l && json_object_set_new(l, NS_NAME_LABEL, json_string(name)) < 0) {
        json_decref(l);
        return NULL;
    }
    return l;
}

struct model_item *model_item_namespace(const char *name, const json_t *labels)
{
    struct model_item *it = calloc(1, sizeof(*it));

    if (!it)
        return NULL;
    atomic_init(&it->refs, 1);
    it->kind = MODEL_NAMESPACE;
    egress_list_init(&it->egress);
    it->ns = strdup("");
    it->name = strdup(name);
    it->rv = strdup("");
    it->labels = namespace_labels(labels, name);
    if (!it->ns || !it->name || !it->rv || !it->labels) {
        free_item(it);
        return NULL;
    }
    return it;
}

struct model_item *model_item_new(enum model_kind kind, const json_t *obj, struct err *e)
{
    const struct model_kind_info *info = model_kind_info(kind);
    const json_t *meta = json_object_get(obj, "metadata"), *labels;
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    struct model_item *it;
    int rc = 0;

    if (!info || !json_is_object(obj)) {
        err_set(e, "not a Kubernetes object");
        return NULL;
    }
    if (!name || !*name) {
        err_set(e, "%s without metadata.name", info->kind);
        return NULL;
    }
    if (info->namespaced && (!ns || !*ns)) {
        err_set(e, "%s %s without metadata.namespace", info->kind, name);
        return NULL;
    }
    labels = json_object_get(meta, "labels");
    if (labels && !json_is_object(labels)) {
        err_set(e, "%s %s: metadata.labels is not an object", info->kind, name);
        return NULL;
    }
    if (kind == MODEL_NAMESPACE) {
        it = model_item_namespace(name, labels);
    } else if ((it = calloc(1, sizeof(*it)))) {
        atomic_init(&it->refs, 1);
        egress_list_init(&it->egress);
        it->name = strdup(name);
        /* Most policies have no labels: no empty object for each (a jansson object is ~200 B). */
        it->labels = json_object_size(labels) ? json_deep_copy(labels) : NULL;
    }
    if (!it || !it->name || (json_object_size(labels) && !it->labels))
        goto oom;
    it->kind = kind;
    free(it->ns);
    free(it->rv);
    it->ns = strdup(info->namespaced ? ns : "");
    it->rv = dup_str(json_object_get(meta, "resourceVersion"));
    if (!it->ns || !it->rv)
        goto oom;
    it->terminating = json_object_get(meta, "deletionTimestamp") &&
                      !json_is_null(json_object_get(meta, "deletionTimestamp"));
    if (kind == MODEL_NAMESPACE) {
        const char *phase =
            json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
        it->terminating = it->terminating || (phase && !strcmp(phase, "Terminating"));
        return it;
    }
    {
        const char *by = member_label(it->labels, MANAGED_BY_LABEL);
        it->managed = by && !strcmp(by, MANAGED_BY_VALUE);
    }
    switch (info->form) {
    case MODEL_FORM_POLICY:
        if (it->managed && json_object_get(obj, "spec") &&
            !(it->spec = json_deep_copy(json_object_get(obj, "spec"))))
            goto oom;
        if (it->managed && json_is_object(json_object_get(meta, "annotations")) &&
            !(it->annotations = json_deep_copy(json_object_get(meta, "annotations"))))
            goto oom;
        rc = read_policy(it, obj);
        break;
    case MODEL_FORM_NETSET:
        rc = read_netset(it, obj);
        break;
    case MODEL_FORM_RAW:
        rc = (it->raw = json_deep_copy(obj)) ? 0 : -1;
        break;
    case MODEL_FORM_NAMESPACE:
        break;
    }
    if (rc < 0)
        goto oom;
    return it;
oom:
    if (it)
        free_item(it);
    err_set(e, "out of memory");
    return NULL;
}
