#include "policy/cni/cilports.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/base/buf.h"
#include "policy/doc/member.h"

/* The note naming a rule's DNS patterns (from the object); longer lists say only that there are
 * some. */
#define DNS_NOTE_CAP ((size_t)1024)

static int l4_any(struct portset *ps)
{
    if (portset_add_proto(ps, PROTO_TCP) < 0 || portset_add_proto(ps, PROTO_UDP) < 0 ||
        portset_add_proto(ps, PROTO_SCTP) < 0)
        return -1;
    return 0;
}

static bool port_name_ok(const char *s)
{
    size_t n = strlen(s), i;
    bool letter = false;

    if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            return false;
    }
    return letter;
}

/* A port number given as a YAML integer or a decimal string; -1 when it is neither. */
static long port_number(const json_t *j)
{
    const char *s;
    char *end;
    long v;

    if (json_is_integer(j))
        return (long)json_integer_value(j);
    s = json_string_value(j);
    if (!s || !*s || !(*s >= '0' && *s <= '9'))
        return -1;
    v = strtol(s, &end, 10);
    return *end ? -1 : v;
}

static int add_port(struct cilrd *r, const json_t *pp, const char *path, struct portset *ps)
{
    const json_t *port = cilrd_member(pp, "port"), *endp = cilrd_member(pp, "endPort");
    const json_t *proto_j = cilrd_member(pp, "protocol");
    const char *proto_s = proto_j ? json_string_value(proto_j) : "ANY";
    int protos[3], np = 0, i;
    long lo, hi;
    char p[CILRD_PATH_LEN], msg[160];

    if (!json_is_object(pp))
        return cilrd_failf(r, pp, path, "must be an object with port and protocol");
    if (!proto_s || (strcasecmp(proto_s, "TCP") && strcasecmp(proto_s, "UDP") &&
                     strcasecmp(proto_s, "SCTP") && strcasecmp(proto_s, "ANY"))) {
        member_path(p, sizeof(p), "%s.protocol", path);
        member_path(msg, sizeof(msg),
                    "unknown protocol \"%s\" (Cilium accepts TCP, UDP, SCTP, ANY)",
                    proto_s ? proto_s : "?");
        return cilrd_failf(r, proto_j, p, msg);
    }
    if (!strcasecmp(proto_s, "ANY")) {
        protos[np++] = PROTO_TCP;
        protos[np++] = PROTO_UDP;
        protos[np++] = PROTO_SCTP;
    } else {
        if (proto_parse(proto_s, &protos[np], r->e) < 0)
            return cilrd_fail(r, proto_j, path);
        np++;
    }
    member_path(p, sizeof(p), "%s.port", path);
    if (!port || json_is_null(port)) {
        lo = 0;
    } else {
        lo = port_number(port);
        if (lo < 0) {
            const char *name = json_string_value(port);
            if (!name || !port_name_ok(name))
                return cilrd_failf(r, port, p, "must be a port number 0-65535 or a port name");
            if (r->deny) {
                member_path(
                    msg, sizeof(msg),
                    "named port \"%s\" cannot be resolved offline: this deny is not counted", name);
                return cilrd_note(r, port, p, msg);
            }
            member_path(msg, sizeof(msg),
                        "named port \"%s\" cannot be resolved offline: treated as every port",
                        name);
            if (cilrd_note(r, port, p, msg) < 0)
                return -1;
            for (i = 0; i < np; i++)
                if (portset_add_proto(ps, protos[i]) < 0)
                    return err_set(r->e, "out of memory");
            return 0;
        }
        if (lo > 65535)
            return cilrd_failf(r, port, p, "port must be 0-65535");
    }
    hi = lo;
    if (lo == 0) {
        hi = 65535; /* Cilium: port 0 means every port */
    } else if (endp && !json_is_null(endp)) {
        hi = port_number(endp);
        member_path(p, sizeof(p), "%s.endPort", path);
        if (hi < 0 || hi > 65535)
            return cilrd_failf(r, endp, p, "must be a port number 0-65535");
        if (hi < lo)
            return cilrd_failf(r, endp, p, "endPort must not be less than port");
    }
    for (i = 0; i < np; i++)
        if (portset_add_range(ps, protos[i], (unsigned)lo, (unsigned)hi) < 0)
            return err_set(r->e, "out of memory");
    return 0;
}

static int read_l7(struct cilrd *r, const json_t *rules, const char *path)
{
    const json_t *dns = cilrd_member(rules, "dns");
    char p[CILRD_PATH_LEN];
    const char *k;
    json_t *v;

    if (!rules || json_is_null(rules))
        return 0;
    if (!json_is_object(rules))
        return cilrd_failf(r, rules, path, "must be an object");
    if (r->deny)
        return cilrd_failf(r, rules, path, "egressDeny rules cannot have L7 rules");
    json_object_foreach((json_t *)rules, k, v) {
        member_path(p, sizeof(p), "%s.%s", path, k);
        if (!strcmp(k, "dns")) {
            struct buf b;
            size_t i;
            int rc;

            buf_init(&b, DNS_NOTE_CAP);
            buf_puts(&b, "DNS rules limit which names may be resolved through this rule:");
            for (i = 0; i < cilrd_len(dns); i++) {
                const json_t *d = json_array_get(dns, i);
                const char *n = json_string_value(cilrd_member(d, "matchName"));
                const char *pat = json_string_value(cilrd_member(d, "matchPattern"));
                buf_printf(&b, "%s %s", i ? "," : "", n ? n : pat ? pat : "?");
            }
            rc = cilrd_note(r, v, p, b.failed ? "DNS rules present" : buf_str(&b));
            buf_release(&b);
            if (rc < 0)
                return -1;
        } else if (cilrd_note(
                       r, v, p,
                       "L7 rules filter requests but open the same destinations and ports at "
                       "L3/L4") < 0) {
            return -1;
        }
    }
    return 0;
}

static int read_icmps(struct cilrd *r, const json_t *icmps, const char *path, struct portset *ps)
{
    size_t i, j;
    char p[CILRD_PATH_LEN];

    if (r->deny)
        return cilrd_note(r, icmps, path,
                          "ICMP types cannot be modelled: this deny is not counted");
    if (cilrd_note(r, icmps, path, "ICMP types are not modelled: every ICMP type is counted") < 0)
        return -1;
    for (i = 0; i < json_array_size(icmps); i++) {
        const json_t *fields = cilrd_member(json_array_get(icmps, i), "fields");
        for (j = 0; j < json_array_size(fields); j++) {
            const char *fam = json_string_value(cilrd_member(json_array_get(fields, j), "family"));
            int proto = PROTO_ICMP;
            if (fam && !strcmp(fam, "IPv6"))
                proto = PROTO_ICMPV6;
            else if (fam && strcmp(fam, "IPv4")) {
                member_path(p, sizeof(p), "%s[%zu].fields[%zu].family", path, i, j);
                return cilrd_failf(r, cilrd_member(json_array_get(fields, j), "family"), p,
                                   "family must be IPv4 or IPv6");
            }
            if (portset_add_proto(ps, proto) < 0)
                return err_set(r->e, "out of memory");
        }
    }
    return 0;
}

int cilports_read(struct cilrd *r, const json_t *rule, const char *path, struct portset *ps)
{
    const json_t *tp, *icmps;
    size_t i, j;
    char p[CILRD_PATH_LEN];

    if (cilrd_array(r, rule, "toPorts", path, &tp) < 0 ||
        cilrd_array(r, rule, "icmps", path, &icmps) < 0)
        return -1;
    if (cilrd_len(tp) && cilrd_len(icmps)) {
        member_path(p, sizeof(p), "%s.icmps", path);
        return cilrd_failf(r, icmps, p,
                           "icmps may only be present without toPorts (Cilium rejects the rule)");
    }
    if (!cilrd_len(tp) && !cilrd_len(icmps))
        return portset_add_proto(ps, PROTO_ANY) < 0 ? err_set(r->e, "out of memory") : 0;
    if (cilrd_len(icmps)) {
        member_path(p, sizeof(p), "%s.icmps", path);
        return read_icmps(r, icmps, p, ps);
    }
    for (i = 0; i < json_array_size(tp); i++) {
        const json_t *pr = json_array_get(tp, i), *ports;
        char pp[CILRD_PATH_LEN];

        member_path(pp, sizeof(pp), "%s.toPorts[%zu]", path, i);
        if (!json_is_object(pr))
            return cilrd_failf(r, pr, pp, "must be an object");
        if (cilrd_array(r, pr, "ports", pp, &ports) < 0)
            return -1;
        if (!cilrd_len(ports)) {
            /* No port numbers: the L7 part applies to every L4 port. */
            if (l4_any(ps) < 0)
                return err_set(r->e, "out of memory");
        }
        for (j = 0; j < cilrd_len(ports); j++) {
            member_path(p, sizeof(p), "%s.ports[%zu]", pp, j);
            if (add_port(r, json_array_get(ports, j), p, ps) < 0)
                return -1;
        }
        member_path(p, sizeof(p), "%s.rules", pp);
        if (read_l7(r, cilrd_member(pr, "rules"), p) < 0)
            return -1;
        if (cilrd_member(pr, "serverNames") &&
            cilrd_note(r, cilrd_member(pr, "serverNames"), pp,
                       "serverNames (TLS SNI) narrow nothing at L3") < 0)
            return -1;
    }
    return 0;
}

bool cilports_has_dns(const json_t *rules)
{
    size_t i, j;

    for (i = 0; i < json_array_size(rules); i++) {
        const json_t *tp = cilrd_member(json_array_get(rules, i), "toPorts");
        for (j = 0; j < json_array_size(tp); j++)
            if (cilrd_member(cilrd_member(json_array_get(tp, j), "rules"), "dns"))
                return true;
    }
    return false;
}
