#include "server/webhook/tls.h"

#include <errno.h>
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

struct tls_creds *tls_creds_load_mem(const char *cert_pem, size_t cert_len, const char *key_pem,
                                     size_t key_len, struct err *e)
{
    struct tls_creds *c = calloc(1, sizeof(*c));
    gnutls_datum_t cd = {(unsigned char *)cert_pem, (unsigned)cert_len};
    gnutls_datum_t kd = {(unsigned char *)key_pem, (unsigned)key_len};
    gnutls_x509_crt_t crt = NULL;
    unsigned char serial[32];
    size_t serial_len = sizeof(serial);
    int rc;

    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    atomic_init(&c->refs, 1);
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
    if (gnutls_x509_crt_init(&crt) == 0) {
        if (gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER) == 0 &&
            gnutls_x509_crt_get_serial(crt, serial, &serial_len) == 0)
            for (size_t i = 0; i < serial_len && i < 32; i++)
                snprintf(c->serial + 2 * i, 3, "%02x", serial[i]);
        gnutls_x509_crt_deinit(crt);
    }
    return c;
fail:
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
