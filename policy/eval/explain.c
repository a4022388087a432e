#include "policy/eval/explain.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/buf.h"
#include "policy/sets/portset.h"

/*
 * The most a text of the explanation may take (a peer's every prefix, a selector): they quote
 * the objects and are cut there with "...", which only shortens what is shown.
 */
#define EXPLAIN_TEXT_CAP ((size_t)65536)

/* Sets a member to a new value (stolen); false on failure. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

/* What a formatter appended to b, as a new JSON string (NULL on failure); releases b. */
static json_t *buf_json(struct buf *b)
{
    json_t *j = b->failed ? NULL : json_string(buf_str(b));

    buf_release(b);
    return j;
}

static json_t *text_of_peer(const struct egress_peer *p)
{
    struct buf b;

    buf_init_cut(&b, EXPLAIN_TEXT_CAP, "...");
    egress_peer_format(p, &b);
    return buf_json(&b);
}

static json_t *text_of_ports(const struct portset *ps)
{
    struct buf b;

    buf_init_cut(&b, EXPLAIN_TEXT_CAP, "...");
    portset_format(ps, &b);
    return buf_json(&b);
}

/* "Kind ns/name (file:line)" of a part, with " specs[i]" for one rule of several. */
static void part_name(const struct compose_part *p, char *buf, size_t size)
{
    char name[700];

    compose_policy_name(p->policy, name, sizeof(name));
    if (p->model->path && *p->model->path)
        snprintf(buf, size, "%s %s", name, p->model->path);
    else
        snprintf(buf, size, "%s", name);
}

static json_t *rule_json(const struct egress_rule *r)
{
    json_t *j = json_object(), *to = json_array();
    size_t i;

    if (!j || !to || !put(j, "action", json_string(egress_action_name(r->action))) ||
        !put(j, "path", json_string(r->path ? r->path : "")) ||
        !put(j, "ports", text_of_ports(r->ports)))
        goto fail;
    for (i = 0; i < r->n_peers; i++)
        if (json_array_append_new(to, text_of_peer(&r->peers[i])) < 0)
            goto fail;
    if (!put(j, "to", to))
        goto fail_j;
    return j;
fail:
    json_decref(to);
fail_j:
    json_decref(j);
    return NULL;
}

static json_t *part_json(const struct compose_part *p)
{
    const struct egress_model *m = p->model;
    json_t *j = json_object(), *rules = json_array();
    char name[800];
    size_t i;

    part_name(p, name, sizeof(name));
    if (!j || !rules || !put(j, "policy", json_string(name)) ||
        !put(j, "kind", json_string(p->policy->kind)) ||
        !put(j, "namespace", json_string(p->policy->ns)) ||
        !put(j, "name", json_string(p->policy->name)) ||
        !put(j, "file", json_string(p->policy->file ? p->policy->file : "")) ||
        !put(j, "line", json_integer(p->policy->line)) ||
        !put(j, "path", json_string(m->path ? m->path : "")) ||
        !put(j, "applies", json_string(p->applies == TRI_TRUE ? "yes" : "maybe")) ||
        !put(j, "defaultDeny", json_boolean(m->default_deny)) ||
        !put(j, "ordered", json_boolean(m->ordered)) ||
        (m->has_order && !put(j, "order", json_real(m->order))))
        goto fail;
    for (i = 0; i < m->n_rules; i++)
        if (json_array_append_new(rules, rule_json(&m->rules[i])) < 0)
            goto fail;
    if (!put(j, "rules", rules))
        goto fail_j;
    return j;
fail:
    json_decref(rules);
fail_j:
    json_decref(j);
    return NULL;
}

static const char *part_label(const struct compose_eval *ev, const struct egress_model *m,
                              char *buf, size_t size)
{
    const struct compose_part *p = compose_part_of(ev, m);

    if (p)
        part_name(p, buf, size);
    else
        snprintf(buf, size, "%s %s", m->kind ? m->kind : "?", m->name ? m->name : "?");
    return buf;
}

json_t *explain_subject(const struct policy *pol, const struct compose_subject *s,
                        const struct compose_eval *ev)
{
    json_t *j = json_object(), *arr;
    char name[800];
    size_t i;

    (void)pol;
    if (!j || !put(j, "namespace", json_string(s->ns)))
        goto fail;
    if (s->workload &&
        !put(j, "workload",
             json_pack("{s:s, s:s, s:s, s:i, s:b}", "kind", s->workload->kind, "name",
                       s->workload->name, "file", s->workload->file ? s->workload->file : "",
                       "line", s->workload->line, "labelsKnown", s->workload->labels_known)))
        goto fail;
    if (!s->workload && s->pods) {
        struct buf b;

        buf_init_cut(&b, EXPLAIN_TEXT_CAP, "...");
        selector_format(s->pods, &b);
        if (!put(j, "pods", buf_json(&b)))
            goto fail;
    }
    if (ev->isolating)
        part_name(ev->isolating, name, sizeof(name));
    if (!put(j, "isolated", json_boolean(ev->isolating != NULL)) ||
        !put(j, "isolatedBy", ev->isolating ? json_string(name) : json_null()))
        goto fail;
    if (!put(j, "policies", arr = json_array()))
        goto fail;
    for (i = 0; i < ev->n_parts; i++)
        if (json_array_append_new(arr, part_json(&ev->parts[i])) < 0)
            goto fail;
    if (!put(j, "open", arr = json_array()))
        goto fail;
    for (i = 0; i < ev->ops.n; i++) {
        const struct opening *o = &ev->ops.items[i];

        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:o, s:o}", "policy",
                               part_label(ev, o->model, name, sizeof(name)), "path",
                               o->orig && o->orig->path ? o->orig->path : "", "to",
                               text_of_peer(&o->peer), "ports", text_of_ports(o->ports))) < 0)
            goto fail;
    }
    if (!put(j, "escapes", arr = json_array()))
        goto fail;
    for (i = 0; i < ev->res.n_escapes; i++) {
        const struct reach_escape *x = &ev->res.escapes[i];

        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s}", "policy",
                               part_label(ev, x->model, name, sizeof(name)), "path",
                               x->peer && x->peer->path ? x->peer->path : "", "what",
                               x->what ? x->what : "", "message",
                               x->message ? x->message : "")) < 0)
            goto fail;
    }
    if (!put(j, "inside", json_boolean(ev->isolating && !ev->res.n_escapes)))
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

int explain_dest_parse(const char *text, struct explain_dest *out, struct err *e)
{
    char host[300], *port = NULL, *proto = NULL;
    const char *p;
    struct err fe = {0};

    memset(out, 0, sizeof(*out));
    out->proto = PROTO_TCP;
    snprintf(out->text, sizeof(out->text), "%s", text);
    if (!*text || strlen(text) >= sizeof(host))
        return err_set(e, "invalid destination \"%s\": want ADDRESS|NAME[:PORT[/PROTO]]", text);
    snprintf(host, sizeof(host), "%s", text);
    if (host[0] == '[') { /* [v6]:port */
        char *close = strchr(host, ']');

        if (!close)
            return err_set(e, "invalid destination \"%s\": missing ]", text);
        p = text + (close - host) + 1; /* just after ']' */
        *close = '\0';
        memmove(host, host + 1, strlen(host + 1) + 1);
        if (*p == ':')
            port = strdup(p + 1);
        else if (*p)
            return err_set(e, "invalid destination \"%s\": want [ADDRESS]:PORT", text);
    } else if (strchr(host, ':') && strchr(host, ':') == strrchr(host, ':')) {
        char *colon = strchr(host, ':');

        *colon = '\0';
        port = strdup(colon + 1);
    }
    if (port && (proto = strchr(port, '/')))
        *proto++ = '\0';
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);

        if (!*port || *end || v < 1 || v > 65535) {
            err_set(e, "invalid destination \"%s\": port must be 1-65535", text);
            free(port);
            return -1;
        }
        out->has_port = true;
        out->port = (unsigned)v;
        if (proto && proto_parse(proto, &out->proto, &fe) < 0) {
            err_set(e, "invalid destination \"%s\": %s", text, fe.msg);
            free(port);
            return -1;
        }
        if (out->proto == PROTO_ANY) {
            err_set(e, "invalid destination \"%s\": name one protocol", text);
            free(port);
            return -1;
        }
    }
    free(port);
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->is_addr = true;
        out->family = 4;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->is_addr = true;
        out->family = 6;
    } else if (fqdn_normalize(host, false, out->name, &fe) < 0) {
        return err_set(e, "invalid destination \"%s\": %s", text, fe.msg);
    }
    return 0;
}

/* Is the address outside every private, shared, loopback and link-local range (so `world`)? */
static bool is_public(const struct explain_dest *d)
{
    static const char *const private_ranges[] = {
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "0.0.0.0/8", "fc00::/7", "fe80::/10", "::1/128", "::/128",
    };
    size_t i;

    for (i = 0; i < sizeof(private_ranges) / sizeof(private_ranges[0]); i++) {
        struct cidr c;
        struct err e;

        if (cidr_parse(private_ranges[i], CIDR_STRICT, &c, NULL, &e) == 0 &&
            cidr_contains_addr(&c, d->family, d->addr))
            return false;
    }
    return true;
}

/* Does the peer take in the destination? */
static enum tri peer_match(const struct egress_peer *p, const struct explain_dest *d)
{
    size_t i;

    switch (p->kind) {
    case PEER_ALL:
        return TRI_TRUE;
    case PEER_CIDR:
        if (!p->cidrs)
            return TRI_FALSE;
        if (d->is_addr)
            return cidrset_contains_addr(p->cidrs, d->family, d->addr) ? TRI_TRUE : TRI_FALSE;
        /* A name resolves to addresses we do not know. */
        return cidrset_is_all(p->cidrs, 0) ? TRI_TRUE : TRI_UNKNOWN;
    case PEER_FQDN:
        if (d->is_addr)
            return TRI_UNKNOWN; /* the address may be one the names resolve to */
        for (i = 0; i < p->n_fqdns; i++)
            if (fqdn_matches(p->fqdns[i], d->name))
                return TRI_TRUE;
        return TRI_FALSE;
    case PEER_ENTITY:
        if (p->entity && !strcmp(p->entity, "world"))
            return d->is_addr && is_public(d) ? TRI_TRUE : TRI_UNKNOWN;
        return TRI_UNKNOWN;
    case PEER_CLUSTER:
    case PEER_UNKNOWN:
        return TRI_UNKNOWN;
    }
    return TRI_UNKNOWN;
}

static enum tri ports_match(const struct portset *ps, const struct explain_dest *d)
{
    struct portset *whole;
    enum tri t;

    if (d->has_port)
        return portset_contains(ps, d->proto, d->port) ? TRI_TRUE : TRI_FALSE;
    whole = portset_new();
    if (!whole || portset_add_proto(whole, d->proto) < 0) {
        portset_free(whole);
        return TRI_UNKNOWN;
    }
    t = portset_subset(whole, ps) ? TRI_TRUE : portset_overlaps(whole, ps) ? TRI_UNKNOWN
                                                                          : TRI_FALSE;
    portset_free(whole);
    return t;
}

static enum tri rule_match(const struct egress_rule *r, const struct explain_dest *d)
{
    enum tri best = TRI_FALSE, pm = ports_match(r->ports, d);
    size_t i;

    if (pm == TRI_FALSE)
        return TRI_FALSE;
    for (i = 0; i < r->n_peers && best != TRI_TRUE; i++) {
        enum tri t = peer_match(&r->peers[i], d);

        if (t == TRI_TRUE)
            best = TRI_TRUE;
        else if (t == TRI_UNKNOWN)
            best = TRI_UNKNOWN;
    }
    if (best == TRI_TRUE && pm == TRI_UNKNOWN)
        best = TRI_UNKNOWN;
    return best;
}

struct trace {
    json_t *chain;
    bool allow_yes, allow_maybe, deny_yes, deny_maybe;
    char decided[900];          /* what decides, once known */
    char allow_by[900], deny_by[900]; /* unordered: the first allow and deny that match */
};

static int link(struct trace *t, const struct compose_part *p, const struct egress_rule *r,
                enum tri m, const char *effect)
{
    char name[800];

    part_name(p, name, sizeof(name));
    return json_array_append_new(t->chain,
                                 json_pack("{s:s, s:s, s:s, s:s, s:s}", "policy", name, "path",
                                           r->path ? r->path : "", "action",
                                           egress_action_name(r->action), "match",
                                           m == TRI_TRUE ? "yes" : "maybe", "effect", effect));
}

/* Records "what <rule> of <policy>" into buf unless something is there already. */
static void decide(char *buf, size_t size, const struct compose_part *p,
                   const struct egress_rule *r, const char *what)
{
    char name[800];

    if (buf[0])
        return;
    part_name(p, name, sizeof(name));
    snprintf(buf, size, "%s %s of %s", what, r->path ? r->path : "", name);
}

/* Kubernetes and Cilium: any allow opens, any deny of a policy applying for sure wins. */
static int trace_unordered(struct trace *t, const struct compose_eval *ev,
                           const struct explain_dest *d)
{
    size_t i, k;

    for (i = 0; i < ev->n_parts; i++) {
        const struct compose_part *p = &ev->parts[i];

        if (p->model->ordered)
            continue;
        for (k = 0; k < p->model->n_rules; k++) {
            const struct egress_rule *r = &p->model->rules[k];
            enum tri m = rule_match(r, d);

            if (m == TRI_FALSE || r->action == EGRESS_LOG || r->action == EGRESS_PASS)
                continue;
            if (r->action == EGRESS_DENY && p->applies != TRI_TRUE) {
                if (link(t, p, r, m, "ignored: the policy may not apply to these pods") < 0)
                    return -1;
                continue;
            }
            if (r->action == EGRESS_DENY) {
                if (m == TRI_TRUE) {
                    t->deny_yes = true;
                    decide(t->deny_by, sizeof(t->deny_by), p, r, "denied by");
                } else {
                    t->deny_maybe = true;
                }
                if (link(t, p, r, m, "deny: takes precedence over every allow") < 0)
                    return -1;
                continue;
            }
            if (m == TRI_TRUE && p->applies == TRI_TRUE) {
                t->allow_yes = true;
                decide(t->allow_by, sizeof(t->allow_by), p, r, "allowed by");
            } else
                t->allow_maybe = true;
            if (link(t, p, r, p->applies == TRI_TRUE ? m : TRI_UNKNOWN, "allow") < 0)
                return -1;
        }
    }
    return 0;
}

static int cmp_part_order(const void *a, const void *b)
{
    const struct compose_part *x = *(const struct compose_part *const *)a;
    const struct compose_part *y = *(const struct compose_part *const *)b;

    /* as opening.c sorts them: layer (admin, namespace, baseline), then order */
    if (x->model->layer != y->model->layer)
        return x->model->layer < y->model->layer ? -1 : 1;
    if (x->model->has_order != y->model->has_order)
        return x->model->has_order ? -1 : 1;
    if (x->model->has_order && x->model->order != y->model->order)
        return x->model->order < y->model->order ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Do the ordered parts of p's layer span more than one Calico tier? */
static bool tiers_unordered(const struct compose_part *const *sorted, size_t n,
                            const struct compose_part *p)
{
    for (size_t i = 0; i < n; i++) {
        const struct egress_model *m = sorted[i]->model;

        if (m->layer == p->model->layer &&
            (!m->tier != !p->model->tier || (m->tier && strcmp(m->tier, p->model->tier))))
            return true;
    }
    return false;
}

/*
 * Calico: policies by order, first matching rule decides, Pass leaves the policy. Across tiers
 * the order is the Tier objects' (calico.c), not known here: there a match decides nothing.
 */
static int trace_ordered(struct trace *t, const struct compose_eval *ev,
                         const struct explain_dest *d, bool *decided)
{
    const struct compose_part **sorted = calloc(ev->n_parts ? ev->n_parts : 1, sizeof(*sorted));
    size_t n = 0, i, k;
    bool maybe_before = false, admin_passed = false;
    int rc = -1;

    if (!sorted)
        return -1;
    for (i = 0; i < ev->n_parts; i++)
        if (ev->parts[i].model->ordered)
            sorted[n++] = &ev->parts[i];
    qsort(sorted, n, sizeof(*sorted), cmp_part_order);
    for (i = 0; i < n && !*decided; i++) {
        const struct compose_part *p = sorted[i];
        bool tiers = tiers_unordered(sorted, n, p);

        /* An admin Pass skips "any remaining ANP rules" (adminnetworkpolicy_types.go). */
        if (admin_passed && p->model->layer == LAYER_ADMIN)
            continue;
        for (k = 0; k < p->model->n_rules; k++) {
            const struct egress_rule *r = &p->model->rules[k];
            enum tri m = rule_match(r, d);

            /*
             * A Calico Pass with no later tier known goes to the namespace profile, which allows
             * (model.pass_opens, calico.c): it opens like an Allow.
             */
            bool opens = r->action == EGRESS_ALLOW ||
                         (r->action == EGRESS_PASS && p->model->pass_opens);

            if (m == TRI_FALSE || r->action == EGRESS_LOG)
                continue;
            if (p->applies != TRI_TRUE && !opens)
                continue; /* a policy that may not apply decides nothing for sure */
            if (r->action == EGRESS_PASS && !opens) {
                bool admin = p->model->layer == LAYER_ADMIN;

                if (link(t, p, r, m,
                         admin ? "pass: the remaining AdminNetworkPolicy rules are skipped"
                               : "pass: the rest of this policy is skipped") < 0)
                    goto out;
                if (m == TRI_TRUE) {
                    admin_passed = admin;
                    break;
                }
                maybe_before = true;
                continue;
            }
            if (link(t, p, r, m,
                     r->action == EGRESS_PASS ? "pass: no later tier, the profile allows"
                     : tiers                  ? (opens ? "allow, in a tier whose place is not known"
                                                       : "deny, in a tier whose place is not known")
                     : opens                  ? "allow"
                                              : "deny") < 0)
                goto out;
            if (opens) {
                if (m == TRI_TRUE && p->applies == TRI_TRUE && !maybe_before && !tiers) {
                    t->allow_yes = true;
                    decide(t->decided, sizeof(t->decided), p, r, "allowed by");
                    *decided = true;
                    break;
                }
                t->allow_maybe = true;
                maybe_before = true;
                continue;
            }
            if (m == TRI_TRUE && !maybe_before && !tiers) {
                t->deny_yes = true;
                decide(t->decided, sizeof(t->decided), p, r, "denied by");
                *decided = true;
                break;
            }
            maybe_before = true;
        }
    }
    rc = 0;
out:
    free(sorted);
    return rc;
}

/* Where the destination stands against the allow-list; the entry that takes it in, if any. */
static const char *allow_list(const struct policy *pol, const struct explain_dest *d,
                              const char **entry)
{
    size_t i, k;

    *entry = NULL;
    if (d->is_addr && pol->deny_cidrs &&
        cidrset_contains_addr(pol->deny_cidrs, d->family, d->addr))
        return "always-denied";
    for (i = 0; i < pol->n_allow; i++) {
        const struct dest_entry *a = &pol->allow[i];
        bool dest = false;

        if (ports_match(a->ports, d) != TRI_TRUE)
            continue;
        if (d->is_addr)
            dest = cidrset_contains_addr(a->cidrs, d->family, d->addr) ||
                   cidrset_is_all(a->cidrs, 0);
        else
            for (k = 0; k < a->n_fqdns && !dest; k++)
                dest = fqdn_matches(a->fqdns[k], d->name);
        if (dest) {
            *entry = a->name;
            return "inside";
        }
    }
    return "outside";
}

json_t *explain_trace(const struct policy *pol, const struct compose_subject *s,
                      const struct compose_eval *ev, const struct explain_dest *d)
{
    struct trace t;
    json_t *j = NULL;
    const char *entry, *where = allow_list(pol, d, &entry), *reach, *verdict;
    char to[400];
    bool decided = false, maybe_isolated = false;
    size_t i;

    (void)s;
    memset(&t, 0, sizeof(t));
    if (!(t.chain = json_array()))
        return NULL;
    if (trace_unordered(&t, ev, d) < 0 || trace_ordered(&t, ev, d, &decided) < 0)
        goto out;
    /* Cilium: a deny takes precedence over every allow; else the first allow says it. */
    if (!t.decided[0])
        snprintf(t.decided, sizeof(t.decided), "%s", t.deny_yes ? t.deny_by : t.allow_by);
    for (i = 0; i < ev->n_parts; i++)
        maybe_isolated |= ev->parts[i].applies != TRI_TRUE && ev->parts[i].model->default_deny;
    if (t.deny_yes && !t.allow_yes) {
        reach = "no";
    } else if (t.deny_yes) {
        /* allowed in one engine (Calico order), denied in the other (Cilium): both apply */
        reach = "no";
    } else if (t.allow_yes && !t.deny_maybe) {
        reach = "yes";
    } else if (!ev->isolating) {
        reach = t.deny_maybe ? "maybe" : "yes";
        if (!t.decided[0])
            snprintf(t.decided, sizeof(t.decided), "%s",
                     maybe_isolated
                         ? "no policy surely isolates these pods for egress (one may)"
                         : "no policy with egress default deny selects these pods: their egress "
                           "is not restricted");
        if (maybe_isolated && !strcmp(reach, "yes"))
            reach = "maybe";
    } else if (t.allow_yes || t.allow_maybe) {
        reach = "maybe";
    } else {
        reach = "no";
        if (!t.decided[0]) {
            char name[800];

            part_name(ev->isolating, name, sizeof(name));
            snprintf(t.decided, sizeof(t.decided),
                     "default deny: no rule opens it, and %s isolates these pods", name);
        }
    }
    if (!strcmp(reach, "maybe") && !t.decided[0])
        snprintf(t.decided, sizeof(t.decided), "%s",
                 "a rule may match it (a name against addresses, an in-cluster peer, or a "
                 "policy that may apply): counted as reachable");
    verdict = strcmp(reach, "no") && strcmp(where, "inside") ? "violation" : "ok";
    {
        char host[INET6_ADDRSTRLEN + FQDN_MAX] = "";
        bool v6 = d->is_addr && d->family == 6;

        if (d->is_addr)
            inet_ntop(d->family == 4 ? AF_INET : AF_INET6, d->addr, host, sizeof(host));
        else
            snprintf(host, sizeof(host), "%s", d->name);
        if (d->has_port)
            snprintf(to, sizeof(to), "%s%s%s:%u/%s", v6 ? "[" : "", host, v6 ? "]" : "",
                     d->port, proto_name(d->proto));
        else
            snprintf(to, sizeof(to), "%s (every %s port)", host, proto_name(d->proto));
    }
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "to", to, "reachable", reach, "allowList",
                  where, "verdict", verdict, "decidedBy", t.decided, "chain", t.chain);
    if (j && entry && json_object_set_new(j, "allowedBy", json_string(entry)) < 0) {
        json_decref(j);
        j = NULL;
    }
out:
    json_decref(t.chain);
    return j;
}

/* One subject's explanation, with its trace. */
static json_t *subject_json(const struct policy *pol, const struct compose_input *in,
                            const struct compose_subject *s, const struct explain_dest *d,
                            struct err *e)
{
    struct compose_eval ev;
    json_t *j = NULL;

    compose_eval_init(&ev);
    if (compose_eval_run(pol, in, NULL, 0, NULL, NULL, s, &ev, e) < 0)
        goto out;
    if (!(j = explain_subject(pol, s, &ev)) ||
        (d && json_object_set_new(j, "trace", explain_trace(pol, s, &ev, d)) < 0)) {
        json_decref(j);
        j = NULL;
        err_set(e, "out of memory");
    }
out:
    compose_eval_release(&ev);
    return j;
}

json_t *explain_namespace(const struct policy *pol, const struct compose_input *in,
                          const char *ns, const json_t *pod_labels, const struct explain_dest *d,
                          struct err *e)
{
    const json_t *ns_labels = in->namespaces ? nsdb_labels(in->namespaces, ns) : NULL;
    struct compose_workload pod;
    json_t *labels = NULL, *j, *subjects, *one;
    size_t i, n = 0;
    const char *basis;

    for (i = 0; !pod_labels && i < in->n_workloads; i++)
        n += !strcmp(in->workloads[i].ns, ns);
    basis = pod_labels ? "pod" : n ? "workloads" : "namespace";
    j = json_pack("{s:s, s:b, s:s, s:[]}", "namespace", ns, "ai",
                  policy_ns_is_ai(pol, ns, ns_labels), "basis", basis, "subjects");
    if (!j)
        goto oom;
    subjects = json_object_get(j, "subjects");
    if (pod_labels) {
        struct compose_subject s = {.ns = ns, .workload = &pod};

        if (!(labels = json_deep_copy(pod_labels)) ||
            compose_derive_labels(labels, ns, "default") < 0)
            goto oom;
        memset(&pod, 0, sizeof(pod));
        pod.kind = "Pod";
        pod.ns = ns;
        pod.name = "(--pod)";
        pod.file = "";
        pod.labels = labels;
        pod.labels_known = true;
        if (!(one = subject_json(pol, in, &s, d, e)) || json_array_append_new(subjects, one) < 0)
            goto fail;
    } else if (n) {
        for (i = 0; i < in->n_workloads; i++) {
            struct compose_subject s = {.ns = ns, .workload = &in->workloads[i]};

            if (strcmp(in->workloads[i].ns, ns))
                continue;
            if (!(one = subject_json(pol, in, &s, d, e)) ||
                json_array_append_new(subjects, one) < 0)
                goto fail;
        }
    } else {
        struct compose_subject s = {.ns = ns};

        if (!(one = subject_json(pol, in, &s, d, e)) || json_array_append_new(subjects, one) < 0)
            goto fail;
    }
    json_decref(labels);
    return j;
oom:
    err_set(e, "out of memory");
fail:
    if (!e->msg[0])
        err_set(e, "out of memory");
    json_decref(labels);
    json_decref(j);
    return NULL;
}
