/*
 * libFuzzer harness for what `serve` loads from its certificate, key and --client-ca files:
 * tls_creds_load_mem() (a PEM chain and its private key, checked to belong together), the validity
 * check, and tls_trust_load_mem(). The input is the certificate file, a NUL byte and the key
 * file; without a NUL it is both (a file holding the chain and the key together). The whole input
 * is also read as a CA bundle.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/webhook/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *nul = memchr(data, '\0', size);
    size_t cert_len = nul ? (size_t)(nul - text) : size;
    const char *key = nul ? nul + 1 : text;
    size_t key_len = nul ? size - cert_len - 1 : size;
    struct err e = {0};
    struct tls_creds *c;
    struct tls_trust *t;

    c = tls_creds_load_mem(text, cert_len, key, key_len, &e);
    if (!c) {
        if (!e.msg[0])
            abort(); /* every refusal has a reason */
    } else {
        time_t from = tls_creds_not_before(c), until = tls_creds_not_after(c);
        static const time_t probes[] = {0, 1000000000, 1893456000, (time_t)1 << 40};

        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            struct err te = {0};
            enum tls_validity v = tls_creds_check_time(c, probes[i], &te);

            /* the answer follows from the window, and a refusal says why */
            if (v != (probes[i] > until  ? TLS_EXPIRED
                      : probes[i] < from ? TLS_NOT_YET_VALID
                                         : TLS_VALID))
                abort();
            if (v != TLS_VALID && !te.msg[0])
                abort();
        }
        if (!tls_creds_serial(c))
            abort();
        tls_creds_unref(c);
    }
    memset(&e, 0, sizeof(e));
    t = tls_trust_load_mem(text, size, &e);
    if (t ? tls_trust_count(t) == 0 : !e.msg[0])
        abort();
    tls_trust_unref(t);
    return 0;
}
