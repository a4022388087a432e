#include "policy/eval/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/room.h"
#include "policy/cni/calico.h"
#include "policy/cni/netset.h"
#include "policy/cni/readers.h"
#include "policy/eval/podindex.h"
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
    if (!s)
        return NULL;
    if (inv->n_strings == inv->a_strings) {
        size_t na = inv->a_strings ? inv->a_strings * 2 : 64;
        char **grown = realloc(inv->strings, na * sizeof(*grown));

        if (!grown) {
            free(s);
            return NULL;
        }
        inv->strings = grown;
        inv->a_strings = na;
    }
    inv->strings[inv->n_strings++] = s;
    return s;
}

/*
 * A string the inventory keeps (inventory_begin: the objects do not outlive it). Kinds, files
 * and namespaces repeat from one object to the next: the last few copies are reused.
 */
static const char *copy(struct inventory *inv, const char *s)
{
    size_t i, n = sizeof(inv->recent) / sizeof(inv->recent[0]);
    const char *c;

    if (!inv->streamed)
        return s;
    for (i = 0; i < n; i++)
        if (inv->recent[i] && !strcmp(inv->recent[i], s))
            return inv->recent[i];
    if (!(c = keep(inv, strdup(s))))
        return NULL;
    inv->recent[inv->next_recent++ % n] = c;
    return c;
}

/* Fills p's identity for obj and reads obj's models into `models`, their set references not
 * yet resolved. A refusal sets p->error (to error_buf) and leaves p->models NULL. */
static int read_models(const struct object *obj, struct egress_list *models,
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
    if (read(obj, models, &re) < 0)
        goto refused;
    return 0;
refused:
    if (!strcmp(re.msg, "out of memory"))
        return err_set(e, "out of memory");
    {
        char where[600];

        err_format(&re, where, sizeof(where));
        snprintf(error_buf, error_size, "%s", where);
    }
    p->error = error_buf;
    return 0;
}

/* Resolves the set references of p's models (read_models) as the run knows the sets. */
static int resolve_models(struct egress_list *models, const struct setdb *sets,
                          const struct nsdb *ns, struct compose_policy *p, char *error_buf,
                          size_t error_size, struct err *e)
{
    struct err re = {0};

    /* Set references (Calico selectors over NetworkSets, Cilium CIDR groups) resolved as the
     * run knows the sets: what it cannot resolve stays "possibly anything" (setres.h). */
    if (setres_apply(models, sets, ns, &re) < 0) {
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

int inventory_read_policy(const struct object *obj, const struct setdb *sets,
                          const struct nsdb *ns, struct egress_list *models,
                          struct compose_policy *p, char *error_buf, size_t error_size,
                          struct err *e)
{
    if (read_models(obj, models, p, error_buf, error_size, e) < 0)
        return -1;
    return p->error ? 0 : resolve_models(models, sets, ns, p, error_buf, error_size, e);
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

/*
 * inventory_add of a policy: its models read now, their set references resolved at
 * inventory_end; the identity copied, or the object kept (kept: a copy of *obj, whose document
 * the caller keeps).
 */
static int stream_policy(struct inventory *inv, size_t seq, const struct object *obj, bool kept,
                         struct err *e)
{
    struct compose_policy *p;
    struct egress_list *l;
    struct object *own = NULL;
    char error[600] = "";
    size_t i;

    if (room_for_one((void **)&inv->policies, inv->n_policies, &inv->a_policies, sizeof(*p)) < 0 ||
        room_for_one((void **)&inv->lists, inv->n_policies, &inv->a_lists, sizeof(*l)) < 0 ||
        room_for_one((void **)&inv->policy_seq, inv->n_policies, &inv->a_policy_seq, sizeof(size_t)) < 0)
        return err_set(e, "out of memory");
    p = &inv->policies[inv->n_policies];
    l = &inv->lists[inv->n_policies];
    egress_list_init(l);
    memset(p, 0, sizeof(*p));
    inv->policy_seq[inv->n_policies++] = seq; /* counted now: release frees a half-read list */
    if (read_models(obj, l, p, error, sizeof(error), e) < 0)
        return -1;
    if (p->error && !(p->error = keep(inv, strdup(error))))
        return err_set(e, "out of memory");
    p->models = NULL; /* resolved and pointed at by inventory_end (lists may move) */
    if (kept) {
        /* the copy is freed with the strings */
        if (!(own = malloc(sizeof(*own))) || !keep(inv, (char *)own)) {
            free(own);
            return err_set(e, "out of memory");
        }
        *own = *obj;
        p->obj = own;
        return 0;
    }
    p->obj = NULL;
    if (p->kind == obj->kind && !(p->kind = copy(inv, obj->kind)))
        return err_set(e, "out of memory");
    if (!(p->ns = copy(inv, p->ns)) || !(p->name = keep(inv, strdup(obj->name))) ||
        !(p->file = copy(inv, obj->file)))
        return err_set(e, "out of memory");
    for (i = 0; i < l->n; i++)
        egress_model_detach(&l->models[i], true);
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
    w->kind = copy(inv, obj->kind);
    w->ns = copy(inv, ns);
    w->name = inv->streamed ? keep(inv, strdup(obj->name)) : obj->name;
    w->file = copy(inv, obj->file);
    w->line = obj->line;
    w->obj = inv->streamed ? NULL : obj;
    if (!w->kind || !w->ns || !w->name || !w->file) {
        json_decref(labels);
        return err_set(e, "out of memory");
    }
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

/* The policies by the pod labels they pin (podindex.h). */
static int pods_index(struct inventory *inv)
{
    struct podindex_policy *v = calloc(inv->n_policies ? inv->n_policies : 1, sizeof(*v));
    size_t i;

    if (!v)
        return -1;
    for (i = 0; i < inv->n_policies; i++)
        v[i] = (struct podindex_policy){inv->policies[i].ns, inv->policies[i].models};
    inv->pods_index = podindex_build(v, inv->n_policies);
    free(v);
    return inv->pods_index ? 0 : -1;
}

/* The indexes composition uses (compose.h, podindex.h). */
static int build_index(struct inventory *inv)
{
    if (!(inv->by_ns = calloc(inv->n_policies ? inv->n_policies : 1, sizeof(size_t))))
        return -1;
    if (compose_index(inv->policies, inv->n_policies, inv->by_ns) < 0)
        return -1;
    return pods_index(inv);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first k namespaces sorted, each once. */
static void unique_namespaces(struct inventory *inv, size_t k)
{
    size_t i, u = 0;

    if (k)
        qsort(inv->namespaces, k, sizeof(*inv->namespaces), cmp_str);
    for (i = 0; i < k; i++)
        if (!u || strcmp(inv->namespaces[u - 1], inv->namespaces[i]))
            inv->namespaces[u++] = inv->namespaces[i];
    inv->n_namespaces = u;
}

static int collect_namespaces(struct inventory *inv, const struct object *const *objs, size_t n)
{
    size_t i, k = 0;

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
    unique_namespaces(inv, k);
    return 0;
}

/* The indexes, and inv->in pointing at what was read. */
static int finish(struct inventory *inv, const struct nsdb *ns, struct err *e)
{
    if (build_index(inv) < 0)
        return err_set(e, "out of memory");
    inv->in.policies = inv->policies;
    inv->in.n_policies = inv->n_policies;
    inv->in.by_ns = inv->by_ns;
    inv->in.pods_index = inv->pods_index;
    inv->in.workloads = inv->workloads;
    inv->in.n_workloads = inv->n_workloads;
    inv->in.namespaces = ns;
    inv->in.namespaces_complete = false; /* files show some namespaces, never all of them */
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
    return finish(inv, ns, e);
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
    podindex_free(inv->pods_index);
    free(inv->policy_seq);
    free(inv->workload_seq);
    free(inv->namespace_seq);
    memset(inv, 0, sizeof(*inv));
}

int inventory_begin(struct inventory *inv, bool whole, struct err *e)
{
    memset(inv, 0, sizeof(*inv));
    inv->streamed = true;
    inv->whole = whole;
    if (!(inv->labels = json_array()))
        return err_set(e, "out of memory");
    return 0;
}

/* Adds the namespace obj names (with whole). */
static int stream_namespace(struct inventory *inv, size_t seq, const struct object *obj)
{
    const char *ns = inventory_object_ns(obj);

    if (!strcmp(obj->kind, "Namespace") && !strcmp(obj->api_version, "v1") && *obj->name)
        ns = obj->name;
    if (!*ns)
        return 0;
    /* the same as the last one's: kept once (inventory_end sorts and drops repeats anyway) */
    if (inv->n_namespaces && !strcmp(inv->namespaces[inv->n_namespaces - 1], ns) &&
        inv->namespace_seq[inv->n_namespaces - 1] <= seq)
        return 0;
    if (room_for_one((void **)&inv->namespaces, inv->n_namespaces, &inv->a_namespaces,
             sizeof(*inv->namespaces)) < 0 ||
        room_for_one((void **)&inv->namespace_seq, inv->n_namespaces, &inv->a_namespace_seq,
             sizeof(size_t)) < 0 ||
        !(ns = copy(inv, ns)))
        return -1;
    inv->namespace_seq[inv->n_namespaces] = seq;
    inv->namespaces[inv->n_namespaces++] = (char *)ns;
    return 0;
}

void inventory_focus(struct inventory *inv, const char *ns)
{
    inv->focus = ns;
}

/* With a focus: is obj a namespaced object of another namespace (which no subject sees)? */
static bool out_of_focus(const struct inventory *inv, const struct object *obj)
{
    const char *ns;

    if (!inv->focus)
        return false;
    ns = inventory_object_ns(obj);
    return *ns && strcmp(ns, inv->focus);
}

int inventory_add(struct inventory *inv, size_t seq, const struct object *obj, bool kept,
                  struct err *e)
{
    if (out_of_focus(inv, obj))
        return 0;
    if (inv->whole && stream_namespace(inv, seq, obj) < 0)
        return err_set(e, "out of memory");
    if (inventory_is_policy(obj))
        return stream_policy(inv, seq, obj, kept, e);
    if (!inv->whole || !inventory_is_workload(obj))
        return 0;
    if (room_for_one((void **)&inv->workloads, inv->n_workloads, &inv->a_workloads,
             sizeof(*inv->workloads)) < 0 ||
        room_for_one((void **)&inv->workload_seq, inv->n_workloads, &inv->a_workload_seq,
             sizeof(size_t)) < 0)
        return err_set(e, "out of memory");
    inv->workload_seq[inv->n_workloads] = seq;
    return add_workload(inv, obj, workload_kind(obj), e);
}

void inventory_drop_from(struct inventory *inv, size_t seq)
{
    size_t i, w;

    for (i = w = 0; i < inv->n_policies; i++) {
        if (inv->policy_seq[i] >= seq) {
            egress_list_release(&inv->lists[i]);
            continue;
        }
        inv->policies[w] = inv->policies[i];
        inv->lists[w] = inv->lists[i];
        inv->policy_seq[w++] = inv->policy_seq[i];
    }
    inv->n_policies = w;
    for (i = w = 0; i < inv->n_workloads; i++)
        if (inv->workload_seq[i] < seq) {
            inv->workloads[w] = inv->workloads[i];
            inv->workload_seq[w++] = inv->workload_seq[i];
        }
    inv->n_workloads = w; /* their labels stay in inv->labels until the release */
    for (i = w = 0; i < inv->n_namespaces; i++)
        if (inv->namespace_seq[i] < seq) {
            inv->namespaces[w] = inv->namespaces[i];
            inv->namespace_seq[w++] = inv->namespace_seq[i];
        }
    inv->n_namespaces = w;
}

/*
 * With a focus: may policy i (read, not resolved) apply to some pod of the focus namespace? A
 * policy that could not be read is kept (its error is part of the answer).
 */
static bool may_apply_in_focus(const struct inventory *inv, size_t i, const struct nsdb *ns)
{
    const struct compose_input in = {.namespaces = ns};
    const struct compose_subject s = {.ns = inv->focus};
    const struct egress_list *l = &inv->lists[i];

    if (inv->policies[i].error)
        return true;
    for (size_t k = 0; k < l->n; k++)
        if (compose_applies(&in, &l->models[k], &s) != TRI_FALSE)
            return true;
    return false;
}

int inventory_end(struct inventory *inv, const struct nsdb *ns, const struct setdb *sets,
                  struct err *e)
{
    size_t i, w;

    /* The focus: cluster-scoped policies that apply to no pod of its namespace go first. */
    for (i = w = 0; inv->focus && i < inv->n_policies; i++) {
        if (!*inv->policies[i].ns && !may_apply_in_focus(inv, i, ns)) {
            egress_list_release(&inv->lists[i]);
            continue;
        }
        inv->policies[w] = inv->policies[i];
        inv->lists[w] = inv->lists[i];
        inv->policy_seq[w++] = inv->policy_seq[i];
    }
    if (inv->focus)
        inv->n_policies = w;
    for (i = 0; i < inv->n_policies; i++) {
        struct compose_policy *p = &inv->policies[i];
        char error[600] = "";

        if (p->error)
            continue;
        if (resolve_models(&inv->lists[i], sets, ns, p, error, sizeof(error), e) < 0)
            return -1;
        if (p->error && !(p->error = keep(inv, strdup(error))))
            return err_set(e, "out of memory");
    }
    unique_namespaces(inv, inv->n_namespaces);
    return finish(inv, ns, e);
}

bool inventory_has_workloads(const struct inventory *inv, const char *ns)
{
    size_t i;

    for (i = 0; i < inv->n_workloads; i++)
        if (!strcmp(inv->workloads[i].ns, ns))
            return true;
    return false;
}
