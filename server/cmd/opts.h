#ifndef EGRESSGUARD_OPTS_H
#define EGRESSGUARD_OPTS_H

/*
 * The one option parser of every subcommand, with kubectl's and GNU's conventions:
 *
 *   --name VALUE, --name=VALUE, -n VALUE, -nVALUE   an option with a value
 *   --flag, -f                                      a flag (--flag=x is an error)
 *   -h, --help                                      help, always
 *   -                                               an operand (standard input)
 *   --                                              everything after it is an operand
 *
 * Options and operands may come in any order. An unknown option is a usage error that names the
 * nearest known one ("unknown option '--polcy' (did you mean '--policy'?)"). Errors are printed
 * on stderr through cli_usage_error(), the help on stdout; the parser never exits.
 *
 *     static const struct opt table[] = {
 *         {"policy", 'p', OPT_VALUE, O_POLICY},
 *         {"verbose", 'v', OPT_FLAG, O_VERBOSE},
 *         {NULL, 0, 0, 0},
 *     };
 *     struct opts p;
 *     const char *val;
 *     int id;
 *
 *     opts_init(&p, "check", usage_text, table, argc, argv);
 *     while ((id = opts_next(&p, &val)) != OPTS_END) {
 *         switch (id) {
 *         case OPTS_STOP:    return p.status;   // help printed, or a usage error
 *         case OPTS_OPERAND: ... val is the operand ...
 *         case O_POLICY:     ... val is the value ...
 *         }
 *     }
 *
 * A command's own parse function follows the same convention everywhere: it returns OPTS_GO to
 * go on, or the exit code to stop with (EXIT_PASS after --help, EXIT_USAGE after an error).
 */

#include <stdbool.h>

enum opt_kind { OPT_FLAG, OPT_VALUE };

struct opt {
    const char *name; /* the long name without "--"; NULL ends the table */
    char letter;      /* the short name, or 0 */
    enum opt_kind kind;
    int id; /* what opts_next() returns for it; >= 0 */
};

/* opts_next() results besides an option's id. */
enum { OPTS_END = -1, OPTS_OPERAND = -2, OPTS_STOP = -3 };

#define OPTS_GO (-1) /* a command's parse function: go on */

struct opts {
    const char *cmd;         /* "check", "render webhooks": for messages; borrowed */
    const char *help;        /* printed for -h/--help; borrowed */
    const struct opt *table; /* borrowed */
    int argc;
    char **argv;
    int next;           /* argv index of the next word */
    bool operands_only; /* after "--" */
    char name[64];      /* the option just returned, as typed ("-o", "--output") */
    int status;         /* after OPTS_STOP: EXIT_PASS (help) or EXIT_USAGE (error) */
};

/* Starts parsing argv[1..argc-1] (argv[0] is the command). Borrows everything. */
void opts_init(struct opts *p, const char *cmd, const char *help, const struct opt *table, int argc,
               char **argv);

/*
 * The next option or operand: an option's id with *value set to its value (NULL for a flag),
 * OPTS_OPERAND with *value the operand, OPTS_END when argv is used up, or OPTS_STOP when the
 * command must stop with p->status: after printing the help (-h, --help; EXIT_PASS) or a usage
 * error (EXIT_USAGE). *value is borrowed from argv.
 */
int opts_next(struct opts *p, const char **value);

/* Prints "egressguard CMD: --name: message" as a usage error; returns EXIT_USAGE. */
int opts_error(const struct opts *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The value of the option just returned as a whole number from min to max ("of UNIT" in the
 * message when unit is not NULL). 0, or EXIT_USAGE after printing why.
 */
int opts_number(const struct opts *p, const char *value, const char *unit, long long min,
                long long max, long long *out);

/*
 * The value of the option just returned as one of `choices` (NULL-terminated; `what` names them
 * in the message, e.g. "format"): its index, or -1 after printing the usage error with the
 * nearest choice and the whole list.
 */
int opts_choice(const struct opts *p, const char *value, const char *what,
                const char *const *choices);

#endif
