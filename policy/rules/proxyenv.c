#include "policy/rules/proxyenv.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/config/allowlist.h"
#include "policy/base/buf.h"
#include "policy/sets/cidr.h"
#include "policy/sets/fqdn.h"
#include "policy/doc/member.h"
#include "policy/sets/portset.h"

#define PATH_MAX_LEN 512
#define MSG_CAP 2048

enum var_kind { VAR_OTHER, VAR_PROXY, VAR_NO_PROXY };

static enum var_kind var_kind(const char *name)
{
    static const char *const proxies[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                                          "https_proxy", "ALL_PROXY", "all_proxy"};
    size_t i;

    for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        if (strcmp(name, proxies[i]) == 0)
            return VAR_PROXY;
    if (strcmp(name, "NO_PROXY") == 0 || strcmp(name, "no_proxy") == 0)
        return VAR_NO_PROXY;
    return VAR_OTHER;
}

/* An address inside the pod: 127.0.0.0/8 or ::1 (the whole prefix, for CIDRs). */
static bool loopback(const struct cidr *c)
{
    static const uint8_t one[16] = {[15] = 1};

    if (c->family == 4)
        return c->bits >= 8 && c->addr[0] == 127;
    return c->bits == 128 && memcmp(c->addr, one, 16) == 0;
}

static bool ends_with_label(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);

    if (n == s)
        return strcmp(name, suffix) == 0;
    return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

/* Parses an address without a prefix length ("10.0.0.1", "fd00::1"); false when it is not one. */
static bool parse_addr(const char *text, struct cidr *c)
{
    struct err ignored = {0};

    return !strchr(text, '/') && cidr_parse(text, CIDR_BARE_IP, c, NULL, &ignored) == 0;
}

struct proxy_url {
    char host[FQDN_MAX + 8];
    unsigned ports[2]; /* the ports a client may use */
    size_t n_ports;
};

/* [scheme://][user[:pass]@]host[:port][/...]. Returns 0, or -1 with `bad` saying why. */
static int proxy_parse(const char *s, struct proxy_url *u, char *bad, size_t size)
{
    char scheme[16] = "";
    const char *p = s, *sep = strstr(s, "://"), *end, *at, *colon = NULL, *h;
    size_t n, i;

    memset(u, 0, sizeof(*u));
    if (sep) {
        n = (size_t)(sep - s);
        if (n >= sizeof(scheme))
            n = sizeof(scheme) - 1;
        for (i = 0; i < n; i++)
            scheme[i] = (char)tolower((unsigned char)s[i]);
        scheme[n] = '\0';
        p = sep + 3;
    }
    end = p + strcspn(p, "/?#");
    for (at = end; at > p && at[-1] != '@'; at--)
        ;
    h = at;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));

        if (!close)
            return snprintf(bad, size, "unbalanced [ in the host"), -1;
        n = (size_t)(close - h - 1);
        if (n >= sizeof(u->host))
            return snprintf(bad, size, "host too long"), -1;
        memcpy(u->host, h + 1, n);
        u->host[n] = '\0';
        if (close + 1 < end && close[1] == ':')
            colon = close + 1;
    } else {
        const char *c1 = memchr(h, ':', (size_t)(end - h));

        /* More than one colon and no brackets: a bare IPv6 address, no port. */
        if (c1 && !memchr(c1 + 1, ':', (size_t)(end - c1 - 1)))
            colon = c1;
        n = (size_t)((colon ? colon : end) - h);
        if (n >= sizeof(u->host))
            return snprintf(bad, size, "host too long"), -1;
        memcpy(u->host, h, n);
        u->host[n] = '\0';
    }
    if (!u->host[0])
        return snprintf(bad, size, "no host"), -1;
    if (colon && colon + 1 < end) {
        char *stop;
        unsigned long port;

        if (!isdigit((unsigned char)colon[1]))
            return snprintf(bad, size, "bad port"), -1;
        port = strtoul(colon + 1, &stop, 10);
        if (stop != end || port == 0 || port > 65535)
            return snprintf(bad, size, "bad port"), -1;
        u->ports[u->n_ports++] = (unsigned)port;
        return 0;
    }
    if (!scheme[0] || strcmp(scheme, "http") == 0) {
        u->ports[u->n_ports++] = 80;   /* Go and most libraries */
        u->ports[u->n_ports++] = 1080; /* curl's default proxy port */
    } else if (strcmp(scheme, "https") == 0) {
        u->ports[u->n_ports++] = 443;
    } else if (strncmp(scheme, "socks", 5) == 0) {
        u->ports[u->n_ports++] = 1080;
    } else {
        return snprintf(bad, size, "unknown proxy scheme \"%s\"", scheme), -1;
    }
    return 0;
}

/* 1 when the proxy host is allowed on `port`, else 0 with the reason in `bad`. */
static int proxy_host_allowed(const struct policy *pol, const char *host, unsigned port,
                              char *bad, size_t size)
{
    char norm[FQDN_MAX];
    struct cidr c;
    struct err fe = {0};

    if (parse_addr(host, &c)) {
        if (loopback(&c) || allowlist_addr(pol, c.family, c.addr, PROTO_TCP, port))
            return 1;
    } else if (fqdn_normalize(host, false, norm, &fe) < 0) {
        snprintf(bad, size, "%s", fe.msg);
        return 0;
    } else if (strcmp(norm, "localhost") == 0 ||
               allowlist_name(pol, norm, PROTO_TCP, port)) {
        return 1;
    }
    snprintf(bad, size, "no allow entry holds %s on TCP/%u", host, port);
    return 0;
}

static int check_proxy(const struct policy *pol, const struct object *obj, const char *name,
                       const json_t *val, const char *path, const char *why, struct verdict *v,
                       struct err *e)
{
    struct proxy_url u;
    char bad[512];
    size_t i;

    if (!*json_string_value(val))
        return 0;
    if (proxy_parse(json_string_value(val), &u, bad, sizeof(bad)) < 0) {
        if (verdict_add(v, obj, val, "pod.proxyEnv", pol->pods.mode, true, path,
                        "%s=\"%s\" cannot be read (%s), so its proxy cannot be checked against "
                        "the allow-list: use scheme://host:port (%s)",
                        name, json_string_value(val), bad, why) < 0)
            return err_set(e, "out of memory");
        return 0;
    }
    for (i = 0; i < u.n_ports; i++) {
        if (proxy_host_allowed(pol, u.host, u.ports[i], bad, sizeof(bad)))
            continue;
        if (verdict_add(v, obj, val, "pod.proxyEnv", pol->pods.mode, true, path,
                        "%s sends traffic through the proxy %s, port %u, which is not an allowed "
                        "destination (%s): use a proxy the allow-list permits (%s)",
                        name, u.host, u.ports[i], bad, why) < 0)
            return err_set(e, "out of memory");
        return 0;
    }
    return 0;
}

/* 1 when what a NO_PROXY entry sends around the proxy stays inside the allow-list; -1 on OOM. */
static int no_proxy_entry_ok(const struct policy *pol, const char *entry)
{
    char host[FQDN_MAX + 8], norm[FQDN_MAX], sub[FQDN_MAX + 4];
    const char *h = entry;
    struct cidr c;
    struct err ignored = {0};
    bool name_ok = false, sub_ok = false;
    size_t n, i;

    if (strcmp(entry, "*") == 0)
        return 0;
    if (strchr(entry, '/')) {
        if (cidr_parse(entry, CIDR_BARE_IP, &c, NULL, &ignored) < 0)
            return 0;
        return loopback(&c) ? 1 : allowlist_covers_cidr(pol, &c);
    }
    if (*h == '[') { /* [::1] or [::1]:80 */
        n = strcspn(h + 1, "]");
        if (n >= sizeof(host) || h[1 + n] != ']')
            return 0;
        memcpy(host, h + 1, n);
        host[n] = '\0';
    } else {
        const char *colon = strchr(h, ':');

        /* One colon: host:port. More: a bare IPv6 address. */
        n = colon && !strchr(colon + 1, ':') ? (size_t)(colon - h) : strlen(h);
        if (n >= sizeof(host))
            return 0;
        memcpy(host, h, n);
        host[n] = '\0';
    }
    if (parse_addr(host, &c))
        return loopback(&c) ? 1 : allowlist_covers_cidr(pol, &c);

    /* A domain: "example.com", ".example.com" and "*.example.com" all reach its subdomains. */
    h = host;
    if (*h == '*')
        h++;
    if (*h == '.')
        h++;
    if (fqdn_normalize(h, false, norm, &ignored) < 0)
        return 0;
    if (ends_with_label(norm, "localhost") || ends_with_label(norm, "svc") ||
        ends_with_label(norm, "cluster.local"))
        return 1;
    if (snprintf(sub, sizeof(sub), "*.%s", norm) >= (int)FQDN_MAX)
        return 0;
    for (i = 0; i < pol->n_allow; i++) {
        const struct dest_entry *d = &pol->allow[i];
        const char *const *list = (const char *const *)d->fqdns;

        name_ok = name_ok || fqdn_subset_of_any(norm, list, d->n_fqdns);
        sub_ok = sub_ok || fqdn_subset_of_any(sub, list, d->n_fqdns);
    }
    return name_ok && sub_ok;
}

static int check_no_proxy(const struct policy *pol, const struct object *obj, const char *name,
                          const json_t *val, const char *path, const char *why,
                          struct verdict *v, struct err *e)
{
    const char *s = json_string_value(val);
    char tok[512];
    struct buf bad;
    int n_bad = 0, ret = -1;

    buf_init(&bad, MSG_CAP);
    while (*s) {
        size_t n;
        int ok;

        s += strspn(s, ", \t");
        n = strcspn(s, ", \t");
        if (!n)
            break;
        if (n >= sizeof(tok)) {
            ok = 0;
            memcpy(tok, s, sizeof(tok) - 1);
            tok[sizeof(tok) - 1] = '\0';
        } else {
            memcpy(tok, s, n);
            tok[n] = '\0';
            ok = no_proxy_entry_ok(pol, tok);
        }
        s += n;
        if (ok < 0) {
            err_set(e, "out of memory");
            goto out;
        }
        if (!ok)
            buf_printf(&bad, "%s\"%s\"", n_bad++ ? ", " : "", tok);
    }
    if (n_bad && verdict_add(v, obj, val, "pod.proxyEnv", pol->pods.mode, true, path,
                             "%s sends traffic to %s around the proxy, and %s not inside the "
                             "allow-list: remove %s (%s)",
                             name, buf_str(&bad), n_bad > 1 ? "those destinations are" : "it is",
                             n_bad > 1 ? "them" : "it", why) < 0) {
        err_set(e, "out of memory");
        goto out;
    }
    ret = 0;
out:
    buf_release(&bad);
    return ret;
}

static int check_env(const struct policy *pol, const struct object *obj, const json_t *c,
                     const char *cpath, const char *why, struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *env, *item, *name, *val, *from;
    size_t i;

    member_path(path, sizeof(path), "%s.envFrom", cpath);
    if (member_get(obj, c, "envFrom", MEMBER_ARRAY, path, &from, e) < 0)
        return -1;
    if (json_array_size(from) > 0 &&
        verdict_add(v, obj, from, "pod.proxyEnv", pol->pods.mode, false, path,
                    "envFrom may set HTTP_PROXY, HTTPS_PROXY or NO_PROXY from a ConfigMap or "
                    "Secret, which cannot be checked offline") < 0)
        return err_set(e, "out of memory");

    member_path(path, sizeof(path), "%s.env", cpath);
    if (member_get(obj, c, "env", MEMBER_ARRAY, path, &env, e) < 0)
        return -1;
    json_array_foreach(env, i, item) {
        enum var_kind kind;

        member_path(path, sizeof(path), "%s.env[%zu]", cpath, i);
        if (member_check(obj, env, item, MEMBER_OBJECT, path, e) < 0)
            return -1;
        member_path(path, sizeof(path), "%s.env[%zu].name", cpath, i);
        if (member_get(obj, item, "name", MEMBER_STRING, path, &name, e) < 0)
            return -1;
        if (!name) {
            err_set(e, "%s: missing", path);
            return doc_err_at(obj->doc, item, e);
        }
        kind = var_kind(json_string_value(name));
        if (kind == VAR_OTHER)
            continue;
        member_path(path, sizeof(path), "%s.env[%zu].valueFrom", cpath, i);
        if (member_get(obj, item, "valueFrom", MEMBER_OBJECT, path, &from, e) < 0)
            return -1;
        if (from) {
            if (verdict_add(v, obj, from, "pod.proxyEnv", pol->pods.mode, false, path,
                            "%s comes from valueFrom, which cannot be checked offline",
                            json_string_value(name)) < 0)
                return err_set(e, "out of memory");
            continue;
        }
        member_path(path, sizeof(path), "%s.env[%zu].value", cpath, i);
        if (member_get(obj, item, "value", MEMBER_STRING, path, &val, e) < 0)
            return -1;
        if (!val)
            continue;
        if (strstr(json_string_value(val), "$(")) {
            if (verdict_add(v, obj, val, "pod.proxyEnv", pol->pods.mode, false, path,
                            "%s refers to other variables ($(...)), which cannot be checked "
                            "offline",
                            json_string_value(name)) < 0)
                return err_set(e, "out of memory");
            continue;
        }
        if (kind == VAR_PROXY &&
            check_proxy(pol, obj, json_string_value(name), val, path, why, v, e) < 0)
            return -1;
        if (kind == VAR_NO_PROXY &&
            check_no_proxy(pol, obj, json_string_value(name), val, path, why, v, e) < 0)
            return -1;
    }
    return 0;
}

int proxyenv_check(const struct policy *pol, const struct object *obj, const struct pod_view *pv,
                   const char *why, struct verdict *v, struct err *e)
{
    char path[PATH_MAX_LEN];
    const json_t *list, *c;
    size_t l, i;

    for (l = 0; l < POD_CONTAINER_LISTS; l++) {
        member_path(path, sizeof(path), "%s.%s", pv->spec_path, pod_container_list(l));
        if (member_get(obj, pv->spec, pod_container_list(l), MEMBER_ARRAY, path, &list, e) < 0)
            return -1;
        json_array_foreach(list, i, c) {
            member_path(path, sizeof(path), "%s.%s[%zu]", pv->spec_path, pod_container_list(l), i);
            if (member_check(obj, list, c, MEMBER_OBJECT, path, e) < 0 ||
                check_env(pol, obj, c, path, why, v, e) < 0)
                return -1;
        }
    }
    return 0;
}
