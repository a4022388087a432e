#include "server/cmd/cli.h"

#include <stdarg.h>

#include "policy/config/exemption.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "egressguard %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'egressguard %s --help' for usage.\n", cmd);
    return EXIT_USAGE;
}

void cli_note_example_policy(const char *cmd)
{
    fprintf(stderr, "egressguard %s: no -p/--policy given: using the embedded example policy "
                    "(examples/policy.yaml as built into this binary)\n",
            cmd);
}

void cli_policy_notes(const char *cmd, const struct policy *pol)
{
    for (size_t i = 0; i < pol->n_notes; i++) {
        struct err where = pol->notes[i];
        char buf[800];

        snprintf(where.msg, sizeof(where.msg), "note: %.500s", pol->notes[i].msg);
        err_format(&where, buf, sizeof(buf));
        fprintf(stderr, "egressguard %s: %s\n", cmd, buf);
    }
}

int cli_parse_now(const char *cmd, const char *text, int64_t *out)
{
    struct err e = {0};
    bool is_date;

    /* The parser reads `expires`, where a date means its last second; --now means its first. */
    if (exemption_parse_expires(text, out, &is_date, &e) < 0)
        return cli_usage_error(cmd, "--now: %s", e.msg);
    if (is_date)
        *out -= 86400;
    return 0;
}
