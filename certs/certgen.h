#ifndef EGRESSGUARD_CERTGEN_H
#define EGRESSGUARD_CERTGEN_H

/*
 * The webhook's own PKI: a CA and a serving certificate for a Kubernetes Service, both ECDSA P-256,
 * kept in a directory as ca.crt, ca.key, tls.crt and tls.key (PEM; keys mode 0600).
 *
 * certgen_ensure() is idempotent: it reuses a valid CA and its key, and issues a new serving
 * certificate only when there is none, it is unusable, it expires within the renewal window, it is
 * not signed by the CA, or its SANs differ from the ones asked for. Every file is replaced
 * atomically (temporary file in the same directory, fsync, rename), so a server reloading its
 * certificate sees either the old file or the new one, never half of one. tls.key is renamed into
 * place before tls.crt: a reader that sees the new tls.crt also sees its key.
 *
 * This module stands alone (no dependency on policy/ or server/) and keeps no global state.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The error of a failed call: the innermost cause, e.g. "ca.key: not a PEM private key". */
struct certgen_err {
    char msg[512];
};

struct certgen_opts {
    const char *service;   /* Service name, a DNS-1123 label */
    const char *namespace; /* its namespace, a DNS-1123 label */
    const char *const *dns; /* extra DNS SANs (wildcard "*." first label allowed); may be NULL */
    size_t n_dns;
    const char *const *ips; /* extra IP SANs, IPv4 or IPv6 text; may be NULL */
    size_t n_ips;
    const char *out_dir; /* created (with parents, mode 0755) when missing */
    int days;            /* serving certificate validity; 0 means 365 */
    int ca_days;         /* CA validity; 0 means 3650 */
    int renew_days;      /* renew when expiring within this many days; < 0 means 30 */
    time_t now;          /* the clock (a seam for tests); 0 means time(NULL) */
};

enum certgen_action {
    CERTGEN_KEPT,    /* the existing file was valid and is left alone */
    CERTGEN_CREATED, /* there was none */
    CERTGEN_RENEWED, /* the existing one was replaced; `reason` says why */
};

struct certgen_result {
    enum certgen_action ca, leaf;
    char ca_reason[160], leaf_reason[160]; /* "" unless RENEWED */
    time_t leaf_not_after;                 /* expiry of the serving certificate now in place */
};

/* Makes out_dir hold a valid CA and serving certificate for `o`. Returns 0, or -1 with `e` set
 * (bad option, unreadable or garbage CA files, I/O error). A CA file that exists but cannot be
 * used is an error, not silently replaced: replacing a CA changes what the cluster trusts. */
int certgen_ensure(const struct certgen_opts *o, struct certgen_result *r, struct certgen_err *e);

/* The caBundle for a webhook configuration: base64 (one line, no newline) of the PEM file at
 * `path`, which must hold at least one certificate. malloc()ed, caller frees; NULL with `e` set. */
char *certgen_ca_bundle(const char *path, struct certgen_err *e);

/* True when `name` is a DNS-1123 label (lowercase alphanumerics and '-', 1..63). */
bool certgen_valid_label(const char *name);

#endif
