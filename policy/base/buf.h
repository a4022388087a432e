#ifndef EGRESSGUARD_BUF_H
#define EGRESSGUARD_BUF_H

/*
 * A growable, NUL-terminated byte buffer with a cap (after curl's dynbuf). Embed it, buf_init() it,
 * and buf_release() it. Once an append fails (out of memory or over the cap) the buffer stays
 * failed: later appends are no-ops returning -1, so a chain of appends needs one check at the end.
 */

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated when len > 0; NULL before the first append */
    size_t len, alloc, cap;
    bool failed;
};

/* cap: the most bytes the buffer may hold (0: no cap beyond memory). */
void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* empties it, keeps memory, clears `failed` */

int buf_add(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Cuts the contents to at most `max` bytes without splitting a UTF-8 sequence; when anything is
 * cut, the contents end with `mark` (e.g. "...", counted within max; max must exceed its length).
 * Never fails and never allocates: a buffer that fits is left alone, a failed one too.
 */
void buf_cut_utf8(struct buf *b, size_t max, const char *mark);

/* The contents as a C string ("" when empty); borrowed, valid until the next append. */
const char *buf_str(const struct buf *b);

/* Hands the malloc()ed contents to the caller (NULL if failed) and re-initialises the buffer. */
char *buf_detach(struct buf *b, size_t *len);

#endif
