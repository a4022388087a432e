#ifndef EGRESSGUARD_TLS_H
#define EGRESSGUARD_TLS_H

/*
 * The serving certificate and key as GnuTLS objects, reference-counted so that a reload can swap
 * them while handshakes that started with the old pair finish with it. libmicrohttpd asks for
 * them through tls_creds_retrieve() (MHD_OPTION_HTTPS_CERT_CALLBACK) on every handshake.
 * Likewise the CAs that client certificates must chain to (struct tls_trust), which the server
 * checks itself after the handshake so that they can be reloaded too.
 */

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

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

/* When the chain is valid: the latest notBefore and the earliest notAfter of its certificates
 * (a client checks every one of them). */
time_t tls_creds_not_before(const struct tls_creds *c);
time_t tls_creds_not_after(const struct tls_creds *c);

enum tls_validity { TLS_VALID = 0, TLS_EXPIRED, TLS_NOT_YET_VALID };

/*
 * Whether the chain is valid at `now`. Anything else is returned with e saying since or until
 * when, e.g. "the certificate expired at 2024-05-01T00:00:00Z (serial 1a01)".
 */
enum tls_validity tls_creds_check_time(const struct tls_creds *c, time_t now, struct err *e);

struct tls_trust;

/* Loads PEM CA certificates (at least one). New reference (tls_trust_unref); NULL with e set. */
struct tls_trust *tls_trust_load(const char *path, struct err *e);
struct tls_trust *tls_trust_load_mem(const char *pem, size_t len, struct err *e);
struct tls_trust *tls_trust_ref(struct tls_trust *t);
void tls_trust_unref(struct tls_trust *t); /* NULL is a no-op */

/* How many CA certificates it holds. */
unsigned tls_trust_count(const struct tls_trust *t);

/*
 * Whether the TLS session's peer presented a certificate chain that verifies against `t` now,
 * with extended key usage clientAuth on the leaf (RFC 5280 4.2.1.12: a certificate without the
 * extension would be good for any purpose, which is not enough for the one caller allowed in).
 * When not, `why` (size bytes) says why.
 */
bool tls_trust_verify_peer(const struct tls_trust *t, gnutls_session_t session, char *why,
                           size_t size);

/* Reads a whole file (NUL-terminated, length in *len); malloc()ed. NULL with e set. */
char *tls_read_file(const char *path, size_t *len, size_t max, struct err *e);

#endif
