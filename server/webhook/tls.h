#ifndef EGRESSGUARD_TLS_H
#define EGRESSGUARD_TLS_H

/*
 * The serving certificate and key as GnuTLS objects, reference-counted so that a reload can swap
 * them while handshakes that started with the old pair finish with it. libmicrohttpd asks for
 * them through tls_creds_retrieve() (MHD_OPTION_HTTPS_CERT_CALLBACK) on every handshake.
 */

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stddef.h>

#include "policy/base/err.h"

/* TLS 1.2 and 1.3 only, AEAD ciphers, ECDHE key exchange. */
extern const char tls_priorities[];

struct tls_creds;

/*
 * Loads a PEM certificate chain (leaf first) and its private key, and checks that they belong
 * together. New reference (tls_creds_unref); NULL with e set.
 */
struct tls_creds *tls_creds_load(const char *cert_path, const char *key_path, struct err *e);
struct tls_creds *tls_creds_load_mem(const char *cert_pem, size_t cert_len, const char *key_pem,
                                     size_t key_len, struct err *e);

struct tls_creds *tls_creds_ref(struct tls_creds *c);
void tls_creds_unref(struct tls_creds *c); /* NULL is a no-op */

/* Borrowed views for gnutls_certificate_retrieve_function2; valid while the reference lives. */
void tls_creds_retrieve(struct tls_creds *c, gnutls_pcert_st **pcert, unsigned *n_pcert,
                        gnutls_privkey_t *key);

/* The leaf certificate's serial number in hex (for logs), e.g. "3f2a..."; "" if unknown. */
const char *tls_creds_serial(const struct tls_creds *c);

/* Reads a whole file (NUL-terminated, length in *len); malloc()ed. NULL with e set. */
char *tls_read_file(const char *path, size_t *len, size_t max, struct err *e);

#endif
