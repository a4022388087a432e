#include "server/webhook/log.h"

#include <stdarg.h>
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

/* Appends s as a JSON string (quoted, escaped). */
static void put_json_string(struct buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': buf_add(b, "\\\"", 2); break;
        case '\\': buf_add(b, "\\\\", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\r': buf_add(b, "\\r", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        default:
            if (*p < 0x20)
                buf_printf(b, "\\u%04x", *p);
            else
                buf_add(b, p, 1);
        }
    }
    buf_add(b, "\"", 1);
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

void log_msg(const struct log *lg, enum log_level level, const char *fmt, ...)
{
    struct buf b;
    char text[1024];
    va_list ap;

    if (!log_enabled(lg, level))
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    buf_init(&b, 0);
    begin(&b, level);
    buf_puts(&b, ",\"msg\":");
    put_json_string(&b, text);
    finish(lg, &b);
}

static void field(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, ",\"%s\":", key);
    put_json_string(b, value);
}

void log_decision(const struct log *lg, const struct log_decision *d)
{
    struct buf b;

    if (!log_enabled(lg, LOG_INFO))
        return;
    buf_init(&b, 0);
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
