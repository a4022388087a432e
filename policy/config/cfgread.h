#ifndef EGRESSGUARD_CFGREAD_H
#define EGRESSGUARD_CFGREAD_H

/*
 * Strict reading of the policy file's fields: every member typed and checked, unknown fields
 * refused with a "did you mean", every error positioned at file:line:col with its field path.
 * A typo in security configuration must never silently weaken it. policy.c builds the policy
 * from these reads.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/base/err.h"
#include "policy/config/mode.h"
#include "policy/doc/doc.h"
#include "policy/selector/selector.h"

/* Reading state: the document being read, for positions, and where errors and notes go. */
struct cfgread {
    const struct doc *doc;
    struct err *e;
    struct err *notes; /* malloc()ed, owned by whoever reads; positions borrow the doc's file */
    size_t n_notes;
};

/*
 * Records a note (something worth telling that is not an error, such as an old field name)
 * positioned at parent[key] (the key's value; true/false/null included). 0, or -1 on OOM.
 */
int cfgread_note(struct cfgread *l, const json_t *parent, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Positions l->e at node (or the nearest thing known) with the field path and message; -1. */
int cfgread_fail(struct cfgread *l, const json_t *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error already carrying its message (cidr_parse and friends): adds path and position; -1. */
int cfgread_fail_inner(struct cfgread *l, const json_t *node, const char *path);
/* Every member of obj is in `allowed` (NULL-terminated); else an error with "did you mean". */
int cfgread_check_fields(struct cfgread *l, const json_t *obj, const char *path,
                         const char *const *allowed);
/*
 * Typed member reads. want: the member (borrowed) or NULL with l->e set when required and
 * absent or of the wrong type; opt*: 0 with *out untouched when absent, -1 on a wrong type.
 * Strings are strdup()ed: the caller owns them.
 */
json_t *cfgread_want(struct cfgread *l, const json_t *parent, const char *key, json_type type,
                     const char *path, bool required);
int cfgread_opt(struct cfgread *l, const json_t *parent, const char *key, json_type type,
                const char *path, json_t **out);
int cfgread_opt_bool(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                     bool *out);
int cfgread_opt_string(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                       char **out);
/* A `mode` member (enforce, warn, audit); dflt when absent. */
int cfgread_mode(struct cfgread *l, const json_t *parent, const char *path, enum mode dflt,
                 enum mode *out);
/* A list of strings, each checked (and copied) by `check`; *out owned by the caller. */
int cfgread_string_list(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                        char ***out, size_t *n,
                        int (*check)(struct cfgread *, const json_t *, const char *, char **));
/* Item checkers for cfgread_string_list(). */
int cfgread_glob(struct cfgread *l, const json_t *item, const char *path, char **out);
int cfgread_fqdn(struct cfgread *l, const json_t *item, const char *path, char **out);
int cfgread_service_account(struct cfgread *l, const json_t *item, const char *path, char **out);
int cfgread_capability(struct cfgread *l, const json_t *item, const char *path, char **out);
/* Kubernetes LabelSelectors (a list, or one): owned by the caller. */
int cfgread_selector_list(struct cfgread *l, const json_t *parent, const char *key,
                          const char *path, struct selector ***out, size_t *n);
int cfgread_selector(struct cfgread *l, const json_t *parent, const char *key, const char *path,
                     struct selector **out);

#endif
