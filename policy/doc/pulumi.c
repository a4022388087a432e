#include "policy/doc/pulumi.h"

#include <stdio.h>
#include <string.h>

/* The other sentinels of sdk/go/common/resource/sig, one per type of value not known yet. */
static const char *const unknowns[] = {
    PULUMI_UNKNOWN,                         /* UnknownStringValue */
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", /* UnknownBoolValue */
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", /* UnknownNumberValue */
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", /* UnknownArrayValue */
    "030794c1-ac77-496b-92df-f27374a8bd58", /* UnknownAssetValue */
    "e48ece36-62e2-4504-bad9-02848725956a", /* UnknownArchiveValue */
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", /* UnknownObjectValue */
};
#define SECRET_SIG "1b47061264138c4ac30d75fd1eb44270" /* sig.Secret */

/* Steps of resources on their way out (pkg/resource/deploy/step.go, the StepOp names). */
static const char *const leaving_ops[] = {
    "delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace",
};

bool pulumi_is_secret(const json_t *v)
{
    const char *s = json_string_value(v);

    /* A preview blinds secrets: stateForJSONOutput() → "[secret]". */
    if (s)
        return !strcmp(s, "[secret]");
    /* An export keeps them encrypted: {"4dabf...": "1b470...", "ciphertext": ...}. */
    s = json_string_value(json_object_get(v, PULUMI_SIG_KEY));
    return s && !strcmp(s, SECRET_SIG);
}

bool pulumi_is_unknown(const json_t *v)
{
    const char *s = json_string_value(v);

    for (size_t i = 0; s && i < sizeof(unknowns) / sizeof(unknowns[0]); i++)
        if (!strcmp(s, unknowns[i]))
            return true;
    return pulumi_is_secret(v);
}

static const json_t *steps_of(const json_t *root)
{
    const json_t *steps = json_object_get(root, "steps");
    return json_is_array(steps) ? steps : NULL;
}

static const json_t *resources_of(const json_t *root)
{
    const json_t *res = json_object_get(json_object_get(root, "deployment"), "resources");
    return json_is_array(res) ? res : NULL;
}

bool pulumi_detect(const json_t *root)
{
    const json_t *first;

    /* A Kubernetes object has a kind; neither of Pulumi's documents has one. */
    if (!json_is_object(root) || json_object_get(root, "kind"))
        return false;
    if (steps_of(root)) {
        first = json_array_get(steps_of(root), 0);
        return !first || (json_is_string(json_object_get(first, "op")) &&
                          json_is_string(json_object_get(first, "urn")));
    }
    if (resources_of(root) && json_is_integer(json_object_get(root, "version"))) {
        first = json_array_get(resources_of(root), 0);
        return !first || json_is_string(json_object_get(first, "urn"));
    }
    /* A preview without changes has no steps, only a summary. */
    return json_is_object(json_object_get(root, "changeSummary")) &&
           !json_object_get(root, "apiVersion");
}

void pulumi_urn_type(const char *urn, char *buf, size_t size)
{
    const char *p = urn, *end, *dollar;

    buf[0] = '\0';
    if (strncmp(p, "urn:pulumi:", 11))
        return;
    /* stack::project::type::name: the type is the third field, after its parents' ($). */
    for (int i = 0; i < 2; i++) {
        if (!(p = strstr(p, "::")))
            return;
        p += 2;
    }
    if (!(end = strstr(p, "::")))
        return;
    for (dollar = p; (dollar = memchr(dollar, '$', (size_t)(end - dollar))); p = ++dollar)
        ;
    snprintf(buf, size, "%.*s", (int)(end - p), p);
}

/*
 * "kubernetes:networking.k8s.io/v1:NetworkPolicy" → apiVersion "networking.k8s.io/v1", kind
 * "NetworkPolicy" ("core/v1" → "v1"). The group and version part has a slash; CustomResource's
 * ("apiextensions.k8s.io") has none and leaves both empty: the inputs carry them. A server-side
 * apply patch ("...:NetworkPolicyPatch") patches the kind without the suffix.
 * pulumi-kubernetes: provider/pkg/kinds, the type tokens of its schema.
 */
static int parse_type(const char *type, char *api, size_t api_size, char *kind, size_t kind_size)
{
    const char *gv, *colon, *slash;

    api[0] = kind[0] = '\0';
    if (strncmp(type, "kubernetes:", 11))
        return -1;
    gv = type + 11;
    if (!(colon = strchr(gv, ':')))
        return -1;
    snprintf(kind, kind_size, "%s", colon + 1);
    if (strlen(kind) > 5 && !strcmp(kind + strlen(kind) - 5, "Patch"))
        kind[strlen(kind) - 5] = '\0';
    slash = memchr(gv, '/', (size_t)(colon - gv));
    if (!slash)
        return 0;
    if (slash - gv == 4 && !strncmp(gv, "core", 4))
        snprintf(api, api_size, "%.*s", (int)(colon - slash - 1), slash + 1);
    else
        snprintf(api, api_size, "%.*s", (int)(colon - gv), gv);
    return 0;
}

/* Fills in inputs' apiVersion and kind from the type when they are missing. 0 or -1 (memory). */
static int fill_identity(json_t *inputs, const char *api, const char *kind)
{
    if (*api && !json_object_get(inputs, "apiVersion") &&
        json_object_set_new(inputs, "apiVersion", json_string(api)) < 0)
        return -1;
    if (*kind && !json_object_get(inputs, "kind") &&
        json_object_set_new(inputs, "kind", json_string(kind)) < 0)
        return -1;
    return 0;
}

/*
 * A resource without metadata.namespace goes to its provider's namespace when the provider has
 * one (pulumi-kubernetes, provider argument "namespace": "the default namespace to use ... ignored
 * for cluster-scoped resources"). `providers` maps provider URNs to their inputs.namespace; a
 * resource names its provider as "URN::ID". 0, or -1 when memory runs out.
 */
static int provider_namespace(json_t *res, json_t *inputs, const json_t *providers)
{
    const char *ref = json_string_value(json_object_get(res, "provider")), *cut;
    json_t *meta = json_object_get(inputs, "metadata"), *ns;
    char urn[1024];

    if (!ref || !(cut = strrchr(ref, ':')) || cut - ref < 2 || cut[-1] != ':' ||
        (size_t)(cut - 1 - ref) >= sizeof(urn))
        return 0;
    snprintf(urn, sizeof(urn), "%.*s", (int)(cut - 1 - ref), ref);
    ns = json_object_get(providers, urn);
    if (!ns || json_object_get(meta, "namespace"))
        return 0;
    if (!meta) {
        if (json_object_set_new(inputs, "metadata", json_object()) < 0)
            return -1;
        meta = json_object_get(inputs, "metadata");
    }
    return json_is_object(meta) ? json_object_set(meta, "namespace", ns) : 0;
}

/* Kubernetes providers of the file (type pulumi:providers:kubernetes) with a namespace. */
static void add_provider(json_t *providers, const json_t *res)
{
    const char *type = json_string_value(json_object_get(res, "type"));
    const char *urn = json_string_value(json_object_get(res, "urn"));
    json_t *ns = json_object_get(json_object_get(res, "inputs"), "namespace");

    if (type && urn && !strcmp(type, "pulumi:providers:kubernetes") && ns &&
        (json_is_string(ns) || pulumi_is_unknown(ns)))
        json_object_set(providers, urn, ns); /* out of memory: the resource keeps no namespace */
}

/* One resource (apitype.ResourceV3). `seen` holds the URNs already reported. */
static int one_resource(json_t *res, json_t *seen, const json_t *providers,
                        const struct pulumi_sink *sink)
{
    const char *urn = json_string_value(json_object_get(res, "urn"));
    const char *type = json_string_value(json_object_get(res, "type"));
    json_t *inputs = json_object_get(res, "inputs");
    char api[256], kind[256], msg[512];

    if (!urn || !type)
        return sink->problem(sink->cls, res, "a Pulumi resource without \"urn\" and \"type\"");
    if (json_object_get(seen, urn))
        return 0;
    if (json_object_set_new(seen, urn, json_true()) < 0)
        return -1;
    /* Components deploy nothing themselves; "delete": true marks a replaced resource's old copy. */
    if (json_is_false(json_object_get(res, "custom")) ||
        json_is_true(json_object_get(res, "delete")))
        return 0;
    if (parse_type(type, api, sizeof(api), kind, sizeof(kind)) < 0)
        return 0; /* another provider's resource, or Pulumi's own (pulumi:providers:...) */
    if (!json_is_object(inputs)) {
        snprintf(msg, sizeof(msg), "%s: %s", urn,
                 pulumi_is_unknown(inputs) ? "the resource's inputs are not known yet (may be "
                                             "anything): check again after the resources it "
                                             "depends on exist"
                                           : "the resource has no \"inputs\" object");
        return sink->problem(sink->cls, inputs ? inputs : res, msg);
    }
    /* CustomResource and Patch types: the object's own kind is in the inputs, or the type's. */
    if (fill_identity(inputs, api, kind) < 0 || provider_namespace(res, inputs, providers) < 0)
        return -1;
    return sink->object(sink->cls, inputs, urn);
}

static bool leaving(const char *op)
{
    for (size_t i = 0; i < sizeof(leaving_ops) / sizeof(leaving_ops[0]); i++)
        if (!strcmp(op, leaving_ops[i]))
            return true;
    return false;
}

int pulumi_read(json_t *root, const struct pulumi_sink *sink)
{
    json_t *seen = json_object(), *providers = json_object(), *item;
    const json_t *steps = steps_of(root), *resources = resources_of(root);
    size_t i;
    int rc = 0;

    if (!seen || !providers) {
        json_decref(seen);
        json_decref(providers);
        return -1;
    }
    json_array_foreach(steps, i, item)
        add_provider(providers, json_object_get(item, "newState"));
    json_array_foreach(resources, i, item)
        add_provider(providers, item);
    json_array_foreach(steps, i, item) {
        const char *op = json_string_value(json_object_get(item, "op"));
        json_t *state = json_object_get(item, "newState");

        if (!op) {
            rc = sink->problem(sink->cls, item, "a preview step without \"op\"");
        } else if (leaving(op) || !json_is_object(state)) {
            continue; /* deletions deploy nothing; reads and refreshes have no new state */
        } else {
            rc = one_resource(state, seen, providers, sink);
        }
        if (rc < 0)
            break;
    }
    json_array_foreach(steps ? NULL : resources, i, item) {
        if (!json_is_object(item))
            rc = sink->problem(sink->cls, item, "a resource that is not an object");
        else
            rc = one_resource(item, seen, providers, sink);
        if (rc < 0)
            break;
    }
    json_decref(seen);
    json_decref(providers);
    return rc;
}
