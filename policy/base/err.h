#ifndef EGRESSGUARD_ERR_H
#define EGRESSGUARD_ERR_H

/*
 * The one error type every layer shares. The function that detects a problem writes the message
 * (the innermost cause wins); the caller that knows where it happened adds the position with
 * err_at(). Printed as "file:line:col: message", which editors can jump to.
 */

#include <stddef.h>

struct err {
    char msg[512];    /* no trailing newline; "" when unset */
    const char *file; /* borrowed; NULL if none */
    int line, col;    /* 1-based; 0 = unknown */
};

/* Sets the message (replacing any earlier one) and clears the position. Returns -1. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a position unless one is already set (the innermost position wins). Returns -1. */
int err_at(struct err *e, const char *file, int line, int col);

/* Prefixes the message with "what: ", e.g. err_prefix(e, "spec.egress[0]"). Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats as "file:line:col: msg" (parts that are unknown are left out) into buf. */
void err_format(const struct err *e, char *buf, size_t size);

#endif
