#include "server/webhook/devcerts.h"

#include <stdio.h>
#include <string.h>

#include "certs/certgen.h"

int devcerts_make(const char *dir, struct devcerts *out, struct err *e)
{
    static const char *const dns[] = {"localhost"};
    static const char *const ips[] = {"127.0.0.1", "::1"};
    struct certgen_opts o = {0};
    struct certgen_result r;
    struct certgen_err ce = {{0}};

    memset(out, 0, sizeof(*out));
    o.service = "egressguard";
    o.namespace = "egressguard";
    o.dns = dns;
    o.n_dns = 1;
    o.ips = ips;
    o.n_ips = 2;
    o.out_dir = dir;
    o.days = 30;
    o.renew_days = 7;
    if (certgen_ensure(&o, &r, &ce) < 0)
        return err_set(e, "development certificates in %s: %s", dir, ce.msg);
    if ((size_t)snprintf(out->ca_path, sizeof(out->ca_path), "%s/ca.crt", dir) >=
            sizeof(out->ca_path) ||
        (size_t)snprintf(out->cert_path, sizeof(out->cert_path), "%s/tls.crt", dir) >=
            sizeof(out->cert_path) ||
        (size_t)snprintf(out->key_path, sizeof(out->key_path), "%s/tls.key", dir) >=
            sizeof(out->key_path))
        return err_set(e, "--dev-certs path too long");
    return 0;
}
