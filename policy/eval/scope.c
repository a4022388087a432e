#include "policy/eval/scope.h"

#include <stdlib.h>
#include <string.h>

#include "policy/selector/selsubset.h"

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

/*
 * Accelerator pods outside AI namespaces need not be considered here: the pods rule
 * (acceleratorsOutsideAI) forbids them, so an AI workload is a pod of an AI namespace or a pod
 * with AI labels.
 */
bool scope_governs_ai(const struct policy *pol, const struct egress_model *m,
                      const struct nsdb *namespaces, struct buf *why)
{
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
        const json_t *labels = namespaces ? nsdb_labels(namespaces, m->ns) : NULL;

        if (policy_ns_is_ai(pol, m->ns, labels)) {
            if (why)
                buf_printf(why, "namespace %s is an AI namespace", m->ns);
            return true;
        }
        if (pod_sel_may_be_ai(pol, m->pod_sel)) {
            if (why) {
                buf_puts(why, "its pod selector ");
                append_sel(why, m->pod_sel);
                buf_puts(why, " may select pods labelled as AI workloads");
            }
            return true;
        }
        if (why) {
            buf_printf(why, "namespace %s is not an AI namespace (by name%s) and pod selector ",
                       m->ns, labels ? " or labels" : "; its labels are unknown");
            append_sel(why, m->pod_sel);
            buf_puts(why, " cannot select pods with AI labels");
        }
        return false;
    }
    if (ns_sel_may_be_ai(pol, m->ns_sel) || pod_sel_may_be_ai(pol, m->pod_sel)) {
        if (why) {
            buf_puts(why, "cluster-wide, its selectors may select AI workloads (namespaces ");
            append_sel(why, m->ns_sel);
            buf_puts(why, ", pods ");
            append_sel(why, m->pod_sel);
            buf_puts(why, ")");
        }
        return true;
    }
    if (why) {
        buf_puts(why, "namespace selector ");
        append_sel(why, m->ns_sel);
        buf_puts(why, " cannot select an AI namespace and pod selector ");
        append_sel(why, m->pod_sel);
        buf_puts(why, " cannot select pods with AI labels");
    }
    return false;
}
