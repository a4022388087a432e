/*
 * egressguard explain: the effective egress of one namespace, policy by policy, and for one
 * destination the chain of rules that decides it. Offline over files, or online over the cluster
 * model LISTed once (--kubeconfig: server/kube/kubelist.h, policy/model/modelctx.h); the
 * computation (policy/eval/explain.h) is the same for both compose_inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/base/room.h"
#include "policy/cni/netset.h"
#include "policy/config/nsdb.h"
#include "policy/config/policy.h"
#include "policy/config/setdb.h"
#include "policy/doc/mstream.h"
#include "policy/eval/explain.h"
#include "policy/eval/inventory.h"
#include "policy/model/modelctx.h"
#include "server/cmd/cli.h"
#include "server/cmd/opts.h"
#include "server/kube/kubelist.h"

static const char usage_text[] =
    "usage: egressguard explain NAMESPACE -p POLICY [options] FILE...\n"
    "       egressguard explain NAMESPACE -p POLICY --kubeconfig FILE [options]\n"
    "\n"
    "Explains the effective egress of a namespace's workloads: which network policies\n"
    "select them (and whether for sure), what each one contributes, what they open\n"
    "together by each CNI's rules (Kubernetes: union; Cilium: allows minus denies;\n"
    "Calico: by order), and what of it lies outside the allow-list. FILE is what\n"
    "`check` reads (files, directories, -). Workloads in the input (Pods, Deployments,\n"
    "...) are explained one by one; without any, any pod of the namespace is.\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE            the EgressPolicy file (required)\n"
    "      --pod KEY=VALUE[,...]    explain one pod with these labels instead\n"
    "      --to DEST                the verdict for one destination and the rules that\n"
    "                               decide it: ADDRESS|NAME[:PORT[/PROTO]], e.g.\n"
    "                               10.20.1.5:443, pypi.org:443/TCP, [fd00::1]:53/UDP\n"
    "  -o, --output FORMAT          text (default) or json\n"
    "      --kubeconfig FILE        explain the cluster instead: its namespaces, policies\n"
    "                               and address sets, LISTed once through this API\n"
    "                               server as `serve` watches them\n"
    "  -n, --namespace-labels SPEC  labels of a namespace not in the input:\n"
    "                               NAMESPACE=KEY=VALUE[,KEY=VALUE...] (repeatable)\n"
    "  -h, --help                   this help\n"
    "\n"
    "Also a kubectl plugin once installed (`make install`): kubectl egressguard explain.\n"
    "Exit codes: 0 inside the allow-list (and --to allowed or unreachable), 1 something\n"
    "escapes (or --to is a violation), 2 usage or input error.\n";

struct explain_opts {
    const char *policy, *ns, *pod, *to, *kubeconfig;
    bool json;
    struct nsdb *db;
    char **files;
    int n_files;
};

enum { O_POLICY, O_OUTPUT, O_NS_LABELS, O_POD, O_TO, O_KUBECONFIG };

/* Returns OPTS_GO, or the exit code to stop with. o->files must have room for argc words. */
static int parse_args(int argc, char **argv, struct explain_opts *o)
{
    static const struct opt table[] = {
        {"policy", 'p', OPT_VALUE, O_POLICY},
        {"output", 'o', OPT_VALUE, O_OUTPUT},
        {"namespace-labels", 'n', OPT_VALUE, O_NS_LABELS},
        {"pod", 0, OPT_VALUE, O_POD},
        {"to", 0, OPT_VALUE, O_TO},
        {"kubeconfig", 0, OPT_VALUE, O_KUBECONFIG},
        {NULL, 0, 0, 0},
    };
    static const char *const outputs[] = {"text", "json", NULL};
    struct opts p;
    const char *val;
    int id;

    opts_init(&p, "explain", usage_text, table, argc, argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        struct err e = {0};

        switch (id) {
        case OPTS_STOP:
            return p.status;
        case OPTS_OPERAND:
            /* The first operand is the namespace, the others what to read. */
            if (!o->ns)
                o->ns = val;
            else
                o->files[o->n_files++] = (char *)val;
            break;
        case O_POLICY:
            o->policy = val;
            break;
        case O_OUTPUT:
            if (opts_choice(&p, val, "format", outputs) < 0)
                return EXIT_USAGE;
            o->json = !strcmp(val, "json");
            break;
        case O_NS_LABELS:
            if (nsdb_set_spec(o->db, val, &e) < 0)
                return opts_error(&p, "%s", e.msg);
            break;
        case O_POD:
            o->pod = val;
            break;
        case O_TO:
            o->to = val;
            break;
        case O_KUBECONFIG:
            o->kubeconfig = val;
            break;
        }
    }
    if (!o->policy)
        return cli_usage_error("explain", "missing -p/--policy FILE");
    if (!o->ns)
        return cli_usage_error("explain", "missing NAMESPACE");
    if (o->kubeconfig && o->n_files)
        return cli_usage_error("explain", "--kubeconfig explains the cluster: give no FILE");
    if (!o->kubeconfig && !o->n_files)
        return cli_usage_error("explain", "no manifests given (a file, a directory or -)");
    return OPTS_GO;
}

/*
 * The offline input, streamed (mstream.h): only what explaining one namespace needs is kept, so
 * that a cluster dump of 10,000 namespaces costs about its parsing. The inventory keeps the
 * namespace's policies and workloads and the cluster-scoped policies (inventory_focus); every
 * Namespace's labels (selectors of peers and of cluster-wide policies read them) and every
 * address set (a GlobalNetworkPolicy reaches NetworkSets of any namespace) are kept too, each
 * with its number in the input, since the stream may take objects back (mstream.h).
 */
struct offline {
    struct inventory inv;
    const char *ns;                /* the namespace explained */
    struct manifest_stream *s;     /* lives on: objects' file names are its copies */
    struct doc **docs; /* kept for the policies that may take part (their rules' paths) */
    size_t *doc_seq, n_docs, a_docs, a_doc_seq;
    struct learned_ns {
        size_t seq;
        char *name;
        json_t *labels; /* a copy */
    } *nss;
    size_t n_nss, a_nss;
    struct kept_set {
        size_t seq;
        struct setdb_entry entry;
    } *sets;
    size_t n_sets, a_sets;
    size_t n_errors; /* input errors printed */
    bool failed;     /* out of memory */
};

static int offline_object(void *cls, size_t seq, const struct object *obj, bool *keep)
{
    struct offline *r = cls;
    struct err e = {0};
    const char *ns;

    if (!strcmp(obj->kind, "Namespace") && !strcmp(obj->api_version, "v1") && *obj->name) {
        struct learned_ns *l;
        const json_t *labels = json_object_get(json_object_get(obj->json, "metadata"), "labels");

        if (room_for_one((void **)&r->nss, r->n_nss, &r->a_nss, sizeof(*l)) < 0)
            goto oom;
        l = &r->nss[r->n_nss];
        l->seq = seq;
        l->labels = labels ? json_deep_copy(labels) : NULL;
        if (!(l->name = strdup(obj->name)) || (labels && !l->labels)) {
            free(l->name);
            json_decref(l->labels);
            goto oom;
        }
        r->n_nss++;
        return 0;
    }
    if (netset_kind(obj, NULL)) {
        struct kept_set *k;

        if (room_for_one((void **)&r->sets, r->n_sets, &r->a_sets, sizeof(*k)) < 0)
            goto oom;
        k = &r->sets[r->n_sets];
        if (netset_entry(obj, &k->entry, &e) < 0)
            goto oom;
        k->seq = seq;
        r->n_sets++;
        return 0;
    }
    /* The policies that may take part keep their documents: explain names their rules' paths. */
    ns = inventory_object_ns(obj);
    *keep = inventory_is_policy(obj) && (!*ns || !strcmp(ns, r->ns));
    if (inventory_add(&r->inv, seq, obj, *keep, &e) < 0)
        goto oom;
    return 0;
oom:
    r->failed = true;
    return -1;
}

static int offline_adopt(void *cls, struct doc *d, size_t seq)
{
    struct offline *r = cls;

    if (room_for_one((void **)&r->docs, r->n_docs, &r->a_docs, sizeof(*r->docs)) < 0 ||
        room_for_one((void **)&r->doc_seq, r->n_docs, &r->a_doc_seq, sizeof(*r->doc_seq)) < 0) {
        doc_free(d);
        r->failed = true;
        return -1;
    }
    r->docs[r->n_docs] = d;
    r->doc_seq[r->n_docs++] = seq;
    return 0;
}

static int offline_retract(void *cls, size_t seq)
{
    struct offline *r = cls;
    size_t i, w;

    inventory_drop_from(&r->inv, seq);
    for (i = w = 0; i < r->n_nss; i++)
        if (r->nss[i].seq >= seq) {
            free(r->nss[i].name);
            json_decref(r->nss[i].labels);
        } else {
            r->nss[w++] = r->nss[i];
        }
    r->n_nss = w;
    for (i = w = 0; i < r->n_sets; i++)
        if (r->sets[i].seq >= seq)
            setdb_entry_release(&r->sets[i].entry);
        else
            r->sets[w++] = r->sets[i];
    r->n_sets = w;
    for (i = w = 0; i < r->n_docs; i++)
        if (r->doc_seq[i] >= seq) {
            doc_free(r->docs[i]);
        } else {
            r->docs[w] = r->docs[i];
            r->doc_seq[w++] = r->doc_seq[i];
        }
    r->n_docs = w;
    return 0;
}

static int offline_error(void *cls, const struct err *e)
{
    struct offline *r = cls;
    char buf[1024];

    err_format(e, buf, sizeof(buf));
    fprintf(stderr, "%s\n", buf);
    r->n_errors++;
    return 0;
}

static const struct manifest_sink offline_sink = {.object = offline_object,
                                                  .adopt = offline_adopt,
                                                  .retract = offline_retract,
                                                  .error = offline_error,
                                                  .keeps_all = false};

static void offline_release(struct offline *r)
{
    inventory_release(&r->inv);
    for (size_t i = 0; i < r->n_nss; i++) {
        free(r->nss[i].name);
        json_decref(r->nss[i].labels);
    }
    free(r->nss);
    for (size_t i = 0; i < r->n_sets; i++)
        setdb_entry_release(&r->sets[i].entry);
    free(r->sets);
    for (size_t i = 0; i < r->n_docs; i++)
        doc_free(r->docs[i]);
    free(r->docs);
    free(r->doc_seq);
    manifest_stream_free(r->s);
}

/*
 * Reads the files into r (offline_release() it in every case), focused on namespace ns: the
 * namespace labels into db (the first Namespace of a name wins; --namespace-labels, already in
 * db, win over all), the sets into *sets (a new store, taken as all there are: the input is the
 * whole cluster, as `check` takes it). 0; 1 when the input had errors (printed); -1 on OOM.
 */
static int offline_read(struct offline *r, char **files, int n_files, const char *ns,
                        struct nsdb *db, struct setdb **sets, struct err *e)
{
    int rc = 0;

    r->ns = ns;
    if (inventory_begin(&r->inv, true, e) < 0)
        return -1;
    inventory_focus(&r->inv, ns);
    if (!(r->s = manifest_stream_new(&offline_sink, r)))
        return err_set(e, "out of memory");
    for (int k = 0; k < n_files && rc == 0; k++)
        if (manifest_stream_read(r->s, files[k]) < 0 || r->failed)
            rc = err_set(e, "out of memory");
    if (rc < 0)
        return -1;
    if (r->n_errors)
        return 1;
    for (size_t i = 0; i < r->n_nss; i++)
        if (!nsdb_labels(db, r->nss[i].name) && nsdb_set(db, r->nss[i].name, r->nss[i].labels) < 0)
            return err_set(e, "out of memory");
    if (!(*sets = setdb_new()))
        return err_set(e, "out of memory");
    for (size_t i = 0; i < r->n_sets; i++)
        if (setdb_add(*sets, &r->sets[i].entry) < 0)
            return err_set(e, "out of memory");
    r->n_sets = 0; /* taken by the store */
    setdb_set_complete(*sets, true);
    return inventory_end(&r->inv, db, *sets, e);
}

/* "--pod app=web,tier=gold" → a labels object (new reference); NULL with e set. */
static json_t *pod_labels(const char *spec, struct err *e)
{
    struct nsdb *db = nsdb_new();
    char *full = malloc(strlen(spec) + 3);
    json_t *labels = NULL;

    if (!db || !full) {
        err_set(e, "out of memory");
        goto out;
    }
    /* The --namespace-labels reader takes "NAME=KEY=VALUE,...": reuse it with a dummy name. */
    sprintf(full, "x=%s", spec);
    if (nsdb_set_spec(db, full, e) < 0) {
        err_set(e, "invalid --pod \"%s\": want KEY=VALUE[,KEY=VALUE...]", spec);
        goto out;
    }
    labels = json_deep_copy(nsdb_labels(db, "x"));
    if (labels)
        json_object_del(labels, "kubernetes.io/metadata.name");
out:
    free(full);
    nsdb_free(db);
    return labels;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static void print_trace(FILE *out, const json_t *t)
{
    size_t i;
    const json_t *l;

    fprintf(out, "  to %s: reachable %s, %s the allow-list%s%s%s: %s\n", str(t, "to"),
            str(t, "reachable"),
            !strcmp(str(t, "allowList"), "inside")          ? "inside"
            : !strcmp(str(t, "allowList"), "always-denied") ? "always denied by"
                                                             : "outside",
            json_object_get(t, "allowedBy") ? " (" : "", str(t, "allowedBy"),
            json_object_get(t, "allowedBy") ? ")" : "",
            !strcmp(str(t, "verdict"), "ok") ? "ok" : "VIOLATION");
    fprintf(out, "    decided by: %s\n", str(t, "decidedBy"));
    json_array_foreach(json_object_get(t, "chain"), i, l)
        fprintf(out, "    %s %s %s (match %s): %s\n", str(l, "policy"), str(l, "path"),
                str(l, "action"), str(l, "match"), str(l, "effect"));
}

static void print_subject(FILE *out, const json_t *s)
{
    const json_t *w = json_object_get(s, "workload"), *p, *r, *x;
    size_t i, k, q;

    if (w)
        fprintf(out, "\n%s %s\n", str(w, "kind"), str(w, "name"));
    else if (json_object_get(s, "pods"))
        fprintf(out, "\npods %s\n", str(s, "pods"));
    else
        fprintf(out, "\nany pod of the namespace (the input shows none)\n");
    if (w && *str(w, "file"))
        fprintf(out, "  at %s:%lld\n", str(w, "file"),
                (long long)json_integer_value(json_object_get(w, "line")));
    if (json_is_true(json_object_get(s, "isolated")))
        fprintf(out, "  isolated for egress by %s\n", str(s, "isolatedBy"));
    else
        fprintf(out, "  NOT isolated for egress: no policy with egress default deny surely "
                     "selects it, so every destination is open\n");
    fprintf(out, "  policies (%zu):\n", json_array_size(json_object_get(s, "policies")));
    json_array_foreach(json_object_get(s, "policies"), i, p) {
        fprintf(out, "    %-5s %s%s%s\n", str(p, "applies"), str(p, "policy"),
                json_is_true(json_object_get(p, "defaultDeny")) ? ", default deny" : "",
                json_object_get(p, "order") ? ", ordered" : "");
        json_array_foreach(json_object_get(p, "rules"), k, r) {
            fprintf(out, "          %s %s %s to", str(r, "action"),
                    *str(r, "path") ? str(r, "path") : "-", str(r, "ports"));
            json_array_foreach(json_object_get(r, "to"), q, x)
                fprintf(out, "%s %s", q ? ";" : "", json_string_value(x));
            fputc('\n', out);
        }
    }
    fprintf(out, "  open together (%zu):\n", json_array_size(json_object_get(s, "open")));
    json_array_foreach(json_object_get(s, "open"), i, p)
        fprintf(out, "    %s on %s  [%s %s]\n", str(p, "to"), str(p, "ports"), str(p, "policy"),
                str(p, "path"));
    if (json_array_size(json_object_get(s, "escapes"))) {
        fprintf(out, "  outside the allow-list:\n");
        json_array_foreach(json_object_get(s, "escapes"), i, p)
            fprintf(out, "    %s %s: %s\n", str(p, "policy"), str(p, "path"), str(p, "message"));
    } else if (json_is_true(json_object_get(s, "isolated"))) {
        fprintf(out, "  everything open lies inside the allow-list\n");
    }
    if ((x = json_object_get(s, "trace")))
        print_trace(out, x);
}

static void print_text(FILE *out, const json_t *j)
{
    const json_t *s;
    size_t i, n = json_array_size(json_object_get(j, "subjects"));

    fprintf(out, "namespace %s (%s)", str(j, "namespace"),
            json_is_true(json_object_get(j, "ai")) ? "an AI namespace"
                                                   : "not an AI namespace: the allow-list "
                                                     "does not apply to it");
    if (!strcmp(str(j, "basis"), "workloads"))
        fprintf(out, ": %zu workload%s in the input\n", n, n == 1 ? "" : "s");
    else
        fputc('\n', out);
    json_array_foreach(json_object_get(j, "subjects"), i, s)
        print_subject(out, s);
}

/* 1 when something escapes (in an AI namespace) or the --to verdict is a violation. */
static int outcome(const json_t *j)
{
    const json_t *s;
    size_t i;

    if (!json_is_true(json_object_get(j, "ai")))
        return EXIT_PASS;
    json_array_foreach(json_object_get(j, "subjects"), i, s) {
        const json_t *t = json_object_get(s, "trace");

        if (t ? !strcmp(str(t, "verdict"), "violation")
              : !json_is_true(json_object_get(s, "inside")))
            return EXIT_VIOLATIONS;
    }
    return EXIT_PASS;
}

int cmd_explain(int argc, char **argv)
{
    struct explain_opts o = {0};
    struct policy *pol = NULL;
    struct offline off = {0};
    struct setdb *sets = NULL;
    struct model *snap = NULL;
    struct modelctx *mc = NULL;
    struct explain_dest dest;
    json_t *labels = NULL, *j = NULL;
    struct err e = {0};
    int rc = EXIT_USAGE, pr;

    if (!(o.db = nsdb_new()) || !(o.files = calloc((size_t)argc, sizeof(*o.files)))) {
        fprintf(stderr, "egressguard explain: out of memory\n");
        goto out;
    }
    if ((pr = parse_args(argc, argv, &o)) != OPTS_GO) {
        rc = pr;
        goto out;
    }
    if (o.to && explain_dest_parse(o.to, &dest, &e) < 0) {
        rc = cli_usage_error("explain", "--to: %s", e.msg);
        goto out;
    }
    if (o.pod && !(labels = pod_labels(o.pod, &e))) {
        rc = cli_usage_error("explain", "%s", e.msg);
        goto out;
    }
    if (!(pol = policy_load(o.policy, &e))) {
        char buf[1024];

        err_format(&e, buf, sizeof(buf));
        fprintf(stderr, "egressguard explain: invalid policy: %s\n", buf);
        goto out;
    }
    if (o.kubeconfig) {
        if (!(snap = kubelist_snapshot(o.kubeconfig, o.ns, &e)) || !(mc = modelctx_build(snap, &e))) {
            fprintf(stderr, "egressguard explain: %s\n", e.msg);
            goto out;
        }
        if (!(j = explain_namespace(pol, &mc->in, o.ns, labels, o.to ? &dest : NULL, &e)))
            goto oom;
        goto print;
    }
    switch (offline_read(&off, o.files, o.n_files, o.ns, o.db, &sets, &e)) {
    case 0:
        break;
    case 1:
        goto out; /* input errors, printed */
    default:
        goto oom;
    }
    if (!(j = explain_namespace(pol, &off.inv.in, o.ns, labels, o.to ? &dest : NULL, &e)))
        goto oom;
print:
    if (o.json) {
        if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
            goto out;
        fputc('\n', stdout);
    } else {
        print_text(stdout, j);
    }
    rc = fflush(stdout) == 0 ? outcome(j) : EXIT_USAGE;
    goto out;
oom:
    fprintf(stderr, "egressguard explain: out of memory\n");
out:
    json_decref(j);
    json_decref(labels);
    offline_release(&off);
    setdb_free(sets);
    modelctx_unref(mc);
    model_unref(snap);
    policy_free(pol);
    nsdb_free(o.db);
    free(o.files);
    return rc;
}
