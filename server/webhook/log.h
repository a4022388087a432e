#ifndef EGRESSGUARD_LOG_H
#define EGRESSGUARD_LOG_H

/*
 * The server's log: JSON lines on a stream (stderr), one per decision plus lifecycle events.
 * Each line is formatted into one buffer and written with one fwrite, so lines from different
 * threads never interleave. The level is checked before anything is formatted. Never log request
 * objects: they may be Secrets.
 */

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

struct log {
    enum log_level level;
    FILE *out; /* borrowed */
};

/* Parses "debug", "info", "warn" or "error". Returns 0, or -1 for anything else. */
int log_parse_level(const char *name, enum log_level *out);

static inline int log_enabled(const struct log *lg, enum log_level level)
{
    return lg && level >= lg->level;
}

/* {"ts":..., "level":..., "msg": <formatted>}; a message over 1024 bytes is cut (on a character
 * boundary, marked "..."), and bytes that are not UTF-8 are replaced, so every line is JSON. */
void log_msg(const struct log *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct log *lg, enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* One decision. Strings may be NULL (logged as ""), each is cut like a message. latency in
 * microseconds. */
struct log_decision {
    const char *endpoint, *uid, *kind, *ns, *name, *operation, *user, *verdict, *reason;
    long latency_us;
    int dry_run;
};
void log_decision(const struct log *lg, const struct log_decision *d);

#endif
