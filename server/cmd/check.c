/* egressguard check: the decision path over manifests on disk (dry-run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/eval/effective.h"
#include "policy/model/item.h"
#include "policy/verdict.h"
#include "server/cmd/checkdiff.h"
#include "server/cmd/checkrun.h"
#include "server/cmd/cli.h"
#include "server/cmd/opts.h"
#include "server/cmd/outfile.h"
#include "server/output/report.h"

static const char usage_text[] =
    "usage: egressguard check -p POLICY [options] PATH...\n"
    "\n"
    "Evaluates Kubernetes manifests against the egress policy, as the admission webhook\n"
    "would. PATH is a YAML or JSON file (multi-document streams and Lists included), a\n"
    "directory (read recursively: *.yaml, *.yml, *.json) or - for standard input, e.g.\n"
    "  kubectl get namespaces,networkpolicies -A -o yaml | egressguard check -p policy.yaml -\n"
    "or a Pulumi file, judged before 'pulumi up': its Kubernetes resources, named by URN\n"
    "  pulumi preview --json --show-sames >preview.json   (or: pulumi stack export)\n"
    "  egressguard check -p policy.yaml preview.json\n"
    "A value Pulumi does not know yet (an output of a resource not created) or a secret may\n"
    "be anything: where egressguard would judge it, it denies.\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE            the EgressPolicy file (required)\n"
    "  -o, --output FORMAT          text (default), json, yaml, sarif (2.1.0), junit, or\n"
    "                               policyreport (wgpolicyk8s.io/v1alpha2 PolicyReports);\n"
    "                               --format is the same\n"
    "      --output-file FILE       write the report to FILE instead of stdout (never one\n"
    "                               of the inputs or the policy file)\n"
    "  -n, --namespace-labels SPEC  labels of a namespace not in the input:\n"
    "                               NAMESPACE=KEY=VALUE[,KEY=VALUE...] (repeatable)\n"
    "      --namespace-labels-unknown deny|allow\n"
    "                               when a verdict depends on the labels of a namespace\n"
    "                               the run does not know: deny (default) or judge it as\n"
    "                               not an AI namespace (allow)\n"
    "  -e, --effective              also judge each AI namespace's effective egress: every\n"
    "                               policy selecting its AI workloads taken together\n"
    "      --diff BASE              compare with BASE (PATH is then the one HEAD): the egress\n"
    "                               each AI namespace gains and loses, on the lines that\n"
    "                               open it; gains outside the allow-list fail\n"
    "  -v, --verbose                also list objects that pass or are not evaluated\n"
    "      --now TIME               judge exemption lifetimes at TIME (YYYY-MM-DD or an\n"
    "                               RFC 3339 time) instead of the current time\n"
    "  -h, --help                   this help\n"
    "\n"
    "Namespace objects in the input tell which namespaces carry which labels; they and\n"
    "the policies form the same cluster model the server builds from the API. A verdict\n"
    "that depends on labels the run does not know fails closed (namespace.labelsUnknown).\n"
    "Exit codes: 0 nothing denied (warn and audit findings are reported, not failed),\n"
    "1 violations in enforce mode, 2 usage or input error (unreadable or malformed\n"
    "input, invalid policy file).\n";

struct check_opts {
    const char *policy;
    const char *output_file; /* NULL: stdout */
    enum report_format format;
    bool verbose;
    bool effective;
    const char *diff_base;
    int64_t now; /* 0: the current time */
    struct nsdb *ns;            /* --namespace-labels, for --diff */
    struct model_item **cli_ns; /* the same, as Namespaces of the model */
    size_t n_cli_ns;
    bool ns_unknown_allow;
    char **paths; /* the operands, in order; borrowed from argv */
    int n_paths;
};

enum {
    O_POLICY,
    O_OUTPUT,
    O_FORMAT,
    O_OUTPUT_FILE,
    O_NS_LABELS,
    O_VERBOSE,
    O_EFFECTIVE,
    O_DIFF,
    O_NOW,
    O_NS_UNKNOWN,
};

/* Returns OPTS_GO, or the exit code to stop with. o->paths must have room for argc words. */
static int parse_args(int argc, char **argv, struct check_opts *o)
{
    static const struct opt table[] = {
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"output", 'o', OPT_VALUE, O_OUTPUT},
        {"format", 'f', OPT_VALUE, O_FORMAT}, /* the name before -o; kept for scripts */
        {"output-file", 0, OPT_VALUE, O_OUTPUT_FILE},
        {"namespace-labels", 'n', OPT_VALUE, O_NS_LABELS},
        {"verbose", 'v', OPT_FLAG, O_VERBOSE},
        {"effective", 'e', OPT_FLAG, O_EFFECTIVE},
        {"diff", 0, OPT_VALUE, O_DIFF},
        {"now", 0, OPT_VALUE, O_NOW},
        {"namespace-labels-unknown", 0, OPT_VALUE, O_NS_UNKNOWN},
        {NULL, 0, 0, 0},
    };
    struct opts p;
    const char *val;
    int id;

    opts_init(&p, "check", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        struct err e = {0};

        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            o->paths[o->n_paths++] = (char *)val;
            break;
        case O_POLICY:
            o->policy = val;
            break;
        case O_OUTPUT:
        case O_FORMAT:
            if (report_format_parse(val, &o->format) == 0)
                break;
            /* -o used to take a file name: say where a file goes now. */
            if (strchr(val, '.') || strchr(val, '/'))
                return opts_error(&p, "'%s' is not a format (a report file is --output-file FILE)",
                                  val);
            opts_choice(&p, val, "format", report_formats());
            return EXIT_USAGE;
        case O_OUTPUT_FILE:
            o->output_file = val;
            break;
        case O_NS_LABELS: {
            char *ns;
            json_t *labels;
            struct model_item **grown, *it;
            if (nsdb_set_spec(o->ns, val, &e) < 0 || nsdb_parse_spec(val, &ns, &labels, &e) < 0)
                return opts_error(&p, "%s", e.msg);
            it = model_item_namespace(ns, labels);
            free(ns);
            json_decref(labels);
            grown = it ? realloc(o->cli_ns, (o->n_cli_ns + 1) * sizeof(*grown)) : NULL;
            if (!grown) {
                model_item_unref(it);
                return opts_error(&p, "out of memory");
            }
            o->cli_ns = grown;
            o->cli_ns[o->n_cli_ns++] = it;
            break;
        }
        case O_NS_UNKNOWN:
            if (strcmp(val, "allow") && strcmp(val, "deny"))
                return opts_error(&p, "--namespace-labels-unknown wants deny or allow");
            o->ns_unknown_allow = !strcmp(val, "allow");
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case O_EFFECTIVE:
            o->effective = true;
            break;
        case O_DIFF:
            o->diff_base = val;
            break;
        case O_NOW:
            if (cli_parse_now("check", val, &o->now))
                return EXIT_USAGE;
            break;
        }
    }
    if (!o->policy)
        return cli_usage_error("check", "missing -p/--policy FILE");
    if (!o->n_paths)
        return cli_usage_error("check", "no manifests given (a file, a directory or -)");
    if (o->diff_base && o->n_paths != 1)
        return cli_usage_error("check", "--diff BASE takes one HEAD path after it");
    return OPTS_GO;
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
    int rc = EXIT_USAGE, pr;

    effective_result_init(&eff);
    if (!(o.ns = nsdb_new()) || !(o.paths = calloc((size_t)argc, sizeof(*o.paths)))) {
        fprintf(stderr, "egressguard check: out of memory\n");
        goto out;
    }
    if ((pr = parse_args(argc, argv, &o)) != OPTS_GO) {
        rc = pr;
        goto out;
    }
    if (o.output_file &&
        outfile_check(o.output_file, o.policy, o.paths, (size_t)o.n_paths, &e) < 0) {
        rc = cli_usage_error("check", "%s", e.msg);
        goto out;
    }
    if (!(pol = policy_load(o.policy, &e))) {
        char buf[1024];
        err_format(&e, buf, sizeof(buf));
        fprintf(stderr, "egressguard check: invalid policy: %s\n", buf);
        goto out;
    }
    cli_policy_notes("check", pol);
    if (o.diff_base) {
        if (o.output_file && strcmp(o.output_file, "-") && !(out = fopen(o.output_file, "w"))) {
            perror(o.output_file);
            goto out;
        }
        rc = check_diff(pol, o.diff_base, o.paths[0], o.ns, o.format, o.verbose, out);
        goto out;
    }
    /* Each object is decided as it is read and released (checkrun.h). */
    if (!(run = check_run_new(pol, &(struct check_run_opts){.cli_ns = o.cli_ns,
                                                            .n_cli_ns = o.n_cli_ns,
                                                            .ns_unknown_allow = o.ns_unknown_allow,
                                                            .effective = o.effective,
                                                            .now = o.now})))
        goto oom;
    for (int i = 0; i < o.n_paths; i++)
        if (check_run_read(run, o.paths[i]) < 0)
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
            it->detail = eff.items[i].detail; /* borrowed: eff outlives the report */
            verdict_init(&eff.items[i].v);
        }
        r.items = items;
        r.n_items += eff.n;
    }

    if (o.output_file && strcmp(o.output_file, "-") && !(out = fopen(o.output_file, "w"))) {
        perror(o.output_file);
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
    for (size_t i = 0; i < o.n_cli_ns; i++)
        model_item_unref(o.cli_ns[i]);
    free(o.cli_ns);
    free(o.paths);
    return rc;
}
