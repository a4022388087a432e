#include "policy/sets/cidr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/sets/ivset.h"

/* IPv4 keys live in the low 32 bits; IPv6 keys use all 128. */
struct cidrset {
    struct ivset v4, v6;
};

#define QUOTE_MAX 96 /* input characters quoted in an error message */

/* Writes text for an error message: printable ASCII as is, the rest as \xNN, long text cut. */
static void quote(const char *text, char *out, size_t size)
{
    size_t i, n = 0;

    for (i = 0; text[i] && n + 8 < size; i++) {
        unsigned char c = (unsigned char)text[i];

        if (i == QUOTE_MAX) {
            n += (size_t)snprintf(out + n, size - n, "...");
            break;
        }
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, size - n, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

static int fail(struct err *e, const char *text, const char *why)
{
    char q[QUOTE_MAX * 4 + 8];

    quote(text, q, sizeof(q));
    return err_set(e, "invalid CIDR \"%s\": %s", q, why);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Dotted quad s[0..len) into out[4]. Leading zeros are refused: some parsers read "010" as octal
 * 8, so such an address does not mean the same thing to every reader of the policy.
 */
static const char *parse_ipv4(const char *s, size_t len, uint8_t *out)
{
    size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v = 0;

        if (part > 0) {
            if (i >= len || s[i] != '.')
                return "bad IPv4 address";
            start = ++i;
        }
        while (i < len && is_digit(s[i]) && i - start < 4)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || i - start > 3)
            return "bad IPv4 address";
        if (s[start] == '0' && i - start > 1)
            return "IPv4 octet with a leading zero is ambiguous";
        if (v > 255)
            return "IPv4 octet out of range (0-255)";
        out[part] = (uint8_t)v;
    }
    return i == len ? NULL : "bad IPv4 address";
}

/* RFC 4291 text s[0..len) into out[16], including "::" and a dotted-quad tail. */
static const char *parse_ipv6(const char *s, size_t len, uint8_t *out)
{
    unsigned groups[8];
    int ng = 0, gap = -1, i;
    size_t p = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        p = 2;
    } else if (len >= 1 && s[0] == ':') {
        return "bad IPv6 address";
    }
    while (p < len) {
        size_t start = p;
        unsigned v = 0;

        while (p < len && hex_value(s[p]) >= 0 && p - start < 5)
            v = v * 16 + (unsigned)hex_value(s[p++]);
        if (p < len && s[p] == '.') {
            uint8_t v4[4];
            const char *why;

            if (ng > 6)
                return "bad IPv6 address";
            why = parse_ipv4(s + start, len - start, v4);
            if (why)
                return why;
            groups[ng++] = (unsigned)v4[0] << 8 | v4[1];
            groups[ng++] = (unsigned)v4[2] << 8 | v4[3];
            p = len;
            break;
        }
        if (p == start || p - start > 4 || ng == 8)
            return "bad IPv6 address";
        groups[ng++] = v;
        if (p == len)
            break;
        if (s[p] != ':')
            return "bad IPv6 address";
        p++;
        if (p < len && s[p] == ':') {
            if (gap >= 0)
                return "bad IPv6 address";
            gap = ng;
            p++;
        } else if (p == len) {
            return "bad IPv6 address";
        }
    }
    if (gap >= 0 ? ng > 7 : ng != 8)
        return "bad IPv6 address";
    memset(out, 0, 16);
    for (i = 0; i < ng; i++) {
        int at = gap >= 0 && i >= gap ? 8 - (ng - i) : i;

        out[2 * at] = (uint8_t)(groups[i] >> 8);
        out[2 * at + 1] = (uint8_t)groups[i];
    }
    return NULL;
}

static bool is_v4_mapped(const uint8_t *a)
{
    static const uint8_t head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    return memcmp(a, head, sizeof(head)) == 0;
}

static void clear_host_bits(struct cidr *c, bool *changed)
{
    unsigned nbytes = c->family == 4 ? 4 : 16, i;

    *changed = false;
    for (i = 0; i < nbytes; i++) {
        unsigned keep = c->bits >= 8 * (i + 1) ? 8 : c->bits > 8 * i ? c->bits - 8 * i : 0;
        uint8_t mask = (uint8_t)(0xff00u >> keep);

        if (c->addr[i] & ~mask)
            *changed = true;
        c->addr[i] &= mask;
    }
}

int cidr_parse(const char *text, unsigned flags, struct cidr *out, bool *normalized, struct err *e)
{
    const char *slash, *why;
    size_t alen, len;
    unsigned width;
    struct cidr c;
    bool changed;

    if (normalized)
        *normalized = false;
    if (!text || !*text)
        return fail(e, text ? text : "", "empty");
    len = strlen(text);
    if (strchr(" \t\n\r\v\f", text[0]) || strchr(" \t\n\r\v\f", text[len - 1]))
        return fail(e, text, "leading or trailing whitespace");
    slash = strchr(text, '/');
    alen = slash ? (size_t)(slash - text) : len;
    memset(&c, 0, sizeof(c));
    if (memchr(text, '%', alen))
        return fail(e, text, "zone index not allowed");
    if (memchr(text, ':', alen)) {
        c.family = 6;
        why = parse_ipv6(text, alen, c.addr);
    } else {
        c.family = 4;
        why = parse_ipv4(text, alen, c.addr);
    }
    if (why)
        return fail(e, text, why);
    width = c.family == 4 ? 32 : 128;
    if (!slash) {
        if (!(flags & CIDR_BARE_IP))
            return fail(e, text, "missing prefix length");
        c.bits = width;
    } else {
        const char *p = slash + 1;
        size_t n = strlen(p), i;

        c.bits = 0;
        for (i = 0; i < n && i < 4 && is_digit(p[i]); i++)
            c.bits = c.bits * 10 + (unsigned)(p[i] - '0');
        if (n == 0 || i != n || (p[0] == '0' && n > 1) || c.bits > width)
            return fail(e, text,
                        c.family == 4 ? "prefix length must be 0-32"
                                      : "prefix length must be 0-128");
    }
    /*
     * ::ffff:a.b.c.d is an IPv4 address in disguise: a dual-stack socket sends it as IPv4, so a
     * rule written this way opens IPv4 space that an IPv6-only comparison would not see.
     */
    if (c.family == 6 && c.bits >= 96 && is_v4_mapped(c.addr)) {
        char msg[128];

        snprintf(msg, sizeof(msg), "IPv4-mapped IPv6 prefix; write it as IPv4: %u.%u.%u.%u/%u",
                 c.addr[12], c.addr[13], c.addr[14], c.addr[15], c.bits - 96);
        return fail(e, text, msg);
    }
    clear_host_bits(&c, &changed);
    if (normalized)
        *normalized = changed;
    *out = c;
    return 0;
}

/* RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of 2+ zero groups as ::.
 */
static void format_ipv6(const uint8_t *a, char *buf, size_t size)
{
    unsigned g[8];
    int i, best = -1, best_len = 1, run = 0, ngroups = 8;
    size_t n = 0;

    if (is_v4_mapped(a))
        ngroups = 6;
    for (i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (i = 0; i < ngroups; i++) {
        run = g[i] == 0 ? run + 1 : 0;
        if (run > best_len) {
            best_len = run;
            best = i - run + 1;
        }
    }
    buf[0] = '\0';
    for (i = 0; i < ngroups && n < size; i++) {
        if (i == best) {
            n += (size_t)snprintf(buf + n, size - n, "::");
            i += best_len - 1;
            continue;
        }
        n += (size_t)snprintf(buf + n, size - n, "%s%x", i > 0 && i != best + best_len ? ":" : "",
                              g[i]);
    }
    if (ngroups == 6 && n < size)
        snprintf(buf + n, size - n, "%s%u.%u.%u.%u", best + best_len == 6 ? "" : ":", a[12], a[13],
                 a[14], a[15]);
}

/* Appends the decimal digits of v (< 1000) at p; returns the new end. */
static char *put_dec(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/*
 * Every escape message formats prefixes, so IPv4 — the common case — avoids snprintf: this was
 * a tenth of what `check` spends deciding.
 */
void cidr_format(const struct cidr *c, char *buf, size_t size)
{
    char addr[CIDR_STRLEN], *p = addr;
    size_t n;

    if (!size)
        return;
    if (c->family == 4) {
        for (int i = 0; i < 4; i++) {
            p = put_dec(p, c->addr[i]);
            *p++ = i < 3 ? '.' : '/';
        }
    } else {
        format_ipv6(c->addr, addr, sizeof(addr));
        p = addr + strlen(addr);
        *p++ = '/';
    }
    p = put_dec(p, c->bits);
    n = (size_t)(p - addr);
    if (n >= size)
        n = size - 1;
    memcpy(buf, addr, n);
    buf[n] = '\0';
}

static struct ivkey key_from_addr(int family, const uint8_t *a)
{
    struct ivkey k = {0, 0};
    int i;

    if (family == 4)
        return ivkey_make(0,
                          (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3]);
    for (i = 0; i < 8; i++) {
        k.hi = k.hi << 8 | a[i];
        k.lo = k.lo << 8 | a[8 + i];
    }
    return k;
}

static void addr_from_key(int family, struct ivkey k, uint8_t *a)
{
    int i;

    memset(a, 0, 16);
    if (family == 4) {
        for (i = 0; i < 4; i++)
            a[i] = (uint8_t)(k.lo >> (24 - 8 * i));
        return;
    }
    for (i = 0; i < 8; i++) {
        a[i] = (uint8_t)(k.hi >> (56 - 8 * i));
        a[8 + i] = (uint8_t)(k.lo >> (56 - 8 * i));
    }
}

/* The key with the low `n` bits set (0 <= n <= 128). */
static struct ivkey low_ones(unsigned n)
{
    if (n == 0)
        return ivkey_make(0, 0);
    if (n < 64)
        return ivkey_make(0, ((uint64_t)1 << n) - 1);
    if (n < 128)
        return ivkey_make(n == 64 ? 0 : ((uint64_t)1 << (n - 64)) - 1, UINT64_MAX);
    return ivkey_make(UINT64_MAX, UINT64_MAX);
}

static unsigned family_width(int family)
{
    return family == 4 ? 32 : 128;
}

static struct ivkey family_max(int family)
{
    return low_ones(family_width(family));
}

/* The interval of addresses a prefix covers; host bits of c are ignored. */
static struct iv prefix_interval(const struct cidr *c)
{
    unsigned width = family_width(c->family);
    unsigned host = c->bits > width ? 0 : width - c->bits;
    struct ivkey k = key_from_addr(c->family, c->addr), m = low_ones(host);
    struct iv iv;

    iv.lo = ivkey_make(k.hi & ~m.hi, k.lo & ~m.lo);
    iv.hi = ivkey_make(k.hi | m.hi, k.lo | m.lo);
    return iv;
}

bool cidr_contains_addr(const struct cidr *c, int family, const uint8_t *addr)
{
    struct iv iv;
    struct ivkey k;

    if (c->family != family || (family != 4 && family != 6))
        return false;
    iv = prefix_interval(c);
    k = key_from_addr(family, addr);
    return ivkey_cmp(iv.lo, k) <= 0 && ivkey_cmp(k, iv.hi) <= 0;
}

struct cidrset *cidrset_new(void)
{
    struct cidrset *s = malloc(sizeof(*s));

    if (!s)
        return NULL;
    ivset_init(&s->v4);
    ivset_init(&s->v6);
    return s;
}

void cidrset_free(struct cidrset *s)
{
    if (!s)
        return;
    ivset_release(&s->v4);
    ivset_release(&s->v6);
    free(s);
}

void cidrset_shrink(struct cidrset *s)
{
    if (!s)
        return;
    ivset_shrink(&s->v4);
    ivset_shrink(&s->v6);
}

struct cidrset *cidrset_dup(const struct cidrset *s)
{
    struct cidrset *d = cidrset_new();

    if (!d)
        return NULL;
    if (ivset_copy(&d->v4, &s->v4) < 0 || ivset_copy(&d->v6, &s->v6) < 0) {
        cidrset_free(d);
        return NULL;
    }
    return d;
}

static struct ivset *family_set(struct cidrset *s, int family)
{
    return family == 4 ? &s->v4 : &s->v6;
}

int cidrset_add(struct cidrset *s, const struct cidr *c)
{
    struct iv iv;

    if (c->family != 4 && c->family != 6)
        return -1;
    iv = prefix_interval(c);
    return ivset_add(family_set(s, c->family), iv.lo, iv.hi);
}

int cidrset_add_many(struct cidrset *s, const struct cidr *list, size_t n)
{
    struct iv *v4 = NULL, *v6 = NULL;
    struct ivset old4 = {0};
    size_t i, n4 = 0, n6 = 0;
    int rc = -1;

    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(struct iv))
        return -1;
    v4 = malloc(n * sizeof(*v4));
    v6 = malloc(n * sizeof(*v6));
    if (!v4 || !v6)
        goto out;
    for (i = 0; i < n; i++) {
        if (list[i].family == 4)
            v4[n4++] = prefix_interval(&list[i]);
        else if (list[i].family == 6)
            v6[n6++] = prefix_interval(&list[i]);
        else
            goto out;
    }
    /* Keep the IPv4 half until the IPv6 half succeeds, so a failure leaves s unchanged. */
    if (ivset_copy(&old4, &s->v4) < 0)
        goto out;
    if (ivset_add_many(&s->v4, v4, n4) < 0)
        goto out;
    if (ivset_add_many(&s->v6, v6, n6) < 0) {
        ivset_release(&s->v4);
        s->v4 = old4;
        old4.v = NULL;
        goto out;
    }
    rc = 0;
out:
    ivset_release(&old4);
    free(v4);
    free(v6);
    return rc;
}

int cidrset_add_all(struct cidrset *s, int family)
{
    struct ivset v4;

    if (family == 4 || family == 6)
        return ivset_add(family_set(s, family), ivkey_make(0, 0), family_max(family));
    if (family != 0)
        return -1;
    ivset_init(&v4);
    if (ivset_add(&v4, ivkey_make(0, 0), family_max(4)) < 0 ||
        ivset_add(&s->v6, ivkey_make(0, 0), family_max(6)) < 0) {
        ivset_release(&v4);
        return -1;
    }
    ivset_release(&s->v4);
    s->v4 = v4;
    return 0;
}

/*
 * Applies op to both families. The IPv4 result is computed on a copy so that an out-of-memory
 * failure on the IPv6 half leaves s as it was.
 */
static int both(struct cidrset *s, const struct cidrset *t,
                int (*op)(struct ivset *, const struct ivset *))
{
    struct ivset v4;

    ivset_init(&v4);
    if (ivset_copy(&v4, &s->v4) < 0 || op(&v4, &t->v4) < 0 || op(&s->v6, &t->v6) < 0) {
        ivset_release(&v4);
        return -1;
    }
    ivset_release(&s->v4);
    s->v4 = v4;
    return 0;
}

int cidrset_union(struct cidrset *s, const struct cidrset *t)
{
    return both(s, t, ivset_union);
}

int cidrset_subtract(struct cidrset *s, const struct cidrset *t)
{
    return both(s, t, ivset_subtract);
}

int cidrset_intersect(struct cidrset *s, const struct cidrset *t)
{
    return both(s, t, ivset_intersect);
}

bool cidrset_is_empty(const struct cidrset *s)
{
    return s->v4.n == 0 && s->v6.n == 0;
}

bool cidrset_is_all(const struct cidrset *s, int family)
{
    bool all4 = ivset_is_full(&s->v4, family_max(4));
    bool all6 = ivset_is_full(&s->v6, family_max(6));

    return family == 4 ? all4 : family == 6 ? all6 : all4 && all6;
}

bool cidrset_subset(const struct cidrset *a, const struct cidrset *b)
{
    return ivset_subset(&a->v4, &b->v4) && ivset_subset(&a->v6, &b->v6);
}

bool cidrset_equal(const struct cidrset *a, const struct cidrset *b)
{
    return ivset_equal(&a->v4, &b->v4) && ivset_equal(&a->v6, &b->v6);
}

bool cidrset_overlaps(const struct cidrset *a, const struct cidrset *b)
{
    return ivset_overlaps(&a->v4, &b->v4) || ivset_overlaps(&a->v6, &b->v6);
}

size_t cidrset_runs(const struct cidrset *s)
{
    return s->v4.n + s->v6.n;
}

bool cidrset_contains_addr(const struct cidrset *s, int family, const uint8_t *addr)
{
    if (family == 4)
        return ivset_contains(&s->v4, key_from_addr(4, addr));
    if (family == 6)
        return ivset_contains(&s->v6, key_from_addr(6, addr));
    return false;
}

static unsigned ctz128(struct ivkey k, unsigned width)
{
    if (k.lo)
        return (unsigned)__builtin_ctzll(k.lo);
    if (k.hi)
        return 64 + (unsigned)__builtin_ctzll(k.hi);
    return width;
}

/* floor(log2(k)) for k != 0. */
static unsigned log2_128(struct ivkey k)
{
    if (k.hi)
        return 127 - (unsigned)__builtin_clzll(k.hi);
    return 63 - (unsigned)__builtin_clzll(k.lo);
}

static struct ivkey key_sub(struct ivkey a, struct ivkey b)
{
    struct ivkey d = {a.hi - b.hi, a.lo - b.lo};

    if (a.lo < b.lo)
        d.hi--;
    return d;
}

static struct ivkey key_add(struct ivkey a, struct ivkey b)
{
    struct ivkey s = {a.hi + b.hi, a.lo + b.lo};

    if (s.lo < a.lo)
        s.hi++;
    return s;
}

/*
 * Splits [lo, hi] into the fewest prefixes: each step takes the largest aligned block that starts
 * at lo and fits. Writes them to out (if not NULL) and returns how many there are.
 */
static size_t split_range(int family, struct ivkey lo, struct ivkey hi, struct cidr *out)
{
    unsigned width = family_width(family);
    size_t n = 0;

    for (;;) {
        struct ivkey span = ivkey_inc(key_sub(hi, lo)); /* wraps to 0 only for all of IPv6 */
        unsigned fit = span.hi == 0 && span.lo == 0 ? 128 : log2_128(span);
        unsigned align = ctz128(lo, width);
        unsigned k = fit < align ? fit : align;
        struct ivkey last;

        if (k > width)
            k = width;
        if (out) {
            out[n].family = family;
            addr_from_key(family, lo, out[n].addr);
            out[n].bits = width - k;
        }
        n++;
        last = key_add(lo, low_ones(k));
        if (ivkey_cmp(last, hi) >= 0)
            return n;
        lo = ivkey_inc(last);
    }
}

static size_t split_set(const struct ivset *s, int family, struct cidr *out)
{
    size_t i, n = 0;

    for (i = 0; i < s->n; i++)
        n += split_range(family, s->v[i].lo, s->v[i].hi, out ? out + n : NULL);
    return n;
}

int cidrset_prefixes(const struct cidrset *s, struct cidr **out, size_t *n)
{
    size_t n4 = split_set(&s->v4, 4, NULL), n6 = split_set(&s->v6, 6, NULL);
    struct cidr *v;

    *out = NULL;
    *n = 0;
    if (n4 + n6 == 0)
        return 0;
    if (n4 + n6 > SIZE_MAX / sizeof(*v))
        return -1;
    v = malloc((n4 + n6) * sizeof(*v));
    if (!v)
        return -1;
    split_set(&s->v4, 4, v);
    split_set(&s->v6, 6, v + n4);
    *out = v;
    *n = n4 + n6;
    return 0;
}

int cidrset_format(const struct cidrset *s, size_t max, struct buf *out)
{
    struct cidr *list;
    size_t n, i, shown;

    if (cidrset_is_empty(s))
        return buf_puts(out, "nothing");
    if (cidrset_prefixes(s, &list, &n) < 0) {
        out->failed = true;
        return -1;
    }
    shown = max && max < n ? max : n;
    for (i = 0; i < shown; i++) {
        char text[CIDR_STRLEN];

        cidr_format(&list[i], text, sizeof(text));
        if (i)
            buf_puts(out, ", ");
        buf_puts(out, text);
    }
    if (shown < n)
        buf_printf(out, ", ... (%zu more)", n - shown);
    free(list);
    return out->failed ? -1 : 0;
}
