/*
 * Subcommands whose implementation has not landed yet. Each answers --help with what it will do
 * and otherwise says plainly that it is not available in this build. When a command lands, its
 * function moves to its own module and leaves this file.
 */
#include <stdio.h>

#include "server/cli.h"

static int pending(const char *cmd, int argc, char **argv, const char *what)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: egressguard %s ...\n\n%s\n\nNot available in this build yet.\n", cmd, what);
        return EXIT_PASS;
    }
    fprintf(stderr, "egressguard %s: not available in this build yet (%s)\n", cmd, what);
    return EXIT_USAGE;
}

int cmd_mutate(int argc, char **argv)
{
    return pending("mutate", argc, argv, "the Namespace patch of the mutating webhook");
}
