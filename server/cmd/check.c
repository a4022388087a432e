/* egressguard check: the decision path over manifests on disk (dry-run). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/eval/effective.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"
#include "server/cmd/checkrun.h"
#include "server/cmd/cli.h"
#include "server/output/report.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: egressguard check -p POLICY [options] PATH...\n"
        "\n"
        "Evaluates Kubernetes manifests against the egress policy, as the admission webhook\n"
        "would. PATH is a YAML or JSON file (multi-document streams and Lists included), a\n"
        "directory (read recursively: *.yaml, *.yml, *.json) or - for standard input, e.g.\n"
        "  kubectl get networkpolicies -A -o yaml | egressguard check -p policy.yaml -\n"
        "\n"
        "Options:\n"
        "  -p, --policy FILE            the EgressPolicy file (required)\n"
        "  -f, --format FORMAT          text (default), json, sarif (2.1.0), junit, or\n"
        "                               policyreport (wgpolicyk8s.io/v1alpha2 PolicyReports)\n"
        "  -n, --namespace-labels SPEC  labels of a namespace not in the input:\n"
        "                               NAMESPACE=KEY=VALUE[,KEY=VALUE...] (repeatable)\n"
        "  -o, --output FILE            write the report to FILE instead of stdout\n"
        "  -e, --effective              also judge each AI namespace's effective egress: every\n"
        "                               policy selecting its AI workloads taken together\n"
        "  -v, --verbose                also list objects that pass or are not evaluated\n"
        "      --now TIME               judge exemption lifetimes at TIME (YYYY-MM-DD or an\n"
        "                               RFC 3339 time) instead of the current time\n"
        "  -h, --help                   this help\n"
        "\n"
        "Namespace objects in the input tell which namespaces carry which labels.\n"
        "Exit codes: 0 nothing denied (warn and audit findings are reported, not failed),\n"
        "1 violations in enforce mode, 2 usage or input error (unreadable or malformed\n"
        "input, invalid policy file).\n");
}

struct check_opts {
    const char *policy;
    const char *output;
    enum report_format format;
    bool verbose;
    bool effective;
    int64_t now; /* 0: the current time */
    struct nsdb *ns;
};

enum { OPT_NOW = 256 }; /* long options without a letter */

static int parse_args(int argc, char **argv, struct check_opts *o, int *first_path)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"namespace-labels", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"effective", no_argument, NULL, 'e'},
        {"now", required_argument, NULL, OPT_NOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+p:f:n:o:veh", longopts, NULL)) != -1) {
        struct err e = {0};
        switch (c) {
        case 'p':
            o->policy = optarg;
            break;
        case 'f':
            if (report_format_parse(optarg, &o->format) < 0)
                return cli_usage_error("check",
                                       "unknown format '%s' (text, json, sarif, junit, "
                                       "policyreport)",
                                       optarg);
            break;
        case 'n':
            if (nsdb_set_spec(o->ns, optarg, &e) < 0)
                return cli_usage_error("check", "%s", e.msg);
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'e':
            o->effective = true;
            break;
        case OPT_NOW:
            if (cli_parse_now("check", optarg, &o->now))
                return EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            return cli_usage_error("check", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!o->policy)
        return cli_usage_error("check", "missing -p/--policy FILE");
    if (optind >= argc)
        return cli_usage_error("check", "no manifests given (a file, a directory or -)");
    *first_path = optind;
    return 0;
}

int cmd_check(int argc, char **argv)
{
    struct check_opts o = {.format = REPORT_TEXT};
    struct policy *pol = NULL;
    struct check_run *run = NULL;
    struct report r = {0};
    struct report_item *items = NULL;
    struct effective_result eff;
    struct object *eff_objs = NULL;
    json_t *eff_json = NULL;
    struct report_counts counts;
    struct err e = {0};
    FILE *out = stdout;
    int first = 0, rc = EXIT_USAGE, pr;

    effective_result_init(&eff);
    if (!(o.ns = nsdb_new())) {
        fprintf(stderr, "egressguard check: out of memory\n");
        return EXIT_USAGE;
    }
    pr = parse_args(argc, argv, &o, &first);
    if (pr != 0) {
        nsdb_free(o.ns);
        return pr < 0 ? EXIT_PASS : pr;
    }
    if (!(pol = policy_load(o.policy, &e))) {
        char buf[1024];
        err_format(&e, buf, sizeof(buf));
        fprintf(stderr, "egressguard check: invalid policy: %s\n", buf);
        goto out;
    }
    /* Each object is decided as it is read and released (checkrun.h). */
    if (!(run = check_run_new(pol, o.ns, o.effective, o.now)))
        goto oom;
    for (int i = first; i < argc; i++)
        if (check_run_read(run, argv[i]) < 0)
            goto oom;
    if (check_run_finish(run, &eff, &e) < 0)
        goto oom;
    check_run_report(run, &r);
    r.pol = pol;
    r.verbose = o.verbose;
    r.now = o.now ? o.now : (int64_t)time(NULL);

    if (eff.n) {
        /* One more report item per AI namespace, named after it (kind EffectiveEgress). */
        if (!(eff_json = json_object()) || !(eff_objs = calloc(eff.n, sizeof(*eff_objs))) ||
            !(items = calloc(r.n_items + eff.n, sizeof(*items))))
            goto oom;
        if (r.n_items)
            memcpy(items, r.items, r.n_items * sizeof(*items));
        for (size_t i = 0; i < eff.n; i++) {
            struct report_item *it = &items[r.n_items + i];

            eff_objs[i] = (struct object){.json = eff_json,
                                          .file = "effective egress",
                                          .api_version = "",
                                          .kind = "EffectiveEgress",
                                          .ns = "",
                                          .name = eff.items[i].ns};
            it->obj = &eff_objs[i];
            it->v = eff.items[i].v; /* moved: released with items below */
            verdict_init(&eff.items[i].v);
        }
        r.items = items;
        r.n_items += eff.n;
    }

    if (o.output && !(out = fopen(o.output, "w"))) {
        perror(o.output);
        goto out;
    }
    if (report_write(out, o.format, &r) < 0) {
        fprintf(stderr, "egressguard check: cannot write the report\n");
        goto out;
    }
    report_count(&r, &counts);
    rc = counts.errors ? EXIT_USAGE : counts.denied ? EXIT_VIOLATIONS : EXIT_PASS;
    goto out;
oom:
    fprintf(stderr, "egressguard check: out of memory\n");
out:
    if (out && out != stdout && fclose(out) != 0 && rc != EXIT_USAGE)
        rc = EXIT_USAGE;
    /* The run releases its own items; the effective ones were moved into `items`. */
    for (size_t i = 0; items && i < eff.n; i++)
        verdict_release(&items[r.n_items - eff.n + i].v);
    free(items);
    free(eff_objs);
    json_decref(eff_json);
    effective_result_release(&eff);
    check_run_free(run);
    policy_free(pol);
    nsdb_free(o.ns);
    return rc;
}
