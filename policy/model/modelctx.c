#include "policy/model/modelctx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "policy/eval/setres.h"

/* The policy kinds of the model, with the kind names the readers give compose (inventory.c). */
static const struct {
    enum model_kind kind;
    const char *name;
} policy_kinds[] = {
    {MODEL_NETWORKPOLICY, "NetworkPolicy"},
    {MODEL_CILIUM_NP, "CiliumNetworkPolicy"},
    {MODEL_CILIUM_CCNP, "CiliumClusterwideNetworkPolicy"},
    {MODEL_CALICO_NP, "NetworkPolicy.projectcalico.org"},
    {MODEL_CALICO_GNP, "GlobalNetworkPolicy.projectcalico.org"},
};

#define N_POLICY_KINDS (sizeof(policy_kinds) / sizeof(policy_kinds[0]))

static const struct {
    enum model_kind kind;
    enum setdb_kind set;
} set_kinds[] = {
    {MODEL_CALICO_NETWORKSET, SETDB_NETWORKSET},
    {MODEL_CALICO_GLOBALNETWORKSET, SETDB_GLOBALNETWORKSET},
    {MODEL_CALICO_HOSTENDPOINT, SETDB_HOSTENDPOINT},
    {MODEL_CILIUM_CIDRGROUP, SETDB_CIDRGROUP},
};

/* Why the sets of a kind are not all known (setdb_kind_why): static, as setdb.h wants. */
static const char *const unknown_why[SETDB_N_KINDS] = {
    [SETDB_NETWORKSET] = "NetworkSets are not listed from the API server yet",
    [SETDB_GLOBALNETWORKSET] = "GlobalNetworkSets are not listed from the API server yet",
    [SETDB_HOSTENDPOINT] = "HostEndpoints are not listed from the API server yet",
    [SETDB_CIDRGROUP] = "CiliumCIDRGroups are not listed from the API server yet",
};

#define N_SET_KINDS (sizeof(set_kinds) / sizeof(set_kinds[0]))

/* One set item as a setdb entry: copies, since the store owns its entries. */
static int add_set(struct setdb *db, enum setdb_kind kind, const struct model_item *it)
{
    struct setdb_entry en = {.kind = kind};
    size_t i;

    en.ns = strdup(it->ns);
    en.name = strdup(it->name);
    en.labels = it->labels ? json_deep_copy(it->labels) : json_object();
    if (!en.ns || !en.name || !en.labels)
        goto oom;
    /* Calico labels every NetworkSet with its namespace (networksetprocessor.go), as netset.c. */
    if (kind == SETDB_NETWORKSET &&
        json_object_set_new(en.labels, "projectcalico.org/namespace", json_string(it->ns)) < 0)
        goto oom;
    if (it->error) {
        if (!(en.error = strdup(it->error)))
            goto oom;
    } else if (it->nets && !(en.nets = cidrset_dup(it->nets))) {
        goto oom;
    }
    if (it->n_domains) {
        if (!(en.domains = calloc(it->n_domains, sizeof(*en.domains))))
            goto oom;
        for (i = 0; i < it->n_domains; i++, en.n_domains++)
            if (!(en.domains[i] = strdup(it->domains[i])))
                goto oom;
    }
    return setdb_add(db, &en);
oom:
    setdb_entry_release(&en);
    return -1;
}

static int build_sets(struct modelctx *c)
{
    struct model_item *const *items;
    size_t k, i, n;

    if (!(c->sets = setdb_new()))
        return -1;
    for (k = 0; k < N_SET_KINDS; k++) {
        n = model_list(c->snap, set_kinds[k].kind, NULL, &items);
        for (i = 0; i < n; i++)
            if (add_set(c->sets, set_kinds[k].set, items[i]) < 0)
                return -1;
        /*
         * A kind's sets are all known once its full list is in, or when the API server does not
         * serve the kind (no such CRD: there are none). Until then (not listed yet, its watch
         * failing, or a kind found served again) what a selector may reach among them is
         * "possibly anything" (setres.h), and the message says which kind is unknown.
         */
        setdb_set_kind_complete(c->sets, set_kinds[k].set, model_known(c->snap, set_kinds[k].kind),
                                unknown_why[set_kinds[k].set]);
    }
    return 0;
}

static int build_policies(struct modelctx *c)
{
    struct model_item *const *items;
    size_t k, i, n, total = 0, models = 0, m;

    for (k = 0; k < N_POLICY_KINDS; k++) {
        n = model_list(c->snap, policy_kinds[k].kind, NULL, &items);
        total += n;
        for (i = 0; i < n; i++)
            models += items[i]->egress.n;
    }
    if (!(c->cps = calloc(total ? total : 1, sizeof(*c->cps))) ||
        !(c->by_ns = calloc(total ? total : 1, sizeof(*c->by_ns))) ||
        !(c->policies.models = calloc(models ? models : 1, sizeof(*c->policies.models))))
        return -1;
    c->policies.alloc = models ? models : 1;
    for (k = 0; k < N_POLICY_KINDS; k++) {
        n = model_list(c->snap, policy_kinds[k].kind, NULL, &items);
        for (i = 0; i < n; i++) {
            const struct model_item *it = items[i];
            struct compose_policy *p = &c->cps[c->n_cps++];

            p->kind = policy_kinds[k].name;
            p->ns = it->ns;
            p->name = it->name;
            p->file = "";
            p->error = it->error;
            p->models = it->error ? NULL : &it->egress;
            /* A shallow copy: the item owns the model (see modelctx.h). */
            for (m = 0; !it->error && m < it->egress.n; m++)
                c->policies.models[c->policies.n++] = it->egress.models[m];
        }
    }
    return 0;
}

/*
 * Resolves the set references of the composed policies against the snapshot's sets, once per
 * snapshot, exactly as `check` does for every policy of its input (inventory.c resolve_models):
 * a Calico selector or Cilium cidrGroupRef/cidrGroupSelector then reaches the known sets, and
 * whatever a kind not listed yet may hold stays "possibly anything" (setres.h). A policy that
 * refers to no set keeps the item's models. `policies` keeps the unresolved ones: netset.c asks
 * them which sets they select.
 */
static int resolve_sets(struct modelctx *c, struct err *e)
{
    size_t i, m;

    if (!(c->resolved = calloc(c->n_cps ? c->n_cps : 1, sizeof(*c->resolved)))) {
        err_set(e, "out of memory");
        return -1;
    }
    for (i = 0; i < c->n_cps; i++)
        egress_list_init(&c->resolved[i]);
    for (i = 0; i < c->n_cps; i++) {
        const struct egress_list *src = c->cps[i].models;

        if (!src || !setres_refers(src))
            continue;
        for (m = 0; m < src->n; m++) {
            struct egress_model *dst = egress_list_add(&c->resolved[i]);

            if (!dst || egress_model_copy(dst, &src->models[m]) < 0) {
                /* egress_model_copy left dst released (empty): the list stays valid. */
                err_set(e, "out of memory");
                return -1;
            }
        }
        if (setres_apply(&c->resolved[i], c->sets, &c->ns, e) < 0)
            return -1;
        c->cps[i].models = &c->resolved[i];
    }
    return 0;
}

struct modelctx *modelctx_build(struct model *m, struct err *e)
{
    struct modelctx *c = calloc(1, sizeof(*c));

    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->snap = model_ref(m);
    egress_list_init(&c->policies);
    model_nsdb_view(&c->ns, c->snap);
    /* Once namespaces are listed, one missing from the list does not exist (nsdb.h). */
    nsdb_set_complete(&c->ns, model_complete(c->snap, MODEL_NAMESPACE));
    if (build_sets(c) < 0 || build_policies(c) < 0 ||
        compose_index(c->cps, c->n_cps, c->by_ns) < 0) {
        modelctx_unref(c);
        err_set(e, "out of memory");
        return NULL;
    }
    if (resolve_sets(c, e) < 0) {
        modelctx_unref(c);
        return NULL;
    }
    c->in.policies = c->cps;
    c->in.n_policies = c->n_cps;
    c->in.by_ns = c->by_ns;
    c->in.workloads = NULL; /* Pods are not watched: compositions are over whole namespaces */
    c->in.n_workloads = 0;
    c->in.namespaces = &c->ns;
    c->in.namespaces_complete = model_complete(c->snap, MODEL_NAMESPACE);
    return c;
}

struct modelctx *modelctx_ref(struct modelctx *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void modelctx_unref(struct modelctx *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    free(c->policies.models); /* shallow: the models are the items' */
    for (size_t i = 0; c->resolved && i < c->n_cps; i++)
        egress_list_release(&c->resolved[i]);
    free(c->resolved);
    free(c->cps);
    free(c->by_ns);
    setdb_free(c->sets);
    model_unref(c->snap);
    free(c);
}

/*
 * One context per snapshot, built by one thread at a time: building resolves every policy's set
 * references against the snapshot's sets (a copy per policy, hundreds of milliseconds on a
 * 50,000-policy cluster), so the requests that arrive together after a change wait for the one
 * build instead of each paying for it.
 */
struct modelctx_cache {
    pthread_mutex_t lock;
    pthread_cond_t built;  /* signalled when a build ends, whatever its outcome */
    bool building;         /* a thread is building a context outside the lock */
    struct modelctx *cur;  /* NULL until the first get */
};

struct modelctx_cache *modelctx_cache_new(void)
{
    struct modelctx_cache *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL)) {
        free(c);
        return NULL;
    }
    if (pthread_cond_init(&c->built, NULL)) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void modelctx_cache_free(struct modelctx_cache *c)
{
    if (!c)
        return;
    modelctx_unref(c->cur);
    pthread_cond_destroy(&c->built);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

struct modelctx *modelctx_cache_get(struct modelctx_cache *c, struct model *m, struct err *e)
{
    struct modelctx *ctx = NULL, *old = NULL;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        /* A snapshot that differs only in its Pods (many, frequent) has the same context. */
        if (c->cur && (c->cur->snap == m || model_same_context(c->cur->snap, m))) {
            ctx = modelctx_ref(c->cur);
            pthread_mutex_unlock(&c->lock);
            return ctx;
        }
        if (!c->building)
            break;
        /* Another thread builds; its context is likely the one wanted (or a newer one). */
        pthread_cond_wait(&c->built, &c->lock);
    }
    c->building = true;
    pthread_mutex_unlock(&c->lock);
    ctx = modelctx_build(m, e);
    pthread_mutex_lock(&c->lock);
    c->building = false;
    /* Keep the newer snapshot's context: a slow builder must not put an older one back. */
    if (ctx && (!c->cur || model_generation(c->cur->snap) <= model_generation(m))) {
        old = c->cur;
        c->cur = modelctx_ref(ctx);
    }
    pthread_cond_broadcast(&c->built);
    pthread_mutex_unlock(&c->lock);
    modelctx_unref(old);
    return ctx;
}
