#include "policy/config/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/base/suggest.h"
#include "policy/doc/doc.h"
#include "policy/sets/fqdn.h"

#define API_VERSION "egressguard.io/v1alpha1"
#define KIND "EgressPolicy"

/* Loader state: where we are, for positions and field paths in messages. */
struct ld {
    const struct doc *doc;
    struct err *e;
};

/* Positions e at node (or the nearest thing we know) and prefixes the field path. */
static int fail(struct ld *l, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ld *l, const json_t *node, const char *path, const char *fmt, ...)
{
    va_list ap;
    char msg[sizeof(l->e->msg)];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (path && *path)
        err_set(l->e, "%s: %s", path, msg);
    else
        err_set(l->e, "%s", msg);
    return doc_err_at(l->doc, node, l->e);
}

/* An error already carrying its message (from cidr_parse and friends): add path and position. */
static int fail_inner(struct ld *l, const json_t *node, const char *path)
{
    if (path && *path)
        err_prefix(l->e, "%s", path);
    return doc_err_at(l->doc, node, l->e);
}

/* Every key of obj must be one of `allowed` (NULL-terminated): typos are errors, not no-ops. */
static int check_fields(struct ld *l, const json_t *obj, const char *path,
                        const char *const *allowed)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        const char *best;
        struct suggest near;
        bool ok = false;

        suggest_init(&near, key, 2);
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(key, *a)) {
                ok = true;
                break;
            }
            suggest_add(&near, *a);
        }
        if (ok)
            continue;
        best = suggest_best(&near);
        /* Point at the key itself; singletons (true, null) have no position: use the parent's. */
        int line, col;
        const json_t *at =
            json_is_object(val) || json_is_array(val) || json_is_string(val) || json_is_number(val)
                ? val
                : obj;
        if (best)
            fail(l, at, path, "unknown field \"%s\" (did you mean \"%s\"?)", key, best);
        else
            fail(l, at, path, "unknown field \"%s\"", key);
        if (at == val && doc_key_pos(l->doc, val, &line, &col)) {
            l->e->line = line;
            l->e->col = col;
        }
        return -1;
    }
    return 0;
}

static json_t *want(struct ld *l, const json_t *parent, const char *key, json_type type,
                    const char *path, bool required)
{
    json_t *v = json_object_get(parent, key);

    if (!v || json_is_null(v)) {
        if (required)
            fail(l, parent, path, "missing required field \"%s\"", key);
        return NULL;
    }
    if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
        static const char *const names[] = {"a mapping", "a list",    "a string",  "an integer",
                                            "a number",  "a boolean", "a boolean", "null"};
        fail(l, v, path, "\"%s\" must be %s, not %s", key, names[type], doc_type_name(v));
        return NULL;
    }
    return v;
}

/* Optional field of the given type: 0 if absent (out untouched), 1 if present, -1 on error. */
static int opt(struct ld *l, const json_t *parent, const char *key, json_type type,
               const char *path, json_t **out)
{
    json_t *v = json_object_get(parent, key);

    if (!v || json_is_null(v))
        return 0;
    if (!(*out = want(l, parent, key, type, path, true)))
        return -1;
    return 1;
}

static int opt_bool(struct ld *l, const json_t *parent, const char *key, const char *path,
                    bool *out)
{
    json_t *v;
    int r = opt(l, parent, key, JSON_TRUE, path, &v);

    if (r > 0)
        *out = json_is_true(v);
    return r < 0 ? -1 : 0;
}

static int opt_string(struct ld *l, const json_t *parent, const char *key, const char *path,
                      char **out)
{
    json_t *v;
    int r = opt(l, parent, key, JSON_STRING, path, &v);

    if (r <= 0)
        return r;
    free(*out);
    if (!(*out = strdup(json_string_value(v))))
        return err_set(l->e, "out of memory");
    return 1;
}

static int parse_mode(struct ld *l, const json_t *parent, const char *path, enum mode dflt,
                      enum mode *out)
{
    json_t *v;
    int r = opt(l, parent, "mode", JSON_STRING, path, &v);
    const char *s;

    *out = dflt;
    if (r <= 0)
        return r;
    s = json_string_value(v);
    if (!strcmp(s, "enforce"))
        *out = MODE_ENFORCE;
    else if (!strcmp(s, "warn"))
        *out = MODE_WARN;
    else if (!strcmp(s, "audit"))
        *out = MODE_AUDIT;
    else
        return fail(l, v, path, "mode \"%s\" is not one of enforce, warn, audit", s);
    return 0;
}

/* A list of non-empty strings into a new array; *n set. `what` checks each item (may be NULL). */
static int string_list(struct ld *l, const json_t *parent, const char *key, const char *path,
                       char ***out, size_t *n,
                       int (*check)(struct ld *, const json_t *, const char *, char **))
{
    json_t *arr, *item;
    size_t i;
    int r = opt(l, parent, key, JSON_ARRAY, path, &arr);
    char sub[256];

    *out = NULL;
    *n = 0;
    if (r <= 0)
        return r;
    if (json_array_size(arr) == 0)
        return 0;
    *out = calloc(json_array_size(arr), sizeof(char *));
    if (!*out)
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        snprintf(sub, sizeof(sub), "%s%s%s[%zu]", path, *path ? "." : "", key, i);
        if (!json_is_string(item) || !*json_string_value(item))
            return fail(l, item, sub, "must be a non-empty string, not %s",
                        json_is_string(item) ? "an empty one" : doc_type_name(item));
        char *s = NULL;
        if (check) {
            if (check(l, item, sub, &s) < 0)
                return -1;
        } else if (!(s = strdup(json_string_value(item)))) {
            return err_set(l->e, "out of memory");
        }
        (*out)[(*n)++] = s;
    }
    return 0;
}

static int check_glob(struct ld *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item);

    /* fnmatch has no compile step; reject what it would treat oddly rather than guess. */
    if (strchr(s, '[') && !strchr(s, ']'))
        return fail(l, item, path, "unbalanced '[' in glob \"%s\"", s);
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    return 0;
}

static int check_fqdn(struct ld *l, const json_t *item, const char *path, char **out)
{
    char norm[FQDN_MAX];

    if (fqdn_normalize(json_string_value(item), true, norm, l->e) < 0)
        return fail_inner(l, item, path);
    if (!(*out = strdup(norm)))
        return err_set(l->e, "out of memory");
    return 0;
}

static int check_service_account(struct ld *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item), *slash = strchr(s, '/');

    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
        return fail(l, item, path, "service account \"%s\" must be NAMESPACE/NAME", s);
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    return 0;
}

static int check_capability(struct ld *l, const json_t *item, const char *path, char **out)
{
    const char *s = json_string_value(item);
    size_t n;

    (void)path;
    if (!strncasecmp(s, "CAP_", 4))
        s += 4;
    if (!(*out = strdup(s)))
        return err_set(l->e, "out of memory");
    n = strlen(*out);
    for (size_t i = 0; i < n; i++)
        if ((*out)[i] >= 'a' && (*out)[i] <= 'z')
            (*out)[i] = (char)((*out)[i] - 'a' + 'A');
    return 0;
}

static int selector_list(struct ld *l, const json_t *parent, const char *key, const char *path,
                         struct selector ***out, size_t *n)
{
    json_t *arr, *item;
    size_t i;
    int r = opt(l, parent, key, JSON_ARRAY, path, &arr);
    char sub[256];

    *out = NULL;
    *n = 0;
    if (r <= 0)
        return r;
    if (!json_array_size(arr))
        return 0;
    if (!(*out = calloc(json_array_size(arr), sizeof(**out))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        const json_t *where = NULL;
        snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
        if (!json_is_object(item))
            return fail(l, item, sub, "must be a LabelSelector mapping, not %s",
                        doc_type_name(item));
        if (!((*out)[*n] = selector_from_json(item, &where, l->e)))
            return fail_inner(l, where ? where : item, sub);
        (*n)++;
    }
    return 0;
}

static int parse_selector(struct ld *l, const json_t *parent, const char *key, const char *path,
                          struct selector **out)
{
    json_t *v;
    const json_t *where = NULL;
    char sub[256];
    int r = opt(l, parent, key, JSON_OBJECT, path, &v);

    if (r < 0)
        return -1;
    if (r == 0) {
        *out = selector_all();
        return *out ? 0 : err_set(l->e, "out of memory");
    }
    snprintf(sub, sizeof(sub), "%s.%s", path, key);
    if (!(*out = selector_from_json(v, &where, l->e)))
        return fail_inner(l, where ? where : v, sub);
    return 0;
}

static int parse_ports(struct ld *l, const json_t *entry, const char *path, struct portset *ps)
{
    static const char *const fields[] = {"protocol", "port", "endPort", NULL};
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = opt(l, entry, "ports", JSON_ARRAY, path, &arr);

    if (r < 0)
        return -1;
    if (r == 0 || json_array_size(arr) == 0)
        return portset_add_proto(ps, PROTO_ANY) < 0 ? err_set(l->e, "out of memory") : 0;
    json_array_foreach(arr, i, item) {
        int proto = PROTO_TCP;
        json_t *v, *pv, *ev;
        long long port, end;

        snprintf(sub, sizeof(sub), "%s.ports[%zu]", path, i);
        if (!json_is_object(item))
            return fail(l, item, sub, "must be a mapping {protocol, port, endPort}, not %s",
                        doc_type_name(item));
        if (check_fields(l, item, sub, fields) < 0)
            return -1;
        if ((r = opt(l, item, "protocol", JSON_STRING, sub, &v)) < 0)
            return -1;
        if (r > 0 && proto_parse(json_string_value(v), &proto, l->e) < 0)
            return fail_inner(l, v, sub);
        pv = json_object_get(item, "port");
        ev = json_object_get(item, "endPort");
        if (json_is_string(pv))
            return fail(l, pv, sub,
                        "named port \"%s\": the policy file needs port numbers (names resolve "
                        "differently in every pod)",
                        json_string_value(pv));
        if (pv && !json_is_integer(pv))
            return fail(l, pv, sub, "port must be an integer 1-65535, not %s", doc_type_name(pv));
        if (ev && !json_is_integer(ev))
            return fail(l, ev, sub, "endPort must be an integer 1-65535, not %s",
                        doc_type_name(ev));
        if (!pv) {
            if (ev)
                return fail(l, ev, sub, "endPort needs port");
            if (portset_add_proto(ps, proto) < 0)
                return err_set(l->e, "out of memory");
            continue;
        }
        port = json_integer_value(pv);
        end = ev ? json_integer_value(ev) : port;
        if (port < 1 || port > 65535)
            return fail(l, pv, sub, "port %lld is out of range 1-65535", port);
        if (end < port || end > 65535)
            return fail(l, ev, sub, "endPort %lld must be between port %lld and 65535", end, port);
        if (proto != PROTO_ANY && !proto_has_ports(proto))
            return fail(l, pv, sub, "protocol %s has no ports", proto_name(proto));
        if (portset_add_range(ps, proto, (unsigned)port, (unsigned)end) < 0)
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_cidrs(struct ld *l, const json_t *entry, const char *path, struct cidrset *set)
{
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = opt(l, entry, "cidrs", JSON_ARRAY, path, &arr);

    if (r <= 0)
        return r;
    json_array_foreach(arr, i, item) {
        struct cidr c;
        bool normalized = false;

        snprintf(sub, sizeof(sub), "%s.cidrs[%zu]", path, i);
        if (!json_is_string(item))
            return fail(l, item, sub, "must be a CIDR string such as \"10.0.0.0/8\", not %s",
                        doc_type_name(item));
        if (cidr_parse(json_string_value(item), CIDR_STRICT, &c, &normalized, l->e) < 0)
            return fail_inner(l, item, sub);
        if (normalized) {
            /* A policy file is written by us, not copied from the wild: be exact. */
            char canon[CIDR_STRLEN];
            cidr_format(&c, canon, sizeof(canon));
            return fail(l, item, sub, "\"%s\" has host bits set; write \"%s\"",
                        json_string_value(item), canon);
        }
        if (cidrset_add(set, &c) < 0)
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_peers(struct ld *l, const json_t *entry, const char *path, struct dest_entry *d)
{
    static const char *const fields[] = {"sameNamespace", "namespaceSelector", "podSelector", NULL};
    json_t *arr, *item;
    size_t i;
    char sub[256];
    int r = opt(l, entry, "inCluster", JSON_ARRAY, path, &arr);

    if (r <= 0 || !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(d->peers = calloc(json_array_size(arr), sizeof(*d->peers))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        struct peer_spec *p = &d->peers[d->n_peers];

        snprintf(sub, sizeof(sub), "%s.inCluster[%zu]", path, i);
        if (!json_is_object(item))
            return fail(l, item, sub, "must be a mapping, not %s", doc_type_name(item));
        if (check_fields(l, item, sub, fields) < 0 ||
            opt_bool(l, item, "sameNamespace", sub, &p->same_namespace) < 0)
            return -1;
        d->n_peers++;
        if (p->same_namespace && json_object_get(item, "namespaceSelector"))
            return fail(l, item, sub, "sameNamespace and namespaceSelector exclude each other");
        if (!p->same_namespace && !json_object_get(item, "namespaceSelector") &&
            !json_object_get(item, "podSelector"))
            return fail(l, item, sub,
                        "name the peers: sameNamespace, namespaceSelector and/or podSelector "
                        "(use namespaceSelector: {} for every namespace)");
        if (!p->same_namespace &&
            parse_selector(l, item, "namespaceSelector", sub, &p->namespaces) < 0)
            return -1;
        if (parse_selector(l, item, "podSelector", sub, &p->pods) < 0)
            return -1;
    }
    return 0;
}

/*
 * "name (10.20.0.0/16 on TCP/443)": how findings name an allow entry. Made once at load, since
 * every escape message lists the nearest entries.
 */
static void describe_entry(const struct dest_entry *d, struct buf *b)
{
    size_t i;
    bool any = false;

    buf_printf(b, "%s (", d->name);
    if (!cidrset_is_empty(d->cidrs)) {
        cidrset_format(d->cidrs, 4, b);
        any = true;
    }
    for (i = 0; i < d->n_fqdns; i++, any = true)
        buf_printf(b, "%s%s", any ? ", " : "", d->fqdns[i]);
    for (i = 0; i < d->n_peers; i++, any = true) {
        const struct peer_spec *ps = &d->peers[i];

        buf_puts(b, any ? ", " : "");
        if (!ps->pods || selector_is_all(ps->pods)) {
            buf_puts(b, "every pod");
        } else {
            buf_puts(b, "pods ");
            selector_format(ps->pods, b);
        }
        if (ps->same_namespace) {
            buf_puts(b, " of the same namespace");
        } else if (!ps->namespaces || selector_is_all(ps->namespaces)) {
            buf_puts(b, " of every namespace");
        } else {
            buf_puts(b, " of namespaces ");
            selector_format(ps->namespaces, b);
        }
    }
    if (!any)
        buf_puts(b, "nothing");
    buf_puts(b, " on ");
    portset_format(d->ports, b);
    buf_puts(b, ")");
}

static int parse_entries(struct ld *l, const json_t *spec, const char *key, bool deny,
                         struct dest_entry **out, size_t *n)
{
    static const char *const allow_fields[] = {"name",      "reason", "cidrs", "fqdns",
                                               "inCluster", "ports",  NULL};
    static const char *const deny_fields[] = {"name", "reason", "cidrs", NULL};
    json_t *arr, *item;
    size_t i;
    char path[64];
    int r = opt(l, spec, key, JSON_ARRAY, "spec", &arr);

    *out = NULL;
    *n = 0;
    if (r <= 0 || !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(*out = calloc(json_array_size(arr), sizeof(**out))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        struct dest_entry *d = &(*out)[*n];
        int line = 0, col;

        snprintf(path, sizeof(path), "spec.%s[%zu]", key, i);
        if (!json_is_object(item))
            return fail(l, item, path, "must be a mapping, not %s", doc_type_name(item));
        if (check_fields(l, item, path, deny ? deny_fields : allow_fields) < 0)
            return -1;
        (*n)++;
        doc_pos(l->doc, item, &line, &col);
        d->line = line;
        if (!(d->cidrs = cidrset_new()) || !(d->ports = portset_new()))
            return err_set(l->e, "out of memory");
        json_t *name = want(l, item, "name", JSON_STRING, path, true);
        if (!name)
            return -1;
        if (!*json_string_value(name))
            return fail(l, name, path, "name must not be empty");
        for (size_t j = 0; j + 1 < *n; j++)
            if (!strcmp((*out)[j].name, json_string_value(name)))
                return fail(l, name, path, "duplicate %s entry name \"%s\"", key,
                            json_string_value(name));
        if (!(d->name = strdup(json_string_value(name))))
            return err_set(l->e, "out of memory");
        if (opt_string(l, item, "reason", path, &d->reason) < 0)
            return -1;
        if (!d->reason && !(d->reason = strdup("")))
            return err_set(l->e, "out of memory");
        if (parse_cidrs(l, item, path, d->cidrs) < 0)
            return -1;
        if (deny) {
            if (cidrset_is_empty(d->cidrs))
                return fail(l, item, path, "a deny entry needs cidrs");
            if (portset_add_proto(d->ports, PROTO_ANY) < 0)
                return err_set(l->e, "out of memory");
            continue;
        }
        if (string_list(l, item, "fqdns", path, &d->fqdns, &d->n_fqdns, check_fqdn) < 0 ||
            parse_peers(l, item, path, d) < 0 || parse_ports(l, item, path, d->ports) < 0)
            return -1;
        if (cidrset_is_empty(d->cidrs) && !d->n_fqdns && !d->n_peers)
            return fail(l, item, path, "an allow entry needs cidrs, fqdns or inCluster peers");
        struct buf sum;
        buf_init(&sum, 0);
        describe_entry(d, &sum);
        if (!(d->summary = buf_detach(&sum, NULL)))
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_ai(struct ld *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"namespaces", "pods", "accelerators", NULL};
    static const char *const ns_fields[] = {"names", "selectors", NULL};
    static const char *const pod_fields[] = {"selectors", NULL};
    const char *path = "spec.aiWorkloads";
    json_t *ai, *ns = NULL, *pods = NULL;
    int r = opt(l, spec, "aiWorkloads", JSON_OBJECT, "spec", &ai);

    if (r < 0)
        return -1;
    if (r == 0)
        return fail(l, spec, "spec",
                    "missing required field \"aiWorkloads\": say what counts as an AI workload");
    if (check_fields(l, ai, path, fields) < 0 ||
        opt(l, ai, "namespaces", JSON_OBJECT, path, &ns) < 0 ||
        opt(l, ai, "pods", JSON_OBJECT, path, &pods) < 0)
        return -1;
    if (ns && (check_fields(l, ns, "spec.aiWorkloads.namespaces", ns_fields) < 0 ||
               string_list(l, ns, "names", "spec.aiWorkloads.namespaces", &p->ns_globs,
                           &p->n_ns_globs, check_glob) < 0 ||
               selector_list(l, ns, "selectors", "spec.aiWorkloads.namespaces", &p->ns_selectors,
                             &p->n_ns_selectors) < 0))
        return -1;
    if (pods && (check_fields(l, pods, "spec.aiWorkloads.pods", pod_fields) < 0 ||
                 selector_list(l, pods, "selectors", "spec.aiWorkloads.pods", &p->pod_selectors,
                               &p->n_pod_selectors) < 0))
        return -1;
    if (string_list(l, ai, "accelerators", path, &p->accelerators, &p->n_accelerators, NULL) < 0)
        return -1;
    if (!p->n_ns_globs && !p->n_ns_selectors && !p->n_pod_selectors && !p->n_accelerators)
        return fail(l, ai, path,
                    "names no namespaces, selectors or accelerators: nothing would "
                    "count as an AI workload");
    return 0;
}

static int parse_exemptions(struct ld *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"kind", "namespace", "name", "reason", NULL};
    json_t *arr, *item;
    size_t i;
    char path[64];
    int r = opt(l, spec, "exemptions", JSON_ARRAY, "spec", &arr);

    if (r <= 0 || !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(p->exemptions = calloc(json_array_size(arr), sizeof(*p->exemptions))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        struct exemption *x = &p->exemptions[p->n_exemptions];
        int col;

        snprintf(path, sizeof(path), "spec.exemptions[%zu]", i);
        if (!json_is_object(item))
            return fail(l, item, path, "must be a mapping, not %s", doc_type_name(item));
        if (check_fields(l, item, path, fields) < 0)
            return -1;
        p->n_exemptions++;
        doc_pos(l->doc, item, &x->line, &col);
        if (opt_string(l, item, "kind", path, &x->kind) < 0 ||
            opt_string(l, item, "namespace", path, &x->namespace) < 0 ||
            opt_string(l, item, "name", path, &x->name) < 0 ||
            opt_string(l, item, "reason", path, &x->reason) < 0)
            return -1;
        if (!x->reason || !*x->reason)
            return fail(l, item, path,
                        "an exemption needs a reason (it is reported whenever "
                        "the exemption applies)");
        if (!x->kind && !x->namespace && !x->name)
            return fail(l, item, path, "an exemption must name a kind, namespace or name");
    }
    return 0;
}

static int parse_string_map(struct ld *l, const json_t *parent, const char *key, const char *path,
                            char ***keys, char ***vals, size_t *n)
{
    json_t *obj, *v;
    const char *k;
    int r = opt(l, parent, key, JSON_OBJECT, path, &obj);

    if (r <= 0 || !json_object_size(obj))
        return r < 0 ? -1 : 0;
    *keys = calloc(json_object_size(obj), sizeof(char *));
    *vals = calloc(json_object_size(obj), sizeof(char *));
    if (!*keys || !*vals)
        return err_set(l->e, "out of memory");
    json_object_foreach(obj, k, v) {
        if (!json_is_string(v))
            return fail(l, json_is_null(v) || json_is_boolean(v) ? obj : v, path,
                        "%s.%s must be a string (quote it: \"%s\")", key, k,
                        json_is_true(v)    ? "true"
                        : json_is_false(v) ? "false"
                                           : "...");
        (*keys)[*n] = strdup(k);
        (*vals)[*n] = strdup(json_string_value(v));
        (*n)++;
        if (!(*keys)[*n - 1] || !(*vals)[*n - 1])
            return err_set(l->e, "out of memory");
    }
    return 0;
}

static int parse_rules(struct ld *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"egress", "pods", "namespaces", "unknownKinds", NULL};
    static const char *const egress_fields[] = {"mode", NULL};
    static const char *const pod_fields[] = {"mode",
                                             "hostNetwork",
                                             "privileged",
                                             "capabilities",
                                             "dns",
                                             "serviceMesh",
                                             "proxyEnv",
                                             "acceleratorsOutsideAI",
                                             "requiredLabels",
                                             NULL};
    static const char *const mesh_fields[] = {"requireSidecar", "denyBypassAnnotations", NULL};
    static const char *const ns_fields[] = {"mode", "requiredLabels", NULL};
    static const char *const default_caps[] = {"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "ALL"};
    struct pod_rules *pr = &p->pods;
    json_t *rules = NULL, *eg = NULL, *pods = NULL, *mesh = NULL, *ns = NULL, *uk = NULL;
    const char *pp = "spec.rules.pods";

    pr->host_network = pr->privileged = pr->dns = pr->mesh_deny_bypass = pr->proxy_env =
        pr->accelerators_outside_ai = true;
    p->unknown_kinds_allow = true;
    if (opt(l, spec, "rules", JSON_OBJECT, "spec", &rules) < 0 ||
        (rules && check_fields(l, rules, "spec.rules", fields) < 0) ||
        opt(l, rules, "egress", JSON_OBJECT, "spec.rules", &eg) < 0 ||
        opt(l, rules, "pods", JSON_OBJECT, "spec.rules", &pods) < 0 ||
        opt(l, rules, "namespaces", JSON_OBJECT, "spec.rules", &ns) < 0 ||
        opt(l, rules, "unknownKinds", JSON_STRING, "spec.rules", &uk) < 0)
        return -1;
    if (uk) {
        const char *s = json_string_value(uk);
        if (strcmp(s, "allow") && strcmp(s, "deny"))
            return fail(l, uk, "spec.rules", "unknownKinds \"%s\" is not one of allow, deny", s);
        p->unknown_kinds_allow = !strcmp(s, "allow");
    }
    if ((eg && check_fields(l, eg, "spec.rules.egress", egress_fields) < 0) ||
        parse_mode(l, eg, "spec.rules.egress", p->mode, &p->egress_mode) < 0 ||
        (pods && check_fields(l, pods, pp, pod_fields) < 0) ||
        parse_mode(l, pods, pp, p->mode, &pr->mode) < 0 ||
        opt_bool(l, pods, "hostNetwork", pp, &pr->host_network) < 0 ||
        opt_bool(l, pods, "privileged", pp, &pr->privileged) < 0 ||
        opt_bool(l, pods, "dns", pp, &pr->dns) < 0 ||
        opt_bool(l, pods, "proxyEnv", pp, &pr->proxy_env) < 0 ||
        opt_bool(l, pods, "acceleratorsOutsideAI", pp, &pr->accelerators_outside_ai) < 0 ||
        opt(l, pods, "serviceMesh", JSON_OBJECT, pp, &mesh) < 0 ||
        (mesh && check_fields(l, mesh, "spec.rules.pods.serviceMesh", mesh_fields) < 0) ||
        opt_bool(l, mesh, "requireSidecar", "spec.rules.pods.serviceMesh",
                 &pr->mesh_require_sidecar) < 0 ||
        opt_bool(l, mesh, "denyBypassAnnotations", "spec.rules.pods.serviceMesh",
                 &pr->mesh_deny_bypass) < 0 ||
        string_list(l, pods, "requiredLabels", pp, &pr->required_labels, &pr->n_required_labels,
                    NULL) < 0 ||
        (ns && check_fields(l, ns, "spec.rules.namespaces", ns_fields) < 0) ||
        parse_mode(l, ns, "spec.rules.namespaces", p->mode, &p->ns_mode) < 0 ||
        string_list(l, ns, "requiredLabels", "spec.rules.namespaces", &p->ns_required_labels,
                    &p->n_ns_required_labels, NULL) < 0)
        return -1;
    if (pods && json_object_get(pods, "capabilities"))
        return string_list(l, pods, "capabilities", pp, &pr->capabilities, &pr->n_capabilities,
                           check_capability);
    if (!(pr->capabilities = calloc(4, sizeof(char *))))
        return err_set(l->e, "out of memory");
    for (size_t i = 0; i < 4; i++)
        if (!(pr->capabilities[pr->n_capabilities++] = strdup(default_caps[i])))
            return err_set(l->e, "out of memory");
    return 0;
}

static int parse_mutation(struct ld *l, const json_t *spec, struct policy *p)
{
    static const char *const fields[] = {"enabled", "profile", "labels", "annotations", NULL};
    const char *path = "spec.mutation";
    json_t *m = NULL;

    if (opt(l, spec, "mutation", JSON_OBJECT, "spec", &m) < 0 ||
        (m && check_fields(l, m, path, fields) < 0) ||
        opt_bool(l, m, "enabled", path, &p->mutation_enabled) < 0 ||
        opt_string(l, m, "profile", path, &p->profile) < 0 ||
        parse_string_map(l, m, "labels", path, &p->mut_label_keys, &p->mut_label_values,
                         &p->n_mut_labels) < 0 ||
        parse_string_map(l, m, "annotations", path, &p->mut_annotation_keys,
                         &p->mut_annotation_values, &p->n_mut_annotations) < 0)
        return -1;
    if (!p->profile && !(p->profile = strdup("default")))
        return err_set(l->e, "out of memory");
    if (!p->n_mut_labels) {
        /* The enforcement label is what cluster-wide policies select on: there is always one. */
        p->mut_label_keys = calloc(1, sizeof(char *));
        p->mut_label_values = calloc(1, sizeof(char *));
        if (!p->mut_label_keys || !p->mut_label_values ||
            !(p->mut_label_keys[0] = strdup("egressguard.io/enforced")) ||
            !(p->mut_label_values[0] = strdup("true")))
            return err_set(l->e, "out of memory");
        p->n_mut_labels = 1;
    }
    return 0;
}

static int from_doc(struct ld *l, struct policy *p)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
    static const char *const meta_fields[] = {"name", "labels", "annotations", NULL};
    static const char *const spec_fields[] = {"mode",  "aiWorkloads", "allow",
                                              "deny",  "exemptions",  "identities",
                                              "rules", "mutation",    NULL};
    static const char *const id_fields[] = {"users", "groups", "serviceAccounts", NULL};
    json_t *root = doc_root(l->doc), *av, *kind, *meta = NULL, *spec, *ids = NULL;

    if (!json_is_object(root))
        return fail(l, root, "", "the policy file must be a mapping, not %s", doc_type_name(root));
    if (check_fields(l, root, "", top) < 0)
        return -1;
    if (!(av = want(l, root, "apiVersion", JSON_STRING, "", true)) ||
        !(kind = want(l, root, "kind", JSON_STRING, "", true)))
        return -1;
    if (strcmp(json_string_value(av), API_VERSION))
        return fail(l, av, "", "apiVersion \"%s\" is not " API_VERSION, json_string_value(av));
    if (strcmp(json_string_value(kind), KIND))
        return fail(l, kind, "", "kind \"%s\" is not " KIND, json_string_value(kind));
    if (opt(l, root, "metadata", JSON_OBJECT, "", &meta) < 0 ||
        (meta && check_fields(l, meta, "metadata", meta_fields) < 0) ||
        opt_string(l, meta, "name", "metadata", &p->name) < 0)
        return -1;
    if (!p->name && !(p->name = strdup("")))
        return err_set(l->e, "out of memory");
    if (!(spec = want(l, root, "spec", JSON_OBJECT, "", true)))
        return -1;
    if (check_fields(l, spec, "spec", spec_fields) < 0 ||
        parse_mode(l, spec, "spec", MODE_ENFORCE, &p->mode) < 0 || parse_ai(l, spec, p) < 0 ||
        parse_entries(l, spec, "allow", false, &p->allow, &p->n_allow) < 0 ||
        parse_entries(l, spec, "deny", true, &p->deny, &p->n_deny) < 0 ||
        parse_exemptions(l, spec, p) < 0)
        return -1;
    if (!(p->deny_cidrs = cidrset_new()))
        return err_set(l->e, "out of memory");
    for (size_t i = 0; i < p->n_deny; i++)
        if (cidrset_union(p->deny_cidrs, p->deny[i].cidrs) < 0)
            return err_set(l->e, "out of memory");
    if (opt(l, spec, "identities", JSON_OBJECT, "spec", &ids) < 0 ||
        (ids && check_fields(l, ids, "spec.identities", id_fields) < 0) ||
        string_list(l, ids, "users", "spec.identities", &p->users, &p->n_users, NULL) < 0 ||
        string_list(l, ids, "groups", "spec.identities", &p->groups, &p->n_groups, NULL) < 0 ||
        string_list(l, ids, "serviceAccounts", "spec.identities", &p->service_accounts,
                    &p->n_service_accounts, check_service_account) < 0)
        return -1;
    return parse_rules(l, spec, p) < 0 ? -1 : parse_mutation(l, spec, p);
}

static void hash_hex(const char *data, size_t len, char out[17])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n < 8)
        return;
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct policy *policy_load_buffer(const char *data, size_t len, const char *name, struct err *e)
{
    struct policy *p = calloc(1, sizeof(*p));
    struct doc **docs = NULL;
    size_t n = 0;
    struct ld l = {.e = e};

    if (!p) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (!(p->path = strdup(name))) {
        err_set(e, "out of memory");
        goto fail;
    }
    /* Positions in errors borrow p->path, which dies with p: errors name `name` instead. */
    if (doc_parse_stream(data, len, name, &docs, &n, e) < 0)
        goto fail;
    if (n == 0) {
        err_set(e, "the policy file is empty");
        err_at(e, name, 0, 0);
        goto fail;
    }
    if (n > 1) {
        err_set(e, "the policy file must hold one document, not %zu", n);
        err_at(e, name, doc_line(docs[1]), 1);
        goto fail;
    }
    l.doc = docs[0];
    if (from_doc(&l, p) < 0)
        goto fail;
    hash_hex(data, len, p->hash);
    doc_free(docs[0]);
    free(docs);
    return p;
fail:
    for (size_t i = 0; i < n; i++)
        doc_free(docs[i]);
    free(docs);
    policy_free(p);
    return NULL;
}

struct policy *policy_load(const char *path, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, alloc = 0;
    struct policy *p = NULL;

    if (!fp) {
        err_set(e, "cannot open policy file: %s", strerror(errno));
        err_at(e, path, 0, 0);
        return NULL;
    }
    for (;;) {
        if (len == alloc) {
            alloc = alloc ? alloc * 2 : 1 << 14;
            char *nd = alloc > DOC_MAX_BYTES * 2u ? NULL : realloc(data, alloc);
            if (!nd) {
                err_set(e, "policy file too large or out of memory");
                err_at(e, path, 0, 0);
                goto out;
            }
            data = nd;
        }
        size_t got = fread(data + len, 1, alloc - len, fp);
        if (!got)
            break;
        len += got;
    }
    if (ferror(fp)) {
        err_set(e, "cannot read policy file: %s", strerror(errno));
        err_at(e, path, 0, 0);
        goto out;
    }
    p = policy_load_buffer(data ? data : "", len, path, e);
out:
    free(data);
    fclose(fp);
    return p;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_entries(struct dest_entry *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        free(d[i].reason);
        free(d[i].summary);
        cidrset_free(d[i].cidrs);
        portset_free(d[i].ports);
        free_strings(d[i].fqdns, d[i].n_fqdns);
        for (size_t j = 0; j < d[i].n_peers; j++) {
            selector_free(d[i].peers[j].namespaces);
            selector_free(d[i].peers[j].pods);
        }
        free(d[i].peers);
    }
    free(d);
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    free(p->path);
    free(p->name);
    free_strings(p->ns_globs, p->n_ns_globs);
    for (size_t i = 0; i < p->n_ns_selectors; i++)
        selector_free(p->ns_selectors[i]);
    free(p->ns_selectors);
    for (size_t i = 0; i < p->n_pod_selectors; i++)
        selector_free(p->pod_selectors[i]);
    free(p->pod_selectors);
    free_strings(p->accelerators, p->n_accelerators);
    free_entries(p->allow, p->n_allow);
    free_entries(p->deny, p->n_deny);
    cidrset_free(p->deny_cidrs);
    for (size_t i = 0; i < p->n_exemptions; i++) {
        free(p->exemptions[i].kind);
        free(p->exemptions[i].namespace);
        free(p->exemptions[i].name);
        free(p->exemptions[i].reason);
    }
    free(p->exemptions);
    free_strings(p->users, p->n_users);
    free_strings(p->groups, p->n_groups);
    free_strings(p->service_accounts, p->n_service_accounts);
    free_strings(p->pods.capabilities, p->pods.n_capabilities);
    free_strings(p->pods.required_labels, p->pods.n_required_labels);
    free_strings(p->ns_required_labels, p->n_ns_required_labels);
    free(p->profile);
    free_strings(p->mut_label_keys, p->n_mut_labels);
    free_strings(p->mut_label_values, p->n_mut_labels);
    free_strings(p->mut_annotation_keys, p->n_mut_annotations);
    free_strings(p->mut_annotation_values, p->n_mut_annotations);
    free(p);
}

const char *mode_name(enum mode m)
{
    return m == MODE_WARN ? "warn" : m == MODE_AUDIT ? "audit" : "enforce";
}

bool policy_ns_is_ai(const struct policy *p, const char *ns, const json_t *labels)
{
    for (size_t i = 0; ns && i < p->n_ns_globs; i++)
        if (fnmatch(p->ns_globs[i], ns, 0) == 0)
            return true;
    for (size_t i = 0; labels && i < p->n_ns_selectors; i++)
        if (selector_matches(p->ns_selectors[i], labels))
            return true;
    return false;
}

const struct exemption *policy_exemption(const struct policy *p, const char *kind, const char *ns,
                                         const char *name)
{
    for (size_t i = 0; i < p->n_exemptions; i++) {
        const struct exemption *x = &p->exemptions[i];
        if (x->kind && (!kind || strcmp(x->kind, kind)))
            continue;
        if (x->namespace && (!ns || fnmatch(x->namespace, ns, 0)))
            continue;
        if (x->name && (!name || fnmatch(x->name, name, 0)))
            continue;
        return x;
    }
    return NULL;
}
