/* `egressguard mutate`: the mutating webhook's Namespace patch, offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/mutate/jsonpatch.h"
#include "policy/doc/manifest.h"
#include "policy/mutate/mutate.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"
#include "server/cmd/cli.h"
#include "server/cmd/opts.h"
#include "server/output/yamlemit.h"

extern const char embedded_example_policy[];
extern const size_t embedded_example_policy_len;

static const char usage_text[] =
    "usage: egressguard mutate [-p POLICY] [--patch-only] [-o yaml|json] FILE|-\n"
    "\n"
    "Computes, for every Namespace in FILE (YAML or JSON, multi-document, Lists; - for stdin),\n"
    "the JSON Patch (RFC 6902) the mutating webhook (POST /mutate) returns for its CREATE:\n"
    "an AI namespace (per the policy's aiWorkloads) gets the policy's mutation labels (the\n"
    "enforcement label) and the annotations egressguard.io/profile, egressguard.io/policy-hash\n"
    "and egressguard.io/managed-by. The patch is idempotent: mutating the patched object\n"
    "again gives an empty patch []. Other kinds are skipped (noted on stderr).\n"
    "\n"
    "Output (stdout):\n"
    "  -o yaml (default)  per Namespace, a YAML document: a comment line\n"
    "                     '# egressguard patch: [...]' (the patch as compact JSON, [] when none)\n"
    "                     followed by the patched object; documents separated by ---\n"
    "  -o json            one JSON object per line: {\"name\": NS, \"patch\": [...],\n"
    "                     \"object\": {patched object}}\n"
    "  --patch-only       only the patch, one compact JSON array per Namespace and line\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE  the EgressPolicy (default: the embedded example policy, which is\n"
    "                     then said on stderr)\n"
    "\n"
    "Exit codes: 0 printed (patched or not), 2 usage or input error (unreadable or malformed\n"
    "input, invalid policy, a Namespace that cannot be patched).\n";

struct mutate_opts {
    const char *policy;
    const char *output;
    const char *input;
    bool patch_only;
};

enum { O_POLICY, O_OUTPUT, O_PATCH_ONLY };

/* Returns OPTS_GO, or the exit code to stop with. */
static int parse_args(int argc, char **argv, struct mutate_opts *o)
{
    static const struct opt table[] = {
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"output", 'o', OPT_VALUE, O_OUTPUT},
        {"patch-only", 0, OPT_FLAG, O_PATCH_ONLY},
        {NULL, 0, 0, 0},
    };
    static const char *const outputs[] = {"yaml", "json", NULL};
    struct opts p;
    const char *val;
    int id;

    o->output = "yaml";
    opts_init(&p, "mutate", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            if (o->input)
                return cli_usage_error("mutate", "one input at a time, not '%s' too", val);
            o->input = val;
            break;
        case O_POLICY:
            o->policy = val;
            break;
        case O_OUTPUT:
            if (opts_choice(&p, val, "format", outputs) < 0)
                return EXIT_USAGE;
            o->output = val;
            break;
        case O_PATCH_ONLY:
            o->patch_only = true;
            break;
        }
    }
    if (!o->input)
        return cli_usage_error("mutate", "no input given (a file or -)");
    return OPTS_GO;
}

/* Prints one Namespace's result. 0, or -1 when writing fails. */
static int print_one(const struct mutate_opts *o, const struct object *obj, const json_t *patch,
                     const json_t *patched, struct err *e)
{
    char *text = json_dumps(patch, JSON_COMPACT);
    int rc = -1;

    if (!text)
        return err_set(e, "out of memory");
    if (o->patch_only) {
        rc = printf("%s\n", text) < 0 ? -1 : 0;
    } else if (!strcmp(o->output, "json")) {
        json_t *line = json_pack("{s:s, s:O, s:O}", "name", obj->name, "patch", patch, "object",
                                 patched);
        rc = line && json_dumpf(line, stdout, JSON_COMPACT) == 0 && putchar('\n') != EOF ? 0 : -1;
        json_decref(line);
    } else {
        json_t *one = json_pack("[O]", patched);
        rc = one && printf("# egressguard patch: %s\n", text) >= 0 &&
                     yamlemit_docs(stdout, one, e) == 0
                 ? 0
                 : -1;
        json_decref(one);
    }
    free(text);
    if (rc < 0 && !e->msg[0])
        err_set(e, "cannot write the output");
    return rc;
}

int cmd_mutate(int argc, char **argv)
{
    struct mutate_opts o = {0};
    struct policy *pol = NULL;
    struct manifest *m = NULL;
    struct err e = {0};
    char msg[768];
    int rc = EXIT_USAGE, r;

    if ((r = parse_args(argc, argv, &o)) != OPTS_GO)
        return r;
    if (!o.policy)
        cli_note_example_policy("mutate");
    pol = o.policy ? policy_load(o.policy, &e)
                   : policy_load_buffer(embedded_example_policy, embedded_example_policy_len,
                                        "embedded example policy", &e);
    if (!pol) {
        err_format(&e, msg, sizeof(msg));
        fprintf(stderr, "egressguard mutate: invalid policy: %s\n", msg);
        return EXIT_USAGE;
    }
    cli_policy_notes("mutate", pol);
    if (!(m = manifest_new()) || manifest_read(m, o.input) < 0) {
        fprintf(stderr, "egressguard mutate: out of memory\n");
        goto out;
    }
    rc = EXIT_PASS;
    for (size_t i = 0; i < manifest_n_errors(m); i++) {
        err_format(manifest_error(m, i), msg, sizeof(msg));
        fprintf(stderr, "egressguard mutate: %s\n", msg);
        rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < manifest_n_objects(m); i++) {
        const struct object *obj = manifest_object(m, i);
        struct request_ctx ctx = {.operation = "CREATE"};
        struct verdict v;
        json_t *empty = NULL, *patched = NULL;
        const json_t *patch;

        if (strcmp(obj->kind, "Namespace") || strcmp(obj->api_version, "v1")) {
            fprintf(stderr, "egressguard mutate: %s:%d: %s %s skipped: only v1 Namespaces are "
                            "mutated\n",
                    obj->file, obj->line, *obj->kind ? obj->kind : "(no kind)", obj->name);
            continue;
        }
        verdict_init(&v);
        memset(&e, 0, sizeof(e));
        if (mutate_decide(pol, obj, &ctx, &v, &e) < 0) {
            err_format(&e, msg, sizeof(msg));
            fprintf(stderr, "egressguard mutate: %s\n", msg);
            rc = EXIT_USAGE;
            verdict_release(&v);
            continue;
        }
        patch = v.patch ? v.patch : (empty = json_array());
        if (!patch || !(patched = jsonpatch_apply(obj->json, patch, &e)) ||
            print_one(&o, obj, patch, patched, &e) < 0) {
            fprintf(stderr, "egressguard mutate: %s: %s\n", obj->name,
                    e.msg[0] ? e.msg : "out of memory");
            rc = EXIT_USAGE;
        }
        json_decref(patched);
        json_decref(empty);
        verdict_release(&v);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "egressguard mutate: cannot write the output\n");
        rc = EXIT_USAGE;
    }
out:
    manifest_free(m);
    policy_free(pol);
    return rc;
}
