#ifndef EGRESSGUARD_CLI_H
#define EGRESSGUARD_CLI_H

/*
 * The subcommands of the egressguard binary. Each takes the argv that follows the command name
 * (argv[0] is the command name) and returns the process exit code.
 */

#include <stdint.h>
#include <stdio.h>

#include "policy/config/policy.h"

enum exit_code {
    EXIT_PASS = 0,       /* nothing violates the policy */
    EXIT_VIOLATIONS = 1, /* findings that deny (or would, in warn/audit) */
    EXIT_USAGE = 2,      /* usage or input error */
};

int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_mutate(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Prints "egressguard CMD: msg" and a hint to run --help on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Prints the policy loader's notes (an old field name...) on stderr, one per line:
 * "egressguard CMD: FILE:LINE:COL: note: MESSAGE". They never change the exit code.
 */
void cli_policy_notes(const char *cmd, const struct policy *pol);

/*
 * Says on stderr that the command runs with the example policy built into the binary (review
 * and mutate without -p): a check against the wrong policy must not look like a real answer.
 */
void cli_note_example_policy(const char *cmd);

/*
 * A --now argument: the time exemption lifetimes are judged at, as a date (its first second,
 * UTC) or an RFC 3339 time. 0 with *out set, or EXIT_USAGE after saying why on stderr.
 */
int cli_parse_now(const char *cmd, const char *text, int64_t *out);

#endif
