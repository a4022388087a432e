/* `egressguard certs`: create or renew the webhook's CA and serving certificate (certs/certgen). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certs/certgen.h"
#include "server/cmd/cli.h"

#define MAX_EXTRA 64

static const char usage_text[] =
    "usage: egressguard certs --service NAME --namespace NS --out DIR [OPTIONS]\n"
    "\n"
    "Creates, or renews when needed, a CA and a serving certificate (ECDSA P-256) for the webhook\n"
    "Service NAME in namespace NS, as DIR/ca.crt, ca.key, tls.crt and tls.key (keys mode 0600;\n"
    "every file replaced atomically). Prints the caBundle (base64 of ca.crt) on stdout and what\n"
    "it did on stderr.\n"
    "\n"
    "Idempotent: a valid CA and its key are reused. The serving certificate is renewed when it\n"
    "expires within the renewal window, is not signed by the CA, or its names differ from the\n"
    "ones asked for. A new CA (first run, or the old one expiring) means the webhook\n"
    "configurations need the new caBundle: run 'egressguard render webhooks' again.\n"
    "\n"
    "Options:\n"
    "  --service NAME     the webhook's Service name (required)\n"
    "  --namespace NS     its namespace (required)\n"
    "  --out DIR          where the files live; created if missing (required)\n"
    "  --dns NAME         an extra DNS subject alternative name (repeatable)\n"
    "  --ip ADDR          an extra IP subject alternative name, IPv4 or IPv6 (repeatable)\n"
    "  --days N           validity of the serving certificate (default 365)\n"
    "  --ca-days N        validity of a new CA (default 3650)\n"
    "  --renew-days N     renew what expires within N days (default 30)\n"
    "\n"
    "SANs always include NAME, NAME.NS, NAME.NS.svc and NAME.NS.svc.cluster.local.\n"
    "Exit codes: 0 done, 2 usage or input error (nothing was changed by a usage error).\n";

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"): NULL if argv[*i] is another
 * option; sets *missing when the option is there without a value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t len = strlen(name);
    const char *a = argv[*i];

    if (strncmp(a, name, len))
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Returns 0, or -1 after printing the usage error. */
static int parse_days(const char *opt, const char *text, int min, int *out)
{
    char *end;
    long v;

    v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > 36500) {
        cli_usage_error("certs", "%s: want a whole number of days from %d to 36500, got '%s'", opt,
                        min, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static const char *action_text(enum certgen_action a)
{
    return a == CERTGEN_CREATED ? "created" : a == CERTGEN_RENEWED ? "renewed" : "kept";
}

int cmd_certs(int argc, char **argv)
{
    const char *dns[MAX_EXTRA], *ips[MAX_EXTRA];
    struct certgen_opts o = {.renew_days = -1};
    struct certgen_result r;
    struct certgen_err e;
    char path[PATH_MAX], expiry[32];
    char *bundle;
    struct tm tm;

    if (cli_wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return EXIT_PASS;
    }
    o.dns = dns;
    o.ips = ips;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;

        if ((v = opt_value(argc, argv, &i, "--service", &missing))) {
            o.service = v;
        } else if ((v = opt_value(argc, argv, &i, "--namespace", &missing))) {
            o.namespace = v;
        } else if ((v = opt_value(argc, argv, &i, "--out", &missing))) {
            o.out_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--dns", &missing))) {
            if (o.n_dns == MAX_EXTRA)
                return cli_usage_error("certs", "too many --dns (at most %d)", MAX_EXTRA);
            dns[o.n_dns++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--ip", &missing))) {
            if (o.n_ips == MAX_EXTRA)
                return cli_usage_error("certs", "too many --ip (at most %d)", MAX_EXTRA);
            ips[o.n_ips++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--days", &missing))) {
            if (parse_days("--days", v, 1, &o.days) < 0)
                return EXIT_USAGE;
        } else if ((v = opt_value(argc, argv, &i, "--ca-days", &missing))) {
            if (parse_days("--ca-days", v, 1, &o.ca_days) < 0)
                return EXIT_USAGE;
        } else if ((v = opt_value(argc, argv, &i, "--renew-days", &missing))) {
            if (parse_days("--renew-days", v, 0, &o.renew_days) < 0)
                return EXIT_USAGE;
        } else if (missing) {
            return cli_usage_error("certs", "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-') {
            return cli_usage_error("certs", "unknown option '%s'", argv[i]);
        } else {
            return cli_usage_error("certs", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!o.service)
        return cli_usage_error("certs", "--service is required");
    if (!o.namespace)
        return cli_usage_error("certs", "--namespace is required");
    if (!o.out_dir || !*o.out_dir)
        return cli_usage_error("certs", "--out is required");
    if (o.days && o.days <= (o.renew_days < 0 ? 30 : o.renew_days))
        fprintf(stderr, "egressguard certs: warning: --days %d is within the renewal window: "
                        "every run will renew\n", o.days);

    if (certgen_ensure(&o, &r, &e) < 0) {
        fprintf(stderr, "egressguard certs: %s\n", e.msg);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "%s/ca.crt", o.out_dir);
    bundle = certgen_ca_bundle(path, &e);
    if (!bundle) {
        fprintf(stderr, "egressguard certs: %s\n", e.msg);
        return EXIT_USAGE;
    }
    expiry[0] = '\0';
    if (gmtime_r(&r.leaf_not_after, &tm))
        strftime(expiry, sizeof(expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "egressguard certs: CA %s%s%s%s; serving certificate %s%s%s%s (expires %s)\n",
            action_text(r.ca), *r.ca_reason ? " (" : "", r.ca_reason, *r.ca_reason ? ")" : "",
            action_text(r.leaf), *r.leaf_reason ? " (" : "", r.leaf_reason,
            *r.leaf_reason ? ")" : "", expiry);
    if (r.ca != CERTGEN_KEPT)
        fprintf(stderr, "egressguard certs: the CA is new: update the webhook configurations' "
                        "caBundle (egressguard render webhooks --ca-bundle %s ...)\n",
                path);
    printf("%s\n", bundle);
    free(bundle);
    return EXIT_PASS;
}
