/* egressguard: one binary, git-style subcommands. */
#include <stdio.h>
#include <string.h>

#include "policy/base/suggest.h"
#include "server/cmd/cli.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"check", cmd_check, "dry-run: evaluate manifests (files, directories, -) against the policy"},
    {"explain", cmd_explain, "the effective egress of a namespace, policy by policy; --to one destination"},
    {"serve", cmd_serve, "run the TLS admission webhook (/validate, /mutate, /healthz, /metrics)"},
    {"review", cmd_review, "answer one AdmissionReview (file or -) as the server would"},
    {"mutate", cmd_mutate, "print the patch the mutating webhook would apply to a Namespace"},
    {"render", cmd_render, "render enforcement policies or webhook configurations"},
    {"certs", cmd_certs, "create or renew the webhook's CA and serving certificate"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: egressguard COMMAND [OPTIONS] [ARGS]\n\n"
                 "Keeps AI workloads' egress inside the organization's allow-list: a Kubernetes\n"
                 "admission webhook, and the same engine offline.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'egressguard COMMAND --help' for a command's options.\n"
                 "Exit codes: 0 pass, 1 violations found, 2 usage or input error.\n");
}

/* "unknown command 'chekc' (did you mean 'check'?)", the list of commands, EXIT_USAGE. */
static int unknown_command(const char *name)
{
    struct suggest near;
    const char *best;

    suggest_init(&near, name, 2);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        suggest_add(&near, commands[i].name);
    if ((best = suggest_best(&near)))
        fprintf(stderr, "egressguard: unknown command '%s' (did you mean '%s'?)\n\n", name, best);
    else
        fprintf(stderr, "egressguard: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_PASS;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    return unknown_command(argv[1]);
}
