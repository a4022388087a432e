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

int cmd_serve(int argc, char **argv)
{
    return pending("serve", argc, argv, "the TLS admission webhook");
}

int cmd_review(int argc, char **argv)
{
    return pending("review", argc, argv, "answer one AdmissionReview as the server would");
}

int cmd_mutate(int argc, char **argv)
{
    return pending("mutate", argc, argv, "the Namespace patch of the mutating webhook");
}

int cmd_render(int argc, char **argv)
{
    return pending("render", argc, argv, "enforcement policies and webhook configurations");
}

int cmd_certs(int argc, char **argv)
{
    return pending("certs", argc, argv, "the webhook's CA and serving certificate");
}
