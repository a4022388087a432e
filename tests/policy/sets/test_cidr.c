/* Tests for policy/cidr.c: parsing, formatting, and the set algebra against a bitmap oracle. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sets/cidr.h"

static struct cidr parse_ok(const char *text)
{
    struct cidr c;
    struct err e = {0};
    bool norm = true;

    if (cidr_parse(text, CIDR_STRICT, &c, &norm, &e) != 0)
        fail_msg("cidr_parse(\"%s\") failed: %s", text, e.msg);
    assert_false(norm);
    return c;
}

static void assert_parse_error(const char *text, unsigned flags, const char *msg)
{
    struct cidr c;
    struct err e = {0};
    bool norm = true;

    assert_int_equal(cidr_parse(text, flags, &c, &norm, &e), -1);
    assert_string_equal(e.msg, msg);
    assert_false(norm);
}

static void assert_roundtrip(const char *text, const char *want)
{
    struct cidr c = parse_ok(text);
    char buf[CIDR_STRLEN];

    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_cidr_parse_ipv4(void **state)
{
    struct cidr c;

    (void)state;
    c = parse_ok("10.0.0.0/8");
    assert_int_equal(c.family, 4);
    assert_int_equal(c.bits, 8);
    assert_memory_equal(c.addr, "\x0a\0\0\0", 4);
    c = parse_ok("0.0.0.0/0");
    assert_int_equal(c.bits, 0);
    c = parse_ok("255.255.255.255/32");
    assert_int_equal(c.bits, 32);
    assert_memory_equal(c.addr, "\xff\xff\xff\xff", 4);
    assert_roundtrip("192.168.1.0/24", "192.168.1.0/24");
    assert_roundtrip("0.0.0.0/0", "0.0.0.0/0");
}

static void test_cidr_parse_ipv6(void **state)
{
    struct cidr c;

    (void)state;
    c = parse_ok("::/0");
    assert_int_equal(c.family, 6);
    assert_int_equal(c.bits, 0);
    c = parse_ok("::1/128");
    assert_int_equal(c.bits, 128);
    assert_memory_equal(c.addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    c = parse_ok("fd00:ec2::254/128");
    assert_memory_equal(c.addr, "\xfd\x00\x0e\xc2\0\0\0\0\0\0\0\0\0\0\x02\x54", 16);
    assert_roundtrip("fd00:ec2::254/128", "fd00:ec2::254/128");
    assert_roundtrip("::/0", "::/0");
    assert_roundtrip("::1/128", "::1/128");
    assert_roundtrip("1::/16", "1::/16");
    assert_roundtrip("2001:DB8::/32", "2001:db8::/32");
    assert_roundtrip("2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128");
    assert_roundtrip("1:2:3:4:5:6:7::/128", "1:2:3:4:5:6:7:0/128");
    assert_roundtrip("::2:3:4:5:6:7:8/128", "0:2:3:4:5:6:7:8/128");
    /* A dotted tail is an ordinary way to write the last 32 bits. */
    assert_roundtrip("64:ff9b::1.2.3.4/128", "64:ff9b::102:304/128");
    assert_roundtrip("::1.2.3.4/128", "::102:304/128");
    assert_roundtrip("1:2:3:4:5:6:1.2.3.4/128", "1:2:3:4:5:6:102:304/128");
}

static void test_cidr_format_rfc5952(void **state)
{
    (void)state;
    /* Longest run wins; the first of equal runs; a lone zero group stays. */
    assert_roundtrip("2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128");
    assert_roundtrip("1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128");
    assert_roundtrip("2001:db8:0:1:1:1:1:1/128", "2001:db8:0:1:1:1:1:1/128");
    assert_roundtrip("2001:db8::0:1/128", "2001:db8::1/128");
    assert_roundtrip("fe80::/10", "fe80::/10");
    assert_roundtrip("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/128",
                     "abcd:ef01:2345:6789:abcd:ef01:2345:6789/128");
}

static void test_cidr_format_mapped(void **state)
{
    struct cidr c = {6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, 128};
    char buf[CIDR_STRLEN];

    (void)state;
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "::ffff:1.2.3.4/128");
    c.bits = 96;
    memset(c.addr + 12, 0, 4);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "::ffff:0.0.0.0/96");
}

static void test_cidr_format_truncates(void **state)
{
    struct cidr c = parse_ok("192.168.100.0/24");
    char buf[8];

    (void)state;
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "192.168");
}

static void test_cidr_parse_normalizes_host_bits(void **state)
{
    struct cidr c;
    struct err e = {0};
    bool norm = false;
    char buf[CIDR_STRLEN];

    (void)state;
    assert_int_equal(cidr_parse("10.0.0.1/8", CIDR_STRICT, &c, &norm, &e), 0);
    assert_true(norm);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.0/8");
    assert_int_equal(cidr_parse("10.1.2.255/31", CIDR_STRICT, &c, &norm, &e), 0);
    assert_true(norm);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.1.2.254/31");
    assert_int_equal(cidr_parse("fd00::100/120", CIDR_STRICT, &c, &norm, &e), 0);
    assert_false(norm);
    assert_int_equal(cidr_parse("fd00::1ff/120", CIDR_STRICT, &c, &norm, &e), 0);
    assert_true(norm);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "fd00::100/120");
    assert_int_equal(cidr_parse("2001:db8::1/0", CIDR_STRICT, &c, &norm, &e), 0);
    assert_true(norm);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "::/0");
    /* A NULL flag pointer is allowed. */
    assert_int_equal(cidr_parse("10.0.0.1/8", CIDR_STRICT, &c, NULL, &e), 0);
}

static void test_cidr_parse_bare_ip(void **state)
{
    struct cidr c;
    struct err e = {0};
    char buf[CIDR_STRLEN];

    (void)state;
    assert_int_equal(cidr_parse("10.1.2.3", CIDR_BARE_IP, &c, NULL, &e), 0);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "10.1.2.3/32");
    assert_int_equal(cidr_parse("fd00::1", CIDR_BARE_IP, &c, NULL, &e), 0);
    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, "fd00::1/128");
    assert_int_equal(cidr_parse("10.1.2.3/24", CIDR_BARE_IP, &c, NULL, &e), 0);
    assert_int_equal(c.bits, 24);
    assert_parse_error("10.1.2.3", CIDR_STRICT,
                       "invalid CIDR \"10.1.2.3\": missing prefix length");
    assert_parse_error("::1", CIDR_STRICT, "invalid CIDR \"::1\": missing prefix length");
}

static void test_cidr_parse_errors(void **state)
{
    (void)state;
    assert_parse_error("", 0, "invalid CIDR \"\": empty");
    assert_parse_error(" 10.0.0.0/8", 0,
                       "invalid CIDR \" 10.0.0.0/8\": leading or trailing whitespace");
    assert_parse_error("10.0.0.0/8\n", 0,
                       "invalid CIDR \"10.0.0.0/8\\x0a\": leading or trailing whitespace");
    assert_parse_error("10.0.0.0/33", 0,
                       "invalid CIDR \"10.0.0.0/33\": prefix length must be 0-32");
    assert_parse_error("fd00::/129", 0, "invalid CIDR \"fd00::/129\": prefix length must be 0-128");
    assert_parse_error("10.0.0.0/", 0, "invalid CIDR \"10.0.0.0/\": prefix length must be 0-32");
    assert_parse_error("10.0.0.0/08", 0,
                       "invalid CIDR \"10.0.0.0/08\": prefix length must be 0-32");
    assert_parse_error("10.0.0.0/+8", 0,
                       "invalid CIDR \"10.0.0.0/+8\": prefix length must be 0-32");
    assert_parse_error("10.0.0.0/8/8", 0,
                       "invalid CIDR \"10.0.0.0/8/8\": prefix length must be 0-32");
    assert_parse_error("10.0.0.0/00032", 0,
                       "invalid CIDR \"10.0.0.0/00032\": prefix length must be 0-32");
    assert_parse_error("10.0.0/8", 0, "invalid CIDR \"10.0.0/8\": bad IPv4 address");
    assert_parse_error("10.0.0.0.0/8", 0, "invalid CIDR \"10.0.0.0.0/8\": bad IPv4 address");
    assert_parse_error("10..0.0/8", 0, "invalid CIDR \"10..0.0/8\": bad IPv4 address");
    assert_parse_error("/8", 0, "invalid CIDR \"/8\": bad IPv4 address");
    assert_parse_error("1000.0.0.0/8", 0, "invalid CIDR \"1000.0.0.0/8\": bad IPv4 address");
    assert_parse_error("256.0.0.0/8", 0,
                       "invalid CIDR \"256.0.0.0/8\": IPv4 octet out of range (0-255)");
    assert_parse_error("010.0.0.0/8", 0,
                       "invalid CIDR \"010.0.0.0/8\": IPv4 octet with a leading zero is ambiguous");
    assert_parse_error("example.com/8", 0, "invalid CIDR \"example.com/8\": bad IPv4 address");
    assert_parse_error("fe80::1%eth0/64", 0,
                       "invalid CIDR \"fe80::1%eth0/64\": zone index not allowed");
    assert_parse_error("1:2:3:4:5:6:7:8:9/128", 0,
                       "invalid CIDR \"1:2:3:4:5:6:7:8:9/128\": bad IPv6 address");
    assert_parse_error("1:2:3:4:5:6:7/128", 0,
                       "invalid CIDR \"1:2:3:4:5:6:7/128\": bad IPv6 address");
    assert_parse_error("1:2:3:4:5:6:7:8::/128", 0,
                       "invalid CIDR \"1:2:3:4:5:6:7:8::/128\": bad IPv6 address");
    assert_parse_error("1::2::3/128", 0, "invalid CIDR \"1::2::3/128\": bad IPv6 address");
    assert_parse_error(":::/0", 0, "invalid CIDR \":::/0\": bad IPv6 address");
    assert_parse_error(":1::/16", 0, "invalid CIDR \":1::/16\": bad IPv6 address");
    assert_parse_error("1:/16", 0, "invalid CIDR \"1:/16\": bad IPv6 address");
    assert_parse_error("12345::/16", 0, "invalid CIDR \"12345::/16\": bad IPv6 address");
    assert_parse_error("g::/16", 0, "invalid CIDR \"g::/16\": bad IPv6 address");
    assert_parse_error("1:2:3:4:5:6:7:1.2.3.4/128", 0,
                       "invalid CIDR \"1:2:3:4:5:6:7:1.2.3.4/128\": bad IPv6 address");
    assert_parse_error("::1.2.3/128", 0, "invalid CIDR \"::1.2.3/128\": bad IPv4 address");
    assert_parse_error("::1.2.3.4:5/128", 0, "invalid CIDR \"::1.2.3.4:5/128\": bad IPv4 address");
}

static void test_cidr_parse_rejects_mapped(void **state)
{
    (void)state;
    assert_parse_error("::ffff:1.2.3.4/128", 0,
                       "invalid CIDR \"::ffff:1.2.3.4/128\": IPv4-mapped IPv6 prefix; write it as "
                       "IPv4: 1.2.3.4/32");
    assert_parse_error("::ffff:0:0/96", 0,
                       "invalid CIDR \"::ffff:0:0/96\": IPv4-mapped IPv6 prefix; write it as IPv4: "
                       "0.0.0.0/0");
    assert_parse_error("::FFFF:a00:0/104", 0,
                       "invalid CIDR \"::FFFF:a00:0/104\": IPv4-mapped IPv6 prefix; write it as "
                       "IPv4: 10.0.0.0/8");
    assert_parse_error("::ffff:1.2.3.4", CIDR_BARE_IP,
                       "invalid CIDR \"::ffff:1.2.3.4\": IPv4-mapped IPv6 prefix; write it as "
                       "IPv4: 1.2.3.4/32");
    /* Shorter prefixes are plain IPv6 ranges that merely include the mapped block. */
    parse_ok("::/80");
    parse_ok("::fffe:0:0/96");
}

static void test_cidr_parse_quotes_odd_text(void **state)
{
    char text[300];

    (void)state;
    assert_parse_error("1\"0.0.0.0/8", 0, "invalid CIDR \"1\\\"0.0.0.0/8\": bad IPv4 address");
    assert_parse_error("10.0.\x01.0/8", 0, "invalid CIDR \"10.0.\\x01.0/8\": bad IPv4 address");
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    {
        struct cidr c;
        struct err e = {0};

        assert_int_equal(cidr_parse(text, 0, &c, NULL, &e), -1);
        /* 96 characters quoted, then "...". */
        assert_non_null(strstr(e.msg, "aaaa...\": bad IPv4 address"));
        assert_true(strlen(e.msg) < 140);
    }
}

static void test_cidr_contains_addr(void **state)
{
    struct cidr c = parse_ok("10.1.0.0/16");
    struct cidr all6 = parse_ok("::/0");
    const uint8_t in[4] = {10, 1, 200, 3}, out[4] = {10, 2, 0, 0};
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};

    (void)state;
    assert_true(cidr_contains_addr(&c, 4, in));
    assert_false(cidr_contains_addr(&c, 4, out));
    assert_false(cidr_contains_addr(&c, 6, v6));
    assert_true(cidr_contains_addr(&all6, 6, v6));
    assert_false(cidr_contains_addr(&all6, 4, in));
}

static struct cidrset *set_of(const char *const *texts, size_t n)
{
    struct cidrset *s = cidrset_new();
    size_t i;

    assert_non_null(s);
    for (i = 0; i < n; i++) {
        struct cidr c = parse_ok(texts[i]);

        assert_int_equal(cidrset_add(s, &c), 0);
    }
    return s;
}

static void assert_format(const struct cidrset *s, size_t max, const char *want)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(cidrset_format(s, max, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
}

static void test_cidrset_format_complement(void **state)
{
    static const char *const all[] = {"0.0.0.0/0"}, *const ten[] = {"10.0.0.0/8"};
    struct cidrset *s = set_of(all, 1), *t = set_of(ten, 1);

    (void)state;
    assert_true(cidrset_is_all(s, 4));
    assert_false(cidrset_is_all(s, 0));
    assert_int_equal(cidrset_subtract(s, t), 0);
    assert_false(cidrset_is_all(s, 4));
    assert_format(s, 0,
                  "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, "
                  "64.0.0.0/2, 128.0.0.0/1");
    assert_format(s, 3, "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, ... (5 more)");
    assert_format(s, 8,
                  "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, "
                  "64.0.0.0/2, 128.0.0.0/1");
    assert_format(s, 7,
                  "0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6, 16.0.0.0/4, 32.0.0.0/3, "
                  "64.0.0.0/2, ... (1 more)");
    assert_int_equal(cidrset_union(s, t), 0);
    assert_format(s, 0, "0.0.0.0/0");
    cidrset_free(s);
    cidrset_free(t);
}

static void test_cidrset_format_empty_and_families(void **state)
{
    static const char *const mixed[] = {"fd00::/8", "10.0.0.0/8", "::1/128", "10.1.0.0/16",
                                        "11.0.0.0/8", "0.0.0.0/32"};
    struct cidrset *s = cidrset_new();
    struct cidrset *m = set_of(mixed, 6);

    (void)state;
    assert_true(cidrset_is_empty(s));
    assert_format(s, 0, "nothing");
    assert_false(cidrset_is_empty(m));
    /* IPv4 first, ascending; adjacent 10/8 and 11/8 merge into 10/7. */
    assert_format(m, 0, "0.0.0.0/32, 10.0.0.0/7, ::1/128, fd00::/8");
    assert_int_equal(cidrset_add_all(s, 6), 0);
    assert_true(cidrset_is_all(s, 6));
    assert_false(cidrset_is_all(s, 0));
    assert_format(s, 0, "::/0");
    assert_int_equal(cidrset_add_all(s, 0), 0);
    assert_true(cidrset_is_all(s, 0));
    assert_true(cidrset_is_all(s, 4));
    assert_format(s, 0, "0.0.0.0/0, ::/0");
    assert_true(cidrset_subset(m, s));
    assert_false(cidrset_subset(s, m));
    assert_int_equal(cidrset_intersect(s, m), 0);
    assert_true(cidrset_equal(s, m));
    assert_int_equal(cidrset_subtract(s, m), 0);
    assert_true(cidrset_is_empty(s));
    assert_int_equal(cidrset_add_all(s, 5), -1);
    cidrset_free(s);
    cidrset_free(m);
    cidrset_free(NULL);
}

static void test_cidrset_prefixes_top_of_ipv6(void **state)
{
    static const char *const top[] = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127",
                                      "ffff:ffff:ffff:ffff::/64", "8000::/1"};
    struct cidrset *s = set_of(top, 3), *all = cidrset_new();
    struct cidr *list;
    size_t n;

    (void)state;
    assert_int_equal(cidrset_prefixes(s, &list, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].bits, 1);
    free(list);
    assert_int_equal(cidrset_add_all(all, 6), 0);
    assert_int_equal(cidrset_subtract(all, s), 0);
    assert_format(all, 0, "::/1");
    /* Everything but the last two addresses: one prefix per bit. */
    cidrset_free(s);
    s = set_of(top, 1);
    assert_int_equal(cidrset_add_all(all, 6), 0);
    assert_int_equal(cidrset_subtract(all, s), 0);
    assert_int_equal(cidrset_prefixes(all, &list, &n), 0);
    assert_int_equal(n, 127);
    assert_int_equal(list[0].bits, 1);
    assert_int_equal(list[126].bits, 127);
    free(list);
    cidrset_free(s);
    cidrset_free(all);
}

static void test_cidrset_prefixes_empty(void **state)
{
    struct cidrset *s = cidrset_new();
    struct cidr *list = (struct cidr *)&list;
    size_t n = 7;

    (void)state;
    assert_int_equal(cidrset_prefixes(s, &list, &n), 0);
    assert_null(list);
    assert_int_equal(n, 0);
    cidrset_free(s);
}

static void test_cidrset_add_many_matches_add(void **state)
{
    static const char *const texts[] = {"10.0.0.0/8", "10.2.0.0/16", "192.168.0.0/16",
                                        "fc00::/8",   "11.0.0.0/8",  "172.16.0.0/12",
                                        "fd00::/8",   "9.255.255.255/32"};
    struct cidr list[8];
    struct cidrset *a = set_of(texts, 8), *b = cidrset_new();
    size_t i;

    (void)state;
    for (i = 0; i < 8; i++)
        list[i] = parse_ok(texts[i]);
    assert_int_equal(cidrset_add_many(b, list, 8), 0);
    assert_true(cidrset_equal(a, b));
    assert_format(b, 0,
                  "9.255.255.255/32, 10.0.0.0/7, 172.16.0.0/12, 192.168.0.0/16, fc00::/7");
    assert_int_equal(cidrset_add_many(b, list, 0), 0);
    assert_true(cidrset_equal(a, b));
    list[3].family = 5;
    assert_int_equal(cidrset_add_many(b, list, 8), -1);
    assert_true(cidrset_equal(a, b));
    cidrset_free(a);
    cidrset_free(b);
}

/* ---- differential tests: the algebra against a bitmap of a 256-address universe ---- */

struct universe {
    int family;
    uint8_t base[16]; /* the first address; the last byte varies */
    unsigned width;   /* 32 or 128 */
};

static const struct universe universes[] = {
    {4, {10, 1, 2, 0}, 32},
    {4, {0, 0, 0, 0}, 32},
    {4, {255, 255, 255, 0}, 32},
    {6, {0x20, 0x01, 0x0d, 0xb8}, 128},
    {6, {0}, 128},
    {6, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
     128},
};

struct bits256 {
    uint8_t b[256];
};

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64*: deterministic across runs and platforms. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static struct cidr random_prefix(const struct universe *u, uint64_t *rng)
{
    struct cidr c;
    unsigned host = (unsigned)(next_rand(rng) % 9); /* /24../32 or /120../128 */
    unsigned last = (unsigned)(next_rand(rng) % 256);

    memset(&c, 0, sizeof(c));
    c.family = u->family;
    memcpy(c.addr, u->base, 16);
    c.addr[u->width / 8 - 1] = (uint8_t)(last & ~((1u << host) - 1));
    c.bits = u->width - host;
    return c;
}

static struct cidrset *random_set(const struct universe *u, uint64_t *rng, struct bits256 *bm)
{
    struct cidrset *s = cidrset_new();
    struct cidr list[12];
    size_t n = (size_t)(next_rand(rng) % 12), i, j;

    assert_non_null(s);
    memset(bm, 0, sizeof(*bm));
    for (i = 0; i < n; i++) {
        unsigned host;

        list[i] = random_prefix(u, rng);
        host = u->width - list[i].bits;
        for (j = 0; j < (1u << host); j++)
            bm->b[list[i].addr[u->width / 8 - 1] + j] = 1;
    }
    if (next_rand(rng) & 1) {
        assert_int_equal(cidrset_add_many(s, list, n), 0);
    } else {
        for (i = 0; i < n; i++)
            assert_int_equal(cidrset_add(s, &list[i]), 0);
    }
    return s;
}

static void addr_of(const struct universe *u, unsigned i, uint8_t *addr)
{
    memcpy(addr, u->base, 16);
    addr[u->width / 8 - 1] = (uint8_t)i;
}

static void assert_matches(const struct universe *u, const struct cidrset *s,
                           const struct bits256 *bm)
{
    unsigned i;
    uint8_t addr[16];
    int other = u->family == 4 ? 6 : 4;
    bool any = false;

    for (i = 0; i < 256; i++) {
        addr_of(u, i, addr);
        if (cidrset_contains_addr(s, u->family, addr) != (bm->b[i] != 0))
            fail_msg("address %u of the universe: set says %d", i, !bm->b[i]);
        assert_false(cidrset_contains_addr(s, other, addr));
        any |= bm->b[i] != 0;
    }
    assert_int_equal(cidrset_is_empty(s), !any);
}

/* Fewest prefixes for the block [lo, lo + size) of the bitmap: one if full, else its halves. */
static size_t optimal_count(const struct bits256 *bm, unsigned lo, unsigned size)
{
    unsigned i, ones = 0;

    for (i = lo; i < lo + size; i++)
        ones += bm->b[i];
    if (ones == 0)
        return 0;
    if (ones == size)
        return 1;
    return optimal_count(bm, lo, size / 2) + optimal_count(bm, lo + size / 2, size / 2);
}

static void assert_prefixes_exact_and_minimal(const struct universe *u, const struct cidrset *s,
                                              const struct bits256 *bm)
{
    struct cidr *list;
    struct bits256 covered;
    size_t n, i, j;

    assert_int_equal(cidrset_prefixes(s, &list, &n), 0);
    memset(&covered, 0, sizeof(covered));
    for (i = 0; i < n; i++) {
        unsigned host = u->width - list[i].bits, first;

        assert_int_equal(list[i].family, u->family);
        assert_true(host <= 8);
        assert_memory_equal(list[i].addr, u->base, u->width / 8 - 1);
        first = list[i].addr[u->width / 8 - 1];
        assert_int_equal(first & ((1u << host) - 1), 0); /* no host bits */
        if (i > 0)
            assert_true(memcmp(list[i - 1].addr, list[i].addr, 16) < 0);
        for (j = first; j < first + (1u << host); j++) {
            assert_int_equal(covered.b[j], 0); /* disjoint */
            covered.b[j] = 1;
        }
    }
    assert_memory_equal(covered.b, bm->b, 256);
    assert_int_equal(n, optimal_count(bm, 0, 256));
    free(list);
}

static void assert_format_roundtrip(const struct cidrset *s)
{
    struct buf b;
    struct cidrset *back = cidrset_new();
    char *text, *tok, *save = NULL;

    buf_init(&b, 0);
    assert_int_equal(cidrset_format(s, 0, &b), 0);
    text = buf_detach(&b, NULL);
    assert_non_null(text);
    if (strcmp(text, "nothing") != 0) {
        for (tok = strtok_r(text, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
            struct cidr c = parse_ok(tok);

            assert_int_equal(cidrset_add(back, &c), 0);
        }
    }
    assert_true(cidrset_equal(s, back));
    free(text);
    cidrset_free(back);
}

static void test_cidrset_algebra_against_bitmap(void **state)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t ui, iter, i;

    (void)state;
    for (ui = 0; ui < sizeof(universes) / sizeof(universes[0]); ui++) {
        const struct universe *u = &universes[ui];

        for (iter = 0; iter < 300; iter++) {
            struct bits256 ba, bb, want;
            struct cidrset *a = random_set(u, &rng, &ba), *b = random_set(u, &rng, &bb);
            struct cidrset *r;
            bool sub = true, eq = true;

            assert_matches(u, a, &ba);
            assert_prefixes_exact_and_minimal(u, a, &ba);
            assert_format_roundtrip(a);

            r = cidrset_dup(a);
            assert_int_equal(cidrset_union(r, b), 0);
            for (i = 0; i < 256; i++)
                want.b[i] = ba.b[i] | bb.b[i];
            assert_matches(u, r, &want);
            assert_prefixes_exact_and_minimal(u, r, &want);
            cidrset_free(r);

            r = cidrset_dup(a);
            assert_int_equal(cidrset_intersect(r, b), 0);
            for (i = 0; i < 256; i++)
                want.b[i] = ba.b[i] & bb.b[i];
            assert_matches(u, r, &want);
            assert_prefixes_exact_and_minimal(u, r, &want);
            cidrset_free(r);

            r = cidrset_dup(a);
            assert_int_equal(cidrset_subtract(r, b), 0);
            for (i = 0; i < 256; i++)
                want.b[i] = ba.b[i] & !bb.b[i];
            assert_matches(u, r, &want);
            assert_prefixes_exact_and_minimal(u, r, &want);
            cidrset_free(r);

            for (i = 0; i < 256; i++) {
                sub &= !ba.b[i] || bb.b[i];
                eq &= ba.b[i] == bb.b[i];
            }
            assert_int_equal(cidrset_subset(a, b), sub);
            assert_int_equal(cidrset_equal(a, b), eq);
            assert_true(cidrset_subset(a, a));

            /* Operating on itself: s ∪ s = s, s ∩ s = s, s − s = ∅. */
            r = cidrset_dup(a);
            assert_int_equal(cidrset_union(r, r), 0);
            assert_true(cidrset_equal(r, a));
            assert_int_equal(cidrset_intersect(r, r), 0);
            assert_true(cidrset_equal(r, a));
            assert_int_equal(cidrset_subtract(r, r), 0);
            assert_true(cidrset_is_empty(r));
            cidrset_free(r);
            cidrset_free(a);
            cidrset_free(b);
        }
    }
}

/* A set spanning both families keeps them apart through every operation. */
static void test_cidrset_algebra_two_families(void **state)
{
    uint64_t rng = 42;
    size_t iter, i;

    (void)state;
    for (iter = 0; iter < 200; iter++) {
        struct bits256 a4, a6, b4, b6, w4, w6;
        struct cidrset *a = random_set(&universes[0], &rng, &a4);
        struct cidrset *b = random_set(&universes[0], &rng, &b4);
        struct cidrset *t;

        t = random_set(&universes[3], &rng, &a6);
        assert_int_equal(cidrset_union(a, t), 0);
        cidrset_free(t);
        t = random_set(&universes[3], &rng, &b6);
        assert_int_equal(cidrset_union(b, t), 0);
        cidrset_free(t);

        t = cidrset_dup(a);
        assert_int_equal(cidrset_subtract(t, b), 0);
        for (i = 0; i < 256; i++) {
            w4.b[i] = a4.b[i] & !b4.b[i];
            w6.b[i] = a6.b[i] & !b6.b[i];
        }
        {
            struct cidrset *only4 = cidrset_dup(t), *v6 = cidrset_new();

            assert_int_equal(cidrset_add_all(v6, 6), 0);
            assert_int_equal(cidrset_subtract(only4, v6), 0);
            assert_matches(&universes[0], only4, &w4);
            assert_int_equal(cidrset_intersect(t, v6), 0);
            assert_matches(&universes[3], t, &w6);
            cidrset_free(only4);
            cidrset_free(v6);
        }
        cidrset_free(t);
        cidrset_free(a);
        cidrset_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse_ipv4),
        cmocka_unit_test(test_cidr_parse_ipv6),
        cmocka_unit_test(test_cidr_format_rfc5952),
        cmocka_unit_test(test_cidr_format_mapped),
        cmocka_unit_test(test_cidr_format_truncates),
        cmocka_unit_test(test_cidr_parse_normalizes_host_bits),
        cmocka_unit_test(test_cidr_parse_bare_ip),
        cmocka_unit_test(test_cidr_parse_errors),
        cmocka_unit_test(test_cidr_parse_rejects_mapped),
        cmocka_unit_test(test_cidr_parse_quotes_odd_text),
        cmocka_unit_test(test_cidr_contains_addr),
        cmocka_unit_test(test_cidrset_format_complement),
        cmocka_unit_test(test_cidrset_format_empty_and_families),
        cmocka_unit_test(test_cidrset_prefixes_top_of_ipv6),
        cmocka_unit_test(test_cidrset_prefixes_empty),
        cmocka_unit_test(test_cidrset_add_many_matches_add),
        cmocka_unit_test(test_cidrset_algebra_against_bitmap),
        cmocka_unit_test(test_cidrset_algebra_two_families),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
