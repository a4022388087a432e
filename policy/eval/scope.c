#include "policy/eval/scope.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

#define NAME_LABEL "kubernetes.io/metadata.name"
#define CALICO_NAME_LABEL "projectcalico.org/name"

/* A selector built from an aiWorkloads name glob (the policy file's): a glob that long is no
 * name a namespace can have, and is treated as one that may match anything. */
#define GLOB_SELECTOR_CAP ((size_t)4096)

/* Appends s as a Calico single-quoted string; false when it cannot be quoted. */
static bool quote_value(struct buf *b, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] == '\'' || s[i] == '"' || s[i] == '\\')
            return false;
    buf_puts(b, "'");
    buf_add(b, s, len);
    buf_puts(b, "'");
    return true;
}

/*
 * A selector over namespace labels that matches at least every namespace whose name matches
 * the shell glob (a superset is fine: it is only used for "may overlap"). NULL when it cannot
 * be built, which the caller reads as "may overlap".
 */
static struct selector *glob_selector(const char *glob)
{
    static const char key[] = "kubernetes.io/metadata.name";
    const char *p = glob, *lit;
    struct selector *s = NULL;
    struct buf b;
    struct err e;
    bool first = true, ok = true;

    buf_init(&b, GLOB_SELECTOR_CAP);
    if (!strpbrk(glob, "*?[")) {
        buf_printf(&b, "%s == ", key);
        ok = quote_value(&b, glob, strlen(glob));
        goto parse;
    }
    while (*p && ok) {
        size_t n;

        lit = p;
        n = strcspn(p, "*?[");
        p += n;
        if (n) {
            /* literal run: anchored at the start, at the end, or somewhere inside */
            const char *op = lit == glob ? "starts with" : !*p ? "ends with" : "contains";

            buf_printf(&b, "%s%s %s ", first ? "" : " && ", key, op);
            ok = quote_value(&b, lit, n);
            first = false;
        }
        if (*p == '[') {
            const char *close = strchr(p + 1, ']');

            if (close == p + 1) /* "[]...]": ']' first is literal in the set */
                close = strchr(p + 2, ']');
            p = close ? close + 1 : p + strlen(p);
        } else if (*p) {
            p++;
        }
    }
    if (first)
        buf_puts(&b, "all()");
parse:
    if (ok && !b.failed)
        s = selector_parse(buf_str(&b), &e);
    buf_release(&b);
    return s;
}

bool scope_ai_confined(const struct policy *pol)
{
    return pol->pods.ai_outside_ai && pol->pods.mode == MODE_ENFORCE;
}

/*
 * May an exemption let pods into namespace `ns` (NULL: some namespace that is not provably an AI
 * namespace) without the pod rules? Exemptions pass objects unevaluated (decide.c), so AI pods
 * covered by one may run outside AI namespaces. Pods made by an exempt workload are Pods of
 * their own, judged again, so only exemptions that may cover kind Pod count.
 */
static bool pods_may_be_exempt(const struct policy *pol, const char *ns)
{
    for (size_t i = 0; i < pol->n_exemptions; i++) {
        const struct exemption *x = &pol->exemptions[i];

        if (x->kind && strcmp(x->kind, "Pod"))
            continue;
        if (ns ? !x->namespace || !fnmatch(x->namespace, ns, 0)
               : !x->namespace || strpbrk(x->namespace, "*?[") ||
                     !policy_ns_is_ai(pol, x->namespace, NULL))
            return true;
    }
    return false;
}

/*
 * Is namespace `name` an AI namespace, knowing its complete labels (labels not NULL) or only its
 * name? Unknown labels may make it one through aiWorkloads.namespaces.selectors, unless those
 * selectors decide on the name alone.
 */
static enum tri ns_is_ai(const struct policy *pol, const char *name, const json_t *labels)
{
    enum tri t = TRI_FALSE;
    json_t *known;

    if (policy_ns_is_ai(pol, name, labels))
        return TRI_TRUE;
    if (labels || !pol->n_ns_selectors)
        return TRI_FALSE;
    if (!(known = json_pack("{s:s}", NAME_LABEL, name)))
        return TRI_UNKNOWN;
    for (size_t i = 0; t != TRI_TRUE && i < pol->n_ns_selectors; i++) {
        enum tri u = selector_eval(pol->ns_selectors[i], known, false);

        if (u != TRI_FALSE)
            t = u;
    }
    json_decref(known);
    return t;
}

/* What one namespace the subject may reach tells: AI or not, and why (for the message). */
struct reached {
    enum tri ai;       /* the worst over the namespaces looked at: TRUE > UNKNOWN > FALSE */
    const char *name;  /* the namespace that decided it (borrowed), NULL when none did */
    bool exempt;       /* some namespace looked at may hold exempt (unjudged) pods */
};

static int tri_rank(enum tri t)
{
    return t == TRI_TRUE ? 2 : t == TRI_UNKNOWN ? 1 : 0;
}

/* Adds one reached namespace to r: keeps the most AI answer and the namespace that gave it. */
static void reach_one(const struct policy *pol, const char *name, const json_t *labels,
                      struct reached *r)
{
    enum tri t = ns_is_ai(pol, name, labels);

    if (!r->name || tri_rank(t) > tri_rank(r->ai)) {
        r->ai = t;
        r->name = name;
    }
    if (t != TRI_TRUE && pods_may_be_exempt(pol, name))
        r->exempt = true;
}

/*
 * A cluster-wide subject whose namespace selector pins the namespace's name (Kubernetes'
 * kubernetes.io/metadata.name, which Cilium's io.kubernetes.pod.namespace is read as by
 * cilsel.h; Calico's projectcalico.org/name, which Calico sets to the namespace's name and users
 * cannot, docs.tigera.io "Calico Kubernetes namespace labels"): each namespace it names is
 * decided by its name and the labels the run knows. Returns false when the names are not pinned.
 */
static bool reach_pinned(const struct policy *pol, const struct egress_model *m,
                         const struct nsdb *namespaces, struct reached *r)
{
    bool calico = m->kind && strstr(m->kind, "projectcalico.org");
    const char **names = NULL;
    size_t n = 0;

    if (!m->ns_sel ||
        (!selector_pinned(m->ns_sel, NAME_LABEL, &names, &n) &&
         !(calico && selector_pinned(m->ns_sel, CALICO_NAME_LABEL, &names, &n))))
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *known = nsdb_labels(namespaces, names[i]);
        /*
         * A namespace missing from a complete list (the cluster model's, once namespaces are
         * listed) does not exist yet: it has no labels but its name's, and is judged so;
         * labels it is created with are the namespace rules' to judge.
         */
        bool absent = !known && nsdb_complete(namespaces);
        json_t *labels = known ? json_deep_copy(known) : json_object();
        enum tri sel = TRI_UNKNOWN;

        /* the name labels hold whether or not the rest is known */
        if (labels && !json_object_set_new(labels, NAME_LABEL, json_string(names[i])) &&
            (!calico || !json_object_set_new(labels, CALICO_NAME_LABEL, json_string(names[i]))))
            sel = selector_eval(m->ns_sel, labels, known != NULL || absent);
        if (sel != TRI_FALSE)
            reach_one(pol, names[i], known ? known : absent ? labels : NULL, r);
        json_decref(labels);
    }
    free(names);
    return true;
}

/* May a namespace selected by ns_sel (NULL = all) be an AI namespace? */
static bool ns_sel_may_be_ai(const struct policy *pol, const struct selector *ns_sel)
{
    size_t i;

    if (!ns_sel || selector_is_all(ns_sel))
        return pol->n_ns_globs || pol->n_ns_selectors;
    if (selector_is_none(ns_sel))
        return false;
    for (i = 0; i < pol->n_ns_selectors; i++)
        if (selector_may_overlap(ns_sel, pol->ns_selectors[i]))
            return true;
    for (i = 0; i < pol->n_ns_globs; i++) {
        struct selector *g = glob_selector(pol->ns_globs[i]);
        bool may = !g || selector_may_overlap(ns_sel, g);

        selector_free(g);
        if (may)
            return true;
    }
    return false;
}

/* May a pod selected by pod_sel (NULL = all) carry AI pod labels? */
static bool pod_sel_may_be_ai(const struct policy *pol, const struct selector *pod_sel)
{
    size_t i;

    if (pod_sel && selector_is_none(pod_sel))
        return false;
    for (i = 0; i < pol->n_pod_selectors; i++)
        if (!pod_sel || selector_may_overlap(pod_sel, pol->pod_selectors[i]))
            return true;
    return false;
}

static void append_sel(struct buf *b, const struct selector *s)
{
    if (s)
        selector_format(s, b);
    else
        buf_puts(b, "all()");
}

/* ", and rule pods.aiWorkloadsOutsideAI keeps AI workloads out of it" or why it cannot. */
static void confinement(const struct policy *pol, bool exempt, bool one, struct buf *why)
{
    if (scope_ai_confined(pol) && !exempt)
        buf_printf(why, "; rule pods.aiWorkloadsOutsideAI keeps AI workloads out of %s",
                   one ? "it" : "them");
    else if (exempt)
        buf_puts(why, "; AI pods may still run there, exempt by spec.exemptions,");
    else if (!pol->pods.ai_outside_ai)
        buf_puts(why, "; AI pods may still run there (rule pods.aiWorkloadsOutsideAI is off),");
    else
        buf_printf(why, "; AI pods may still run there (rule pods.aiWorkloadsOutsideAI is in %s "
                        "mode, which admits them),",
                   mode_name(pol->pods.mode));
}

/* The namespace part decided no AI namespace: may AI-labelled pods still be selected? */
static bool pods_outside(const struct policy *pol, const struct egress_model *m, bool exempt,
                         bool one, struct buf *why)
{
    bool may = (!scope_ai_confined(pol) || exempt) && pod_sel_may_be_ai(pol, m->pod_sel);

    if (!why)
        return may;
    confinement(pol, exempt, one, why);
    if (scope_ai_confined(pol) && !exempt)
        return may;
    buf_puts(why, may ? " and its pod selector " : " but its pod selector ");
    append_sel(why, m->pod_sel);
    buf_puts(why, may ? " may select pods labelled as AI workloads"
                      : " cannot select pods with AI labels");
    return may;
}

/*
 * Accelerator and AI-labelled pods outside AI namespaces are refused by the pod rule
 * aiWorkloadsOutsideAI (pod.h): while it is enforced, an AI workload is a pod of an AI namespace
 * and a policy reaching no AI namespace governs none. Otherwise (rule off, warn, audit, or pods
 * exempt there) AI-labelled pods may be anywhere and the pod selector is judged too.
 */
bool scope_governs_ai(const struct policy *pol, const struct egress_model *m,
                      const struct nsdb *namespaces, struct buf *why)
{
    return scope_governs_ai_assuming(pol, m, namespaces, NULL, why);
}

bool scope_governs_ai_assuming(const struct policy *pol, const struct egress_model *m,
                               const struct nsdb *namespaces, const char *not_ai,
                               struct buf *why)
{
    struct reached r = {TRI_FALSE, NULL, false};

    if (m->host_policy) {
        if (why)
            buf_puts(why, "it governs nodes (nodeSelector), not pods; AI pods may not use the "
                          "host network (rule pods.hostNetwork)");
        return false;
    }
    if (m->pod_sel && selector_is_none(m->pod_sel)) {
        if (why)
            buf_puts(why, "its pod selector matches no pod");
        return false;
    }
    if (m->ns) {
        const json_t *labels = nsdb_labels(namespaces, m->ns);
        bool assumed = !labels && not_ai && !strcmp(not_ai, m->ns);

        reach_one(pol, m->ns, labels, &r);
        if (assumed && r.ai == TRI_UNKNOWN)
            r.ai = TRI_FALSE; /* the caller's reading: its unknown labels do not make it one */
        if (r.ai == TRI_TRUE) {
            if (why)
                buf_printf(why, "namespace %s is an AI namespace", m->ns);
            return true;
        }
        if (r.ai == TRI_UNKNOWN) {
            if (why)
                buf_printf(why, "namespace %s may be an AI namespace: its labels, which "
                                "aiWorkloads.namespaces.selectors look at, are unknown here "
                                "(give its Namespace object or --namespace-labels)",
                           m->ns);
            return true;
        }
        if (why)
            buf_printf(why, "namespace %s is not an AI namespace (by name%s)", m->ns,
                       labels ? " and labels" : assumed ? ", and taken not to be one by labels" : "");
        return pods_outside(pol, m, r.exempt, true, why);
    }
    if (reach_pinned(pol, m, namespaces, &r)) {
        if (r.ai != TRI_FALSE) {
            if (why)
                buf_printf(why, r.ai == TRI_TRUE
                                    ? "cluster-wide, its namespace selector reaches namespace %s, "
                                      "an AI namespace"
                                    : "cluster-wide, its namespace selector reaches namespace %s, "
                                      "whose labels are unknown here: it may be an AI namespace "
                                      "by aiWorkloads.namespaces.selectors",
                           r.name);
            return true;
        }
        if (why) {
            buf_puts(why, "cluster-wide, its namespace selector ");
            append_sel(why, m->ns_sel);
            buf_puts(why, " names only namespaces that are not AI namespaces (by name and the "
                          "labels known here)");
        }
        return pods_outside(pol, m, r.exempt, false, why);
    }
    if (ns_sel_may_be_ai(pol, m->ns_sel)) {
        if (why) {
            buf_puts(why, "cluster-wide, its namespace selector ");
            append_sel(why, m->ns_sel);
            buf_puts(why, " may select an AI namespace");
        }
        return true;
    }
    if (why) {
        buf_puts(why, "cluster-wide, its namespace selector ");
        append_sel(why, m->ns_sel);
        buf_puts(why, " cannot select an AI namespace");
    }
    return pods_outside(pol, m, pods_may_be_exempt(pol, NULL), false, why);
}
