#include <stdio.h>

#include "server/cmd/cli.h"

#ifndef EGRESSGUARD_VERSION
#define EGRESSGUARD_VERSION "0.1.0"
#endif

int cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: egressguard version\n\nPrints the version.\n");
        return EXIT_PASS;
    }
    if (argc > 1)
        return cli_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("egressguard %s\n", EGRESSGUARD_VERSION);
    return EXIT_PASS;
}
