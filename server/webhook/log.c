#include "server/webhook/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/base/buf.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

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

static void begin(struct buf *b, enum log_level level)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", when, ts.tv_nsec / 1000000,
               level_names[level]);
}

static void finish(const struct log *lg, struct buf *b)
{
    buf_add(b, "}\n", 2);
    if (!b->failed)
        fwrite(b->data, 1, b->len, lg->out);
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
    finish(lg, &b);
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
    buf_printf(b, ",\"%s\":", key);
    put_text(b, value ? value : "", value ? strlen(value) : 0);
}

void log_decision(const struct log *lg, const struct log_decision *d)
{
    struct buf b;

    if (!log_enabled(lg, LOG_INFO))
        return;
    buf_init(&b, LOG_LINE_CAP);
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
    finish(lg, &b);
}
