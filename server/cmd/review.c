/* egressguard review: one AdmissionReview in, the server's answer out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/doc/manifest.h"
#include "policy/config/policy.h"
#include "policy/verdict.h"
#include "server/webhook/admission.h"
#include "server/cmd/cli.h"
#include "policy/config/nsdb.h"
#include "policy/model/model.h"
#include "policy/model/modelctx.h"
#include "server/cmd/opts.h"
#include "server/webhook/tls.h"

extern const char embedded_example_policy[];
extern const size_t embedded_example_policy_len;

#define REVIEW_MAX_INPUT ((size_t)64 * 1024 * 1024)

static const char usage_text[] =
    "usage: egressguard review [-p FILE] [--mutate] [--now TIME] [-n NS=K=V,...]\n"
    "                          [--cluster FILE]... FILE|-\n\n"
    "Answers one AdmissionReview (admission.k8s.io/v1 or v1beta1, JSON or YAML; a bare\n"
    "AdmissionRequest is accepted too) exactly as the server's /validate would (/mutate\n"
    "with --mutate), and prints the response JSON. It knows no cluster unless given one with\n"
    "--cluster: the labels of the request's namespace are unknown unless given, and a verdict\n"
    "that depends on them is denied, as the server denies it when it cannot know them.\n\n"
    "Options:\n"
    "  -p, --policy FILE   the egress policy (default: the embedded example policy, which\n"
    "                      is then said on stderr)\n"
    "  --mutate            answer as the mutating webhook\n"
    "  --now TIME          judge exemption lifetimes at TIME (YYYY-MM-DD or an RFC 3339\n"
    "                      time) instead of the current time\n"
    "  -n, --namespace-labels NS=KEY=VALUE[,KEY=VALUE...]\n"
    "                      the labels of a namespace (repeatable)\n"
    "  --namespace-labels-unknown deny|allow\n"
    "                      as `serve`: deny (default), or judge as not an AI namespace\n"
    "  --cluster FILE      the cluster's objects (Namespaces, network policies, address sets),\n"
    "                      as the server's model holds them after listing every kind: the\n"
    "                      request is judged among them, and what they do not hold does not\n"
    "                      exist (repeatable; -n labels win over a Namespace's)\n\n"
    "Exit codes: 0 allowed, 1 denied, 2 input error.\n";

static char *read_input(const char *path, size_t *len, struct err *e)
{
    char *data = NULL;
    size_t n = 0, cap = 0;

    if (strcmp(path, "-") != 0)
        return tls_read_file(path, len, REVIEW_MAX_INPUT, e);
    for (;;) {
        if (cap - n < 65536) {
            char *p = cap > REVIEW_MAX_INPUT ? NULL : realloc(data, cap = cap ? 2 * cap : 65536 * 2);
            if (!p) {
                free(data);
                err_set(e, "standard input is too large");
                return NULL;
            }
            data = p;
        }
        size_t got = fread(data + n, 1, cap - n - 1, stdin);
        if (!got)
            break;
        n += got;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

/* YAML (gatekeeper-library's samples are YAML): read through the manifest reader. */
static json_t *from_yaml(const char *data, size_t len, const char *name, struct err *e)
{
    struct manifest *m = manifest_new();
    json_t *root = NULL;

    if (!m) {
        err_set(e, "out of memory");
        return NULL;
    }
    if (manifest_read_buffer(m, data, len, name) < 0) {
        err_set(e, "out of memory");
    } else if (manifest_n_errors(m) > 0) {
        char msg[600];
        err_format(manifest_error(m, 0), msg, sizeof(msg));
        err_set(e, "%s", msg);
    } else if (manifest_n_objects(m) != 1) {
        err_set(e, "%s: want one AdmissionReview, found %zu documents", name,
                manifest_n_objects(m));
    } else {
        root = json_incref(manifest_object(m, 0)->json);
    }
    manifest_free(m);
    return root;
}

enum { O_POLICY, O_MUTATE, O_NOW, O_NS_LABELS, O_NS_UNKNOWN, O_CLUSTER };

#define REVIEW_MAX_CLUSTER_FILES 64

/*
 * What review knows of the cluster: the namespaces given with -n and the objects of --cluster
 * files, in a model of their own (model.h), as the server's watch would hold them.
 */
struct review_ns {
    struct model_writer *w;
    bool unknown_allow;
    const char *cluster[REVIEW_MAX_CLUSTER_FILES];
    int n_cluster;
};

/* Returns OPTS_GO, or the exit code to stop with. */
static int parse_args(int argc, char **argv, const char **policy, enum admission_op *op,
                      int64_t *now, struct review_ns *ns, const char **input)
{
    static const struct opt table[] = {
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"mutate", 0, OPT_FLAG, O_MUTATE},
        {"now", 0, OPT_VALUE, O_NOW},
        {"namespace-labels", 'n', OPT_VALUE, O_NS_LABELS},
        {"namespace-labels-unknown", 0, OPT_VALUE, O_NS_UNKNOWN},
        {"cluster", 0, OPT_VALUE, O_CLUSTER},
        {NULL, 0, 0, 0},
    };
    struct opts p;
    const char *val;
    int id;

    opts_init(&p, "review", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            if (*input)
                return cli_usage_error("review", "one input only ('%s' and '%s')", *input, val);
            *input = val;
            break;
        case O_POLICY:
            *policy = val;
            break;
        case O_MUTATE:
            *op = ADMISSION_MUTATE;
            break;
        case O_NOW:
            if (cli_parse_now("review", val, now))
                return EXIT_USAGE;
            break;
        case O_NS_LABELS: {
            struct err e = {0};
            char *name;
            json_t *labels;
            struct model_item *it;
            if (nsdb_parse_spec(val, &name, &labels, &e) < 0)
                return opts_error(&p, "%s", e.msg);
            it = model_item_namespace(name, labels);
            free(name);
            json_decref(labels);
            if (!it || model_writer_put(ns->w, it) < 0)
                return opts_error(&p, "out of memory");
            break;
        }
        case O_NS_UNKNOWN:
            if (strcmp(val, "deny") && strcmp(val, "allow"))
                return opts_error(&p, "--namespace-labels-unknown wants deny or allow");
            ns->unknown_allow = !strcmp(val, "allow");
            break;
        case O_CLUSTER:
            if (ns->n_cluster == REVIEW_MAX_CLUSTER_FILES)
                return opts_error(&p, "at most %d --cluster files", REVIEW_MAX_CLUSTER_FILES);
            ns->cluster[ns->n_cluster++] = val;
            break;
        }
    }
    if (!*input)
        return cli_usage_error("review", "give an AdmissionReview file, or - for stdin");
    return OPTS_GO;
}

/*
 * Puts the objects of the --cluster files into the model, before the -n namespaces (which then
 * win), and marks every kind complete: the files are the whole cluster, as a LIST of each kind
 * would give it. 0, or -1 after saying why on stderr (file:line:col for bad input).
 */
static int load_cluster(struct review_ns *ns)
{
    struct manifest *m = manifest_new();
    const struct object **objs = NULL;
    struct err e = {0};
    char msg[1024];
    size_t i, n;
    int rc = -1;

    if (!m)
        goto oom;
    for (int k = 0; k < ns->n_cluster; k++)
        if (manifest_read(m, ns->cluster[k]) < 0)
            goto oom;
    for (i = 0; i < manifest_n_errors(m); i++) {
        err_format(manifest_error(m, i), msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
    }
    if (manifest_n_errors(m))
        goto out;
    n = manifest_n_objects(m);
    if (!(objs = calloc(n ? n : 1, sizeof(*objs))))
        goto oom;
    for (i = 0; i < n; i++)
        objs[i] = manifest_object(m, i);
    if (model_writer_put_objects(ns->w, objs, n, &e) < 0)
        goto oom;
    for (int k = 0; k < MODEL_N_KINDS; k++)
        if (model_writer_set_complete(ns->w, (enum model_kind)k) < 0)
            goto oom;
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "egressguard review: out of memory reading --cluster files\n");
out:
    free(objs);
    manifest_free(m);
    return rc;
}

int cmd_review(int argc, char **argv)
{
    const char *policy_path = NULL, *input = NULL;
    enum admission_op op = ADMISSION_VALIDATE;
    struct err e = {0}, eval = {0};
    struct policy *pol = NULL;
    struct admission a;
    struct verdict v;
    char *data = NULL, *text, msg[768];
    size_t len = 0, tlen;
    int64_t now = 0; /* 0: the current time */
    int rc = EXIT_USAGE, drc;
    struct review_ns ns = {.w = model_writer_new()};
    struct model *model = NULL;
    struct modelctx *mc = NULL;
    struct nsdb ns_view;

    if (!ns.w) {
        fprintf(stderr, "egressguard review: out of memory\n");
        return EXIT_USAGE;
    }
    if ((rc = parse_args(argc, argv, &policy_path, &op, &now, &ns, &input)) != OPTS_GO)
        goto out;
    rc = EXIT_USAGE;
    if (ns.n_cluster) {
        /* -n labels were put while parsing: the files go in first, so put them again after. */
        struct model *given = model_writer_publish(ns.w);
        struct model_item *const *items;
        size_t n_given;

        if (!given) {
            fprintf(stderr, "egressguard review: out of memory\n");
            goto out;
        }
        n_given = model_list(given, MODEL_NAMESPACE, NULL, &items);
        if (load_cluster(&ns) < 0) {
            model_unref(given);
            goto out;
        }
        for (size_t i = 0; i < n_given; i++) {
            if (model_writer_put(ns.w, model_item_ref(items[i])) < 0) {
                model_unref(given);
                fprintf(stderr, "egressguard review: out of memory\n");
                goto out;
            }
        }
        model_unref(given);
    }
    if (!(model = model_writer_publish(ns.w))) {
        fprintf(stderr, "egressguard review: out of memory\n");
        goto out;
    }
    if (ns.n_cluster && !(mc = modelctx_build(model, &e))) {
        fprintf(stderr, "egressguard review: %s\n", e.msg);
        goto out;
    }
    if (!policy_path)
        cli_note_example_policy("review");
    pol = policy_path ? policy_load(policy_path, &e)
                      : policy_load_buffer(embedded_example_policy, embedded_example_policy_len,
                                           "embedded example policy", &e);
    if (!pol) {
        err_format(&e, msg, sizeof(msg));
        fprintf(stderr, "egressguard review: %s\n", msg);
        goto out;
    }
    cli_policy_notes("review", pol);
    if (!(data = read_input(input, &len, &e))) {
        fprintf(stderr, "egressguard review: %s\n", e.msg);
        goto out;
    }
    {
        size_t skip = strspn(data, " \t\r\n");
        if (skip < len && data[skip] != '{' && data[skip] != '[') {
            json_t *root = from_yaml(data, len, input, &e);
            drc = root ? admission_decode_json(&a, root, ADMISSION_ALLOW_BARE, &e) : -1;
        } else {
            drc = admission_decode(&a, data, len, ADMISSION_ALLOW_BARE, &e);
        }
    }
    if (drc < 0) {
        fprintf(stderr, "egressguard review: %s: %s\n", input, e.msg);
        goto out;
    }
    verdict_init(&v);
    model_nsdb_view(&ns_view, model);
    a.ctx.namespaces = &ns_view;
    a.ctx.ns_unknown_reason = "egressguard review knows no cluster; give them with -n";
    if (mc && op == ADMISSION_VALIDATE) {
        /* As the server with its model (server/webhook/http.c): never from the request. */
        a.ctx.sets = mc->sets;
        a.ctx.policies = &mc->policies;
        a.ctx.context = &mc->in;
        a.ctx.namespaces = &mc->ns;
        a.ctx.ns_unknown_reason = "not in the --cluster files";
    }
    a.ctx.ns_unknown_allow = ns.unknown_allow;
    a.ctx.now = now;
    drc = admission_decide(pol, op, &a, &v, &eval);
    text = admission_encode(&a, pol, &v, drc < 0 ? &eval : NULL, &tlen);
    if (text) {
        printf("%s\n", text);
        rc = (drc == 0 && v.allowed) ? EXIT_PASS : EXIT_VIOLATIONS;
        free(text);
    } else {
        fprintf(stderr, "egressguard review: out of memory\n");
    }
    verdict_release(&v);
    admission_release(&a);
out:
    free(data);
    policy_free(pol);
    modelctx_unref(mc);
    model_unref(model);
    model_writer_free(ns.w);
    return rc;
}
