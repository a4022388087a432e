#include "policy/rules/mesh.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/config/allowlist.h"
#include "policy/base/buf.h"
#include "policy/sets/cidr.h"
#include "policy/doc/member.h"

#define PATH_MAX_LEN 512
#define MSG_CAP 2048 /* a message lists ranges; long lists are cut, not lost */

/* metadata.annotations[key] or metadata.labels[key] as a string, with its path. */
static int meta_value(const struct object *obj, const struct pod_view *pv, bool label,
                      const char *key, const json_t **out, char *path, size_t size,
                      struct err *e)
{
    member_path(path, size, "%s.%s[%s]", pv->meta_path, label ? "labels" : "annotations", key);
    return member_get(obj, label ? pv->labels : pv->annotations, key, MEMBER_STRING, path, out,
                      e);
}

/* Next comma-separated item of *s, spaces trimmed, into tok (NUL-terminated). false at the end. */
static bool next_item(const char **s, char *tok, size_t size)
{
    const char *p = *s, *end;
    size_t n;

    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    if (!*p)
        return false;
    end = p + strcspn(p, ",");
    *s = end;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = (size_t)(end - p);
    if (n >= size)
        n = size - 1;
    memcpy(tok, p, n);
    tok[n] = '\0';
    return true;
}

static int add(struct verdict *v, const struct object *obj, const struct policy *pol,
               const json_t *node, const char *path, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int add(struct verdict *v, const struct object *obj, const struct policy *pol,
               const json_t *node, const char *path, struct err *e, const char *fmt, ...)
{
    char msg[MSG_CAP + 1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (verdict_add(v, obj, node, "pod.mesh", pol->pods.mode, true, path, "%s", msg) < 0)
        return err_set(e, "out of memory");
    return 0;
}

/* Ranges that skip the sidecar (exclude lists): each must lie inside the allow-list's CIDRs. */
static int check_excluded_ranges(const struct policy *pol, const struct object *obj,
                                 const struct pod_view *pv, const char *key, const char *why,
                                 struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN], tok[256];
    const json_t *val;
    const char *s;
    struct buf bad;
    int n_bad = 0, ret = -1;

    if (meta_value(obj, pv, false, key, &val, path, sizeof(path), e) < 0)
        return -1;
    if (!val)
        return 0;
    buf_init(&bad, MSG_CAP);
    s = json_string_value(val);
    while (next_item(&s, tok, sizeof(tok))) {
        struct cidr c;
        struct err perr = {0};
        int covered;

        if (strcmp(tok, "*") == 0) {
            covered = 0;
        } else if (cidr_parse(tok, CIDR_BARE_IP, &c, NULL, &perr) < 0) {
            covered = 0; /* unreadable: the injector may read it more generously than we do */
        } else {
            covered = allowlist_covers_cidr(pol, &c);
            if (covered < 0) {
                err_set(e, "out of memory");
                goto out;
            }
        }
        if (!covered)
            buf_printf(&bad, "%s%s", n_bad++ ? ", " : "", tok);
    }
    if (n_bad) {
        if (add(v, obj, pol, val, path, e,
                "%s sends traffic to %s past the sidecar, and %s outside the allow-list's "
                 "CIDRs: remove %s or narrow it to allowed ranges (%s)",
                 key, buf_str(&bad), n_bad > 1 ? "these are" : "that is",
                 n_bad > 1 ? "them" : "it", why) < 0)
            goto out;
    }
    ret = 0;
out:
    buf_release(&bad);
    return ret;
}

/* Istio's include list: everything it leaves out skips the sidecar. */
static int check_included_ranges(const struct policy *pol, const struct object *obj,
                                 const struct pod_view *pv, const char *key, const char *why,
                                 struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN], tok[256];
    const json_t *val;
    const char *s;
    struct cidrset *left_out;
    int covered, ret = -1;
    bool unreadable = false;

    if (meta_value(obj, pv, false, key, &val, path, sizeof(path), e) < 0)
        return -1;
    if (!val)
        return 0;
    left_out = cidrset_new();
    if (!left_out || cidrset_add_all(left_out, 0) < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    s = json_string_value(val);
    while (next_item(&s, tok, sizeof(tok))) {
        struct cidr c;
        struct err perr = {0};
        struct cidrset *one;

        if (strcmp(tok, "*") == 0) {
            ret = 0;
            goto out;
        }
        if (cidr_parse(tok, CIDR_BARE_IP, &c, NULL, &perr) < 0) {
            unreadable = true;
            continue;
        }
        one = cidrset_new();
        if (!one || cidrset_add(one, &c) < 0 || cidrset_subtract(left_out, one) < 0) {
            cidrset_free(one);
            err_set(e, "out of memory");
            goto out;
        }
        cidrset_free(one);
    }
    covered = allowlist_covers_set(pol, left_out);
    if (covered < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    if (!covered || unreadable) {
        if (add(v, obj, pol, val, path, e,
                 "%s captures only \"%s\": traffic to every other address leaves without the "
                 "sidecar, and not all of it is inside the allow-list's CIDRs: use \"*\" (%s)",
                 key, json_string_value(val), why) < 0)
            goto out;
    }
    ret = 0;
out:
    cidrset_free(left_out);
    return ret;
}

static int check_excluded_ports(const struct policy *pol, const struct object *obj,
                                const struct pod_view *pv, const char *key, const char *why,
                                struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN], tok[8];
    const json_t *val;
    const char *s;

    if (meta_value(obj, pv, false, key, &val, path, sizeof(path), e) < 0)
        return -1;
    if (!val)
        return 0;
    s = json_string_value(val);
    if (!next_item(&s, tok, sizeof(tok)))
        return 0; /* empty: nothing skipped */
    return add(v, obj, pol, val, path, e,
               "%s: \"%s\" lets traffic on these ports reach any destination without the "
               "sidecar: remove it (%s)",
               key, json_string_value(val), why);
}

/* Istio injects only for y, yes, true, on (any case); empty means "the namespace decides". */
static bool istio_says_no(const char *s)
{
    static const char *const yes[] = {"y", "yes", "true", "on", ""};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcasecmp(s, yes[i]) == 0)
            return false;
    return true;
}

static int check_injection(const struct policy *pol, const struct object *obj,
                           const struct pod_view *pv, const char *why, struct verdict *v,
                           struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *val;
    int label;

    for (label = 0; label <= 1; label++) {
        if (meta_value(obj, pv, label, "sidecar.istio.io/inject", &val, path, sizeof(path), e) <
            0)
            return -1;
        if (!val || !istio_says_no(json_string_value(val)))
            continue;
        if (add(v, obj, pol, val, path, e,
                "sidecar.istio.io/inject: \"%s\" keeps the Istio sidecar out of the pod, and "
                 "the organization requires AI pods to be in the mesh: remove it (%s)",
                 json_string_value(val), why) < 0)
            return -1;
    }
    if (meta_value(obj, pv, false, "linkerd.io/inject", &val, path, sizeof(path), e) < 0)
        return -1;
    if (val && strcmp(json_string_value(val), "disabled") == 0) {
        if (add(v, obj, pol, val, path, e,
                 "linkerd.io/inject: disabled keeps the Linkerd proxy out of the pod, and the "
                 "organization requires AI pods to be in the mesh: remove it (%s)",
                 why) < 0)
            return -1;
    }
    return 0;
}

int mesh_check(const struct policy *pol, const struct object *obj, const struct pod_view *pv,
               const char *why, struct verdict *v, struct err *e)
{
    if (pol->pods.mesh_deny_bypass) {
        if (check_excluded_ranges(pol, obj, pv, "traffic.sidecar.istio.io/excludeOutboundIPRanges",
                                  why, v, e) < 0 ||
            check_included_ranges(pol, obj, pv, "traffic.sidecar.istio.io/includeOutboundIPRanges",
                                  why, v, e) < 0 ||
            check_excluded_ports(pol, obj, pv, "traffic.sidecar.istio.io/excludeOutboundPorts",
                                 why, v, e) < 0 ||
            check_excluded_ranges(pol, obj, pv, "config.linkerd.io/skip-subnets", why, v, e) < 0 ||
            check_excluded_ports(pol, obj, pv, "config.linkerd.io/skip-outbound-ports", why, v,
                                 e) < 0)
            return -1;
    }
    if (pol->pods.mesh_require_sidecar && check_injection(pol, obj, pv, why, v, e) < 0)
        return -1;
    return 0;
}
