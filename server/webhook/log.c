#include "server/webhook/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/base/buf.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

struct log_buffer {
    pthread_mutex_t mu;
    size_t len;
    char data[LOG_BUFFER_BYTES];
};

int log_buffer_start(struct log *lg)
{
    struct log_buffer *lb = malloc(sizeof(*lb));

    if (!lb || pthread_mutex_init(&lb->mu, NULL) != 0) {
        free(lb);
        return -1;
    }
    lb->len = 0;
    lg->buffer = lb;
    return 0;
}

/* Writes what waits; the caller holds the mutex. */
static void drain(const struct log *lg)
{
    if (lg->buffer->len)
        fwrite(lg->buffer->data, 1, lg->buffer->len, lg->out);
    lg->buffer->len = 0;
}

void log_flush(const struct log *lg)
{
    if (!lg || !lg->buffer)
        return;
    pthread_mutex_lock(&lg->buffer->mu);
    drain(lg);
    pthread_mutex_unlock(&lg->buffer->mu);
}

void log_buffer_stop(struct log *lg)
{
    if (!lg->buffer)
        return;
    log_flush(lg);
    pthread_mutex_destroy(&lg->buffer->mu);
    free(lg->buffer);
    lg->buffer = NULL;
}

int log_parse_level(const char *name, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, level_names[i])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/*
 * A log line quotes requests (names, users, reasons), so each part is bounded: a message or a
 * field is cut, on a character boundary, to LOG_TEXT_MAX bytes, and the line buffer's cap holds
 * the escaped worst case of every part (an escape is at most 6 bytes per byte).
 */
#define LOG_TEXT_MAX 1024
#define LOG_LINE_CAP ((size_t)(16 * 6 * (LOG_TEXT_MAX + 8) + 4096))
/* A decision line is ~450 bytes: reserved at once rather than grown by doubling from 64 bytes (a
 * reservation that fails marks the buffer failed, which finish() checks). */
#define LOG_LINE_RESERVE ((size_t)1024)

/* Appends s as a JSON string, cut to LOG_TEXT_MAX bytes ("..." marks the cut). */
static void put_text(struct buf *b, const char *s, size_t len)
{
    char cut[LOG_TEXT_MAX + 1];
    size_t keep;

    if (len <= LOG_TEXT_MAX) {
        buf_json_string(b, s);
        return;
    }
    keep = buf_utf8_len(s, LOG_TEXT_MAX - 3);
    memcpy(cut, s, keep);
    memcpy(cut + keep, "...", 4);
    buf_json_string(b, cut);
}

/* Writes v as `width` decimal digits (zero padded) at p; returns the end. */
static char *digits(char *p, long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/*
 * Without gmtime_r and strftime (one line per decision: this is on every request): the civil
 * date from days since the epoch (Howard Hinnant's civil_from_days). Times before 1970 are not
 * asked for.
 */
void log_utc(time_t sec, long nsec, char out[25])
{
    long days, secs, z, era, doe, yoe, doy, mp, y, m, d;
    char *p = out;

    days = (long)(sec / 86400);
    secs = (long)(sec % 86400);
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    p = digits(p, y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p++ = 'T';
    p = digits(p, secs / 3600, 2);
    *p++ = ':';
    p = digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, secs % 60, 2);
    *p++ = '.';
    p = digits(p, nsec / 1000000, 3);
    *p++ = 'Z';
    *p = '\0';
}

static void begin(struct buf *b, enum log_level level)
{
    struct timespec ts;
    char when[25];

    clock_gettime(CLOCK_REALTIME, &ts);
    log_utc(ts.tv_sec, ts.tv_nsec, when);
    buf_puts(b, "{\"ts\":\"");
    buf_add(b, when, 24);
    buf_puts(b, "\",\"level\":\"");
    buf_puts(b, level_names[level]);
    buf_add(b, "\"", 1);
}

/*
 * Writes the line: a decision line joins those that wait (when gathering), any other line is
 * written at once, after them.
 */
static void finish(const struct log *lg, struct buf *b, bool decision)
{
    struct log_buffer *lb = lg->buffer;

    buf_add(b, "}\n", 2);
    if (b->failed) {
        buf_release(b);
        return;
    }
    if (!lb) {
        fwrite(b->data, 1, b->len, lg->out);
        buf_release(b);
        return;
    }
    pthread_mutex_lock(&lb->mu);
    if (!decision || lb->len + b->len > sizeof(lb->data))
        drain(lg);
    if (decision && b->len <= sizeof(lb->data)) {
        memcpy(lb->data + lb->len, b->data, b->len);
        lb->len += b->len;
    } else {
        fwrite(b->data, 1, b->len, lg->out);
    }
    pthread_mutex_unlock(&lb->mu);
    buf_release(b);
}

void log_vmsg(const struct log *lg, enum log_level level, const char *fmt, va_list ap)
{
    struct buf b;
    char text[LOG_TEXT_MAX + 1];
    int n;

    if (!log_enabled(lg, level))
        return;
    n = vsnprintf(text, sizeof(text), fmt, ap);
    if (n < 0)
        text[0] = '\0';
    buf_init(&b, LOG_LINE_CAP);
    begin(&b, level);
    buf_puts(&b, ",\"msg\":");
    put_text(&b, text, n < 0 ? 0 : (size_t)n);
    finish(lg, &b, false);
}

void log_msg(const struct log *lg, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(lg, level, fmt, ap);
    va_end(ap);
}

static void field(struct buf *b, const char *key, const char *value)
{
    buf_puts(b, ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
    put_text(b, value ? value : "", value ? strlen(value) : 0);
}

void log_decision(const struct log *lg, const struct log_decision *d)
{
    struct buf b;

    if (!log_enabled(lg, LOG_INFO))
        return;
    buf_init(&b, LOG_LINE_CAP);
    (void)buf_reserve(&b, LOG_LINE_RESERVE);
    begin(&b, LOG_INFO);
    buf_puts(&b, ",\"msg\":\"decision\"");
    field(&b, "endpoint", d->endpoint);
    field(&b, "uid", d->uid);
    field(&b, "kind", d->kind);
    field(&b, "namespace", d->ns);
    field(&b, "name", d->name);
    field(&b, "operation", d->operation);
    field(&b, "user", d->user);
    field(&b, "verdict", d->verdict);
    field(&b, "reason", d->reason);
    buf_printf(&b, ",\"dryRun\":%s,\"latency_us\":%ld", d->dry_run ? "true" : "false",
               d->latency_us);
    finish(lg, &b, true);
}
