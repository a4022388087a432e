#include "policy/eval/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

void compose_eval_init(struct compose_eval *ev)
{
    memset(ev, 0, sizeof(*ev));
    opening_list_init(&ev->ops);
    reach_result_init(&ev->res);
}

void compose_eval_release(struct compose_eval *ev)
{
    size_t i;

    if (!ev)
        return;
    reach_result_release(&ev->res);
    opening_list_release(&ev->ops);
    for (i = 0; ev->views && i < ev->n_parts; i++)
        free(ev->views[i].rules);
    free(ev->views);
    free(ev->ptrs);
    free(ev->parts);
    egress_model_release(ev->unrestricted);
    free(ev->unrestricted);
    compose_eval_init(ev);
}

/*
 * Label keys the CNIs add to an endpoint besides the pod's own labels (Calico:
 * projectcalico.org/namespace, /orchestrator, /serviceaccount, docs.tigera.io/calico/latest/
 * reference/resources/workloadendpoint, and the labels of the pod's namespace and service
 * account under the prefixes "pcns." and "pcsa.", libcalico-go lib/backend/k8s/conversion
 * constants.go NamespaceLabelPrefix, ServiceAccountLabelPrefix; Cilium:
 * io.kubernetes.pod.namespace, io.cilium.k8s.policy.*, docs.cilium.io/en/latest/security/
 * policy/kubernetes/). The inventory puts the ones it can know into a workload's labels; any
 * other such key may carry anything.
 */
static bool cni_key_open(const char *key, void *arg)
{
    const char *slash = strchr(key, '/');

    (void)arg;
    if (!strncmp(key, "io.cilium.", 10) || !strncmp(key, "io.kubernetes.", 14) ||
        !strncmp(key, "reserved:", 9) || !strncmp(key, "pcns.", 5) || !strncmp(key, "pcsa.", 5))
        return true;
    if (slash) {
        size_t n = (size_t)(slash - key), k = strlen("projectcalico.org");
        if (n >= k && !strncmp(slash - k, "projectcalico.org", k))
            return true;
    }
    return false;
}

static bool every_key_open(const char *key, void *arg)
{
    (void)key;
    (void)arg;
    return true;
}

static enum tri tri_and(enum tri a, enum tri b)
{
    if (a == TRI_FALSE || b == TRI_FALSE)
        return TRI_FALSE;
    if (a == TRI_TRUE && b == TRI_TRUE)
        return TRI_TRUE;
    return TRI_UNKNOWN;
}

/*
 * Does m's namespace part take in ns? A namespaced model's own namespace, and the namespace
 * selector (cluster-wide models; a Cilium endpointSelector may carry one too) over the labels the
 * run knows. Unknown labels: only the name is known, which the API server always sets as the
 * label kubernetes.io/metadata.name (1.21+).
 */
static enum tri ns_part(const struct compose_input *in, const struct egress_model *m,
                        const char *ns)
{
    const json_t *known;
    json_t *name_only;
    enum tri t;

    if (m->ns && strcmp(m->ns, ns))
        return TRI_FALSE;
    if (!m->ns_sel || selector_is_all(m->ns_sel))
        return TRI_TRUE;
    known = in->namespaces ? nsdb_labels(in->namespaces, ns) : NULL;
    if (known)
        return selector_eval(m->ns_sel, known, true);
    name_only = json_pack("{s:s}", "kubernetes.io/metadata.name", ns);
    if (!name_only)
        return TRI_UNKNOWN;
    t = selector_eval(m->ns_sel, name_only, false);
    json_decref(name_only);
    return t;
}

enum tri compose_applies(const struct compose_input *in, const struct egress_model *m,
                         const struct compose_subject *s)
{
    enum tri t, pods;

    if (!m->governs_egress || m->host_policy)
        return TRI_FALSE;
    if ((t = ns_part(in, m, s->ns)) == TRI_FALSE)
        return TRI_FALSE;
    if (!m->pod_sel || selector_is_all(m->pod_sel))
        pods = TRI_TRUE;
    else if (selector_is_none(m->pod_sel))
        pods = TRI_FALSE;
    else if (s->workload)
        pods = selector_eval_open(m->pod_sel, s->workload->labels,
                                  s->workload->labels_known ? cni_key_open : every_key_open,
                                  NULL);
    else if (s->pods && selector_subset(s->pods, m->pod_sel))
        pods = TRI_TRUE;
    else if (s->pods && !selector_may_overlap(s->pods, m->pod_sel))
        pods = TRI_FALSE;
    else
        pods = TRI_UNKNOWN;
    t = tri_and(t, pods);
    /* Which of the selected pods it governs is not known: maybe not all (egress.h some_pods). */
    if (t == TRI_TRUE && m->some_pods && m != s->self)
        t = TRI_UNKNOWN;
    return t;
}

int compose_derive_labels(json_t *labels, const char *ns, const char *sa)
{
    if (json_object_set_new(labels, "projectcalico.org/namespace", json_string(ns)) < 0 ||
        json_object_set_new(labels, "projectcalico.org/orchestrator", json_string("k8s")) < 0 ||
        json_object_set_new(labels, "projectcalico.org/serviceaccount", json_string(sa)) < 0 ||
        json_object_set_new(labels, "io.kubernetes.pod.namespace", json_string(ns)) < 0 ||
        json_object_set_new(labels, "io.cilium.k8s.policy.serviceaccount", json_string(sa)) < 0)
        return -1;
    return 0;
}

const struct compose_part *compose_part_of(const struct compose_eval *ev,
                                           const struct egress_model *m)
{
    size_t i;

    for (i = 0; i < ev->n_parts; i++)
        if (ev->parts[i].model == m || (ev->views && &ev->views[i] == m))
            return &ev->parts[i];
    return NULL;
}

void compose_policy_name(const struct compose_policy *p, char *buf, size_t size)
{
    char name[300];

    if (*p->ns)
        snprintf(name, sizeof(name), "%s/%s", p->ns, p->name);
    else
        snprintf(name, sizeof(name), "%s", p->name);
    if (p->file && *p->file)
        snprintf(buf, size, "%s %s (%s:%d)", p->kind, name, p->file, p->line);
    else
        snprintf(buf, size, "%s %s", p->kind, name);
}

bool compose_same_object(const struct compose_policy *a, const struct compose_policy *b)
{
    return !strcmp(a->kind, b->kind) && !strcmp(a->ns, b->ns) && !strcmp(a->name, b->name);
}

/* Adds every model of p that (may) apply. */
static int add_policy(struct compose_eval *ev, size_t cap, const struct compose_input *in,
                      const struct compose_policy *p, const struct compose_subject *s)
{
    size_t j;

    if (!p->models)
        return 0;
    for (j = 0; j < p->models->n; j++) {
        const struct egress_model *m = &p->models->models[j];
        enum tri t = compose_applies(in, m, s);
        struct compose_part *part;

        if (t == TRI_FALSE)
            continue;
        if (ev->n_parts == cap)
            return -1; /* cannot happen: cap counts every model */
        part = &ev->parts[ev->n_parts++];
        part->policy = p;
        part->model = m;
        part->applies = t;
    }
    return 0;
}

static size_t count_models(const struct compose_policy *ps, size_t n)
{
    size_t i, total = 0;

    for (i = 0; i < n; i++)
        total += ps[i].models ? ps[i].models->n : 0;
    return total;
}

/* The first position of by_ns whose policy's namespace is not below ns. */
static size_t lower_bound(const struct compose_input *in, const char *ns)
{
    size_t lo = 0, hi = in->n_policies;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(in->policies[in->by_ns[mid]].ns, ns) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * The positions of the policies that can apply in namespace ns, in input order: all of them
 * without an index, else the cluster-scoped ones and ns's own. A new array (*n entries), or NULL.
 */
static size_t *candidates(const struct compose_input *in, const char *ns, size_t *n)
{
    size_t *out = calloc(in->n_policies ? in->n_policies : 1, sizeof(*out));
    size_t i, k = 0;

    if (!out)
        return NULL;
    if (!in->by_ns) {
        for (i = 0; i < in->n_policies; i++)
            out[k++] = i;
    } else {
        for (i = lower_bound(in, ""); i < in->n_policies && !*in->policies[in->by_ns[i]].ns; i++)
            out[k++] = in->by_ns[i];
        for (i = lower_bound(in, ns);
             i < in->n_policies && !strcmp(in->policies[in->by_ns[i]].ns, ns); i++)
            out[k++] = in->by_ns[i];
        qsort(out, k, sizeof(*out), cmp_size);
    }
    *n = k;
    return out;
}

int compose_eval_run(const struct policy *pol, const struct compose_input *in,
                     const struct compose_policy *extra, size_t n_extra,
                     bool (*skip)(const struct compose_policy *p, void *arg), void *arg,
                     const struct compose_subject *s, struct compose_eval *out, struct err *e)
{
    size_t n_cand = 0, *cand = candidates(in, s->ns, &n_cand);
    size_t cap = count_models(extra, n_extra);
    size_t i, k;

    if (!cand)
        return err_set(e, "out of memory");
    for (i = 0; i < n_cand; i++)
        cap += in->policies[cand[i]].models ? in->policies[cand[i]].models->n : 0;
    if (!(out->parts = calloc(cap ? cap : 1, sizeof(*out->parts))) ||
        !(out->views = calloc(cap ? cap : 1, sizeof(*out->views))) ||
        !(out->ptrs = calloc(cap ? cap : 1, sizeof(*out->ptrs))))
        goto oom;
    for (i = 0; i < n_cand; i++) {
        const struct compose_policy *p = &in->policies[cand[i]];

        if ((!skip || !skip(p, arg)) && add_policy(out, cap, in, p, s) < 0)
            goto overflow;
    }
    free(cand);
    cand = NULL;
    for (i = 0; i < n_extra; i++)
        if (add_policy(out, cap, in, &extra[i], s) < 0)
            goto overflow;
    for (i = 0; i < out->n_parts; i++) {
        const struct compose_part *p = &out->parts[i];
        const struct egress_model *m = p->model;

        if (p->applies == TRI_TRUE) {
            /* Default deny on any applicable policy isolates (every CNI agrees on that). */
            if (m->default_deny && !out->isolating)
                out->isolating = p;
            out->ptrs[i] = m;
            continue;
        }
        /* Applies to some pods only: its denies must not take anything from the others. */
        out->views[i] = *m;
        out->views[i].rules = calloc(m->n_rules ? m->n_rules : 1, sizeof(*m->rules));
        if (!out->views[i].rules)
            goto oom;
        out->views[i].n_rules = 0;
        for (k = 0; k < m->n_rules; k++)
            if (m->rules[k].action == EGRESS_ALLOW ||
                (m->rules[k].action == EGRESS_PASS && m->pass_opens))
                out->views[i].rules[out->views[i].n_rules++] = m->rules[k];
        out->ptrs[i] = &out->views[i];
    }
    if (opening_list_build(out->ptrs, out->n_parts, &out->ops, e) < 0 ||
        reach_check(pol, s->ns, &out->ops, &out->res, e) < 0)
        return -1;
    return 0;
overflow:
    free(cand);
    return err_set(e, "internal error: composition overflow");
oom:
    free(cand);
    return err_set(e, "out of memory");
}

struct ns_pos {
    const char *ns;
    size_t pos;
};

static int cmp_ns_pos(const void *a, const void *b)
{
    const struct ns_pos *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);

    return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

int compose_index(const struct compose_policy *policies, size_t n, size_t *out)
{
    struct ns_pos *v = calloc(n ? n : 1, sizeof(*v));
    size_t i;

    if (!v)
        return -1;
    for (i = 0; i < n; i++)
        v[i] = (struct ns_pos){policies[i].ns, i};
    qsort(v, n, sizeof(*v), cmp_ns_pos);
    for (i = 0; i < n; i++)
        out[i] = v[i].pos;
    free(v);
    return 0;
}
/* A model that opens every destination on every port: the egress of pods nothing isolates. */
static struct egress_model *unrestricted_model(void)
{
    struct egress_model *m = calloc(1, sizeof(*m));
    struct egress_rule *r;
    struct egress_peer *p;

    if (!m)
        return NULL;
    egress_model_init(m);
    m->governs_egress = true;
    /*
     * After the AdminNetworkPolicies, which decide before everything, and after the
     * BaselineAdminNetworkPolicies, which decide what no NetworkPolicy isolates
     * (network-policy-api.sigs.k8s.io/api-overview): an ordered allow at the very end.
     */
    m->ordered = true;
    m->layer = LAYER_DEFAULT;
    if (!(m->kind = strdup("(no egress default deny)")) || !(m->name = strdup("")) ||
        !(r = egress_model_add_rule(m, EGRESS_ALLOW, "", NULL)) ||
        portset_add_proto(r->ports, PROTO_ANY) < 0 ||
        !(p = egress_rule_add_peer(r, PEER_ALL, "", NULL)) ||
        !(p->text = strdup("every destination (no policy with egress default deny)"))) {
        egress_model_release(m);
        free(m);
        return NULL;
    }
    return m;
}

/*
 * "Every destination" in the two kinds a Cilium CIDR deny tells apart: "Only connections destined
 * for outside of the cluster and not targeting the host will be subject to CIDR rules" (Cilium
 * api EgressCommonRule.ToCIDR): every address, and the `cluster` entity. Replaces l's "every
 * destination" openings. 0, or -1 on out of memory.
 */
static int split_every(struct opening_list *l)
{
    struct opening_list out;
    size_t i;

    opening_list_init(&out);
    for (i = 0; i < l->n; i++) {
        struct opening o = l->items[i];
        struct egress_peer addr = o.peer, ent = o.peer;
        int rc;

        if (o.peer.kind != PEER_ALL) {
            if (opening_list_append(&out, &o) < 0)
                goto fail;
            continue;
        }
        addr.kind = PEER_CIDR;
        ent.kind = PEER_ENTITY;
        ent.entity = (char *)"cluster"; /* read only: appending copies it */
        if (!(addr.cidrs = cidrset_new()) || cidrset_add_all(addr.cidrs, 0) < 0) {
            cidrset_free(addr.cidrs);
            goto fail;
        }
        o.peer = addr;
        rc = opening_list_append(&out, &o);
        cidrset_free(addr.cidrs);
        o.peer = ent;
        if (rc < 0 || opening_list_append(&out, &o) < 0)
            goto fail;
    }
    opening_list_release(l);
    *l = out;
    return 0;
fail:
    opening_list_release(&out);
    return -1;
}

/*
 * Appends "every destination" less what the parts that surely apply deny before it: the ordered
 * ones (AdminNetworkPolicy, BaselineAdminNetworkPolicy) by their order, and every deny of the
 * unordered ones, as Cilium's deny wins over every allow (opening.h).
 */
static int add_unrestricted(struct compose_eval *ev, struct opening_list *out, bool *narrowed)
{
    const struct egress_model **ordered = calloc(ev->n_parts + 1, sizeof(*ordered));
    struct opening_list all, l;
    size_t i, k, n = 0;
    struct err e;

    opening_list_init(&all);
    opening_list_init(&l);
    if (!ordered || (!ev->unrestricted && !(ev->unrestricted = unrestricted_model())))
        goto fail;
    ordered[n++] = ev->unrestricted;
    for (i = 0; i < ev->n_parts; i++)
        if (ev->parts[i].applies == TRI_TRUE && ev->parts[i].model->ordered)
            ordered[n++] = ev->parts[i].model;
    if (opening_list_build(ordered, n, &all, &e) < 0)
        goto fail;
    for (i = 0; i < all.n; i++)
        if (all.items[i].model == ev->unrestricted && opening_list_append(&l, &all.items[i]) < 0)
            goto fail;
    for (i = 0; i < ev->n_parts; i++) {
        const struct egress_model *m = ev->parts[i].model;

        if (ev->parts[i].applies != TRI_TRUE || m->ordered)
            continue;
        for (k = 0; k < m->n_rules; k++)
            for (size_t j = 0; m->rules[k].action == EGRESS_DENY && j < m->rules[k].n_peers; j++) {
                const struct egress_peer *d = &m->rules[k].peers[j];

                if ((d->kind == PEER_CIDR && split_every(&l) < 0) ||
                    opening_list_subtract(&l, d, m->rules[k].ports) < 0)
                    goto fail;
            }
    }
    for (i = 0; i < l.n; i++)
        if (opening_list_append(out, &l.items[i]) < 0)
            goto fail;
    *narrowed |= l.n != 1 || l.items[0].peer.kind != PEER_ALL || !portset_is_all(l.items[0].ports);
    opening_list_release(&all);
    opening_list_release(&l);
    free(ordered);
    return 0;
fail:
    opening_list_release(&all);
    opening_list_release(&l);
    free(ordered);
    return -1;
}

/* Takes from l whatever a deny of a part that may apply to some pods may take. */
static int subtract_maybe_denies(const struct compose_eval *ev, struct opening_list *l)
{
    size_t i, k, j;

    for (i = 0; i < ev->n_parts; i++) {
        const struct egress_model *m = ev->parts[i].model;

        if (ev->parts[i].applies == TRI_TRUE)
            continue;
        for (k = 0; k < m->n_rules; k++)
            for (j = 0; m->rules[k].action == EGRESS_DENY && j < m->rules[k].n_peers; j++)
                if (opening_list_subtract_all(l, &m->rules[k].peers[j], m->rules[k].ports,
                                              m->cidrs_match_all) < 0)
                    return -1;
    }
    return 0;
}

int compose_eval_bounds(struct compose_eval *ev, struct opening_list *upper,
                        struct opening_list *lower, bool *exact, struct err *e)
{
    bool may_isolate = false, narrowed = false;
    size_t i;

    *exact = true;
    for (i = 0; i < ev->n_parts; i++) {
        *exact &= ev->parts[i].applies == TRI_TRUE;
        may_isolate |= ev->parts[i].model->default_deny;
    }
    for (i = 0; i < ev->ops.n; i++) {
        const struct compose_part *p = compose_part_of(ev, ev->ops.items[i].model);

        if (opening_list_append(upper, &ev->ops.items[i]) < 0 ||
            (p && p->applies == TRI_TRUE && opening_list_append(lower, &ev->ops.items[i]) < 0))
            goto oom;
    }
    /*
     * What a deny takes from "every destination" can be told only in part (a name may resolve
     * to a denied address): then what was open there is not exactly known.
     */
    if ((!ev->isolating && add_unrestricted(ev, upper, &narrowed) < 0) ||
        (!may_isolate && add_unrestricted(ev, lower, &narrowed) < 0))
        goto oom;
    *exact &= !narrowed;
    /* A deny of a part that may apply to some pods may take from what they reach. */
    if (subtract_maybe_denies(ev, lower) < 0)
        goto oom;
    return 0;
oom:
    return err_set(e, "out of memory");
}

int compose_eval_unisolated(struct compose_eval *ev, struct opening_list *out, struct err *e)
{
    struct opening_list l;
    bool narrowed = false;
    size_t i;

    opening_list_init(&l);
    if (add_unrestricted(ev, &l, &narrowed) < 0 || subtract_maybe_denies(ev, &l) < 0)
        goto oom;
    for (i = 0; i < l.n; i++)
        if (opening_list_append(out, &l.items[i]) < 0)
            goto oom;
    opening_list_release(&l);
    return 0;
oom:
    opening_list_release(&l);
    return err_set(e, "out of memory");
}
