/*
 * What judging a network-policy change in context costs (policy/eval/context.h): a namespace with
 * 200 policies of every CNI (per-app allows, a few namespace-wide denies and default denies), and
 * three changes judged against it through decide_object() as the webhook will: a CREATE of a new
 * allow, an UPDATE of a deny, a DELETE of a deny. Prints the CPU time per judgement (best of
 * several rounds, each averaged over many judgements) against the target of 2 ms, and the same
 * objects judged alone for the ratio. Then the same three through the cluster model's context
 * (modelctx.h: what the webhook gives a request; pods are not in the model, so the composition
 * is over the whole namespace). Not a pass/fail test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/base/buf.h"
#include "policy/decide.h"
#include "policy/doc/manifest.h"
#include "policy/eval/inventory.h"
#include "policy/model/model.h"
#include "policy/model/modelctx.h"
#include "policy/verdict.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: steadier on a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n policies in ml-team: every tenth a namespace-wide deny or default deny, the rest per app. */
static void generate(struct buf *b, int n)
{
    buf_puts(b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml-team}\n");
    for (int i = 0; i < n; i++) {
        if (i % 20 == 0) {
            buf_printf(b,
                       "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
                       "  name: guard-%d\n  namespace: ml-team\nspec:\n  endpointSelector: {}\n"
                       "  egressDeny:\n  - toCIDRSet:\n    - cidr: 0.0.0.0/0\n"
                       "      except: [10.20.0.0/16, 10.30.0.0/24]\n"
                       "    - {cidr: '::/0', except: ['fd00:20::/64']}\n",
                       i);
            continue;
        }
        if (i % 20 == 10) {
            buf_printf(b,
                       "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: default-deny-%d\n  namespace: ml-team\n"
                       "spec: {podSelector: {}, policyTypes: [Egress]}\n",
                       i);
            continue;
        }
        switch (i % 3) {
        case 0:
            buf_printf(b,
                       "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: np-%d\n  namespace: ml-team\nspec:\n  podSelector:\n"
                       "    matchLabels: {app: a%d}\n  policyTypes: [Egress]\n  egress:\n"
                       "  - to:\n    - ipBlock: {cidr: 10.20.%d.0/24}\n"
                       "    - podSelector: {matchLabels: {app: a%d}}\n"
                       "    ports: [{protocol: TCP, port: 443}]\n",
                       i, i, i % 250, i + 1);
            break;
        case 1:
            buf_printf(b,
                       "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
                       "  name: cnp-%d\n  namespace: ml-team\nspec:\n  endpointSelector:\n"
                       "    matchLabels: {app: a%d}\n  egress:\n  - toFQDNs:\n"
                       "    - matchPattern: '*.s3.amazonaws.com'\n    toPorts:\n"
                       "    - ports: [{port: '443', protocol: TCP}]\n",
                       i, i);
            break;
        default:
            buf_printf(b,
                       "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n"
                       "  name: cal-%d\n  namespace: ml-team\nspec:\n  order: %d\n"
                       "  selector: app == 'a%d'\n  types: [Egress]\n  egress:\n"
                       "  - action: Allow\n    protocol: TCP\n    destination:\n"
                       "      nets: [10.30.0.0/24]\n      ports: [443]\n",
                       i, 100 + i, i);
        }
    }
}

static const char change[] =
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
    "  name: allow-https\n  namespace: ml-team\nspec:\n  endpointSelector: {}\n  egress:\n"
    "  - toEntities: [world]\n    toPorts: [{ports: [{port: '443', protocol: TCP}]}]\n";

static const char narrowed[] =
    "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n"
    "  name: guard-0\n  namespace: ml-team\nspec:\n  endpointSelector: {}\n  egressDeny:\n"
    "  - toCIDRSet:\n    - cidr: 0.0.0.0/0\n      except: [10.20.0.0/16, 10.30.0.0/24, "
    "192.0.2.0/24]\n    - {cidr: '::/0', except: ['fd00:20::/64']}\n";

/*
 * Best of `rounds` of `reps` judgements: CPU seconds per judgement; *allowed of the last. mc (may
 * be NULL) gives the context as the webhook does, else `in` as check does.
 */
static double judge(const struct policy *pol, const struct object *obj, const char *op,
                    const json_t *old, const struct compose_input *in,
                    const struct modelctx *mc, int rounds, int reps, bool *allowed)
{
    double best = 1e9;

    for (int r = 0; r < rounds; r++) {
        double t0 = now();

        for (int k = 0; k < reps; k++) {
            struct request_ctx ctx = {.operation = op, .old_object = old, .context = in};

            if (mc) {
                ctx.sets = mc->sets;
                ctx.policies = &mc->policies;
                ctx.context = &mc->in;
            }
            struct verdict v;
            struct err e = {0};

            verdict_init(&v);
            decide_object(pol, obj, &ctx, &v, &e);
            *allowed = v.allowed;
            verdict_release(&v);
        }
        double t = (now() - t0) / reps;
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    struct err e = {0};
    struct policy *pol = policy_load("examples/policy.yaml", &e);
    struct manifest *m = manifest_new(), *c = manifest_new();
    const struct object **objs;
    const struct object *guard = NULL;
    struct inventory inv;
    struct buf input;
    bool ok;
    size_t i, count;
    double t, alone;

    if (!pol || !m || !c) {
        fprintf(stderr, "bench_compose: %s (run from the repository root)\n", e.msg);
        return 1;
    }
    buf_init(&input, 0);
    generate(&input, n);
    if (input.failed || manifest_read_buffer(m, input.data, input.len, "ns.yaml") < 0 ||
        manifest_read_buffer(c, change, strlen(change), "change.yaml") < 0 ||
        manifest_read_buffer(c, narrowed, strlen(narrowed), "update.yaml") < 0)
        return 1;
    count = manifest_n_objects(m);
    if (!(objs = calloc(count, sizeof(*objs))))
        return 1;
    for (i = 0; i < count; i++) {
        objs[i] = manifest_object(m, i);
        if (!strcmp(objs[i]->name, "guard-0"))
            guard = objs[i];
    }
    if (!guard || inventory_build(&inv, objs, count, NULL, NULL, &e) < 0)
        return 1;
    printf("judging a change in context: namespace ml-team with %zu policies (CPU time per "
           "judgement, best of 5 rounds)\n",
           inv.n_policies);
    alone = judge(pol, manifest_object(c, 0), "CREATE", NULL, NULL, NULL, 5, 50, &ok);
    t = judge(pol, manifest_object(c, 0), "CREATE", NULL, &inv.in, NULL, 5, 50, &ok);
    printf("  CREATE allow to the world on TCP/443: %6.3f ms (%s; alone %.3f ms, %.1fx) "
           "target <= 2 ms\n",
           t * 1e3, ok ? "admitted: the denies take the rest" : "refused", alone * 1e3,
           t / alone);
    t = judge(pol, manifest_object(c, 1), "UPDATE", guard->json, &inv.in, NULL, 5, 50, &ok);
    printf("  UPDATE narrowing a deny             : %6.3f ms (%s) target <= 2 ms\n", t * 1e3,
           ok ? "admitted: other denies still cover it" : "refused");
    t = judge(pol, guard, "DELETE", NULL, &inv.in, NULL, 5, 50, &ok);
    printf("  DELETE of a deny                    : %6.3f ms (%s) target <= 2 ms\n", t * 1e3,
           ok ? "admitted: other denies still cover it" : "refused");

    /* The webhook's way: the same objects in a cluster model, its snapshot's context. */
    {
        struct model_writer *w = model_writer_new();
        struct model *snap = NULL;
        struct modelctx *mc = NULL;

        if (!w || model_writer_put_objects(w, objs, count, &e) < 0 ||
            !(snap = model_writer_publish(w)) || !(mc = modelctx_build(snap, &e))) {
            fprintf(stderr, "bench_compose: the model: %s\n", e.msg);
            return 1;
        }
        printf("  through the cluster model's context (the webhook's):\n");
        t = judge(pol, manifest_object(c, 0), "CREATE", NULL, NULL, mc, 5, 50, &ok);
        printf("  CREATE allow to the world on TCP/443: %6.3f ms (%s) target <= 2 ms\n", t * 1e3,
               ok ? "admitted" : "refused");
        t = judge(pol, manifest_object(c, 1), "UPDATE", guard->json, NULL, mc, 5, 50, &ok);
        printf("  UPDATE narrowing a deny             : %6.3f ms (%s) target <= 2 ms\n", t * 1e3,
               ok ? "admitted" : "refused");
        t = judge(pol, guard, "DELETE", NULL, NULL, mc, 5, 50, &ok);
        printf("  DELETE of a deny                    : %6.3f ms (%s) target <= 2 ms\n", t * 1e3,
               ok ? "admitted" : "refused");
        modelctx_unref(mc);
        model_unref(snap);
        model_writer_free(w);
    }
    inventory_release(&inv);
    free(objs);
    manifest_free(c);
    manifest_free(m);
    buf_release(&input);
    policy_free(pol);
    return 0;
}
