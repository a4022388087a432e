/* Tests for policy/portset.c: protocols, formatting, and the algebra against a direct oracle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sets/portset.h"

static void test_proto_parse_names_and_numbers(void **state)
{
    struct err e = {0};
    int p = -5;

    (void)state;
    assert_int_equal(proto_parse("TCP", &p, &e), 0);
    assert_int_equal(p, PROTO_TCP);
    assert_int_equal(proto_parse("udp", &p, &e), 0);
    assert_int_equal(p, PROTO_UDP);
    assert_int_equal(proto_parse("Sctp", &p, &e), 0);
    assert_int_equal(p, PROTO_SCTP);
    assert_int_equal(proto_parse("ICMP", &p, &e), 0);
    assert_int_equal(p, PROTO_ICMP);
    assert_int_equal(proto_parse("icmpv6", &p, &e), 0);
    assert_int_equal(p, PROTO_ICMPV6);
    assert_int_equal(proto_parse("UDPLite", &p, &e), 0);
    assert_int_equal(p, PROTO_UDPLITE);
    assert_int_equal(proto_parse("ANY", &p, &e), 0);
    assert_int_equal(p, PROTO_ANY);
    assert_int_equal(proto_parse("any", &p, &e), 0);
    assert_int_equal(p, PROTO_ANY);
    assert_int_equal(proto_parse("47", &p, &e), 0);
    assert_int_equal(p, 47);
    assert_int_equal(proto_parse("0", &p, &e), 0);
    assert_int_equal(p, 0);
    assert_int_equal(proto_parse("255", &p, &e), 0);
    assert_int_equal(p, 255);
}

static void assert_proto_error(const char *text, const char *msg)
{
    struct err e = {0};
    int p = 99;

    assert_int_equal(proto_parse(text, &p, &e), -1);
    assert_string_equal(e.msg, msg);
    assert_int_equal(p, 99);
}

static void test_proto_parse_errors(void **state)
{
    (void)state;
    assert_proto_error("TPC", "unknown protocol \"TPC\"");
    assert_proto_error("", "unknown protocol \"\"");
    assert_proto_error("256", "unknown protocol \"256\"");
    assert_proto_error("-1", "unknown protocol \"-1\"");
    assert_proto_error("1000", "unknown protocol \"1000\"");
    assert_proto_error(" TCP", "unknown protocol \" TCP\"");
    assert_proto_error("6 ", "unknown protocol \"6 \"");
}

static void test_proto_name(void **state)
{
    (void)state;
    assert_string_equal(proto_name(PROTO_TCP), "TCP");
    assert_string_equal(proto_name(PROTO_UDP), "UDP");
    assert_string_equal(proto_name(PROTO_SCTP), "SCTP");
    assert_string_equal(proto_name(PROTO_ICMP), "ICMP");
    assert_string_equal(proto_name(PROTO_ICMPV6), "ICMPv6");
    assert_string_equal(proto_name(PROTO_UDPLITE), "UDPLite");
    assert_string_equal(proto_name(0), "0");
    assert_string_equal(proto_name(47), "47");
    assert_string_equal(proto_name(255), "255");
    assert_string_equal(proto_name(PROTO_ANY), "any");
    assert_true(proto_has_ports(PROTO_TCP));
    assert_true(proto_has_ports(PROTO_UDP));
    assert_true(proto_has_ports(PROTO_SCTP));
    assert_true(proto_has_ports(PROTO_UDPLITE));
    assert_false(proto_has_ports(PROTO_ICMP));
    assert_false(proto_has_ports(PROTO_ICMPV6));
    assert_false(proto_has_ports(47));
}

static void assert_format(const struct portset *s, const char *want)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(portset_format(s, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
}

static void test_portset_format(void **state)
{
    struct portset *s = portset_new();

    (void)state;
    assert_format(s, "no port");
    assert_int_equal(portset_add_range(s, PROTO_UDP, 53, 53), 0);
    assert_int_equal(portset_add_range(s, PROTO_TCP, 8000, 8080), 0);
    assert_int_equal(portset_add_range(s, PROTO_TCP, 443, 443), 0);
    assert_format(s, "TCP/443, TCP/8000-8080, UDP/53");
    assert_int_equal(portset_add_proto(s, PROTO_TCP), 0);
    assert_format(s, "TCP/*, UDP/53");
    assert_int_equal(portset_add_proto(s, PROTO_ICMP), 0);
    assert_format(s, "ICMP, TCP/*, UDP/53");
    assert_int_equal(portset_add_range(s, 47, 0, 9), 0);
    assert_format(s, "ICMP, TCP/*, UDP/53, protocol 47/0-9");
    assert_int_equal(portset_add_proto(s, 47), 0);
    assert_int_equal(portset_add_proto(s, PROTO_UDP), 0);
    assert_format(s, "ICMP, TCP/*, UDP/*, protocol 47");
    assert_int_equal(portset_add_proto(s, 7), 0);
    assert_int_equal(portset_add_proto(s, 8), 0);
    assert_format(s, "ICMP, protocols 6-8, UDP/*, protocol 47");
    assert_int_equal(portset_add_proto(s, PROTO_ANY), 0);
    assert_true(portset_is_all(s));
    assert_format(s, "any protocol/port");
    portset_free(s);
}

static void test_portset_format_except(void **state)
{
    struct portset *s = portset_new(), *t = portset_new();

    (void)state;
    assert_int_equal(portset_add_proto(s, PROTO_ANY), 0);
    assert_int_equal(portset_add_range(t, PROTO_TCP, 25, 25), 0);
    assert_int_equal(portset_subtract(s, t), 0);
    assert_false(portset_is_all(s));
    assert_format(s, "any protocol/port except TCP/25");
    assert_int_equal(portset_add_proto(t, PROTO_UDP), 0);
    assert_int_equal(portset_add_range(t, PROTO_ICMP, 0, 0), 0);
    assert_int_equal(portset_subtract(s, t), 0);
    assert_true(portset_contains(s, PROTO_TCP, 24));
    assert_false(portset_contains(s, PROTO_UDP, 53));
    assert_format(s, "any protocol/port except ICMP/0, TCP/25, UDP/*");
    /* Equal item counts: the plain list wins. */
    portset_free(s);
    s = portset_new();
    assert_int_equal(portset_add_range(s, PROTO_TCP, 0, 65535), 0);
    assert_int_equal(portset_add_range(s, 7, 0, 65535), 0);
    assert_format(s, "protocols 6-7");
    portset_free(s);
    portset_free(t);
}

static void test_portset_add_range_rejects_bad_input(void **state)
{
    struct portset *s = portset_new();

    (void)state;
    assert_int_equal(portset_add_range(s, PROTO_TCP, 10, 9), -1);
    assert_int_equal(portset_add_range(s, PROTO_TCP, 0, 65536), -1);
    assert_int_equal(portset_add_range(s, 256, 0, 1), -1);
    assert_int_equal(portset_add_range(s, -2, 0, 1), -1);
    assert_true(portset_is_empty(s));
    assert_false(portset_contains(s, 256, 0));
    assert_false(portset_contains(s, PROTO_TCP, 65536));
    portset_free(s);
    portset_free(NULL);
}

static void test_portset_ranges_split_at_protocols(void **state)
{
    struct portset *s = portset_new();
    struct portrange *r;
    size_t n;

    (void)state;
    assert_int_equal(portset_ranges(s, &r, &n), 0);
    assert_null(r);
    assert_int_equal(n, 0);
    /* TCP/65535 and protocol 7 port 0 touch on the line but are two runs. */
    assert_int_equal(portset_add_range(s, PROTO_TCP, 65000, 65535), 0);
    assert_int_equal(portset_add_range(s, 7, 0, 100), 0);
    assert_int_equal(portset_ranges(s, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].proto, PROTO_TCP);
    assert_int_equal(r[0].lo, 65000);
    assert_int_equal(r[0].hi, 65535);
    assert_int_equal(r[1].proto, 7);
    assert_int_equal(r[1].lo, 0);
    assert_int_equal(r[1].hi, 100);
    free(r);
    assert_format(s, "TCP/65000-65535, protocol 7/0-100");
    portset_free(s);
}

/* ---- differential test: every operation against a direct membership oracle ---- */

#define MAXR 10

struct spec {
    struct portrange r[MAXR]; /* proto may be PROTO_ANY */
    size_t n;
};

static bool spec_has(const struct spec *sp, int proto, unsigned port)
{
    size_t i;

    for (i = 0; i < sp->n; i++)
        if ((sp->r[i].proto == PROTO_ANY || sp->r[i].proto == proto) && sp->r[i].lo <= port &&
            port <= sp->r[i].hi)
            return true;
    return false;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static const int protos[] = {0, PROTO_TCP, PROTO_UDP, 255, PROTO_ANY};
static const unsigned edges[] = {0, 1, 52, 53, 54, 443, 65534, 65535};

static unsigned random_port(uint64_t *rng)
{
    if (next_rand(rng) % 3 == 0)
        return edges[next_rand(rng) % (sizeof(edges) / sizeof(edges[0]))];
    return (unsigned)(next_rand(rng) % 65536);
}

static struct portset *random_set(uint64_t *rng, struct spec *sp)
{
    struct portset *s = portset_new();
    size_t i;

    assert_non_null(s);
    sp->n = (size_t)(next_rand(rng) % MAXR);
    for (i = 0; i < sp->n; i++) {
        unsigned a = random_port(rng), b = random_port(rng);

        sp->r[i].proto = protos[next_rand(rng) % 5];
        sp->r[i].lo = a < b ? a : b;
        sp->r[i].hi = a < b ? b : a;
        if (next_rand(rng) % 8 == 0) {
            sp->r[i].lo = 0;
            sp->r[i].hi = 65535;
            assert_int_equal(portset_add_proto(s, sp->r[i].proto), 0);
        } else {
            assert_int_equal(portset_add_range(s, sp->r[i].proto, sp->r[i].lo, sp->r[i].hi), 0);
        }
    }
    return s;
}

enum op { OP_A, OP_UNION, OP_INTERSECT, OP_SUBTRACT };

static bool oracle(enum op op, const struct spec *a, const struct spec *b, int proto, unsigned port)
{
    bool x = spec_has(a, proto, port), y = spec_has(b, proto, port);

    switch (op) {
    case OP_UNION:
        return x || y;
    case OP_INTERSECT:
        return x && y;
    case OP_SUBTRACT:
        return x && !y;
    default:
        return x;
    }
}

/*
 * Membership only changes at range edges, so checking every edge (and its neighbours) of every
 * input range, on protocols that stand for all others (1..5 behave alike, as do 7..16, ...),
 * checks the whole 24-bit line.
 */
static const int probe_protos[] = {0, 1, 5, 6, 7, 16, 17, 18, 254, 255};

static size_t probe_ports(const struct spec *a, const struct spec *b, unsigned *ports)
{
    const struct spec *specs[2] = {a, b};
    size_t np = 0, i, k;

    ports[np++] = 0;
    ports[np++] = 65535;
    for (k = 0; k < 2; k++) {
        for (i = 0; i < specs[k]->n; i++) {
            const struct portrange *x = &specs[k]->r[i];

            ports[np++] = x->lo;
            ports[np++] = x->hi;
            ports[np++] = x->lo ? x->lo - 1 : 0;
            ports[np++] = x->hi < 65535 ? x->hi + 1 : 65535;
        }
    }
    return np;
}

static void assert_matches(enum op op, const struct spec *a, const struct spec *b,
                           const struct portset *s)
{
    unsigned ports[4 * 2 * MAXR + 2];
    size_t np = probe_ports(a, b, ports), i, j, k, nr;
    struct portrange *r;
    bool any = false;

    assert_int_equal(portset_ranges(s, &r, &nr), 0);
    for (i = 0; i < sizeof(probe_protos) / sizeof(probe_protos[0]); i++) {
        for (j = 0; j < np; j++) {
            int p = probe_protos[i];
            bool want = oracle(op, a, b, p, ports[j]), in_ranges = false;

            if (portset_contains(s, p, ports[j]) != want)
                fail_msg("op %d: %d/%u should be %s", op, p, ports[j], want ? "in" : "out");
            for (k = 0; k < nr; k++)
                in_ranges |= r[k].proto == p && r[k].lo <= ports[j] && ports[j] <= r[k].hi;
            assert_int_equal(in_ranges, want);
            any |= want;
        }
    }
    /* Ranges are ordered and maximal within a protocol. */
    for (k = 0; k < nr; k++) {
        assert_true(r[k].lo <= r[k].hi);
        if (k > 0) {
            assert_true(r[k - 1].proto <= r[k].proto);
            if (r[k - 1].proto == r[k].proto)
                assert_true(r[k - 1].hi + 1 < r[k].lo);
        }
    }
    assert_int_equal(portset_is_empty(s), nr == 0);
    assert_int_equal(any, nr != 0);
    free(r);
}

static void test_portset_algebra_against_oracle(void **state)
{
    uint64_t rng = 0x1234567887654321ull;
    size_t iter;

    (void)state;
    for (iter = 0; iter < 2000; iter++) {
        struct spec sa, sb;
        struct portset *a = random_set(&rng, &sa), *b = random_set(&rng, &sb), *r;
        unsigned ports[4 * 2 * MAXR + 2];
        bool sub = true, eq = true;
        size_t i, j, np;

        assert_matches(OP_A, &sa, &sb, a);
        r = portset_dup(a);
        assert_int_equal(portset_union(r, b), 0);
        assert_matches(OP_UNION, &sa, &sb, r);
        assert_true(portset_subset(a, r));
        assert_true(portset_subset(b, r));
        portset_free(r);
        r = portset_dup(a);
        assert_int_equal(portset_intersect(r, b), 0);
        assert_matches(OP_INTERSECT, &sa, &sb, r);
        assert_true(portset_subset(r, a));
        portset_free(r);
        r = portset_dup(a);
        assert_int_equal(portset_subtract(r, b), 0);
        assert_matches(OP_SUBTRACT, &sa, &sb, r);
        portset_free(r);

        /* a ⊆ b and a = b, from the oracle at every edge of both. */
        np = probe_ports(&sa, &sb, ports);
        for (i = 0; i < sizeof(probe_protos) / sizeof(probe_protos[0]); i++) {
            for (j = 0; j < np; j++) {
                bool x = spec_has(&sa, probe_protos[i], ports[j]);
                bool y = spec_has(&sb, probe_protos[i], ports[j]);

                sub &= !x || y;
                eq &= x == y;
            }
        }
        assert_int_equal(portset_subset(a, b), sub);
        assert_int_equal(portset_equal(a, b), eq);
        assert_true(portset_subset(a, a));
        assert_true(portset_equal(b, b));
        portset_free(a);
        portset_free(b);
    }
}

static void test_portset_overlaps(void **state)
{
    struct portset *a = portset_new(), *b = portset_new(), *x = NULL;

    (void)state;
    portset_add_range(a, PROTO_TCP, 80, 90);
    portset_add_range(a, PROTO_UDP, 53, 53);
    portset_add_range(b, PROTO_TCP, 91, 100);
    assert_false(portset_overlaps(a, b)); /* adjacent is not overlapping */
    portset_add_range(b, PROTO_UDP, 50, 53);
    assert_true(portset_overlaps(a, b));
    assert_true(portset_overlaps(b, a));
    /* agrees with a non-empty intersection */
    x = portset_dup(a);
    portset_intersect(x, b);
    assert_false(portset_is_empty(x));
    portset_free(x);
    portset_free(b);
    b = portset_new();
    assert_false(portset_overlaps(a, b));
    portset_add_proto(b, PROTO_ANY);
    assert_true(portset_overlaps(a, b));
    portset_free(a);
    portset_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_parse_names_and_numbers),
        cmocka_unit_test(test_proto_parse_errors),
        cmocka_unit_test(test_proto_name),
        cmocka_unit_test(test_portset_format),
        cmocka_unit_test(test_portset_format_except),
        cmocka_unit_test(test_portset_add_range_rejects_bad_input),
        cmocka_unit_test(test_portset_ranges_split_at_protocols),
        cmocka_unit_test(test_portset_algebra_against_oracle),
        cmocka_unit_test(test_portset_overlaps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
