#include "policy/eval/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cni/calico.h"
#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/eval/setres.h"

bool inventory_is_policy(const struct object *obj)
{
    return readers_find(obj) != NULL;
}

/* Kinds without a namespace (the core and network-policy APIs; others default to namespaced). */
static const char *const cluster_scoped[] = {
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass",
    "APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "CiliumClusterwideNetworkPolicy", "CiliumCIDRGroup", "CiliumNode", "CiliumIdentity",
    "GlobalNetworkPolicy", "GlobalNetworkSet", "HostEndpoint", "Tier", "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "List",
};

const char *inventory_object_ns(const struct object *obj)
{
    size_t i;

    if (*obj->ns)
        return obj->ns;
    for (i = 0; i < sizeof(cluster_scoped) / sizeof(cluster_scoped[0]); i++)
        if (!strcmp(obj->kind, cluster_scoped[i]))
            return "";
    return "default";
}

/* Where each workload kind keeps its pod: the path of members to the pod's object. */
static const struct {
    const char *kind;
    const char *path[4];
} pod_at[] = {
    {"Pod", {NULL}},
    {"Deployment", {"spec", "template", NULL}},
    {"StatefulSet", {"spec", "template", NULL}},
    {"DaemonSet", {"spec", "template", NULL}},
    {"ReplicaSet", {"spec", "template", NULL}},
    {"ReplicationController", {"spec", "template", NULL}},
    {"Job", {"spec", "template", NULL}},
    {"CronJob", {"spec", "jobTemplate", "spec", "template"}},
};

#define N_POD_AT (sizeof(pod_at) / sizeof(pod_at[0]))

static size_t workload_kind(const struct object *obj)
{
    size_t i;

    for (i = 0; i < N_POD_AT; i++)
        if (!strcmp(obj->kind, pod_at[i].kind))
            return i;
    return N_POD_AT;
}

bool inventory_is_workload(const struct object *obj)
{
    return json_is_object(obj->json) && workload_kind(obj) < N_POD_AT;
}

/* The pod object (metadata + spec) of a workload, or NULL when its shape is wrong. */
static const json_t *pod_of(const struct object *obj, size_t k)
{
    const json_t *node = obj->json;
    size_t i;

    for (i = 0; i < 4 && pod_at[k].path[i] && node; i++)
        node = json_object_get(node, pod_at[k].path[i]);
    return json_is_object(node) ? node : NULL;
}

static char *keep(struct inventory *inv, char *s)
{
    char **grown;

    if (!s)
        return NULL;
    grown = realloc(inv->strings, (inv->n_strings + 1) * sizeof(*grown));
    if (!grown) {
        free(s);
        return NULL;
    }
    inv->strings = grown;
    grown[inv->n_strings++] = s;
    return s;
}

int inventory_read_policy(const struct object *obj, const struct setdb *sets,
                          const struct nsdb *ns, struct egress_list *models,
                          struct compose_policy *p, char *error_buf, size_t error_size,
                          struct err *e)
{
    judge_reader *read = readers_find(obj);
    struct err re = {0};

    if (!read)
        return err_set(e, "%s is not a network-policy kind egressguard reads", obj->kind);
    memset(p, 0, sizeof(*p));
    /* The kind as the models name it, so a policy is one identity whatever its API group. */
    p->kind = !calico_is_policy(obj)                      ? obj->kind
              : !strcmp(obj->kind, "GlobalNetworkPolicy") ? "GlobalNetworkPolicy.projectcalico.org"
                                                           : "NetworkPolicy.projectcalico.org";
    p->ns = inventory_object_ns(obj);
    p->name = obj->name;
    p->file = obj->file;
    p->line = obj->line;
    p->obj = obj;
    /* Set references (Calico selectors over NetworkSets, Cilium CIDR groups) resolved as the
     * run knows the sets: what it cannot resolve stays "possibly anything" (setres.h). */
    if (read(obj, models, &re) < 0 || setres_apply(models, sets, ns, &re) < 0) {
        char where[600];

        if (!strcmp(re.msg, "out of memory"))
            return err_set(e, "out of memory");
        err_format(&re, where, sizeof(where));
        snprintf(error_buf, error_size, "%s", where);
        p->error = error_buf;
        return 0;
    }
    p->models = models;
    return 0;
}

static int add_policy(struct inventory *inv, const struct object *obj, const struct setdb *sets,
                      const struct nsdb *ns, struct err *e)
{
    struct compose_policy *p = &inv->policies[inv->n_policies];
    struct egress_list *l = &inv->lists[inv->n_policies];
    char error[600] = "";

    egress_list_init(l);
    inv->n_policies++; /* counted now, so that release frees a half-read list */
    if (inventory_read_policy(obj, sets, ns, l, p, error, sizeof(error), e) < 0)
        return -1;
    if (p->error && !(p->error = keep(inv, strdup(error))))
        return err_set(e, "out of memory");
    return 0;
}

/* The service account a pod runs as (Calico and Cilium label endpoints with it). */
static const char *service_account(const json_t *spec)
{
    const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));

    if (!sa || !*sa)
        sa = json_string_value(json_object_get(spec, "serviceAccount"));
    return sa && *sa ? sa : "default";
}

static int add_workload(struct inventory *inv, const struct object *obj, size_t k, struct err *e)
{
    struct compose_workload *w = &inv->workloads[inv->n_workloads];
    const json_t *pod = pod_of(obj, k);
    const json_t *meta = pod ? json_object_get(pod, "metadata") : NULL;
    const json_t *own = meta ? json_object_get(meta, "labels") : NULL;
    const json_t *spec = pod ? json_object_get(pod, "spec") : NULL;
    const char *ns = inventory_object_ns(obj), *sa = service_account(spec), *key;
    json_t *labels = json_object(), *v;

    memset(w, 0, sizeof(*w));
    w->kind = obj->kind;
    w->ns = ns;
    w->name = obj->name;
    w->file = obj->file;
    w->line = obj->line;
    w->obj = obj;
    w->labels_known = pod && (!meta || json_is_object(meta)) && (!own || json_is_object(own));
    if (!labels || json_array_append_new(inv->labels, labels) < 0)
        return err_set(e, "out of memory");
    if (w->labels_known) {
        json_object_foreach((json_t *)own, key, v) {
            if (!json_is_string(v)) {
                w->labels_known = false; /* the API server would refuse it; trust nothing */
                continue;
            }
            if (json_object_set(labels, key, v) < 0)
                return err_set(e, "out of memory");
        }
    }
    if (compose_derive_labels(labels, ns, sa) < 0)
        return err_set(e, "out of memory");
    w->labels = labels;
    inv->n_workloads++;
    return 0;
}

/* The index composition uses (compose.h). */
static int build_index(struct inventory *inv)
{
    if (!(inv->by_ns = calloc(inv->n_policies ? inv->n_policies : 1, sizeof(size_t))))
        return -1;
    return compose_index(inv->policies, inv->n_policies, inv->by_ns);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_namespaces(struct inventory *inv, const struct object *const *objs, size_t n)
{
    size_t i, k = 0, u = 0;

    if (!(inv->namespaces = calloc(n ? n : 1, sizeof(*inv->namespaces))))
        return -1;
    for (i = 0; i < n; i++) {
        const struct object *o = objs[i];
        const char *ns = inventory_object_ns(o);

        if (!strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1") && *o->name)
            inv->namespaces[k++] = (char *)o->name;
        else if (*ns)
            inv->namespaces[k++] = (char *)ns;
    }
    qsort(inv->namespaces, k, sizeof(*inv->namespaces), cmp_str);
    for (i = 0; i < k; i++)
        if (!u || strcmp(inv->namespaces[u - 1], inv->namespaces[i]))
            inv->namespaces[u++] = inv->namespaces[i];
    inv->n_namespaces = u;
    return 0;
}

int inventory_build(struct inventory *inv, const struct object *const *objs, size_t n,
                    const struct nsdb *ns, const struct setdb *sets, struct err *e)
{
    size_t i;

    memset(inv, 0, sizeof(*inv));
    /*
     * Without sets from the caller, those of the input are all there are: the input is taken as
     * the whole cluster being judged, as `check` takes it (README: "How a network policy is
     * judged").
     */
    if (!sets) {
        if (!(inv->own_sets = setdb_new()) || netset_collect(inv->own_sets, objs, n, e) < 0)
            return inv->own_sets ? -1 : err_set(e, "out of memory");
        setdb_set_complete(inv->own_sets, true);
        sets = inv->own_sets;
    }
    if (!(inv->policies = calloc(n ? n : 1, sizeof(*inv->policies))) ||
        !(inv->lists = calloc(n ? n : 1, sizeof(*inv->lists))) ||
        !(inv->workloads = calloc(n ? n : 1, sizeof(*inv->workloads))) ||
        !(inv->labels = json_array()) || collect_namespaces(inv, objs, n) < 0)
        return err_set(e, "out of memory");
    for (i = 0; i < n; i++) {
        if (inventory_is_policy(objs[i])) {
            if (add_policy(inv, objs[i], sets, ns, e) < 0)
                return -1;
        } else if (inventory_is_workload(objs[i])) {
            if (add_workload(inv, objs[i], workload_kind(objs[i]), e) < 0)
                return -1;
        }
    }
    if (build_index(inv) < 0)
        return err_set(e, "out of memory");
    inv->in.policies = inv->policies;
    inv->in.n_policies = inv->n_policies;
    inv->in.by_ns = inv->by_ns;
    inv->in.workloads = inv->workloads;
    inv->in.n_workloads = inv->n_workloads;
    inv->in.namespaces = ns;
    inv->in.namespaces_complete = false; /* files show some namespaces, never all of them */
    return 0;
}

void inventory_release(struct inventory *inv)
{
    size_t i;

    if (!inv)
        return;
    for (i = 0; inv->lists && i < inv->n_policies; i++)
        egress_list_release(&inv->lists[i]);
    free(inv->lists);
    free(inv->policies);
    free(inv->by_ns);
    free(inv->workloads);
    free(inv->namespaces); /* the names are borrowed from the objects */
    for (i = 0; i < inv->n_strings; i++)
        free(inv->strings[i]);
    free(inv->strings);
    json_decref(inv->labels);
    setdb_free(inv->own_sets);
    memset(inv, 0, sizeof(*inv));
}

bool inventory_has_workloads(const struct inventory *inv, const char *ns)
{
    size_t i;

    for (i = 0; i < inv->n_workloads; i++)
        if (!strcmp(inv->workloads[i].ns, ns))
            return true;
    return false;
}
