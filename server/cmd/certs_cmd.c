/* `egressguard certs`: create or renew the webhook's CA and serving certificate (certs/certgen). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certs/certgen.h"
#include "server/cmd/cli.h"
#include "server/cmd/opts.h"

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

static const char *action_text(enum certgen_action a)
{
    return a == CERTGEN_CREATED ? "created" : a == CERTGEN_RENEWED ? "renewed" : "kept";
}

enum { O_SERVICE, O_NAMESPACE, O_OUT, O_DNS, O_IP, O_DAYS, O_CA_DAYS, O_RENEW_DAYS };

/* Returns OPTS_GO, or the exit code to stop with. dns and ips have MAX_EXTRA slots each. */
static int parse_args(int argc, char **argv, struct certgen_opts *o, const char **dns,
                      const char **ips)
{
    static const struct opt table[] = {
        {"service", 0, OPT_VALUE, O_SERVICE},
        {"namespace", 0, OPT_VALUE, O_NAMESPACE},
        {"out", 0, OPT_VALUE, O_OUT},
        {"dns", 0, OPT_VALUE, O_DNS},
        {"ip", 0, OPT_VALUE, O_IP},
        {"days", 0, OPT_VALUE, O_DAYS},
        {"ca-days", 0, OPT_VALUE, O_CA_DAYS},
        {"renew-days", 0, OPT_VALUE, O_RENEW_DAYS},
        {NULL, 0, 0, 0},
    };
    struct opts p;
    const char *val;
    long long n;
    int id;

    opts_init(&p, "certs", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            return cli_usage_error("certs", "unexpected argument '%s'", val);
        case O_SERVICE:
            o->service = val;
            break;
        case O_NAMESPACE:
            o->namespace = val;
            break;
        case O_OUT:
            o->out_dir = val;
            break;
        case O_DNS:
        case O_IP:
            if ((id == O_DNS ? o->n_dns : o->n_ips) == MAX_EXTRA)
                return opts_error(&p, "at most %d", MAX_EXTRA);
            if (id == O_DNS)
                dns[o->n_dns++] = val;
            else
                ips[o->n_ips++] = val;
            break;
        case O_DAYS:
        case O_CA_DAYS:
        case O_RENEW_DAYS:
            if (opts_number(&p, val, "days", id == O_RENEW_DAYS ? 0 : 1, 36500, &n) != 0)
                return EXIT_USAGE;
            *(id == O_DAYS ? &o->days : id == O_CA_DAYS ? &o->ca_days : &o->renew_days) = (int)n;
            break;
        }
    }
    return OPTS_GO;
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
    int rc;

    o.dns = dns;
    o.ips = ips;
    if ((rc = parse_args(argc, argv, &o, dns, ips)) != OPTS_GO)
        return rc;
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
