/*
 * libFuzzer harness for the kubeconfig reader (server/kube/kubeconfig.c): any bytes parse into a
 * configuration or a message, never a crash or a leak; a configuration always has an https://
 * server and some credential; an error is a sentence. File references are recorded, not read
 * (kubeconfig_parse never opens them), so the fuzzer touches no file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/kube/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kube_config c;
    struct err e = {0};

    if (size > 256 * 1024)
        return 0;
    if (kubeconfig_parse((const char *)data, size, "fuzz.kubeconfig", "/nonexistent", &c, &e) < 0) {
        if (!e.msg[0] || c.server)
            abort();
        return 0;
    }
    if (!c.server || strncmp(c.server, "https://", 8) != 0)
        abort();
    if (!c.token.data && !c.token_file && !((c.cert_pem || c.cert_file) && (c.key.data || c.key_file)))
        abort();
    /* Relative file references are resolved against the kubeconfig's directory. */
    if ((c.ca_file && c.ca_file[0] != '/') || (c.token_file && c.token_file[0] != '/'))
        abort();
    kube_config_release(&c);
    return 0;
}
