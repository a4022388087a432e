#include "server/cmd/cli.h"

#include <stdarg.h>

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
