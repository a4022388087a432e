/* `egressguard render TARGET`: print manifests derived from egressguard's own tables or policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certgen.h"
#include "policy/base/err.h"
#include "policy/base/suggest.h"
#include "policy/config/policy.h"
#include "policy/render/render.h"
#include "server/cmd/cli.h"
#include "server/cmd/opts.h"
#include "server/webhook/webhooks.h"
#include "server/output/yamlemit.h"

/* A target is one row: a NULL `fn` means it has not landed in this build yet. */
static int render_webhooks(int argc, char **argv);
static int render_policy(int argc, char **argv);

static const struct target {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} targets[] = {
    {"webhooks", render_webhooks, "the Validating/MutatingWebhookConfigurations, caBundle filled in"},
    {"networkpolicy", render_policy, "per-namespace NetworkPolicies: default deny + the allow-list"},
    {"cilium", render_policy, "a CiliumClusterwideNetworkPolicy over the labeled namespaces"},
    {"calico", render_policy, "a Calico GlobalNetworkPolicy over the labeled namespaces"},
    {"adminnetworkpolicy", render_policy, "an AdminNetworkPolicy + BaselineAdminNetworkPolicy"},
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: egressguard render TARGET [OPTIONS]\n"
                 "       egressguard render --target TARGET [OPTIONS]\n\nTargets:\n");
    for (size_t i = 0; i < N_TARGETS; i++)
        fprintf(out, "  %-19s %s%s\n", targets[i].name, targets[i].summary,
                targets[i].fn ? "" : " (not available in this build yet)");
    fprintf(out, "\nRun 'egressguard render TARGET --help' for a target's options.\n");
}

/* "unknown target 'cillium' (did you mean 'cilium'?)", as a usage error. */
static int unknown_target(const char *name)
{
    struct suggest near;
    const char *best;

    suggest_init(&near, name, 2);
    for (size_t i = 0; i < N_TARGETS; i++)
        suggest_add(&near, targets[i].name);
    if ((best = suggest_best(&near)))
        return cli_usage_error("render", "unknown target '%s' (did you mean '%s'?)", name, best);
    return cli_usage_error("render", "unknown target '%s'", name);
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
    if (argv[1][0] == '-' && strncmp(argv[1], "--target", 8))
        return cli_usage_error("render", "the target comes first: egressguard render TARGET "
                                         "[OPTIONS] (or --target TARGET), not '%s'",
                               argv[1]);
    /* `--target T` (anywhere) is the same as T first: move T to argv[1]. */
    for (int i = 1; i < argc; i++) {
        const char *t = NULL;
        int drop = 0;
        if (!strcmp(argv[i], "--target") && i + 1 < argc) {
            t = argv[i + 1];
            drop = 2;
        } else if (!strncmp(argv[i], "--target=", 9)) {
            t = argv[i] + 9;
            drop = 1;
        } else if (!strcmp(argv[i], "--target")) {
            return cli_usage_error("render", "--target needs a value");
        }
        if (t) {
            char **nv = malloc(sizeof(*nv) * (size_t)(argc + 1));
            int k = 2, rc;
            if (!nv) {
                fprintf(stderr, "egressguard render: out of memory\n");
                return EXIT_USAGE;
            }
            nv[0] = argv[0];
            nv[1] = (char *)t;
            for (int j = 1; j < argc; j++)
                if (j < i || j >= i + drop)
                    nv[k++] = argv[j];
            nv[k] = NULL;
            rc = cmd_render(k, nv);
            free(nv);
            return rc;
        }
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
    return unknown_target(argv[1]);
}

static const char webhooks_usage[] =
    "usage: egressguard render webhooks --ca-bundle FILE (--service NS/NAME | --url URL) [OPTIONS]\n"
    "\n"
    "Prints the ValidatingWebhookConfiguration and MutatingWebhookConfiguration that register\n"
    "egressguard (/validate and /mutate), with the caBundle filled in from FILE (a PEM CA\n"
    "certificate, e.g. the ca.crt 'egressguard certs' wrote). Pipe it to 'kubectl apply -f -'.\n"
    "Every covered namespace is intercepted except kube-system, egressguard's own and those\n"
    "egressguard's recovery depends on (the usual CNI and cert-manager namespaces, see\n"
    "--exclude-namespaces): while the webhook is down, pods there could not be recreated.\n"
    "\n"
    "Options:\n"
    "  --ca-bundle FILE        PEM CA that signed the serving certificate (required unless\n"
    "                          --inject-ca-from)\n"
    "  --service NS/NAME       call the webhook through this Service, port 443\n"
    "  --url URL               call it at URL/validate and URL/mutate (out-of-cluster servers)\n"
    "  --namespace NS          egressguard's own namespace, never intercepted (default: the\n"
    "                          Service's namespace, or egressguard)\n"
    "  --exclude-namespaces LIST\n"
    "                          comma-separated namespaces never intercepted besides kube-system\n"
    "                          and egressguard's own (default: calico-system,tigera-operator,\n"
    "                          cilium,kube-flannel,cert-manager; \"\" for none)\n"
    "  --failure-policy P      Fail (default: refuse requests when the webhook is down) or Ignore\n"
    "  --timeout N             seconds the API server waits, 1 to 30 (default 5)\n"
    "  --inject-ca-from NS/C   annotate for cert-manager's cainjector (Certificate C) instead of\n"
    "                          a caBundle\n"
    "  -o, --output FMT        yaml (a stream of two documents, default) or json (a v1 List)\n"
    "\n"
    "Exit codes: 0 printed, 2 usage or input error.\n";

static const char *const outputs[] = {"yaml", "json", NULL};

enum {
    O_CA_BUNDLE,
    O_SERVICE,
    O_URL,
    O_NAMESPACE,
    O_FAILURE_POLICY,
    O_EXCLUDE_NAMESPACES,
    O_TIMEOUT,
    O_INJECT_CA_FROM,
    O_OUTPUT,
    O_POLICY,
};

#define MAX_EXCLUDE 64

/* Splits a comma-separated list in place into `out` (empty items skipped); -1 if too many. */
static int split_list(char *list, const char **out, size_t max, size_t *n)
{
    *n = 0;
    for (char *item = strtok(list, ","); item; item = strtok(NULL, ",")) {
        if (*n >= max)
            return -1;
        out[(*n)++] = item;
    }
    return 0;
}

static int render_webhooks(int argc, char **argv)
{
    static const struct opt table[] = {
        {"ca-bundle", 0, OPT_VALUE, O_CA_BUNDLE},
        {"service", 0, OPT_VALUE, O_SERVICE},
        {"url", 0, OPT_VALUE, O_URL},
        {"namespace", 0, OPT_VALUE, O_NAMESPACE},
        {"failure-policy", 0, OPT_VALUE, O_FAILURE_POLICY},
        {"exclude-namespaces", 0, OPT_VALUE, O_EXCLUDE_NAMESPACES},
        {"timeout", 0, OPT_VALUE, O_TIMEOUT},
        {"inject-ca-from", 0, OPT_VALUE, O_INJECT_CA_FROM},
        {"output", 'o', OPT_VALUE, O_OUTPUT},
        {NULL, 0, 0, 0},
    };
    static const char *const failure_policies[] = {"Fail", "Ignore", NULL};
    struct opts p;
    const char *v;
    long long n;
    int id;
    struct webhooks_opts o = {0};
    const char *exclude[MAX_EXCLUDE];
    char exclude_list[4096];
    const char *ca_file = NULL, *service = NULL, *output = "yaml";
    struct certgen_err ce;
    struct err e = {0};
    char ns[64], *bundle = NULL;
    json_t *docs = NULL, *list;
    int rc = EXIT_USAGE;

    opts_init(&p, "render webhooks", webhooks_usage, table, argc, argv);
    while ((id = opts_next(&p, &v)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            return cli_usage_error("render webhooks", "unexpected argument '%s'", v);
        case O_CA_BUNDLE:
            ca_file = v;
            break;
        case O_SERVICE:
            service = v;
            break;
        case O_URL:
            o.url = v;
            break;
        case O_NAMESPACE:
            o.own_namespace = v;
            break;
        case O_EXCLUDE_NAMESPACES:
            if (strlen(v) >= sizeof(exclude_list) ||
                split_list(strcpy(exclude_list, v), exclude, MAX_EXCLUDE, &o.n_exclude) < 0)
                return cli_usage_error("render webhooks", "--exclude-namespaces: at most %d "
                                                          "names",
                                       MAX_EXCLUDE);
            o.exclude = exclude;
            break;
        case O_FAILURE_POLICY:
            if (opts_choice(&p, v, "failure policy", failure_policies) < 0)
                return EXIT_USAGE;
            o.failure_policy = v;
            break;
        case O_TIMEOUT:
            if (opts_number(&p, v, "seconds", 1, 30, &n) != 0)
                return EXIT_USAGE;
            o.timeout_seconds = (int)n;
            break;
        case O_INJECT_CA_FROM:
            o.inject_ca_from = v;
            break;
        case O_OUTPUT:
            if (opts_choice(&p, v, "format", outputs) < 0)
                return EXIT_USAGE;
            output = v;
            break;
        }
    }
    if (!!service == !!o.url)
        return cli_usage_error("render webhooks", "give exactly one of --service NS/NAME and --url URL");
    if (!ca_file && !o.inject_ca_from)
        return cli_usage_error("render webhooks", "--ca-bundle FILE is required");
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

static const char policy_usage[] =
    "usage: egressguard render TARGET -p POLICY [--namespace NS]... [-o yaml|json]\n"
    "  TARGET: networkpolicy, cilium, calico or adminnetworkpolicy (or --target TARGET)\n"
    "\n"
    "Prints the policies that make the CNI enforce the policy file's allow-list for AI\n"
    "namespaces: default-deny egress plus one allow rule per allow entry, the deny entries'\n"
    "ranges carved out or denied first. Every object is labeled\n"
    "app.kubernetes.io/managed-by: egressguard. Pipe it to 'kubectl apply -f -'.\n"
    "\n"
    "  networkpolicy       per namespace (--namespace, repeatable; default: the policy's\n"
    "                      aiWorkloads names that are not globs): NetworkPolicies\n"
    "                      egressguard-default-deny-egress and egressguard-allow-egress.\n"
    "                      FQDN entries cannot be expressed (noted).\n"
    "  cilium              CiliumClusterwideNetworkPolicy egressguard-ai-egress selecting the\n"
    "                      pods of namespaces carrying the enforcement label\n"
    "                      (io.cilium.k8s.namespace.labels.<key>), FQDNs via toFQDNs plus the\n"
    "                      kube-dns rule with a DNS L7 rule; sameNamespace peers as a\n"
    "                      CiliumNetworkPolicy per --namespace.\n"
    "  calico              GlobalNetworkPolicy egressguard-ai-egress (order 100, before\n"
    "                      Kubernetes policies at 1000): Deny the denied ranges, Allow the\n"
    "                      allow-list, then Deny; sameNamespace peers as a Calico\n"
    "                      NetworkPolicy per --namespace. FQDNs not expressible (noted).\n"
    "  adminnetworkpolicy  AdminNetworkPolicy egressguard-ai-egress (Deny ranges, Allow the\n"
    "                      allow-list) + BaselineAdminNetworkPolicy default (deny the rest).\n"
    "\n"
    "What a target cannot express is reported on stderr and as a '# note:' comment at the\n"
    "top of the YAML output.\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE   the EgressPolicy (required)\n"
    "  --namespace NS      an AI namespace to render namespaced policies for (repeatable)\n"
    "  -o, --output FMT    yaml (a stream, default) or json (a v1 List)\n"
    "\n"
    "Exit codes: 0 printed, 2 usage or input error.\n";

/* Literal (glob-free) names of aiWorkloads.namespaces.names: the default for networkpolicy. */
static size_t literal_ai_names(const struct policy *pol, const char **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < pol->n_ns_globs && n < max; i++)
        if (!strpbrk(pol->ns_globs[i], "*?["))
            out[n++] = pol->ns_globs[i];
    return n;
}

#define MAX_RENDER_NS 256

static int render_policy(int argc, char **argv)
{
    static const struct opt table[] = {
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"namespace", 'n', OPT_VALUE, O_NAMESPACE},
        {"output", 'o', OPT_VALUE, O_OUTPUT},
        {NULL, 0, 0, 0},
    };
    struct opts p;
    const char *val;
    int id;
    const char *target = argv[0], *policy = NULL, *output = "yaml";
    const char *ns[MAX_RENDER_NS];
    struct render_opts ro = {.namespaces = ns};
    enum render_target t;
    struct policy *pol = NULL;
    struct err e = {0};
    json_t *docs = NULL, *notes = NULL, *v;
    char cmd[64], msg[768];
    size_t i;
    int rc = EXIT_USAGE;

    snprintf(cmd, sizeof(cmd), "render %s", target);
    if (render_target_parse(target, &t) < 0)
        return cli_usage_error("render", "unknown target '%s'", target);
    opts_init(&p, cmd, policy_usage, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            return cli_usage_error(cmd, "unexpected argument '%s'", val);
        case O_POLICY:
            policy = val;
            break;
        case O_NAMESPACE:
            if (ro.n_namespaces >= MAX_RENDER_NS)
                return opts_error(&p, "at most %d namespaces", MAX_RENDER_NS);
            ns[ro.n_namespaces++] = val;
            break;
        case O_OUTPUT:
            if (opts_choice(&p, val, "format", outputs) < 0)
                return EXIT_USAGE;
            output = val;
            break;
        }
    }
    if (!policy)
        return cli_usage_error(cmd, "-p/--policy FILE is required");
    if (!(pol = policy_load(policy, &e))) {
        err_format(&e, msg, sizeof(msg));
        fprintf(stderr, "egressguard %s: invalid policy: %s\n", cmd, msg);
        return EXIT_USAGE;
    }
    cli_policy_notes(cmd, pol);
    if (t == RENDER_NETWORKPOLICY && !ro.n_namespaces)
        ro.n_namespaces = literal_ai_names(pol, ns, MAX_RENDER_NS);
    if (!(docs = render_build(pol, t, &ro, &notes, &e))) {
        fprintf(stderr, "egressguard %s: %s%s\n", cmd, e.msg,
                t == RENDER_NETWORKPOLICY && !ro.n_namespaces
                    ? " (--namespace NS; the policy names none without globs)"
                    : "");
        goto out;
    }
    json_array_foreach(notes, i, v)
        fprintf(stderr, "egressguard %s: note: %s\n", cmd, json_string_value(v));
    if (!strcmp(output, "json")) {
        json_t *list =
            json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items", docs);
        if (!list || json_dumpf(list, stdout, JSON_INDENT(2)) < 0) {
            json_decref(list);
            fprintf(stderr, "egressguard %s: cannot write JSON\n", cmd);
            goto out;
        }
        json_decref(list);
        putchar('\n');
    } else {
        json_array_foreach(notes, i, v)
            printf("# note: %s\n", json_string_value(v));
        if (yamlemit_docs(stdout, docs, &e) < 0) {
            fprintf(stderr, "egressguard %s: %s\n", cmd, e.msg);
            goto out;
        }
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "egressguard %s: cannot write the output\n", cmd);
        goto out;
    }
    rc = EXIT_PASS;
out:
    json_decref(docs);
    json_decref(notes);
    policy_free(pol);
    return rc;
}
