/*
 * libFuzzer harness for the manifest reader: arbitrary bytes as a YAML/JSON stream. Whatever the
 * input, reading must end with objects or positioned errors, never a crash, a leak or a hang;
 * every object it yields must then go through the decision path without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/doc/manifest.h"
#include "policy/decide.h"
#include "policy/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char POLICY[] =
    "apiVersion: egressguard.io/v1alpha1\nkind: EgressPolicy\nspec:\n"
    "  aiWorkloads:\n    namespaces:\n      names: ['*']\n"
    "  allow:\n  - name: dns\n    cidrs: [10.0.0.0/8]\n    ports: [{protocol: UDP, port: 53}]\n"
    "  deny:\n  - name: md\n    cidrs: [169.254.169.254/32]\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct manifest *m = manifest_new();
    struct err e = {0};
    struct policy *pol = policy_load_buffer(POLICY, sizeof(POLICY) - 1, "policy.yaml", &e);

    if (!m || !pol)
        abort();
    manifest_read_buffer(m, (const char *)data, size, "fuzz.yaml");
    for (size_t i = 0; i < manifest_n_errors(m); i++)
        if (!manifest_error(m, i)->msg[0])
            abort(); /* every error says what is wrong */
    for (size_t i = 0; i < manifest_n_objects(m); i++) {
        struct verdict v;
        struct err de = {0};
        verdict_init(&v);
        if (decide_object(pol, manifest_object(m, i), NULL, &v, &de) < 0 && !de.msg[0])
            abort();
        verdict_release(&v);
    }
    manifest_free(m);
    policy_free(pol);
    return 0;
}
