#include "server/webhook/tls.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#define MAX_CHAIN 8
#define MAX_PEM (1024 * 1024)

const char tls_priorities[] =
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

struct tls_creds {
    atomic_int refs;
    gnutls_pcert_st pcert[MAX_CHAIN];
    unsigned n_pcert;
    gnutls_privkey_t key;
    char serial[72];
    time_t not_before, not_after; /* of the chain: latest start, earliest end */
};

struct tls_trust {
    atomic_int refs;
    gnutls_x509_trust_list_t list; /* read-only once loaded: verified against from many threads */
    unsigned n;
};

char *tls_read_file(const char *path, size_t *len, size_t max, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        err_set(e, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - n < 4096 + 1) {
            char *p;
            cap = cap ? cap * 2 : 8192;
            if (cap > max + 4096 + 1 || !(p = realloc(data, cap))) {
                err_set(e, cap > max ? "%s is larger than %zu bytes" : "%s: out of memory", path,
                        max);
                goto fail;
            }
            data = p;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n > max) {
            err_set(e, "%s is larger than %zu bytes", path, max);
            goto fail;
        }
    }
    if (ferror(f)) {
        err_set(e, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
fail:
    fclose(f);
    free(data);
    return NULL;
}

static void creds_free(struct tls_creds *c)
{
    for (unsigned i = 0; i < c->n_pcert; i++)
        gnutls_pcert_deinit(&c->pcert[i]);
    if (c->key)
        gnutls_privkey_deinit(c->key);
    free(c);
}

/* A key that does not match the certificate would fail every handshake: refuse it up front. */
static int check_pair(struct tls_creds *c, struct err *e)
{
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
    int rc = -1;

    if (gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_privkey(pub, c->key, 0, 0) < 0 ||
        gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a) < 0 ||
        gnutls_pubkey_export2(c->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) < 0) {
        err_set(e, "cannot compare the key with the certificate");
        goto out;
    }
    if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0) {
        err_set(e, "the private key does not match the certificate");
        goto out;
    }
    rc = 0;
out:
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (pub)
        gnutls_pubkey_deinit(pub);
    return rc;
}

/*
 * GnuTLS' PEM readers scan with str* functions past the datum's size (the OpenSSL-encrypted key
 * reader, lib/x509/privkey_openssl.c, strncmp()s the "DEK-Info: " header wherever it starts), so a
 * buffer that is not NUL-terminated is read out of bounds. Every PEM handed to GnuTLS is therefore a
 * NUL-terminated copy; the size excludes the NUL. The caller wipes and frees it.
 */
static int pem_datum(gnutls_datum_t *d, const char *pem, size_t len, struct err *e)
{
    if (len >= UINT_MAX) {
        err_set(e, "the PEM data is too large (%zu bytes)", len);
        return -1;
    }
    if (!(d->data = malloc(len + 1))) {
        err_set(e, "out of memory");
        return -1;
    }
    memcpy(d->data, pem, len);
    d->data[len] = '\0';
    d->size = (unsigned)len;
    return 0;
}

static void pem_datum_wipe(gnutls_datum_t *d)
{
    if (d->data) {
        gnutls_memset(d->data, 0, d->size); /* not optimized away */
        free(d->data);
        d->data = NULL;
    }
}

struct tls_creds *tls_creds_load_mem(const char *cert_pem, size_t cert_len, const char *key_pem,
                                     size_t key_len, struct err *e)
{
    struct tls_creds *c = calloc(1, sizeof(*c));
    gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[32];
    size_t serial_len = sizeof(serial);
    int rc;

    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
    if (pem_datum(&cd, cert_pem, cert_len, e) < 0 || pem_datum(&kd, key_pem, key_len, e) < 0)
        goto fail;
    c->n_pcert = MAX_CHAIN;
    rc = gnutls_pcert_list_import_x509_raw(c->pcert, &c->n_pcert, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || c->n_pcert == 0) {
        c->n_pcert = 0;
        err_set(e, "the certificate is not valid PEM: %s", gnutls_strerror(rc));
        goto fail;
    }
    if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
        (rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        err_set(e, "the private key is not valid PEM: %s", gnutls_strerror(rc));
        goto fail;
    }
    if (check_pair(c, e) < 0)
        goto fail;
    for (unsigned i = 0; i < c->n_pcert; i++) {
        time_t from, until;

        if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
            (rc = gnutls_x509_crt_import(crt, &c->pcert[i].cert, GNUTLS_X509_FMT_DER)) < 0) {
            err_set(e, "certificate %u of the chain cannot be read: %s", i + 1,
                    gnutls_strerror(rc));
            goto fail;
        }
        from = gnutls_x509_crt_get_activation_time(crt);
        until = gnutls_x509_crt_get_expiration_time(crt);
        if (from == (time_t)-1 || until == (time_t)-1) {
            err_set(e, "certificate %u of the chain has no readable validity period", i + 1);
            goto fail;
        }
        if (i == 0 || from > c->not_before)
            c->not_before = from;
        if (i == 0 || until < c->not_after)
            c->not_after = until;
        if (i == 0 && gnutls_x509_crt_get_serial(crt, serial, &serial_len) == 0)
            for (size_t j = 0; j < serial_len && j < 32; j++)
                snprintf(c->serial + 2 * j, 3, "%02x", serial[j]);
        gnutls_x509_crt_deinit(crt);
        crt = NULL;
    }
    pem_datum_wipe(&cd);
    pem_datum_wipe(&kd);
    return c;
fail:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    pem_datum_wipe(&cd);
    pem_datum_wipe(&kd);
    creds_free(c);
    return NULL;
}

struct tls_creds *tls_creds_load(const char *cert_path, const char *key_path, struct err *e)
{
    size_t cl, kl;
    char *cert = tls_read_file(cert_path, &cl, MAX_PEM, e), *key = NULL;
    struct tls_creds *c = NULL;

    if (cert && (key = tls_read_file(key_path, &kl, MAX_PEM, e))) {
        c = tls_creds_load_mem(cert, cl, key, kl, e);
        if (!c)
            err_prefix(e, "%s, %s", cert_path, key_path);
    }
    if (key) {
        memset(key, 0, kl);
        free(key);
    }
    free(cert);
    return c;
}

struct tls_creds *tls_creds_ref(struct tls_creds *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void tls_creds_unref(struct tls_creds *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1)
        creds_free(c);
}

void tls_creds_retrieve(struct tls_creds *c, gnutls_pcert_st **pcert, unsigned *n_pcert,
                        gnutls_privkey_t *key)
{
    *pcert = c->pcert;
    *n_pcert = c->n_pcert;
    *key = c->key;
}

const char *tls_creds_serial(const struct tls_creds *c)
{
    return c->serial;
}

time_t tls_creds_not_before(const struct tls_creds *c)
{
    return c->not_before;
}

time_t tls_creds_not_after(const struct tls_creds *c)
{
    return c->not_after;
}

static void utc_text(time_t t, char *out, size_t size)
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, size, "%lld", (long long)t);
}

enum tls_validity tls_creds_check_time(const struct tls_creds *c, time_t now, struct err *e)
{
    char when[32];

    if (now > c->not_after) {
        utc_text(c->not_after, when, sizeof(when));
        err_set(e, "the certificate %s at %s (serial %s)",
                c->n_pcert > 1 ? "chain expired" : "expired", when, c->serial);
        return TLS_EXPIRED;
    }
    if (now < c->not_before) {
        utc_text(c->not_before, when, sizeof(when));
        err_set(e, "the certificate %s not valid before %s (serial %s)",
                c->n_pcert > 1 ? "chain is" : "is", when, c->serial);
        return TLS_NOT_YET_VALID;
    }
    return TLS_VALID;
}

struct tls_trust *tls_trust_load_mem(const char *pem, size_t len, struct err *e)
{
    struct tls_trust *t = calloc(1, sizeof(*t));
    gnutls_datum_t d = {NULL, 0};
    int rc;

    if (!t) {
        err_set(e, "out of memory");
        return NULL;
    }
    atomic_init(&t->refs, 1);
    if ((rc = gnutls_x509_trust_list_init(&t->list, 0)) < 0) {
        err_set(e, "cannot create a trust list: %s", gnutls_strerror(rc));
        free(t);
        return NULL;
    }
    if (pem_datum(&d, pem, len, e) < 0) {
        tls_trust_unref(t);
        return NULL;
    }
    rc = gnutls_x509_trust_list_add_trust_mem(t->list, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
    pem_datum_wipe(&d);
    if (rc <= 0) {
        err_set(e, "%s",
                rc < 0 && rc != GNUTLS_E_NO_CERTIFICATE_FOUND ? gnutls_strerror(rc)
                                                              : "no PEM CA certificate in it");
        tls_trust_unref(t);
        return NULL;
    }
    t->n = (unsigned)rc;
    return t;
}

struct tls_trust *tls_trust_load(const char *path, struct err *e)
{
    size_t len;
    char *pem = tls_read_file(path, &len, MAX_PEM, e);
    struct tls_trust *t = NULL;

    if (pem && !(t = tls_trust_load_mem(pem, len, e)))
        err_prefix(e, "%s", path);
    free(pem);
    return t;
}

struct tls_trust *tls_trust_ref(struct tls_trust *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void tls_trust_unref(struct tls_trust *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) {
        gnutls_x509_trust_list_deinit(t->list, 1);
        free(t);
    }
}

unsigned tls_trust_count(const struct tls_trust *t)
{
    return t->n;
}

static bool has_client_auth(gnutls_x509_crt_t crt)
{
    for (unsigned i = 0;; i++) {
        char oid[128];
        size_t size = sizeof(oid);
        int rc = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL);

        if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue; /* an OID this long is not clientAuth */
        if (rc < 0)
            return false;
        if (!strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT))
            return true;
    }
}

bool tls_trust_verify_peer(const struct tls_trust *t, gnutls_session_t session, char *why,
                           size_t size)
{
    gnutls_x509_crt_t crts[MAX_CHAIN] = {NULL};
    /* RFC 5280's key purpose for TLS clients, checked along the chain by GnuTLS */
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    const gnutls_datum_t *peers;
    unsigned n = 0, status = 0;
    bool ok = false;
    int rc;

    snprintf(why, size, "no client certificate");
    if (!session || gnutls_certificate_type_get(session) != GNUTLS_CRT_X509 ||
        !(peers = gnutls_certificate_get_peers(session, &n)) || n == 0)
        return false;
    if (n > MAX_CHAIN)
        n = MAX_CHAIN;
    for (unsigned i = 0; i < n; i++) {
        if ((rc = gnutls_x509_crt_init(&crts[i])) < 0 ||
            (rc = gnutls_x509_crt_import(crts[i], &peers[i], GNUTLS_X509_FMT_DER)) < 0) {
            snprintf(why, size, "the client certificate cannot be read: %s", gnutls_strerror(rc));
            goto out;
        }
    }
    rc = gnutls_x509_trust_list_verify_crt2(t->list, crts, n, &purpose, 1, 0, &status, NULL);
    if (rc < 0 || status) {
        gnutls_datum_t text = {NULL, 0};

        if (rc < 0 ||
            gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) < 0)
            snprintf(why, size, "the client certificate does not verify: %s",
                     rc < 0 ? gnutls_strerror(rc) : "untrusted");
        else
            snprintf(why, size, "the client certificate does not verify against --client-ca: %s",
                     (const char *)text.data);
        gnutls_free(text.data);
        goto out;
    }
    if (!has_client_auth(crts[0])) {
        snprintf(why, size, "the client certificate lacks extended key usage clientAuth");
        goto out;
    }
    ok = true;
    why[0] = '\0';
out:
    for (unsigned i = 0; i < n; i++)
        if (crts[i])
            gnutls_x509_crt_deinit(crts[i]);
    return ok;
}
