#include "policy/sets/portset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/sets/ivset.h"

/* Keys are proto << 16 | port, in the low half of an ivkey. */
struct portset {
    struct ivset iv;
};

static const char *const numbers[256] = {
    "0",   "1",   "2",   "3",   "4",   "5",   "6",   "7",   "8",   "9",   "10",  "11",  "12",
    "13",  "14",  "15",  "16",  "17",  "18",  "19",  "20",  "21",  "22",  "23",  "24",  "25",
    "26",  "27",  "28",  "29",  "30",  "31",  "32",  "33",  "34",  "35",  "36",  "37",  "38",
    "39",  "40",  "41",  "42",  "43",  "44",  "45",  "46",  "47",  "48",  "49",  "50",  "51",
    "52",  "53",  "54",  "55",  "56",  "57",  "58",  "59",  "60",  "61",  "62",  "63",  "64",
    "65",  "66",  "67",  "68",  "69",  "70",  "71",  "72",  "73",  "74",  "75",  "76",  "77",
    "78",  "79",  "80",  "81",  "82",  "83",  "84",  "85",  "86",  "87",  "88",  "89",  "90",
    "91",  "92",  "93",  "94",  "95",  "96",  "97",  "98",  "99",  "100", "101", "102", "103",
    "104", "105", "106", "107", "108", "109", "110", "111", "112", "113", "114", "115", "116",
    "117", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128", "129",
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "140", "141", "142",
    "143", "144", "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155",
    "156", "157", "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168",
    "169", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181",
    "182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194",
    "195", "196", "197", "198", "199", "200", "201", "202", "203", "204", "205", "206", "207",
    "208", "209", "210", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220",
    "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
    "234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
    "247", "248", "249", "250", "251", "252", "253", "254", "255",
};

static const struct {
    int proto;
    const char *name;
} named[] = {
    {PROTO_ICMP, "ICMP"},     {PROTO_TCP, "TCP"},   {PROTO_UDP, "UDP"},
    {PROTO_ICMPV6, "ICMPv6"}, {PROTO_SCTP, "SCTP"}, {PROTO_UDPLITE, "UDPLite"},
};

int proto_parse(const char *text, int *proto, struct err *e)
{
    size_t i, len = strlen(text);

    if (strcasecmp(text, "any") == 0) {
        *proto = PROTO_ANY;
        return 0;
    }
    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strcasecmp(text, named[i].name) == 0) {
            *proto = named[i].proto;
            return 0;
        }
    }
    if (len >= 1 && len <= 3 && strspn(text, "0123456789") == len && atoi(text) <= 255) {
        *proto = atoi(text);
        return 0;
    }
    return err_set(e, "unknown protocol \"%.64s\"%s", text, len > 64 ? "..." : "");
}

const char *proto_name(int proto)
{
    size_t i;

    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (named[i].proto == proto)
            return named[i].name;
    if (proto == PROTO_ANY)
        return "any";
    return proto >= 0 && proto <= 255 ? numbers[proto] : "?";
}

bool proto_has_ports(int proto)
{
    return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP ||
           proto == PROTO_UDPLITE;
}

struct portset *portset_new(void)
{
    struct portset *s = malloc(sizeof(*s));

    if (s)
        ivset_init(&s->iv);
    return s;
}

void portset_free(struct portset *s)
{
    if (!s)
        return;
    ivset_release(&s->iv);
    free(s);
}

void portset_shrink(struct portset *s)
{
    if (s)
        ivset_shrink(&s->iv);
}

struct portset *portset_dup(const struct portset *s)
{
    struct portset *d = portset_new();

    if (d && ivset_copy(&d->iv, &s->iv) < 0) {
        portset_free(d);
        return NULL;
    }
    return d;
}

static struct ivkey key(unsigned proto, unsigned port)
{
    return ivkey_make(0, (uint64_t)proto << 16 | port);
}

int portset_add_range(struct portset *s, int proto, unsigned lo, unsigned hi)
{
    struct iv list[256];
    unsigned p;

    if (lo > hi || hi > 65535 || proto < PROTO_ANY || proto > 255)
        return -1;
    if (proto != PROTO_ANY)
        return ivset_add(&s->iv, key((unsigned)proto, lo), key((unsigned)proto, hi));
    /* Every port of every protocol is one run on the line; the hot path of every "any port". */
    if (lo == 0 && hi == 65535)
        return ivset_add(&s->iv, key(0, 0), key(255, 65535));
    for (p = 0; p < 256; p++) {
        list[p].lo = key(p, lo);
        list[p].hi = key(p, hi);
    }
    return ivset_add_many(&s->iv, list, 256);
}

int portset_add_proto(struct portset *s, int proto)
{
    return portset_add_range(s, proto, 0, 65535);
}

int portset_union(struct portset *s, const struct portset *t)
{
    return ivset_union(&s->iv, &t->iv);
}

int portset_subtract(struct portset *s, const struct portset *t)
{
    return ivset_subtract(&s->iv, &t->iv);
}

int portset_intersect(struct portset *s, const struct portset *t)
{
    return ivset_intersect(&s->iv, &t->iv);
}

bool portset_is_empty(const struct portset *s)
{
    return s->iv.n == 0;
}

bool portset_is_all(const struct portset *s)
{
    return ivset_is_full(&s->iv, ivkey_make(0, PORTSET_KEY_MAX));
}

bool portset_subset(const struct portset *a, const struct portset *b)
{
    return ivset_subset(&a->iv, &b->iv);
}

bool portset_overlaps(const struct portset *a, const struct portset *b)
{
    return ivset_overlaps(&a->iv, &b->iv);
}

bool portset_equal(const struct portset *a, const struct portset *b)
{
    return ivset_equal(&a->iv, &b->iv);
}

size_t portset_runs(const struct portset *s)
{
    return s->iv.n;
}

void portset_run(const struct portset *s, size_t i, unsigned long *lo, unsigned long *hi)
{
    *lo = (unsigned long)s->iv.v[i].lo.lo;
    *hi = (unsigned long)s->iv.v[i].hi.lo;
}

int portset_add_keys(struct portset *s, unsigned long lo, unsigned long hi)
{
    if (lo > hi || hi > PORTSET_KEY_MAX)
        return -1;
    return ivset_add(&s->iv, ivkey_make(0, lo), ivkey_make(0, hi));
}

int portset_add_keys_many(struct portset *s, const unsigned long *lo, const unsigned long *hi,
                          size_t n)
{
    struct iv *list;
    int rc;

    if (!n)
        return 0;
    if (n > SIZE_MAX / sizeof(*list) || !(list = malloc(n * sizeof(*list))))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (lo[i] > hi[i] || hi[i] > PORTSET_KEY_MAX) {
            free(list);
            return -1;
        }
        list[i].lo = ivkey_make(0, lo[i]);
        list[i].hi = ivkey_make(0, hi[i]);
    }
    rc = ivset_add_many(&s->iv, list, n);
    free(list);
    return rc;
}

bool portset_contains(const struct portset *s, int proto, unsigned port)
{
    if (proto < 0 || proto > 255 || port > 65535)
        return false;
    return ivset_contains(&s->iv, key((unsigned)proto, port));
}

/* Cuts the intervals at protocol boundaries; writes to out when not NULL; returns the count. */
static size_t split(const struct ivset *s, struct portrange *out)
{
    size_t i, n = 0;

    for (i = 0; i < s->n; i++) {
        unsigned lo = (unsigned)s->v[i].lo.lo, hi = (unsigned)s->v[i].hi.lo, p;

        for (p = lo >> 16; p <= hi >> 16; p++) {
            if (out) {
                out[n].proto = (int)p;
                out[n].lo = p == lo >> 16 ? (lo & 0xffff) : 0;
                out[n].hi = p == hi >> 16 ? (hi & 0xffff) : 65535;
            }
            n++;
        }
    }
    return n;
}

int portset_ranges(const struct portset *s, struct portrange **out, size_t *n)
{
    size_t count = split(&s->iv, NULL);

    *out = NULL;
    *n = 0;
    if (count == 0)
        return 0;
    *out = malloc(count * sizeof(**out));
    if (!*out)
        return -1;
    *n = split(&s->iv, *out);
    return 0;
}

static bool whole(const struct portrange *r)
{
    return r->lo == 0 && r->hi == 65535;
}

/*
 * Appends the items of a list of ranges (when out is not NULL) and returns how many items there
 * are. Runs of two or more consecutive whole protocols read "protocols 7-16".
 */
static size_t format_ranges(const struct portrange *r, size_t n, struct buf *out)
{
    size_t i = 0, items = 0;

    while (i < n) {
        size_t j = i;
        const char *sep = items ? ", " : "";

        while (whole(&r[i]) && j + 1 < n && whole(&r[j + 1]) && r[j + 1].proto == r[j].proto + 1)
            j++;
        items++;
        if (!out) {
            i = j + 1;
            continue;
        }
        if (j > i) {
            buf_printf(out, "%sprotocols %d-%d", sep, r[i].proto, r[j].proto);
        } else {
            const char *name = proto_name(r[i].proto);
            const char *pre = name == numbers[r[i].proto] ? "protocol " : "";

            if (whole(&r[i]) && proto_has_ports(r[i].proto))
                buf_printf(out, "%s%s/*", sep, name);
            else if (whole(&r[i]))
                buf_printf(out, "%s%s%s", sep, pre, name);
            else if (r[i].lo == r[i].hi)
                buf_printf(out, "%s%s%s/%u", sep, pre, name, r[i].lo);
            else
                buf_printf(out, "%s%s%s/%u-%u", sep, pre, name, r[i].lo, r[i].hi);
        }
        i = j + 1;
    }
    return items;
}

int portset_format(const struct portset *s, struct buf *out)
{
    struct portset *rest = NULL, *all = NULL;
    struct portrange *r = NULL, *rr = NULL;
    size_t n, nn;
    int rc = -1;

    if (portset_is_empty(s))
        return buf_puts(out, "no port");
    if (portset_is_all(s))
        return buf_puts(out, "any protocol/port");
    if (portset_ranges(s, &r, &n) < 0)
        goto out;
    /*
     * "any protocol/port except TCP/25" reads better than 260 items (Calico notPorts). Only a set
     * covering most of the line can read shorter that way; the rest, the sets in nearly every
     * message, skip building the complement.
     */
    uint64_t covered = 0;
    for (size_t i = 0; i < n; i++)
        covered += (uint64_t)r[i].hi - r[i].lo + 1;
    if (n == 1 || covered <= (uint64_t)256 * 65536 / 2) {
        format_ranges(r, n, out);
        rc = out->failed ? -1 : 0;
        goto out;
    }
    all = portset_new();
    if (!all || portset_add_proto(all, PROTO_ANY) < 0 || portset_subtract(all, s) < 0)
        goto out;
    rest = all;
    all = NULL;
    if (portset_ranges(rest, &rr, &nn) < 0)
        goto out;
    if (format_ranges(rr, nn, NULL) < format_ranges(r, n, NULL)) {
        buf_puts(out, "any protocol/port except ");
        format_ranges(rr, nn, out);
    } else {
        format_ranges(r, n, out);
    }
    rc = out->failed ? -1 : 0;
out:
    if (rc < 0)
        out->failed = true;
    free(r);
    free(rr);
    portset_free(all);
    portset_free(rest);
    return rc;
}
