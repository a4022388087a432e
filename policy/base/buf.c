#include "policy/base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
    b->failed = false;
    b->mark = NULL;
    b->cut = false;
}

void buf_init_cut(struct buf *b, size_t cap, const char *mark)
{
    buf_init(b, cap);
    b->mark = mark;
}

void buf_release(struct buf *b)
{
    const char *mark = b->mark;

    free(b->data);
    buf_init(b, b->cap);
    b->mark = mark;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    b->failed = false;
    b->cut = false;
}

static int grow(struct buf *b, size_t extra)
{
    size_t need, n;
    char *p;

    if (b->failed)
        return -1;
    if (extra > (size_t)-1 - b->len - 1 || (b->cap && b->len + extra > b->cap))
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    p = realloc(b->data, n);
    if (!p)
        goto fail;
    b->data = p;
    b->alloc = n;
    return 0;
fail:
    b->failed = true;
    return -1;
}

int buf_reserve(struct buf *b, size_t extra)
{
    size_t need;
    char *p;

    if (b->failed || extra > (size_t)-1 - b->len - 1 || (b->cap && b->len + extra > b->cap))
        goto fail;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    if (!(p = realloc(b->data, need)))
        goto fail;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->alloc = need;
    return 0;
fail:
    b->failed = true;
    return -1;
}

/* Would an append of n bytes pass the cap of a buffer that cuts? */
static bool must_cut(const struct buf *b, size_t n)
{
    return b->mark && b->cap && !b->failed && n > b->cap - b->len;
}

/*
 * The contents are the cap's worth (b->len == b->cap): end them with the mark, on a character
 * boundary, and stop taking more.
 */
static void cut_here(struct buf *b)
{
    size_t m = strlen(b->mark), keep = buf_utf8_len(b->data, b->cap - m);

    memcpy(b->data + keep, b->mark, m + 1);
    b->len = keep + m;
    b->cut = true;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
    if (b->cut)
        return 0;
    if (must_cut(b, len)) {
        size_t room = b->cap - b->len;

        if (grow(b, room) < 0)
            return -1;
        memcpy(b->data + b->len, data, room);
        b->len = b->cap;
        b->data[b->len] = '\0';
        cut_here(b);
        return 0;
    }
    if (grow(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list again;
    size_t room, want = strlen(fmt) + 64;
    int n;

    if (b->cut)
        return 0;
    /*
     * One pass when the text fits the room left (the common case), a second after growing. The
     * text is at least the format's own characters, so the room asked for starts there: a long
     * message (a finding's sentence) into a fresh buffer is then formatted once, not twice.
     */
    if (b->cap && b->cap - b->len < want)
        want = b->cap - b->len;
    if (grow(b, want) < 0)
        return -1;
    room = b->alloc - b->len;
    if (b->cap && room > b->cap - b->len + 1)
        room = b->cap - b->len + 1; /* never write past the cap, even with memory to spare */
    va_copy(again, ap);
    n = vsnprintf(b->data + b->len, room, fmt, ap);
    if (n < 0) {
        va_end(again);
        b->data[b->len] = '\0';
        b->failed = true;
        return -1;
    }
    if ((size_t)n >= room && must_cut(b, (size_t)n)) {
        /* what fits of the text, then the mark */
        room = b->cap - b->len;
        b->data[b->len] = '\0';
        if (grow(b, room) < 0) {
            va_end(again);
            return -1;
        }
        vsnprintf(b->data + b->len, room + 1, fmt, again);
        va_end(again);
        b->len = b->cap;
        cut_here(b);
        return 0;
    }
    if ((size_t)n >= room) {
        b->data[b->len] = '\0';
        if (grow(b, (size_t)n) < 0) {
            va_end(again);
            return -1;
        }
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    b->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF), or 0 when p does not start one. p is NUL-terminated, so reading stops at the NUL. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

int buf_json_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson's case */
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

    buf_add(b, "\"", 1);
    while (*p) {
        unsigned char c = *p;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++;
            continue;
        }
        if (c >= 0x80 && (n = utf8_seq(p)) > 0) {
            p += n;
            continue;
        }
        buf_add(b, run, (size_t)(p - run));
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c >= 0x80) {
                memcpy(esc + 1, "ufffd", 5); /* not UTF-8: the replacement character */
            } else {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
        }
        buf_puts(b, esc);
        run = ++p;
    }
    buf_add(b, run, (size_t)(p - run));
    return buf_add(b, "\"", 1);
}

size_t buf_utf8_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    /* A sequence is at most 4 bytes: look back that far for the lead byte of the last one. */
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = p[n - back];
        size_t want;

        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: its lead is further back */
        want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        return want > back ? n - back : n;
    }
    return n;
}

void buf_cut_utf8(struct buf *b, size_t max, const char *mark)
{
    size_t m = strlen(mark), keep;

    if (b->failed || b->len <= max || max <= m)
        return;
    keep = buf_utf8_len(b->data, max - m);
    memcpy(b->data + keep, mark, m + 1);
    b->len = keep + m;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_vstrfmt(const char *fmt, va_list ap)
{
    struct buf b;

    buf_init(&b, 0);
    buf_vprintf(&b, fmt, ap);
    return buf_detach(&b, NULL);
}

char *buf_strfmt(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = buf_vstrfmt(fmt, ap);
    va_end(ap);
    return s;
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = NULL;

    if (!b->failed) {
        p = b->data ? b->data : calloc(1, 1);
        if (len)
            *len = p ? b->len : 0;
        b->data = NULL;
    }
    buf_release(b);
    return p;
}
