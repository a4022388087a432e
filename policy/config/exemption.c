#include "policy/config/exemption.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/doc.h"

#define DAY 86400
#define MAX_WARNING_DAYS 3650

const char *exemption_state_name(enum exemption_state s)
{
    return s == EXEMPTION_EXPIRED ? "expired" : s == EXEMPTION_EXPIRING ? "expiring" : "active";
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at *s into *out; advances *s. false when they are not all digits. */
static bool digits(const char **s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (**s < '0' || **s > '9')
            return false;
        *out = *out * 10 + (**s - '0');
    }
    return true;
}

static bool field_ok(const char *text, const char *what, int v, int max, struct err *e)
{
    if (v <= max)
        return true;
    err_set(e, "\"%s\": %s %02d is out of range 00-%02d", text, what, v, max);
    return false;
}

int exemption_parse_expires(const char *text, int64_t *out, bool *is_date, struct err *e)
{
    const char *s = text;
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;

    if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
        !digits(&s, 2, &d))
        goto shape;
    *is_date = *s == '\0';
    if (!*is_date) {
        if ((*s != 'T' && *s != 't') || (s++, !digits(&s, 2, &h)) || *s++ != ':' ||
            !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &sec))
            goto shape;
        if (*s == '.') { /* fractions of a second: the exemption ends within that second */
            if (*++s < '0' || *s > '9')
                goto shape;
            while (*s >= '0' && *s <= '9')
                s++;
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            sign = *s++ == '+' ? 1 : -1;
            if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om))
                goto shape;
        } else {
            goto shape; /* RFC 3339 requires the offset: a time without one is ambiguous */
        }
        if (*s)
            goto shape;
    }
    if (y < 1 || mo < 1 || mo > 12) {
        err_set(e, "\"%s\": %s", text, y < 1 ? "year 0000 does not exist" : "month is not 01-12");
        return -1;
    }
    if (d < 1 || d > days_in_month(y, mo)) {
        err_set(e, "\"%s\": %04d-%02d has %d days", text, y, mo, days_in_month(y, mo));
        return -1;
    }
    if (!field_ok(text, "hour", h, 23, e) || !field_ok(text, "minute", mi, 59, e) ||
        !field_ok(text, "second", sec, 59, e) || !field_ok(text, "offset hour", oh, 23, e) ||
        !field_ok(text, "offset minute", om, 59, e))
        return -1;
    if (*is_date)
        *out = (days_from_civil(y, mo, d) + 1) * DAY; /* the whole last day applies */
    else
        *out = days_from_civil(y, mo, d) * DAY + h * 3600 + mi * 60 + sec -
               sign * (oh * 3600 + om * 60);
    return 0;
shape:
    err_set(e,
            "\"%s\" is neither a date (YYYY-MM-DD) nor an RFC 3339 time "
            "(2027-01-31T18:00:00Z)",
            text);
    return -1;
}

static int read_one(struct cfgread *l, const json_t *item, const char *path, struct exemption *x)
{
    static const char *const fields[] = {"kind",  "namespace", "name",    "reason",
                                         "owner", "ticket",    "expires", NULL};
    json_t *ev = NULL;
    int col;

    x->expires = EXEMPTION_NEVER;
    if (!json_is_object(item))
        return cfgread_fail(l, item, path, "must be a mapping, not %s", doc_type_name(item));
    if (cfgread_check_fields(l, item, path, fields) < 0)
        return -1;
    doc_pos(l->doc, item, &x->line, &col);
    if (cfgread_opt_string(l, item, "kind", path, &x->kind) < 0 ||
        cfgread_opt_string(l, item, "namespace", path, &x->namespace) < 0 ||
        cfgread_opt_string(l, item, "name", path, &x->name) < 0 ||
        cfgread_opt_string(l, item, "reason", path, &x->reason) < 0 ||
        cfgread_opt_string(l, item, "owner", path, &x->owner) < 0 ||
        cfgread_opt_string(l, item, "ticket", path, &x->ticket) < 0 ||
        cfgread_opt(l, item, "expires", JSON_STRING, path, &ev) < 0)
        return -1;
    if (!x->reason || !*x->reason)
        return cfgread_fail(l, item, path,
                            "an exemption needs a reason (it is reported whenever "
                            "the exemption applies)");
    if (!x->kind && !x->namespace && !x->name)
        return cfgread_fail(l, item, path, "an exemption must name a kind, namespace or name");
    if ((x->owner && !*x->owner) || (x->ticket && !*x->ticket))
        return cfgread_fail(l, item, path, "%s is empty: leave it out or fill it in",
                            x->owner && !*x->owner ? "owner" : "ticket");
    if (!ev)
        return 0;
    if (exemption_parse_expires(json_string_value(ev), &x->expires, &x->expires_date, l->e) < 0) {
        char sub[96];
        snprintf(sub, sizeof(sub), "%s.expires", path);
        return cfgread_fail_inner(l, ev, sub);
    }
    if (!(x->expires_text = strdup(json_string_value(ev))))
        return err_set(l->e, "out of memory");
    return 0;
}

int exemptions_read(struct cfgread *l, const json_t *spec, struct exemption **out, size_t *n,
                    int *warning_days)
{
    json_t *arr, *item, *wd = NULL;
    size_t i;
    char path[64];
    int r;

    *warning_days = EXEMPTION_DEFAULT_WARNING_DAYS;
    if (cfgread_opt(l, spec, "exemptionWarningDays", JSON_INTEGER, "spec", &wd) < 0)
        return -1;
    if (wd) {
        json_int_t days = json_integer_value(wd);
        if (days < 0 || days > MAX_WARNING_DAYS)
            return cfgread_fail(l, wd, "spec", "exemptionWarningDays %lld is out of range 0-%d",
                                (long long)days, MAX_WARNING_DAYS);
        *warning_days = (int)days;
    }
    if ((r = cfgread_opt(l, spec, "exemptions", JSON_ARRAY, "spec", &arr)) <= 0 ||
        !json_array_size(arr))
        return r < 0 ? -1 : 0;
    if (!(*out = calloc(json_array_size(arr), sizeof(**out))))
        return err_set(l->e, "out of memory");
    json_array_foreach(arr, i, item) {
        snprintf(path, sizeof(path), "spec.exemptions[%zu]", i);
        (*n)++; /* counted before reading, so that a failure frees what was read */
        if (read_one(l, item, path, &(*out)[i]) < 0)
            return -1;
    }
    return 0;
}

void exemptions_free(struct exemption *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(x[i].kind);
        free(x[i].namespace);
        free(x[i].name);
        free(x[i].reason);
        free(x[i].owner);
        free(x[i].ticket);
        free(x[i].expires_text);
    }
    free(x);
}

bool exemption_covers(const struct exemption *x, const char *kind, const char *ns, const char *name)
{
    if (x->kind && (!kind || strcmp(x->kind, kind)))
        return false;
    if (x->namespace && (!ns || fnmatch(x->namespace, ns, 0)))
        return false;
    return !x->name || (name && !fnmatch(x->name, name, 0));
}

static int64_t warning_start(const struct exemption *x, int warning_days)
{
    return x->expires - (int64_t)warning_days * DAY;
}

enum exemption_state exemption_state(const struct exemption *x, int warning_days, int64_t now)
{
    if (x->expires == EXEMPTION_NEVER)
        return EXEMPTION_ACTIVE;
    if (now >= x->expires)
        return EXEMPTION_EXPIRED;
    return now >= warning_start(x, warning_days) ? EXEMPTION_EXPIRING : EXEMPTION_ACTIVE;
}

int64_t exemption_next_change(const struct exemption *x, int warning_days, int64_t now)
{
    if (x->expires == EXEMPTION_NEVER || now >= x->expires)
        return EXEMPTION_NEVER;
    return now < warning_start(x, warning_days) ? warning_start(x, warning_days) : x->expires;
}

void exemption_describe(const struct exemption *x, char *buf, size_t size)
{
    snprintf(buf, size, "line %d of the policy file%s%s%s%s", x->line, x->owner ? ", owner " : "",
             x->owner ? x->owner : "", x->ticket ? ", ticket " : "", x->ticket ? x->ticket : "");
}

void exemption_end_text(const struct exemption *x, bool past, char *buf, size_t size)
{
    if (!x->expires_text)
        snprintf(buf, size, "does not expire");
    else
        snprintf(buf, size, "%s %s %s%s", past ? "expired" : "ends",
                 x->expires_date ? "after" : "at", x->expires_text,
                 x->expires_date ? " (UTC)" : "");
}
