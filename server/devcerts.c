#include "server/devcerts.h"

#include <string.h>

int devcerts_make(const char *dir, struct devcerts *out, struct err *e)
{
    (void)dir;
    memset(out, 0, sizeof(*out));
    return err_set(e, "--dev cannot create certificates in this build: pass --tls-cert and "
                      "--tls-key (e.g. from 'openssl req -x509 ...')");
}
