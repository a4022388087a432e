#include "policy/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return -1;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->file = NULL;
    e->line = e->col = 0;
    return -1;
}

int err_at(struct err *e, const char *file, int line, int col)
{
    if (!e)
        return -1;
    if (!e->file && file)
        e->file = file;
    if (!e->line) {
        e->line = line;
        e->col = col;
    }
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char head[256], old[sizeof(e->msg)];
    va_list ap;

    if (!e)
        return -1;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    /* Truncation is fine here: the head is short and the message ends up cut, not lost. */
    if (snprintf(e->msg, sizeof(e->msg), "%.*s: %s", (int)(sizeof(e->msg) / 2), head, old) < 0)
        e->msg[0] = '\0';
    return -1;
}

void err_format(const struct err *e, char *buf, size_t size)
{
    if (e->file && e->line > 0 && e->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    else if (e->file && e->line > 0)
        snprintf(buf, size, "%s:%d: %s", e->file, e->line, e->msg);
    else if (e->file)
        snprintf(buf, size, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, size, "%s", e->msg);
}
