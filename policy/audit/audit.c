#include "policy/audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/strmap.h"
#include "policy/config/nsdb.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "policy/model/item.h"

/* A growable array of nodes where each node knows its index, for O(1) removal. */
struct nodes {
    struct node **v;
    size_t n, cap;
};

enum list { L_GROUP, L_CLUSTER, L_DIRTY, L_N }; /* the lists a node may be in */

struct node {
    struct audit_object pub; /* first: callers see nodes as audit_objects */
    /*
     * What decisions read of the object, as compact JSON text: a third of the memory of a
     * jansson tree, parsed again for each decision (a few microseconds). Owned (audit_put), or
     * the text of `item` (audit_put_item), shared with the cluster model.
     */
    char *text;
    struct model_item *item; /* one reference, or NULL */
    char *strings;       /* pub's api_version, kind, ns, name, uid, one after another */
    char *key;           /* "group\x1fkind\x1fns\x1fname" (owned) */
    struct group *group; /* its namespace */
    size_t at[L_N];      /* index in each list; SIZE_MAX when not in it */
    bool fresh;          /* no verdict yet: its report changes whatever the verdict */
    bool is_namespace;   /* a core Namespace */
    int kind;            /* its model kind (kinds.h), -1 when not a modelled kind */
    int form;            /* that kind's form (kinds.h), -1 when not a modelled kind */
};

/* The objects of one namespace ("" for cluster-scoped objects), and whether its report changed. */
struct group {
    char *name;
    struct nodes objs;
    bool changed;
};

struct audit {
    const struct policy *pol;
    struct audit_context ctx; /* borrowed */
    bool all_dirty;        /* another policy: everything is decided again */
    struct strmap *nodes;  /* key → node */
    struct strmap *groups; /* namespace → group */
    struct nodes cluster;  /* cluster-scoped objects other than Namespaces */
    struct nodes dirty;    /* to decide at the next run */
    struct nsdb *labels;   /* namespace labels, from the Namespaces put */
    struct group **changed;
    size_t n_changed, cap_changed;
    int64_t last_now;
    bool ran;
    bool oom; /* a marking pass ran out of memory */
};

static int nodes_add(struct nodes *l, struct node *n, enum list which)
{
    if (n->at[which] != SIZE_MAX)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct node **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    n->at[which] = l->n;
    l->v[l->n++] = n;
    return 0;
}

static void nodes_remove(struct nodes *l, struct node *n, enum list which)
{
    size_t i = n->at[which];

    if (i == SIZE_MAX)
        return;
    l->v[i] = l->v[--l->n];
    l->v[i]->at[which] = i;
    n->at[which] = SIZE_MAX;
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    verdict_release(&n->pub.v);
    if (n->item)
        model_item_unref(n->item);
    else
        free(n->text);
    free(n->strings);
    free(n->key);
    free(n);
}

static bool free_node(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    node_free(value);
    return true;
}

static void group_free(struct group *g)
{
    if (!g)
        return;
    free(g->objs.v);
    free(g->name);
    free(g);
}

static bool free_group(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    group_free(value);
    return true;
}

struct audit *audit_new(void)
{
    struct audit *a = calloc(1, sizeof(*a));

    if (!a)
        return NULL;
    a->nodes = strmap_new();
    a->groups = strmap_new();
    a->labels = nsdb_new();
    if (!a->nodes || !a->groups || !a->labels) {
        audit_free(a);
        return NULL;
    }
    return a;
}

void audit_free(struct audit *a)
{
    if (!a)
        return;
    if (a->nodes)
        strmap_each(a->nodes, free_node, NULL);
    if (a->groups)
        strmap_each(a->groups, free_group, NULL);
    strmap_free(a->nodes);
    strmap_free(a->groups);
    nsdb_free(a->labels);
    free(a->cluster.v);
    free(a->dirty.v);
    free(a->changed);
    free(a);
}

void audit_set_policy(struct audit *a, const struct policy *pol)
{
    a->pol = pol;
    a->all_dirty = true;
}

void audit_set_context(struct audit *a, const struct audit_context *ctx)
{
    if (ctx)
        a->ctx = *ctx;
    else
        memset(&a->ctx, 0, sizeof(a->ctx));
}

static int mark_changed(struct audit *a, struct group *g)
{
    if (g->changed)
        return 0;
    if (a->n_changed == a->cap_changed) {
        size_t cap = a->cap_changed ? a->cap_changed * 2 : 16;
        struct group **v = realloc(a->changed, cap * sizeof(*v));
        if (!v)
            return -1;
        a->changed = v;
        a->cap_changed = cap;
    }
    a->changed[a->n_changed++] = g;
    g->changed = true;
    return 0;
}

static struct group *group_get(struct audit *a, const char *ns)
{
    struct group *g = strmap_get(a->groups, ns);

    if (g)
        return g;
    if (!(g = calloc(1, sizeof(*g))) || !(g->name = strdup(ns)) ||
        strmap_put(a->groups, ns, g) < 0) {
        group_free(g);
        return NULL;
    }
    return g;
}

/*
 * Can n's verdict read the NetworkSets (or their namespaces' labels) of namespaces other than
 * its own? A namespaced Calico NetworkPolicy whose rule has a namespaceSelector: it reaches the
 * NetworkSets of the namespaces that selects (caldst.c, after libcalico-go's
 * getEndpointSelector(); without one a namespaced policy's sets are its own namespace's). The
 * text test over-approximates: any mention of the field counts.
 */
static bool reads_other_namespaces(const struct node *n)
{
    return n->kind == MODEL_CALICO_NP && strstr(n->text, "\"namespaceSelector\"");
}

static bool mark_cross_namespace(const char *key, void *value, void *ctx)
{
    struct audit *a = ctx;

    (void)key;
    a->oom = reads_other_namespaces(value) && nodes_add(&a->dirty, value, L_DIRTY) < 0;
    return !a->oom;
}

/* Marks every namespaced policy that may reach NetworkSets of other namespaces. */
static int touch_cross_namespace(struct audit *a)
{
    a->oom = false;
    strmap_each(a->nodes, mark_cross_namespace, a);
    return a->oom ? -1 : 0;
}

/*
 * Marks the objects of a namespace whose labels changed, every cluster-scoped policy, and when
 * the namespace holds NetworkSets, the policies that may reach them by its labels.
 */
static int namespace_changed(struct audit *a, const char *ns)
{
    struct group *g = strmap_get(a->groups, ns);
    bool sets = false;

    for (size_t i = 0; g && i < g->objs.n; i++) {
        sets = sets || g->objs.v[i]->form == MODEL_FORM_NETSET;
        if (nodes_add(&a->dirty, g->objs.v[i], L_DIRTY) < 0)
            return -1;
    }
    for (size_t i = 0; i < a->cluster.n; i++)
        if (nodes_add(&a->dirty, a->cluster.v[i], L_DIRTY) < 0)
            return -1;
    return sets ? touch_cross_namespace(a) : 0;
}

/* Is n judged among the other policies and sets (a policy or a set, not a Pod or Namespace)? */
static bool in_context(const struct node *n)
{
    return n->form == MODEL_FORM_POLICY || n->form == MODEL_FORM_RAW ||
           n->form == MODEL_FORM_NETSET;
}

static bool mark_in_context(const char *key, void *value, void *ctx)
{
    struct audit *a = ctx;

    (void)key;
    a->oom = in_context(value) && nodes_add(&a->dirty, value, L_DIRTY) < 0;
    return !a->oom;
}

int audit_touch(struct audit *a, const char *ns, unsigned reach)
{
    struct group *g;

    if (!ns) {
        a->oom = false;
        strmap_each(a->nodes, mark_in_context, a);
        return a->oom ? -1 : 0;
    }
    g = strmap_get(a->groups, ns);
    for (size_t i = 0; g && i < g->objs.n; i++)
        if (in_context(g->objs.v[i]) && nodes_add(&a->dirty, g->objs.v[i], L_DIRTY) < 0)
            return -1;
    for (size_t i = 0; reach && i < a->cluster.n; i++) {
        const struct node *n = a->cluster.v[i];
        bool set = n->form == MODEL_FORM_NETSET;
        if (in_context(n) && ((set && (reach & AUDIT_REACH_CLUSTER_SETS)) ||
                              (!set && (reach & AUDIT_REACH_CLUSTER_POLICIES))) &&
            nodes_add(&a->dirty, a->cluster.v[i], L_DIRTY) < 0)
            return -1;
    }
    return (reach & AUDIT_REACH_OTHER_NAMESPACES) ? touch_cross_namespace(a) : 0;
}

/*
 * obj as compact JSON text, without what no decision reads and what makes a cluster's objects
 * large (status, managedFields, the last-applied-configuration copy). Keys sorted, so that the
 * same object always reads the same. malloc()ed; NULL on out of memory.
 */
static char *stripped(const json_t *obj)
{
    json_t *copy = json_deep_copy(obj), *meta;
    char *text;

    if (!copy)
        return NULL;
    json_object_del(copy, "status");
    meta = json_object_get(copy, "metadata");
    json_object_del(meta, "managedFields");
    json_object_del(json_object_get(meta, "annotations"),
                    "kubectl.kubernetes.io/last-applied-configuration");
    text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return text;
}

/* Copies the identity strings of view into n (one allocation) and points pub at them. */
static int identity(struct node *n, const struct object *view, const char *uid)
{
    const char *parts[5] = {view->api_version, view->kind, view->ns, view->name, uid};
    const char **dst[5] = {&n->pub.api_version, &n->pub.kind, &n->pub.ns, &n->pub.name,
                           &n->pub.uid};
    size_t len = 0;
    char *p;

    for (int i = 0; i < 5; i++)
        len += strlen(parts[i]) + 1;
    if (!(p = n->strings = malloc(len)))
        return -1;
    for (int i = 0; i < 5; i++) {
        size_t l = strlen(parts[i]) + 1;
        memcpy(p, parts[i], l);
        *dst[i] = p;
        p += l;
    }
    return 0;
}

static char *key_of(const char *api_version, const char *kind, const char *ns, const char *name)
{
    const char *slash = strchr(api_version, '/');
    int glen = slash ? (int)(slash - api_version) : 0;
    size_t len = (size_t)glen + strlen(kind) + strlen(ns) + strlen(name) + 4;
    char *key = malloc(len);

    if (key)
        snprintf(key, len, "%.*s\x1f%s\x1f%s\x1f%s", glen, api_version, kind, ns, name);
    return key;
}

/* Links a new node into its namespace group and the lists its kind belongs to. */
static int link_node(struct audit *a, struct node *n)
{
    if (!(n->group = group_get(a, n->pub.ns)) || nodes_add(&n->group->objs, n, L_GROUP) < 0 ||
        (!*n->pub.ns && !n->is_namespace && nodes_add(&a->cluster, n, L_CLUSTER) < 0))
        return -1;
    return strmap_put(a->nodes, n->key, n);
}

static void unlink_node(struct audit *a, struct node *n)
{
    if (n->group)
        nodes_remove(&n->group->objs, n, L_GROUP);
    nodes_remove(&a->cluster, n, L_CLUSTER);
    nodes_remove(&a->dirty, n, L_DIRTY);
    strmap_del(a->nodes, n->key);
}

static const json_t *labels_of(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "labels");
}

static const json_t *labels_in(const char *text, json_t **root)
{
    *root = json_loads(text, 0, NULL);
    return labels_of(*root);
}

/* Did the labels of a Namespace change (or did it just appear)? -1 on out of memory. */
static int labels_changed(const struct node *old, const json_t *now)
{
    const json_t *before;
    json_t *root;
    int rc;

    if (!old)
        return 1;
    before = labels_in(old->text, &root);
    /* json_equal() says no when either is NULL: two Namespaces without labels are alike. */
    rc = (!before && !labels_of(now)) || json_equal(before, labels_of(now)) ? 0 : 1;
    if (!root)
        rc = -1;
    json_decref(root);
    return rc;
}

/*
 * Knows obj, judged by its text: `text` (owned, taken also on failure) or item's (a reference is
 * taken on success). See audit_put().
 */
static int put(struct audit *a, const json_t *obj, char *text, struct model_item *item,
               struct err *e)
{
    struct node *n = calloc(1, sizeof(*n)), *old;
    struct object view;
    const char *uid;
    char group[128];
    int lc;

    if (!n) {
        free(text);
        return err_set(e, "out of memory");
    }
    for (int i = 0; i < L_N; i++)
        n->at[i] = SIZE_MAX;
    verdict_init(&n->pub.v);
    n->text = item ? item->text : text;
    n->item = item ? model_item_ref(item) : NULL;
    object_init(&view, (json_t *)obj, NULL);
    if (!*view.kind || !*view.name) {
        node_free(n);
        return err_set(e, "an object without kind or name cannot be audited");
    }
    object_group(&view, group, sizeof(group));
    uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
    n->is_namespace = !*group && !strcmp(view.kind, "Namespace");
    n->kind = model_kind_lookup(group, view.kind);
    n->form = n->kind >= 0 ? (int)model_kind_info((enum model_kind)n->kind)->form : -1;
    if (!n->text || identity(n, &view, uid ? uid : "") < 0 ||
        !(n->key = key_of(view.api_version, view.kind, view.ns, view.name)))
        goto oom;
    old = strmap_get(a->nodes, n->key);
    if (old && !strcmp(old->text, n->text)) { /* a resync: nothing new */
        node_free(n);
        return 0;
    }
    if (n->is_namespace && (lc = labels_changed(old, obj)) != 0) {
        const json_t *l = labels_of(obj);
        if (lc < 0 || nsdb_set(a->labels, view.name, json_is_object(l) ? l : NULL) < 0 ||
            namespace_changed(a, view.name) < 0)
            goto oom;
    }
    if (old) {
        /* The old verdict stays for comparison: an unchanged verdict changes no report. */
        n->pub.v = old->pub.v;
        n->pub.failed = old->pub.failed;
        n->pub.e = old->pub.e;
        n->fresh = old->fresh;
        verdict_init(&old->pub.v);
        unlink_node(a, old);
        node_free(old);
    } else {
        n->fresh = true;
    }
    if (link_node(a, n) < 0 || nodes_add(&a->dirty, n, L_DIRTY) < 0 ||
        (n->fresh && mark_changed(a, n->group) < 0)) {
        unlink_node(a, n);
        node_free(n);
        return err_set(e, "out of memory");
    }
    return 0;
oom:
    node_free(n);
    return err_set(e, "out of memory");
}

int audit_put(struct audit *a, const json_t *obj, struct err *e)
{
    return put(a, obj, stripped(obj), NULL, e);
}

int audit_put_item(struct audit *a, struct model_item *it, struct err *e)
{
    json_t *obj;
    int rc;

    if (!it->text)
        return err_set(e, "%s %s%s%s: no decision text (not from the API)",
                       model_kind_info(it->kind)->kind, it->ns, *it->ns ? "/" : "", it->name);
    if (!(obj = json_loads(it->text, 0, NULL)))
        return err_set(e, "out of memory"); /* dumped from a valid tree: only memory can fail */
    rc = put(a, obj, NULL, it, e);
    json_decref(obj);
    return rc;
}

int audit_delete(struct audit *a, const char *api_version, const char *kind, const char *ns,
                 const char *name)
{
    char *key = key_of(api_version, kind, ns, name);
    struct node *n;
    int rc = 0;

    if (!key)
        return -1;
    n = strmap_get(a->nodes, key);
    free(key);
    if (!n)
        return 0;
    if (mark_changed(a, n->group) < 0)
        return -1;
    if (n->is_namespace) {
        nsdb_forget(a->labels, n->pub.name);
        rc = namespace_changed(a, n->pub.name);
    }
    unlink_node(a, n);
    node_free(n);
    return rc;
}

int audit_delete_item(struct audit *a, const struct model_item *it)
{
    json_t *obj;
    const char *av;
    int rc;

    if (!it->text)
        return 0; /* never put */
    if (!(obj = json_loads(it->text, 0, NULL)))
        return -1;
    av = json_string_value(json_object_get(obj, "apiVersion"));
    rc = audit_delete(a, av ? av : "", model_kind_info(it->kind)->kind, it->ns, it->name);
    json_decref(obj);
    return rc;
}

void audit_changes_release(struct audit_changes *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->namespaces[i]);
    free(c->namespaces);
    memset(c, 0, sizeof(*c));
}

static bool same_finding(const struct finding *x, const struct finding *y)
{
    return x->mode == y->mode && x->violation == y->violation && !strcmp(x->rule, y->rule) &&
           !strcmp(x->path, y->path) && !strcmp(x->message, y->message) &&
           !x->escapes == !y->escapes && (!x->escapes || !strcmp(x->escapes, y->escapes));
}

/* Would a report show the two outcomes differently? */
static bool same_outcome(const struct audit_object *o, const struct verdict *v, bool failed,
                         const struct err *e)
{
    if (o->failed || failed)
        return o->failed == failed && !strcmp(o->e.msg, e->msg);
    if (o->v.allowed != v->allowed || o->v.evaluated != v->evaluated ||
        o->v.n_findings != v->n_findings || !o->v.exemption != !v->exemption)
        return false;
    for (size_t i = 0; i < v->n_findings; i++)
        if (!same_finding(&o->v.findings[i], &v->findings[i]))
            return false;
    return true;
}

static int decide(struct audit *a, struct node *n, int64_t now)
{
    /* As admission would answer a CREATE of the object, among the same other objects. */
    struct request_ctx ctx = {.operation = "CREATE",
                              .namespaces = a->labels,
                              .now = now,
                              .sets = a->ctx.sets,
                              .policies = a->ctx.policies,
                              .context = a->ctx.context};
    json_t *json = json_loads(n->text, 0, NULL);
    struct object view;
    struct verdict v;
    struct err e = {0};
    bool failed;

    if (!json)
        return -1; /* it was dumped from a valid tree: only memory can fail */
    object_init(&view, json, NULL);
    view.file = "";
    verdict_init(&v);
    failed = decide_object(a->pol, &view, &ctx, &v, &e) < 0;
    json_decref(json);
    /* A malformed object is a result (error); running out of memory is not the object's. */
    if (failed && !strcmp(e.msg, "out of memory")) {
        verdict_release(&v);
        return -1;
    }
    if (n->fresh || !same_outcome(&n->pub, &v, failed, &e)) {
        if (mark_changed(a, n->group) < 0) {
            verdict_release(&v);
            return -1;
        }
    }
    verdict_release(&n->pub.v);
    n->pub.v = v;
    n->pub.failed = failed;
    n->pub.e = e;
    n->fresh = false;
    return 0;
}

static bool mark_all(const char *key, void *value, void *ctx)
{
    struct audit *a = ctx;

    (void)key;
    a->oom = nodes_add(&a->dirty, value, L_DIRTY) < 0;
    return !a->oom;
}

/*
 * The objects an exemption lets through: their verdicts change when it enters its warning
 * window or ends. (An object judged because its exemption ended has nothing left to change.)
 */
static bool mark_exempt(const char *key, void *value, void *ctx)
{
    struct audit *a = ctx;
    struct node *n = value;

    (void)key;
    a->oom = n->pub.v.exemption && nodes_add(&a->dirty, n, L_DIRTY) < 0;
    return !a->oom;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Hands the changed namespaces to out (sorted) and forgets the groups left empty. */
static int collect_changes(struct audit *a, struct audit_changes *out)
{
    if (a->n_changed && !(out->namespaces = calloc(a->n_changed, sizeof(char *))))
        return -1;
    for (size_t i = 0; i < a->n_changed; i++)
        if (!(out->namespaces[out->n++] = strdup(a->changed[i]->name)))
            return -1;
    if (out->n)
        qsort(out->namespaces, out->n, sizeof(char *), by_name);
    for (size_t i = 0; i < a->n_changed; i++) {
        struct group *g = a->changed[i];
        g->changed = false;
        if (!g->objs.n) {
            strmap_del(a->groups, g->name);
            group_free(g);
        }
    }
    a->n_changed = 0;
    return 0;
}

int audit_run(struct audit *a, int64_t now, struct audit_changes *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!a->pol)
        return 0;
    a->oom = false;
    if (a->all_dirty)
        strmap_each(a->nodes, mark_all, a);
    else if (a->ran && policy_exemption_next_change(a->pol, a->last_now) <= now)
        strmap_each(a->nodes, mark_exempt, a);
    if (a->oom)
        return err_set(e, "out of memory");
    a->all_dirty = false;
    while (a->dirty.n) {
        struct node *n = a->dirty.v[a->dirty.n - 1];

        if (decide(a, n, now) < 0)
            return err_set(e, "out of memory");
        nodes_remove(&a->dirty, n, L_DIRTY);
        out->decided++;
    }
    a->last_now = now;
    a->ran = true;
    if (collect_changes(a, out) < 0) {
        audit_changes_release(out);
        return err_set(e, "out of memory");
    }
    return 0;
}

size_t audit_objects(const struct audit *a, const char *ns, const struct audit_object *const **out)
{
    const struct group *g = strmap_get(a->groups, ns);

    /* struct node starts with its audit_object, so the node array reads as one of objects. */
    *out = g ? (const struct audit_object *const *)g->objs.v : NULL;
    return g ? g->objs.n : 0;
}

struct names {
    char **v;
    size_t n;
    bool failed;
};

static bool add_name(const char *key, void *value, void *ctx)
{
    struct names *l = ctx;
    const struct group *g = value;

    if (!g->objs.n)
        return true;
    if (!(l->v[l->n] = strdup(key)))
        l->failed = true;
    else
        l->n++;
    return !l->failed;
}

int audit_namespaces(const struct audit *a, char ***out, size_t *n)
{
    struct names l = {.v = calloc(strmap_size(a->groups) + 1, sizeof(char *))};

    *out = NULL;
    *n = 0;
    if (!l.v)
        return -1;
    strmap_each(a->groups, add_name, &l);
    if (l.failed) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i]);
        free(l.v);
        return -1;
    }
    qsort(l.v, l.n, sizeof(char *), by_name);
    *out = l.v;
    *n = l.n;
    return 0;
}

size_t audit_size(const struct audit *a)
{
    return strmap_size(a->nodes);
}

int64_t audit_next_run(const struct audit *a)
{
    if (!a->pol)
        return EXEMPTION_NEVER;
    return policy_exemption_next_change(a->pol, a->ran ? a->last_now : 0);
}
