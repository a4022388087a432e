#ifndef EGRESSGUARD_REPORT_H
#define EGRESSGUARD_REPORT_H

/*
 * What `check` prints: the verdict on every object read, in one of six formats. text is for
 * people (`file:line: Kind namespace/name: deny: field: message`), json for scripts (yaml: the
 * same document as YAML), SARIF 2.1.0 for code-scanning dashboards, JUnit XML for CI test
 * reports, policyreport a YAML stream of wgpolicyk8s.io PolicyReports for clusters and GitOps
 * (polreport.h). Input errors (unreadable files, malformed objects) appear in every format,
 * positioned.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"

/* The order of the format table in report.c; -o's names are report_formats(). */
enum report_format {
    REPORT_TEXT,
    REPORT_JSON,
    REPORT_YAML,
    REPORT_SARIF,
    REPORT_JUNIT,
    REPORT_POLICYREPORT,
};

struct report_item {
    const struct object *obj; /* borrowed */
    struct verdict v;
    bool failed; /* the object could not be evaluated: see e */
    struct err e;
    const json_t *detail; /* json: printed as the item's "effective" member; borrowed, may be NULL */
};

struct report {
    const struct policy *pol;
    struct report_item *items;
    size_t n_items;
    const struct err *input_errors; /* errors reading the input (not tied to one object) */
    size_t n_input_errors;
    bool verbose; /* text: also list objects that pass and kinds not evaluated */
    int64_t now;  /* policyreport: the results' timestamp (Unix seconds) */
};

struct report_counts {
    size_t objects, evaluated, denied, warned, audited, notes, errors;
};

/* A format's name ("text", "json", ...) → format; -1 when unknown. */
int report_format_parse(const char *s, enum report_format *out);

/* The names of the formats, NULL-terminated, in enum order (static; for help and messages). */
const char *const *report_formats(void);

void report_count(const struct report *r, struct report_counts *c);

/* Writes the report. 0, or -1 on a write error. */
int report_write(FILE *out, enum report_format fmt, const struct report *r);

#endif
