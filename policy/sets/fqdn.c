#include "policy/sets/fqdn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 63
#define NAME_MAX_LEN (FQDN_MAX - 1)
#define QUOTE_MAX 96

/* The characters a label may hold, besides '*' in patterns (Cilium's matchName/matchPattern). */
static const char label_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";

static int fail(struct err *e, const char *text, bool pattern, const char *why)
{
    char q[QUOTE_MAX * 4 + 8];
    size_t i, n = 0;

    for (i = 0; text[i] && n + 8 < sizeof(q); i++) {
        unsigned char c = (unsigned char)text[i];

        if (i == QUOTE_MAX) {
            n += (size_t)snprintf(q + n, sizeof(q) - n, "...");
            break;
        }
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(q + n, sizeof(q) - n, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "\\x%02x", c);
        else
            q[n++] = (char)c;
    }
    q[n] = '\0';
    return err_set(e, "invalid DNS name%s \"%s\": %s", pattern ? " pattern" : "", q, why);
}

int fqdn_normalize(const char *text, bool allow_wildcard, char *out, struct err *e)
{
    size_t len, i, label = 0;
    char why[64];

    if (!text || !*text)
        return fail(e, text ? text : "", allow_wildcard, "empty");
    len = strlen(text);
    if (text[len - 1] == '.')
        len--;
    if (len == 0)
        return fail(e, text, allow_wildcard, "empty");
    if (len > NAME_MAX_LEN)
        return fail(e, text, allow_wildcard, "longer than 253 characters");
    for (i = 0; i < len; i++) {
        char c = text[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '.') {
            if (label == 0)
                return fail(e, text, allow_wildcard, "empty label");
            label = 0;
        } else if (c == '*' && !allow_wildcard) {
            return fail(e, text, false, "'*' is only allowed in a pattern");
        } else if (c == '*' || (c && strchr(label_chars, c))) {
            if (++label > LABEL_MAX)
                return fail(e, text, allow_wildcard, "label longer than 63 characters");
        } else {
            unsigned char u = (unsigned char)c;

            if (u >= 0x20 && u < 0x7f)
                snprintf(why, sizeof(why), "character '%c' is not allowed", c);
            else
                snprintf(why, sizeof(why), "byte 0x%02x is not allowed", u);
            return fail(e, text, allow_wildcard, why);
        }
        out[i] = c;
    }
    if (label == 0)
        return fail(e, text, allow_wildcard, "empty label");
    out[len] = '\0';
    return 0;
}

/* Glob match of one label: '*' is any run of characters (the label never holds a dot). */
static bool label_matches(const char *p, size_t pl, const char *s, size_t sl)
{
    size_t i = 0, j = 0, star = (size_t)-1, mark = 0;

    while (j < sl) {
        if (i < pl && p[i] == '*') {
            star = i++;
            mark = j;
        } else if (i < pl && p[i] == s[j]) {
            i++;
            j++;
        } else if (star != (size_t)-1) {
            i = star + 1;
            j = ++mark;
        } else {
            return false;
        }
    }
    while (i < pl && p[i] == '*')
        i++;
    return i == pl;
}

static size_t label_len(const char *s)
{
    const char *dot = strchr(s, '.');

    return dot ? (size_t)(dot - s) : strlen(s);
}

bool fqdn_matches(const char *pattern, const char *name)
{
    if (strcmp(pattern, "*") == 0)
        return *name != '\0';
    for (;;) {
        size_t pl = label_len(pattern), nl = label_len(name);

        if (!label_matches(pattern, pl, name, nl))
            return false;
        pattern += pl;
        name += nl;
        if (!*pattern || !*name)
            return !*pattern && !*name;
        pattern++;
        name++;
    }
}

/*
 * Label inclusion L(a) ⊆ L(b) for globs of at most 63 characters: search the product of a's
 * automaton (one position) with the subset automaton of b (a bit mask of positions) for a
 * non-empty word that a accepts and b rejects. Globs with only '*' have small subset automata
 * (each segment is matched leftmost), so the search stays small. Label and name length limits are
 * ignored, which can only turn a true inclusion into a reported non-inclusion, never the reverse.
 */
struct prod {
    uint64_t set; /* positions of b */
    uint8_t pos;  /* position in a */
    uint8_t nonempty;
};

struct seen {
    struct prod *slot; /* open addressing; pos 0xff marks a free slot */
    size_t size, used;
};

static size_t prod_hash(const struct prod *p, size_t size)
{
    uint64_t h = p->set * 0x9e3779b97f4a7c15u ^ ((uint64_t)p->pos << 1 | p->nonempty);

    return (size_t)(h ^ h >> 29) & (size - 1);
}

/* Adds p; returns 1 if new, 0 if already there, -1 on out of memory. */
static int seen_add(struct seen *t, const struct prod *p)
{
    size_t i;

    if ((t->used + 1) * 2 > t->size) {
        struct seen bigger = {NULL, t->size ? t->size * 2 : 256, 0};

        bigger.slot = malloc(bigger.size * sizeof(*bigger.slot));
        if (!bigger.slot)
            return -1;
        for (i = 0; i < bigger.size; i++)
            bigger.slot[i].pos = 0xff;
        for (i = 0; i < t->size; i++)
            if (t->slot[i].pos != 0xff)
                seen_add(&bigger, &t->slot[i]);
        free(t->slot);
        *t = bigger;
    }
    for (i = prod_hash(p, t->size);; i = (i + 1) & (t->size - 1)) {
        if (t->slot[i].pos == 0xff) {
            t->slot[i] = *p;
            t->used++;
            return 1;
        }
        if (t->slot[i].set == p->set && t->slot[i].pos == p->pos &&
            t->slot[i].nonempty == p->nonempty)
            return 0;
    }
}

/* Follows '*' positions, which match the empty string. */
static uint64_t closure(const char *b, size_t nb, uint64_t set)
{
    size_t i;

    for (i = 0; i < nb; i++)
        if ((set >> i & 1) && b[i] == '*')
            set |= (uint64_t)1 << (i + 1);
    return set;
}

static uint64_t step(const char *b, size_t nb, uint64_t set, char c)
{
    uint64_t next = 0;
    size_t i;

    for (i = 0; i < nb; i++) {
        if (!(set >> i & 1))
            continue;
        if (b[i] == '*')
            next |= (uint64_t)1 << i;
        else if (b[i] == c)
            next |= (uint64_t)1 << (i + 1);
    }
    return closure(b, nb, next);
}

static bool label_subset(const char *a, size_t na, const char *b, size_t nb)
{
    char alphabet[sizeof(label_chars) + 1];
    struct seen seen = {NULL, 0, 0};
    struct prod *stack = NULL, start;
    size_t nalpha = 0, top = 0, cap = 0, i;
    bool ok = false, other = false;

    if (na > LABEL_MAX || nb > LABEL_MAX)
        return false;
    if (na == nb && memcmp(a, b, na) == 0)
        return true;
    /* Letters of either glob, plus one letter neither uses (if any) to stand for all the rest. */
    for (i = 0; label_chars[i]; i++) {
        bool used = memchr(a, label_chars[i], na) || memchr(b, label_chars[i], nb);

        if (used || !other)
            alphabet[nalpha++] = label_chars[i];
        if (!used)
            other = true;
    }
    start.set = closure(b, nb, 1);
    start.pos = 0;
    start.nonempty = 0;
    if (seen_add(&seen, &start) < 0)
        goto out;
    cap = 64;
    stack = malloc(cap * sizeof(*stack));
    if (!stack)
        goto out;
    stack[top++] = start;
    while (top > 0) {
        struct prod cur = stack[--top], next[2];
        size_t k, nnext;

        if (cur.pos == na && cur.nonempty && !(cur.set >> nb & 1))
            goto out; /* a word of a that b rejects */
        for (k = 0; k <= nalpha; k++) {
            nnext = 0;
            if (k == nalpha) { /* the empty move over a '*' of a */
                if (cur.pos < na && a[cur.pos] == '*') {
                    next[nnext] = cur;
                    next[nnext++].pos++;
                }
            } else {
                uint64_t set = step(b, nb, cur.set, alphabet[k]);

                if (cur.pos < na && a[cur.pos] == '*') {
                    next[nnext].set = set;
                    next[nnext].pos = cur.pos;
                    next[nnext++].nonempty = 1;
                } else if (cur.pos < na && a[cur.pos] == alphabet[k]) {
                    next[nnext].set = set;
                    next[nnext].pos = (uint8_t)(cur.pos + 1);
                    next[nnext++].nonempty = 1;
                }
            }
            for (i = 0; i < nnext; i++) {
                int added = seen_add(&seen, &next[i]);

                if (added < 0)
                    goto out;
                if (!added)
                    continue;
                if (top == cap) {
                    struct prod *grown = realloc(stack, 2 * cap * sizeof(*stack));

                    if (!grown)
                        goto out;
                    stack = grown;
                    cap *= 2;
                }
                stack[top++] = next[i];
            }
        }
    }
    ok = true;
out:
    free(stack);
    free(seen.slot);
    return ok;
}

bool fqdn_subset(const char *a, const char *b)
{
    if (strcmp(b, "*") == 0)
        return true;
    if (strcmp(a, "*") == 0)
        return false; /* a reaches every label count, b only its own */
    for (;;) {
        size_t al = label_len(a), bl = label_len(b);

        if (!label_subset(a, al, b, bl))
            return false;
        a += al;
        b += bl;
        if (!*a || !*b)
            return !*a && !*b;
        a++;
        b++;
    }
}

bool fqdn_subset_of_any(const char *a, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (fqdn_subset(a, list[i]))
            return true;
    return false;
}

/* One pattern of an index, keyed by its label count and (when literal) its last label. */
struct fqdn_key {
    size_t labels;
    bool wild_last; /* the last label has a '*': the pattern may end in any label */
    const char *last;
    size_t last_len;
    const char *pattern;
};

struct fqdn_index {
    struct fqdn_key *keys; /* sorted by (labels, wild_last, last) */
    size_t n, size;
    bool star; /* a bare '*' is in the list: it covers and matches everything */
};

static void key_of(const char *p, struct fqdn_key *k)
{
    const char *dot = strrchr(p, '.');

    k->labels = 1;
    for (const char *c = p; *c; c++)
        k->labels += *c == '.';
    k->last = dot ? dot + 1 : p;
    k->last_len = strlen(k->last);
    k->wild_last = memchr(k->last, '*', k->last_len) != NULL;
    k->pattern = p;
}

static int key_cmp(const struct fqdn_key *a, size_t labels, bool wild_last, const char *last,
                   size_t last_len)
{
    int c;

    if (a->labels != labels)
        return a->labels < labels ? -1 : 1;
    if (a->wild_last != wild_last)
        return a->wild_last ? 1 : -1;
    if (wild_last)
        return 0; /* one bucket per label count */
    c = memcmp(a->last, last, a->last_len < last_len ? a->last_len : last_len);
    if (c)
        return c;
    return a->last_len < last_len ? -1 : a->last_len > last_len;
}

static int cmp_keys(const void *pa, const void *pb)
{
    const struct fqdn_key *a = pa, *b = pb;

    return key_cmp(a, b->labels, b->wild_last, b->last, b->last_len);
}

struct fqdn_index *fqdn_index_new(const char *const *list, size_t n)
{
    struct fqdn_index *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return NULL;
    ix->size = n;
    if (n && !(ix->keys = malloc(n * sizeof(*ix->keys)))) {
        free(ix);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], "*") == 0) {
            ix->star = true;
            continue;
        }
        key_of(list[i], &ix->keys[ix->n++]);
    }
    if (ix->n > 1)
        qsort(ix->keys, ix->n, sizeof(*ix->keys), cmp_keys);
    return ix;
}

void fqdn_index_free(struct fqdn_index *ix)
{
    if (!ix)
        return;
    free(ix->keys);
    free(ix);
}

size_t fqdn_index_size(const struct fqdn_index *ix)
{
    return ix->size;
}

/* The bucket of patterns with this key: keys[*first .. *end). */
static void bucket(const struct fqdn_index *ix, size_t labels, bool wild_last, const char *last,
                   size_t last_len, size_t *first, size_t *end)
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (key_cmp(&ix->keys[mid], labels, wild_last, last, last_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (hi < ix->n && key_cmp(&ix->keys[hi], labels, wild_last, last, last_len) == 0)
        hi++;
    *end = hi < lo ? lo : hi;
}

/*
 * Tries the patterns that can answer yes for `what` (a pattern when subset, else a name): the
 * bucket of its own last label, when that is literal, and the patterns of its label count whose
 * last label has a '*'.
 */
static bool index_try(const struct fqdn_index *ix, const char *what, bool subset)
{
    struct fqdn_key k;
    size_t first, end;

    key_of(what, &k);
    if (!k.wild_last) {
        bucket(ix, k.labels, false, k.last, k.last_len, &first, &end);
        for (size_t i = first; i < end; i++)
            if (subset ? fqdn_subset(what, ix->keys[i].pattern)
                       : fqdn_matches(ix->keys[i].pattern, what))
                return true;
    }
    bucket(ix, k.labels, true, "", 0, &first, &end);
    for (size_t i = first; i < end; i++)
        if (subset ? fqdn_subset(what, ix->keys[i].pattern)
                   : fqdn_matches(ix->keys[i].pattern, what))
            return true;
    return false;
}

bool fqdn_index_covers(const struct fqdn_index *ix, const char *a)
{
    if (ix->star)
        return true;
    if (strcmp(a, "*") == 0)
        return false; /* only a bare '*' covers every label count */
    return index_try(ix, a, true);
}

bool fqdn_index_matches(const struct fqdn_index *ix, const char *name)
{
    if (!*name)
        return false;
    if (ix->star)
        return true;
    return index_try(ix, name, false);
}
