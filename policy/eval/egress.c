#include "policy/eval/egress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"

/*
 * Grows an array of `size`-byte elements to hold at least n+1; 0 or -1 on OOM. It starts at one:
 * almost every object has one model, and `check` keeps the models of every policy it reads.
 */
static int reserve(void **items, size_t *alloc, size_t n, size_t size)
{
    size_t na;
    void *p;

    if (n < *alloc)
        return 0;
    na = *alloc ? *alloc * 2 : 1;
    if (na > ((size_t)-1) / size)
        return -1;
    p = realloc(*items, na * size);
    if (!p)
        return -1;
    *items = p;
    *alloc = na;
    return 0;
}

void egress_model_init(struct egress_model *m)
{
    memset(m, 0, sizeof(*m));
}

void egress_setref_free(struct egress_setref *r)
{
    if (!r)
        return;
    selector_free(r->sel);
    free(r->name);
    free(r->ns_name);
    selector_free(r->ns_sel);
    free(r);
}

struct egress_setref *egress_setref_dup(const struct egress_setref *src)
{
    struct egress_setref *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    *r = *src;
    r->sel = NULL;
    r->name = NULL;
    r->ns_name = NULL;
    r->ns_sel = NULL;
    if ((src->sel && !(r->sel = selector_dup(src->sel))) ||
        (src->name && !(r->name = strdup(src->name))) ||
        (src->ns_name && !(r->ns_name = strdup(src->ns_name))) ||
        (src->ns_sel && !(r->ns_sel = selector_dup(src->ns_sel)))) {
        egress_setref_free(r);
        return NULL;
    }
    return r;
}

static void peer_release(struct egress_peer *p)
{
    size_t i;

    cidrset_free(p->cidrs);
    for (i = 0; i < p->n_fqdns; i++)
        free(p->fqdns[i]);
    free(p->fqdns);
    free(p->cluster.ns_name);
    selector_free(p->cluster.ns_sel);
    selector_free(p->cluster.pod_sel);
    free(p->entity);
    free(p->path);
    free(p->text);
    egress_setref_free(p->setref);
}

static void rule_release(struct egress_rule *r)
{
    size_t i;

    for (i = 0; i < r->n_peers; i++)
        peer_release(&r->peers[i]);
    free(r->peers);
    portset_free(r->ports);
    free(r->path);
}

void egress_model_release(struct egress_model *m)
{
    size_t i;

    if (!m)
        return;
    free(m->kind);
    free(m->name);
    free(m->path);
    free(m->ns);
    free(m->tier);
    selector_free(m->ns_sel);
    selector_free(m->pod_sel);
    for (i = 0; i < m->n_rules; i++)
        rule_release(&m->rules[i]);
    free(m->rules);
    for (i = 0; i < m->n_notes; i++) {
        free(m->notes[i].path);
        free(m->notes[i].message);
    }
    free(m->notes);
    egress_model_init(m);
}

void egress_model_detach(struct egress_model *m, bool texts)
{
    size_t i, k;

    for (i = 0; i < m->n_rules; i++) {
        struct egress_rule *r = &m->rules[i];

        r->node = NULL;
        if (texts) {
            free(r->path);
            r->path = NULL;
        }
        /* kept to the end of a run, never added to again: no room to spare */
        portset_shrink(r->ports);
        for (k = 0; k < r->n_peers; k++) {
            r->peers[k].node = NULL;
            cidrset_shrink(r->peers[k].cidrs);
            if (texts) {
                free(r->peers[k].path);
                free(r->peers[k].text);
                r->peers[k].path = r->peers[k].text = NULL;
            }
        }
    }
    for (i = 0; i < m->n_notes; i++) {
        free(m->notes[i].path);
        free(m->notes[i].message);
    }
    free(m->notes);
    m->notes = NULL;
    m->n_notes = 0;
}

void egress_list_init(struct egress_list *l)
{
    memset(l, 0, sizeof(*l));
}

void egress_list_release(struct egress_list *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        egress_model_release(&l->models[i]);
    free(l->models);
    egress_list_init(l);
}

struct egress_model *egress_list_add(struct egress_list *l)
{
    struct egress_model *m;

    if (reserve((void **)&l->models, &l->alloc, l->n, sizeof(*l->models)) < 0)
        return NULL;
    m = &l->models[l->n++];
    egress_model_init(m);
    return m;
}

/*
 * Grows *arr (n elements of size bytes) by one zeroed element and returns it; an element's
 * address stays put while the caller fills it (it moves only on a later append). The capacity
 * is implied by n (the power of two at or above it), so a rule of 100,000 peers costs log n
 * reallocations, not n (each a copy of everything, in the worst case).
 */
static void *append_zeroed(void **arr, size_t n, size_t size)
{
    char *p = *arr;

    if (!n || !(n & (n - 1))) { /* full: 0, 1, 2, 4, 8 ... */
        size_t cap = n ? 2 * n : 1;

        if (cap > ((size_t)-1) / size || !(p = realloc(*arr, cap * size)))
            return NULL;
        *arr = p;
    }
    memset(p + n * size, 0, size);
    return p + n * size;
}

struct egress_rule *egress_model_add_rule(struct egress_model *m, enum egress_action action,
                                          const char *path, const json_t *node)
{
    struct egress_rule *r = append_zeroed((void **)&m->rules, m->n_rules, sizeof(*r));

    if (!r)
        return NULL;
    r->action = action;
    r->node = node;
    r->ports = portset_new();
    r->path = strdup(path ? path : "");
    if (!r->ports || !r->path) {
        portset_free(r->ports);
        free(r->path);
        return NULL;
    }
    m->n_rules++;
    return r;
}

struct egress_peer *egress_rule_add_peer(struct egress_rule *r, enum peer_kind kind,
                                         const char *path, const json_t *node)
{
    struct egress_peer *p = append_zeroed((void **)&r->peers, r->n_peers, sizeof(*p));

    if (!p)
        return NULL;
    p->kind = kind;
    p->node = node;
    p->path = strdup(path ? path : "");
    if (!p->path)
        return NULL;
    if (kind == PEER_CIDR) {
        p->cidrs = cidrset_new();
        if (!p->cidrs) {
            free(p->path);
            return NULL;
        }
    }
    r->n_peers++;
    return p;
}

int egress_model_note(struct egress_model *m, const json_t *node, const char *path,
                      const char *fmt, ...)
{
    struct egress_note *notes, *n;
    struct buf b;
    va_list ap;
    char *msg;

    buf_init_cut(&b, EGRESS_NOTE_CAP, "...");
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!(msg = buf_detach(&b, NULL)))
        return -1;

    notes = realloc(m->notes, (m->n_notes + 1) * sizeof(*notes));
    if (!notes) {
        free(msg);
        return -1;
    }
    m->notes = notes;
    n = &notes[m->n_notes];
    n->node = node;
    n->message = msg;
    n->path = strdup(path ? path : "");
    if (!n->path) {
        free(msg);
        return -1;
    }
    m->n_notes++;
    return 0;
}

int egress_peer_set_text(struct egress_peer *p, const char *fmt, ...)
{
    struct buf b;
    va_list ap;
    char *t;

    buf_init_cut(&b, EGRESS_PEER_TEXT_CAP, "...");
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!(t = buf_detach(&b, NULL)))
        return -1;
    free(p->text);
    p->text = t;
    return 0;
}

int egress_peer_add_fqdn(struct egress_peer *p, const char *pattern)
{
    char **slot;
    char *s = strdup(pattern);

    if (!s)
        return -1;
    if (!(slot = append_zeroed((void **)&p->fqdns, p->n_fqdns, sizeof(*p->fqdns)))) {
        free(s);
        return -1;
    }
    *slot = s;
    p->n_fqdns++;
    return 0;
}

int egress_peer_copy(struct egress_peer *dst, const struct egress_peer *src)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
    dst->node = src->node;
    if ((src->cidrs && !(dst->cidrs = cidrset_dup(src->cidrs))) ||
        (src->path && !(dst->path = strdup(src->path))) ||
        (src->text && !(dst->text = strdup(src->text))) ||
        (src->entity && !(dst->entity = strdup(src->entity))) ||
        (src->cluster.ns_name && !(dst->cluster.ns_name = strdup(src->cluster.ns_name))) ||
        (src->cluster.ns_sel && !(dst->cluster.ns_sel = selector_dup(src->cluster.ns_sel))) ||
        (src->cluster.pod_sel && !(dst->cluster.pod_sel = selector_dup(src->cluster.pod_sel))) ||
        (src->setref && !(dst->setref = egress_setref_dup(src->setref))))
        goto fail;
    for (i = 0; i < src->n_fqdns; i++)
        if (egress_peer_add_fqdn(dst, src->fqdns[i]) < 0)
            goto fail;
    return 0;
fail:
    egress_peer_release(dst);
    return -1;
}

static int copy_rule(struct egress_rule *dst, const struct egress_rule *src)
{
    size_t i;

    dst->action = src->action;
    dst->node = src->node;
    if ((src->path && !(dst->path = strdup(src->path))) ||
        !(dst->ports = portset_dup(src->ports)) ||
        (src->n_peers && !(dst->peers = calloc(src->n_peers, sizeof(*dst->peers)))))
        return -1;
    for (i = 0; i < src->n_peers; i++, dst->n_peers++)
        if (egress_peer_copy(&dst->peers[i], &src->peers[i]) < 0)
            return -1;
    return 0;
}

int egress_model_copy(struct egress_model *dst, const struct egress_model *src)
{
    size_t i;

    /* Scalars first (flags, order, layer), then every owned pointer replaced by a copy. */
    *dst = *src;
    dst->kind = dst->name = dst->path = dst->ns = dst->tier = NULL;
    dst->ns_sel = dst->pod_sel = NULL;
    dst->rules = NULL;
    dst->n_rules = 0;
    dst->notes = NULL;
    dst->n_notes = 0;
    if ((src->kind && !(dst->kind = strdup(src->kind))) ||
        (src->name && !(dst->name = strdup(src->name))) ||
        (src->path && !(dst->path = strdup(src->path))) ||
        (src->ns && !(dst->ns = strdup(src->ns))) ||
        (src->tier && !(dst->tier = strdup(src->tier))) ||
        (src->ns_sel && !(dst->ns_sel = selector_dup(src->ns_sel))) ||
        (src->pod_sel && !(dst->pod_sel = selector_dup(src->pod_sel))) ||
        (src->n_rules && !(dst->rules = calloc(src->n_rules, sizeof(*dst->rules)))) ||
        (src->n_notes && !(dst->notes = calloc(src->n_notes, sizeof(*dst->notes)))))
        goto fail;
    for (i = 0; i < src->n_rules; i++) {
        /* Counted before the copy: a rule half copied is released with the model. */
        dst->n_rules++;
        if (copy_rule(&dst->rules[i], &src->rules[i]) < 0)
            goto fail;
    }
    for (i = 0; i < src->n_notes; i++) {
        dst->n_notes++;
        dst->notes[i].node = src->notes[i].node;
        if ((src->notes[i].path && !(dst->notes[i].path = strdup(src->notes[i].path))) ||
            (src->notes[i].message && !(dst->notes[i].message = strdup(src->notes[i].message))))
            goto fail;
    }
    return 0;
fail:
    egress_model_release(dst);
    return -1;
}

void egress_peer_release(struct egress_peer *p)
{
    if (!p)
        return;
    peer_release(p);
    memset(p, 0, sizeof(*p));
}

const char *egress_action_name(enum egress_action a)
{
    switch (a) {
    case EGRESS_ALLOW:
        return "allow";
    case EGRESS_DENY:
        return "deny";
    case EGRESS_PASS:
        return "pass";
    case EGRESS_LOG:
        return "log";
    }
    return "?";
}

const char *egress_peer_kind_name(enum peer_kind k)
{
    switch (k) {
    case PEER_ALL:
        return "all";
    case PEER_CIDR:
        return "cidr";
    case PEER_FQDN:
        return "fqdn";
    case PEER_CLUSTER:
        return "cluster";
    case PEER_ENTITY:
        return "entity";
    case PEER_UNKNOWN:
        return "unknown";
    }
    return "?";
}

/* A NULL selector in a model means "every label set" (see egress.h). */
static int format_selector(const struct selector *s, struct buf *out)
{
    if (!s)
        return buf_puts(out, "all()");
    return selector_format(s, out);
}

int egress_peer_format(const struct egress_peer *p, struct buf *out)
{
    size_t i;

    buf_puts(out, egress_peer_kind_name(p->kind));
    switch (p->kind) {
    case PEER_ALL:
        break;
    case PEER_CIDR:
        buf_puts(out, " ");
        if (p->cidrs)
            cidrset_format(p->cidrs, 0, out);
        else
            buf_puts(out, "nothing");
        break;
    case PEER_FQDN:
        for (i = 0; i < p->n_fqdns; i++)
            buf_printf(out, "%s%s", i ? ", " : " ", p->fqdns[i]);
        if (!p->n_fqdns)
            buf_puts(out, " nothing");
        break;
    case PEER_CLUSTER:
        if (p->cluster.ns_name) {
            buf_printf(out, " ns=%s", p->cluster.ns_name);
        } else {
            buf_puts(out, " namespaces=");
            format_selector(p->cluster.ns_sel, out);
        }
        buf_puts(out, " pods=");
        format_selector(p->cluster.pod_sel, out);
        break;
    case PEER_ENTITY:
    case PEER_UNKNOWN:
        buf_printf(out, " %s", p->entity ? p->entity : "?");
        break;
    }
    return out->failed ? -1 : 0;
}

int egress_model_format(const struct egress_model *m, struct buf *out)
{
    size_t i, j;

    buf_printf(out, "model %s %s", m->kind ? m->kind : "?", m->name ? m->name : "?");
    if (m->path && *m->path)
        buf_printf(out, " %s", m->path);
    buf_puts(out, "\nsubject ");
    if (m->ns) {
        buf_printf(out, "ns=%s", m->ns);
    } else {
        buf_puts(out, "namespaces=");
        format_selector(m->ns_sel, out);
    }
    buf_puts(out, " pods=");
    format_selector(m->pod_sel, out);
    if (m->host_policy)
        buf_puts(out, " host");
    if (m->some_pods)
        buf_puts(out, " some-pods");
    buf_puts(out, m->governs_egress ? " egress=governed" : " egress=ungoverned");
    if (m->default_deny)
        buf_puts(out, " default-deny");
    if (m->ordered)
        buf_puts(out, " ordered");
    if (m->has_order)
        buf_printf(out, " order=%g", m->order);
    if (m->layer != LAYER_NAMESPACE)
        buf_puts(out, m->layer == LAYER_ADMIN ? " layer=admin" : " layer=baseline");
    if (m->tier)
        buf_printf(out, " tier=%s", m->tier);
    buf_puts(out, "\n");
    for (i = 0; i < m->n_rules; i++) {
        const struct egress_rule *r = &m->rules[i];

        buf_printf(out, "%s %s ports ", egress_action_name(r->action),
                   r->path && *r->path ? r->path : "-");
        if (r->ports)
            portset_format(r->ports, out);
        else
            buf_puts(out, "no port");
        buf_puts(out, "\n");
        for (j = 0; j < r->n_peers; j++) {
            const struct egress_peer *p = &r->peers[j];

            buf_puts(out, "  to ");
            egress_peer_format(p, out);
            if (p->path && *p->path)
                buf_printf(out, " [%s]", p->path);
            if (p->text)
                buf_printf(out, " \"%s\"", p->text);
            buf_puts(out, "\n");
        }
    }
    for (i = 0; i < m->n_notes; i++)
        buf_printf(out, "note %s: %s\n", m->notes[i].path && *m->notes[i].path ? m->notes[i].path : "-",
                   m->notes[i].message);
    return out->failed ? -1 : 0;
}
