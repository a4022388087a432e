#ifndef EGRESSGUARD_PULUMI_H
#define EGRESSGUARD_PULUMI_H

/*
 * Pulumi's own files, read for the Kubernetes objects a Pulumi program deploys, so that `check`
 * judges them before `pulumi up`:
 *
 *   pulumi preview --json   a PreviewDigest: {"steps": [{"op", "urn", "newState": {...}}, ...]}
 *                           (pkg/display/json.go, type PreviewDigest and PreviewStep)
 *   pulumi stack export     {"version": 3, "deployment": {"resources": [{...}, ...]}}
 *                           (sdk/go/common/apitype, UntypedDeployment and DeploymentV3)
 *
 * Both hold resources in the apitype.ResourceV3 shape: "urn", "type", "custom", "inputs". A
 * Kubernetes resource of the pulumi-kubernetes provider is typed
 * "kubernetes:<group>/<version>:<Kind>" (group "core" for the core API) or
 * "kubernetes:apiextensions.k8s.io:CustomResource"; its "inputs" are the object it applies (the
 * provider's SDKs set apiVersion and kind there; when missing they come from the type).
 * Component resources (custom: false: Helm charts v4, ConfigGroup, ...) deploy nothing of their
 * own: their children are resources of the file. Other providers' resources are not Kubernetes'.
 * https://www.pulumi.com/docs/iac/cli/commands/pulumi_preview/ (-j, --json),
 * https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_export/
 *
 * Values that Pulumi does not know yet (an output of a resource the update has not created)
 * appear as sentinel strings, PULUMI_UNKNOWN for a string and one per other type
 * (sdk/go/common/resource/sig: UnknownStringValue, UnknownArrayValue, ...); secrets as "[secret]"
 * in a preview (pkg/backend/display/json.go, massagePropertyValue) and as an object carrying
 * PULUMI_SIG_KEY in an export. pulumi_is_unknown() says which values those are: an object that
 * holds one may be anything there (policy/rules/unknown.c denies it).
 */

#include <jansson.h>
#include <stdbool.h>

/* sdk/go/common/resource/sig: UnknownStringValue, and Key (the signature of special objects). */
#define PULUMI_UNKNOWN "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#define PULUMI_SIG_KEY "4dabf18193072939515e22adb298388d"

/* Is this document a `pulumi preview --json` or a `pulumi stack export` file (by its shape)? */
bool pulumi_detect(const json_t *root);

struct pulumi_sink {
    void *cls;
    /*
     * One Kubernetes object: `obj` (borrowed from the document, apiVersion and kind filled in
     * when missing) and its resource's URN (borrowed). Returns 0, or -1 to stop (out of memory).
     */
    int (*object)(void *cls, json_t *obj, const char *urn);
    /* A resource that cannot be read: `node` is where (borrowed), msg why. 0, or -1 to stop. */
    int (*problem)(void *cls, const json_t *node, const char *msg);
};

/*
 * Reports every Kubernetes resource of a document pulumi_detect() accepted to the sink, each URN
 * once (a preview lists a replaced resource in several steps), skipping resources on their way
 * out (delete steps, resources marked "delete"). May add apiVersion and kind to inputs. Returns
 * 0, or -1 when the sink stopped or memory ran out.
 */
int pulumi_read(json_t *root, const struct pulumi_sink *sink);

/* Is v a value Pulumi does not know (PULUMI_UNKNOWN and the like, a secret)? NULL is not. */
bool pulumi_is_unknown(const json_t *v);

/* Is v a secret ("[secret]" in a preview, an encrypted secret object in an export)? */
bool pulumi_is_secret(const json_t *v);

/*
 * The type token of a Pulumi URN, "urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME" → TYPE, into
 * buf; "" when the URN is not one.
 */
void pulumi_urn_type(const char *urn, char *buf, size_t size);

#endif
