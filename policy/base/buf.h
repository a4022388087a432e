#ifndef EGRESSGUARD_BUF_H
#define EGRESSGUARD_BUF_H

/*
 * A growable, NUL-terminated byte buffer with a cap (after curl's dynbuf). Embed it, buf_init() it,
 * and buf_release() it. Once an append fails (out of memory or over the cap) the buffer stays
 * failed: later appends are no-ops returning -1, so a chain of appends needs one check at the end.
 * A buffer that holds text derived from untrusted input (a request, an object, a file) gets its
 * cap from a named constant of the module that owns it, so the most it may take is written down
 * where it is used.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated when len > 0; NULL before the first append */
    size_t len, alloc, cap;
    bool failed;
    const char *mark; /* buf_init_cut(): what ends cut contents; NULL: the cap fails appends */
    bool cut;         /* buf_init_cut(): the contents were cut at the cap */
};

/* cap: the most bytes the buffer may hold (0: no cap beyond memory). */
void buf_init(struct buf *b, size_t cap);

/*
 * A buffer for messages, which a cap must shorten but never lose: an append that would pass
 * `cap` keeps what fits (without splitting a UTF-8 sequence), ends the contents with `mark`
 * ("...", counted within cap), and every later append is a no-op that succeeds. Only running out
 * of memory fails it. cap must exceed strlen(mark); mark is borrowed (a string literal). The
 * mode survives buf_release() and buf_detach(); buf_reset() clears `cut`.
 */
void buf_init_cut(struct buf *b, size_t cap, const char *mark);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* empties it, keeps memory, clears `failed` */

/* Makes room for `extra` more bytes in one allocation of exactly that size, so that appends up to
 * it allocate nothing more (a body of known length). -1, and failed, over the cap or on OOM. */
int buf_reserve(struct buf *b, size_t extra);

int buf_add(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Appends `s` as a JSON string literal, quotes included: `"`, `\` and control characters escaped
 * as json_dumps() escapes them, and every byte that is not part of a valid UTF-8 sequence
 * replaced by \ufffd, so the output is valid JSON whatever `s` holds (NULL is written as "").
 */
int buf_json_string(struct buf *b, const char *s);

/* How many of the first n bytes of s to keep so that they do not end inside a UTF-8 sequence. */
size_t buf_utf8_len(const char *s, size_t n);

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

/*
 * A new string formatted like printf (git's xstrfmt): malloc()ed, the caller frees it; NULL on
 * out of memory or an encoding error. The one place a formatted message is allocated.
 */
char *buf_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *buf_vstrfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
