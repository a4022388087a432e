#include <stdio.h>

#include "server/cmd/cli.h"
#include "server/cmd/opts.h"

#ifndef EGRESSGUARD_VERSION
#define EGRESSGUARD_VERSION "0.1.0"
#endif

int cmd_version(int argc, char **argv)
{
    static const struct opt table[] = {{NULL, 0, 0, 0}};
    struct opts p;
    const char *val;
    int id;

    opts_init(&p, "version", "usage: egressguard version\n\nPrints the version.\n", table, argc,
              argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        if (id == OPTS_STOP)
            return p.status;
        return cli_usage_error("version", "unexpected argument '%s'", val);
    }
    printf("egressguard %s\n", EGRESSGUARD_VERSION);
    return EXIT_PASS;
}
