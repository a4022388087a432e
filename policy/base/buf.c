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
}

void buf_release(struct buf *b)
{
    free(b->data);
    buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    b->failed = false;
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

int buf_add(struct buf *b, const void *data, size_t len)
{
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
    size_t room, want = 64;
    int n;

    /* One pass when the text fits the room left (the common case), a second after growing. */
    if (b->cap && b->cap - b->len < want)
        want = b->cap - b->len;
    if (grow(b, want) < 0)
        return -1;
    room = b->alloc - b->len;
    if (b->cap && room > b->cap - b->len + 1)
        room = b->cap - b->len + 1; /* never write past the cap, even with memory to spare */
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        b->failed = true;
        return -1;
    }
    if ((size_t)n >= room) {
        b->data[b->len] = '\0';
        if (grow(b, (size_t)n) < 0)
            return -1;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

void buf_cut_utf8(struct buf *b, size_t max, const char *mark)
{
    size_t m = strlen(mark), keep;

    if (b->failed || b->len <= max || max <= m)
        return;
    keep = max - m;
    while (keep > 0 && ((unsigned char)b->data[keep] & 0xC0) == 0x80)
        keep--; /* back to the first byte of the sequence the cut would split */
    memcpy(b->data + keep, mark, m + 1);
    b->len = keep + m;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
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
