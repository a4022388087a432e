#ifndef EGRESSGUARD_EXEMPTION_H
#define EGRESSGUARD_EXEMPTION_H

/*
 * Exemptions of the policy file (spec.exemptions[]) and their lifecycle. An exemption names the
 * objects it covers (kind, namespace glob, name glob), why (reason), and optionally who answers
 * for it (owner), where it is tracked (ticket) and when it ends (expires). An exemption without
 * `expires` applies for ever.
 *
 * `expires` is a date, YYYY-MM-DD: the last day (UTC) on which the exemption applies, so
 * "migration window until 2027-01-31" is `expires: 2027-01-31`; or an RFC 3339 time
 * (2027-01-31T18:00:00Z, offsets allowed): the instant it stops applying.
 *
 * States at a time `now` (the caller's clock: decisions take it as an argument so that tests
 * and `check --now` need no real clock):
 *   active   — applies, and ends later than spec.exemptionWarningDays from now (or never);
 *   expiring — applies, and ends within spec.exemptionWarningDays: a warning is due;
 *   expired  — no longer applies: covered objects are evaluated like any other, and the
 *              verdict says that the exemption expired.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/base/err.h"
#include "policy/config/cfgread.h"

#define EXEMPTION_NEVER INT64_MAX
#define EXEMPTION_DEFAULT_WARNING_DAYS 14

struct exemption {
    char *kind;      /* NULL: any kind */
    char *namespace; /* glob; NULL: any namespace */
    char *name;      /* glob; NULL: any name */
    char *reason;
    char *owner;        /* NULL when not given */
    char *ticket;       /* NULL when not given */
    int64_t expires;    /* Unix time of the first second it no longer applies; EXEMPTION_NEVER */
    char *expires_text; /* `expires` as written (for messages); NULL when it never expires */
    bool expires_date;  /* expires_text is a date (the last day), not an instant */
    int line;
};

enum exemption_state { EXEMPTION_ACTIVE, EXEMPTION_EXPIRING, EXEMPTION_EXPIRED };

/* "active", "expiring", "expired" (metric label values). */
const char *exemption_state_name(enum exemption_state s);

/*
 * Parses an `expires` value: a date YYYY-MM-DD (→ the first second of the next day, UTC) or an
 * RFC 3339 time (→ that instant). *is_date tells which. 0, or -1 with e set (no position).
 */
int exemption_parse_expires(const char *text, int64_t *out, bool *is_date, struct err *e);

/*
 * Reads spec.exemptions and spec.exemptionWarningDays. *out (owned by the caller, freed with
 * exemptions_free even on failure) receives the entries read so far; *warning_days the
 * number of days before the end at which an exemption counts as expiring. 0, or -1 with
 * l->e set at the offending field.
 */
int exemptions_read(struct cfgread *l, const json_t *spec, struct exemption **out, size_t *n,
                    int *warning_days);

void exemptions_free(struct exemption *x, size_t n);

/* Does x cover an object of this kind, namespace and name (NULL: the object has none)? */
bool exemption_covers(const struct exemption *x, const char *kind, const char *ns,
                      const char *name);

enum exemption_state exemption_state(const struct exemption *x, int warning_days, int64_t now);

/*
 * The first instant after `now` at which x changes state (enters the warning window, or ends);
 * EXEMPTION_NEVER when it never will.
 */
int64_t exemption_next_change(const struct exemption *x, int warning_days, int64_t now);

/*
 * Which exemption, for messages: "line 74 of the policy file, owner ml-platform, ticket
 * INC-1234" (the parts known). Always NUL-terminated.
 */
void exemption_describe(const struct exemption *x, char *buf, size_t size);

/*
 * When it ends, for messages: "ends after 2027-01-31 (UTC)" (a date: its last day) or "ends at
 * 2027-01-31T18:00:00Z"; "expired ..." when past; "does not expire".
 */
void exemption_end_text(const struct exemption *x, bool past, char *buf, size_t size);

#endif
