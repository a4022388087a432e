#include "server/devcerts.h"

#include <stdio.h>
#include <string.h>

#include "certs/certgen.h"

int devcerts_make(const char *dir, struct devcerts *out, struct err *e)
{
    static const char *const dns[] = {"localhost"};
    static const char *const ips[] = {"127.0.0.1", "::1"};
    struct certgen_opts o = {
        .service = "egressguard",
        .namespace = "dev",
        .dns = dns,
        .n_dns = 1,
        .ips = ips,
        .n_ips = 2,
        .out_dir = dir,
        .renew_days = -1,
    };
    struct certgen_result r;
    struct certgen_err ce;

    memset(out, 0, sizeof(*out));
    if (certgen_ensure(&o, &r, &ce) < 0)
        return err_set(e, "%s", ce.msg);
    if (snprintf(out->ca_path, sizeof(out->ca_path), "%s/ca.crt", dir) >= (int)sizeof(out->ca_path) ||
        snprintf(out->cert_path, sizeof(out->cert_path), "%s/tls.crt", dir) >=
            (int)sizeof(out->cert_path) ||
        snprintf(out->key_path, sizeof(out->key_path), "%s/tls.key", dir) >=
            (int)sizeof(out->key_path))
        return err_set(e, "path too long: %s", dir);
    return 0;
}
