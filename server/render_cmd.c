/* `egressguard render TARGET`: print manifests derived from egressguard's own tables or policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certgen.h"
#include "policy/err.h"
#include "server/cli.h"
#include "server/webhooks.h"
#include "server/yamlemit.h"

/* A target is one row: a NULL `fn` means it has not landed in this build yet. */
static int render_webhooks(int argc, char **argv);

static const struct target {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} targets[] = {
    {"webhooks", render_webhooks, "the Validating/MutatingWebhookConfigurations, caBundle filled in"},
    {"networkpolicy", NULL, "Kubernetes NetworkPolicies enforcing the allow-list"},
    {"cilium", NULL, "CiliumNetworkPolicies enforcing the allow-list"},
    {"calico", NULL, "Calico NetworkPolicies enforcing the allow-list"},
    {"adminnetworkpolicy", NULL, "AdminNetworkPolicies enforcing the allow-list"},
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: egressguard render TARGET [OPTIONS]\n\nTargets:\n");
    for (size_t i = 0; i < N_TARGETS; i++)
        fprintf(out, "  %-19s %s%s\n", targets[i].name, targets[i].summary,
                targets[i].fn ? "" : " (not available in this build yet)");
    fprintf(out, "\nRun 'egressguard render TARGET --help' for a target's options.\n");
}

int cmd_render(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("render", "which target? one of: webhooks, networkpolicy, cilium, "
                                         "calico, adminnetworkpolicy");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return EXIT_PASS;
    }
    for (size_t i = 0; i < N_TARGETS; i++) {
        if (strcmp(argv[1], targets[i].name))
            continue;
        if (!targets[i].fn) {
            fprintf(stderr, "egressguard render: target '%s' is not available in this build yet\n",
                    argv[1]);
            return EXIT_USAGE;
        }
        return targets[i].fn(argc - 1, argv + 1);
    }
    return cli_usage_error("render", "unknown target '%s'", argv[1]);
}

static const char webhooks_usage[] =
    "usage: egressguard render webhooks --ca-bundle FILE (--service NS/NAME | --url URL) [OPTIONS]\n"
    "\n"
    "Prints the ValidatingWebhookConfiguration and MutatingWebhookConfiguration that register\n"
    "egressguard (/validate and /mutate), with the caBundle filled in from FILE (a PEM CA\n"
    "certificate, e.g. the ca.crt 'egressguard certs' wrote). Pipe it to 'kubectl apply -f -'.\n"
    "Every covered namespace except kube-system and egressguard's own is intercepted.\n"
    "\n"
    "Options:\n"
    "  --ca-bundle FILE        PEM CA that signed the serving certificate (required unless\n"
    "                          --inject-ca-from)\n"
    "  --service NS/NAME       call the webhook through this Service, port 443\n"
    "  --url URL               call it at URL/validate and URL/mutate (out-of-cluster servers)\n"
    "  --namespace NS          egressguard's own namespace, never intercepted (default: the\n"
    "                          Service's namespace, or egressguard)\n"
    "  --failure-policy P      Fail (default: refuse requests when the webhook is down) or Ignore\n"
    "  --timeout N             seconds the API server waits, 1 to 30 (default 5)\n"
    "  --inject-ca-from NS/C   annotate for cert-manager's cainjector (Certificate C) instead of\n"
    "                          a caBundle\n"
    "  -o, --output FMT        yaml (a stream of two documents, default) or json (a v1 List)\n"
    "\n"
    "Exit codes: 0 printed, 2 usage or input error.\n";

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

static int render_webhooks(int argc, char **argv)
{
    struct webhooks_opts o = {0};
    const char *ca_file = NULL, *service = NULL, *output = "yaml";
    struct certgen_err ce;
    struct err e = {0};
    char ns[64], *bundle = NULL;
    json_t *docs = NULL, *list;
    int rc = EXIT_USAGE;

    if (cli_wants_help(argc, argv)) {
        fputs(webhooks_usage, stdout);
        return EXIT_PASS;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;

        if ((v = opt_value(argc, argv, &i, "--ca-bundle", &missing))) {
            ca_file = v;
        } else if ((v = opt_value(argc, argv, &i, "--service", &missing))) {
            service = v;
        } else if ((v = opt_value(argc, argv, &i, "--url", &missing))) {
            o.url = v;
        } else if ((v = opt_value(argc, argv, &i, "--namespace", &missing))) {
            o.own_namespace = v;
        } else if ((v = opt_value(argc, argv, &i, "--failure-policy", &missing))) {
            o.failure_policy = v;
        } else if ((v = opt_value(argc, argv, &i, "--timeout", &missing))) {
            char *end;
            long t = strtol(v, &end, 10);
            if (!*v || *end || t < 1 || t > 30)
                return cli_usage_error("render webhooks", "--timeout: want 1 to 30 seconds, got '%s'",
                                       v);
            o.timeout_seconds = (int)t;
        } else if ((v = opt_value(argc, argv, &i, "--inject-ca-from", &missing))) {
            o.inject_ca_from = v;
        } else if ((v = opt_value(argc, argv, &i, "--output", &missing)) ||
                   (v = opt_value(argc, argv, &i, "-o", &missing))) {
            output = v;
        } else if (missing) {
            return cli_usage_error("render webhooks", "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-') {
            return cli_usage_error("render webhooks", "unknown option '%s'", argv[i]);
        } else {
            return cli_usage_error("render webhooks", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!!service == !!o.url)
        return cli_usage_error("render webhooks", "give exactly one of --service NS/NAME and --url URL");
    if (!ca_file && !o.inject_ca_from)
        return cli_usage_error("render webhooks", "--ca-bundle FILE is required");
    if (strcmp(output, "yaml") && strcmp(output, "json"))
        return cli_usage_error("render webhooks", "--output must be yaml or json, not '%s'", output);
    if (service) {
        const char *slash = strchr(service, '/');
        size_t len = slash ? (size_t)(slash - service) : 0;

        if (!slash || len == 0 || len >= sizeof(ns))
            return cli_usage_error("render webhooks", "--service must be NAMESPACE/NAME, not '%s'",
                                   service);
        memcpy(ns, service, len);
        ns[len] = '\0';
        o.service_ns = ns;
        o.service_name = slash + 1;
    }
    if (ca_file) {
        bundle = certgen_ca_bundle(ca_file, &ce);
        if (!bundle) {
            fprintf(stderr, "egressguard render webhooks: %s\n", ce.msg);
            return EXIT_USAGE;
        }
        o.ca_bundle = bundle;
    }
    docs = webhooks_build(&o, &e);
    if (!docs) {
        fprintf(stderr, "egressguard render webhooks: %s\n", e.msg);
        goto out;
    }
    if (!strcmp(output, "json")) {
        list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", docs);
        if (!list || json_dumpf(list, stdout, JSON_INDENT(2)) < 0) {
            fprintf(stderr, "egressguard render webhooks: cannot write JSON\n");
            json_decref(list);
            goto out;
        }
        json_decref(list);
        putchar('\n');
    } else if (yamlemit_docs(stdout, docs, &e) < 0) {
        fprintf(stderr, "egressguard render webhooks: %s\n", e.msg);
        goto out;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "egressguard render webhooks: cannot write the output\n");
        goto out;
    }
    rc = EXIT_PASS;
out:
    json_decref(docs);
    free(bundle);
    return rc;
}
