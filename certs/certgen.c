#include "certs/certgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400
#define MAX_SANS 128
#define PATH_SIZE 4096

/* The SANs asked for, as canonical strings ("DNS:name", "IP:addr"): what a certificate holds is
 * compared with this set, whatever its order or duplicates. */
struct sans {
    char *v[MAX_SANS];
    size_t n;
};

static int fail(struct certgen_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct certgen_err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends OpenSSL's reason for the last failure (if it gave one) and clears its error queue. */
static int fail_ssl(struct certgen_err *e, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "";

    if (code)
        ERR_error_string_n(code, reason, sizeof(reason));
    ERR_clear_error();
    return fail(e, "%s%s%s", what, *reason ? ": " : "", reason);
}

static int join(char *out, const char *dir, const char *name, struct certgen_err *e)
{
    int n = snprintf(out, PATH_SIZE, "%s/%s", dir, name);

    if (n < 0 || n >= PATH_SIZE)
        return fail(e, "path too long: %s/%s", dir, name);
    return 0;
}

bool certgen_valid_label(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 63 || name[0] == '-' || name[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return false;
    return true;
}

/* A DNS name of labels; the first label may be "*" (a wildcard). */
static bool valid_dns(const char *name)
{
    char label[64];
    const char *p = name;

    if (strlen(name) > 253)
        return false;
    if (!strncmp(p, "*.", 2))
        p += 2;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);

        if (len == 0 || len >= sizeof(label))
            return false;
        memcpy(label, p, len);
        label[len] = '\0';
        if (!certgen_valid_label(label))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

static void sans_release(struct sans *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    s->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds "prefix:value", lowercased; duplicates are dropped later by sans_sort(). */
static int sans_add(struct sans *s, const char *prefix, const char *value, struct certgen_err *e)
{
    size_t len = strlen(prefix) + strlen(value) + 1;
    char *v;

    if (s->n == MAX_SANS)
        return fail(e, "too many subject alternative names (at most %d)", MAX_SANS);
    v = malloc(len + 1);
    if (!v)
        return fail(e, "out of memory");
    snprintf(v, len + 1, "%s:%s", prefix, value);
    for (char *c = v + strlen(prefix) + 1; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    s->v[s->n++] = v;
    return 0;
}

static void sans_sort(struct sans *s)
{
    size_t w = 0;

    qsort(s->v, s->n, sizeof(s->v[0]), cmp_str);
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && !strcmp(s->v[w - 1], s->v[i])) {
            free(s->v[i]);
            continue;
        }
        s->v[w++] = s->v[i];
    }
    s->n = w;
}

/* Canonical text of an IP address given as text or as 4/16 raw bytes; -1 if it is none. */
static int ip_canonical(const unsigned char *raw, size_t len, char *out, size_t size)
{
    if (len == 4)
        return inet_ntop(AF_INET, raw, out, (socklen_t)size) ? 0 : -1;
    if (len == 16)
        return inet_ntop(AF_INET6, raw, out, (socklen_t)size) ? 0 : -1;
    return -1;
}

static int wanted_sans(const struct certgen_opts *o, struct sans *s, struct certgen_err *e)
{
    const char *svc = o->service, *ns = o->namespace;
    char name[300];

    if (sans_add(s, "DNS", svc, e) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.%s", svc, ns);
    if (sans_add(s, "DNS", name, e) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.%s.svc", svc, ns);
    if (sans_add(s, "DNS", name, e) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.%s.svc.cluster.local", svc, ns);
    if (sans_add(s, "DNS", name, e) < 0)
        return -1;
    for (size_t i = 0; i < o->n_dns; i++) {
        char lower[256];
        size_t len = strlen(o->dns[i]);

        if (len >= sizeof(lower))
            return fail(e, "invalid DNS name \"%.60s...\": too long", o->dns[i]);
        for (size_t j = 0; j <= len; j++) {
            char c = o->dns[i][j];
            lower[j] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        if (!valid_dns(lower))
            return fail(e, "invalid DNS name \"%s\"", o->dns[i]);
        if (sans_add(s, "DNS", lower, e) < 0)
            return -1;
    }
    for (size_t i = 0; i < o->n_ips; i++) {
        unsigned char raw[16];
        char text[INET6_ADDRSTRLEN];
        size_t len = strchr(o->ips[i], ':') ? 16 : 4;

        if (inet_pton(len == 16 ? AF_INET6 : AF_INET, o->ips[i], raw) != 1 ||
            ip_canonical(raw, len, text, sizeof(text)) < 0)
            return fail(e, "invalid IP address \"%s\"", o->ips[i]);
        if (sans_add(s, "IP", text, e) < 0)
            return -1;
    }
    sans_sort(s);
    return 0;
}

/* The SANs a certificate holds; -1 (with `e` naming the odd entry) if any is not DNS or IP. */
static int cert_sans(X509 *x, struct sans *s, struct certgen_err *e)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int rc = 0;

    if (!gens)
        return fail(e, "it has no subject alternative names");
    for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc == 0; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char text[INET6_ADDRSTRLEN];

        if (g->type == GEN_DNS) {
            char *dns = strndup((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                (size_t)ASN1_STRING_length(g->d.dNSName));
            if (!dns)
                rc = fail(e, "out of memory");
            else
                rc = sans_add(s, "DNS", dns, e);
            free(dns);
        } else if (g->type == GEN_IPADD &&
                   ip_canonical(ASN1_STRING_get0_data(g->d.iPAddress),
                                (size_t)ASN1_STRING_length(g->d.iPAddress), text,
                                sizeof(text)) == 0) {
            rc = sans_add(s, "IP", text, e);
        } else {
            rc = fail(e, "it has a subject alternative name that is neither DNS nor IP");
        }
    }
    GENERAL_NAMES_free(gens);
    if (rc == 0)
        sans_sort(s);
    return rc;
}

static bool sans_equal(const struct sans *a, const struct sans *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]))
            return false;
    return true;
}

static int mkdirs(const char *dir, struct certgen_err *e)
{
    char path[PATH_SIZE];
    struct stat st;
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path))
        return fail(e, "invalid output directory \"%s\"", dir);
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return fail(e, "cannot create directory %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return fail(e, "cannot create directory %s: %s", path, strerror(errno));
    if (stat(path, &st) < 0)
        return fail(e, "cannot create directory %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(e, "cannot create directory %s: %s", path, strerror(ENOTDIR));
    return 0;
}

/* Replaces dir/name with `data` atomically: a reader opens either the old file or the new one. */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len,
                        mode_t mode, struct certgen_err *e)
{
    char path[PATH_SIZE], tmp[PATH_SIZE];
    size_t done = 0;
    int fd, dfd;

    if (join(path, dir, name, e) < 0)
        return -1;
    if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
        return fail(e, "path too long: %s", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return fail(e, "cannot write %s: %s", path, strerror(errno));
    if (fchmod(fd, mode) < 0)
        goto fail_fd;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail_fd;
        done += (size_t)n;
    }
    if (fsync(fd) < 0)
        goto fail_fd;
    if (close(fd) < 0) {
        fd = -1;
        goto fail_fd;
    }
    if (rename(tmp, path) < 0) {
        fd = -1;
        goto fail_fd;
    }
    /* Make the rename itself durable; a failure here loses nothing already visible. */
    dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;

fail_fd: {
    int saved = errno;

    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return fail(e, "cannot write %s: %s", path, strerror(saved));
}
}

/* Opens dir/name for reading. NULL with *absent set when it does not exist, NULL with `e` set
 * when it cannot be opened. */
static FILE *open_existing(const char *dir, const char *name, bool *absent, struct certgen_err *e)
{
    char path[PATH_SIZE];
    FILE *fp;

    *absent = false;
    if (join(path, dir, name, e) < 0)
        return NULL;
    fp = fopen(path, "r");
    if (!fp && errno == ENOENT)
        *absent = true;
    else if (!fp)
        fail(e, "cannot read %s: %s", path, strerror(errno));
    return fp;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[PATH_SIZE];
    struct stat st;

    return snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
           lstat(path, &st) == 0;
}

/* Never prompts for a passphrase: an encrypted key is an error, not a terminal dialogue. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static X509 *load_cert(const char *dir, const char *name, bool *absent, struct certgen_err *e)
{
    FILE *fp = open_existing(dir, name, absent, e);
    X509 *x;

    if (!fp)
        return NULL;
    x = PEM_read_X509(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    if (!x) {
        ERR_clear_error();
        fail(e, "%s/%s: not a PEM certificate", dir, name);
    }
    return x;
}

static EVP_PKEY *load_key(const char *dir, const char *name, bool *absent, struct certgen_err *e)
{
    FILE *fp = open_existing(dir, name, absent, e);
    EVP_PKEY *k;

    if (!fp)
        return NULL;
    k = PEM_read_PrivateKey(fp, NULL, no_passphrase, NULL);
    fclose(fp);
    if (!k) {
        ERR_clear_error();
        fail(e, "%s/%s: not an unencrypted PEM private key", dir, name);
    }
    return k;
}

static bool is_p256(EVP_PKEY *k)
{
    char group[32];
    size_t len = 0;

    return EVP_PKEY_is_a(k, "EC") &&
           EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &len) == 1 &&
           !strcmp(group, "prime256v1");
}

/* Seconds from `now` until the certificate's notAfter (negative once expired). */
static int seconds_left(const X509 *x, time_t now, long long *out)
{
    ASN1_TIME *t = ASN1_TIME_set(NULL, now);
    int days = 0, secs = 0, ok;

    if (!t)
        return -1;
    ok = ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(x));
    ASN1_TIME_free(t);
    if (!ok)
        return -1;
    *out = (long long)days * DAY + secs;
    return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, struct certgen_err *e)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (!ext)
        return fail_ssl(e, "cannot build a certificate extension");
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : fail_ssl(e, "cannot add a certificate extension");
}

static int add_sans(X509 *x, const struct sans *s, struct certgen_err *e)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = -1;

    if (!gens)
        return fail(e, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        const char *v = s->v[i];
        GENERAL_NAME *g;

        if (!strncmp(v, "IP:", 3)) {
            g = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD, v + 3, 0);
        } else {
            g = GENERAL_NAME_new();
            ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
            if (g && ia5 && ASN1_STRING_set(ia5, v + 4, -1)) {
                GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
            } else {
                ASN1_IA5STRING_free(ia5);
                GENERAL_NAME_free(g);
                g = NULL;
            }
        }
        if (!g || !sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            fail_ssl(e, "cannot build the subject alternative names");
            goto out;
        }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1) {
        fail_ssl(e, "cannot add the subject alternative names");
        goto out;
    }
    rc = 0;
out:
    GENERAL_NAMES_free(gens);
    return rc;
}

/* A new certificate for `key`, signed by issuer/issuer_key (itself when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const struct sans *s, X509 *issuer,
                       EVP_PKEY *issuer_key, time_t now, int days, struct certgen_err *e)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *serial = BN_new();
    X509V3_CTX ctx;
    bool ca = issuer == NULL;

    if (!x || !name || !serial) {
        fail(e, "out of memory");
        goto fail;
    }
    /* 127 random bits: positive, unique enough that two runs never collide. */
    if (!X509_set_version(x, X509_VERSION_3) ||
        !BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"egressguard",
                                    -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0) ||
        !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, ca ? name : X509_get_subject_name(issuer)) ||
        /* An hour of slack for API servers whose clock runs behind ours. */
        !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) || !X509_set_pubkey(x, key)) {
        fail_ssl(e, "cannot build a certificate");
        goto fail;
    }
    /* A serving certificate never outlives its CA. */
    if (!ca && ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(issuer)) > 0 &&
        !X509_set1_notAfter(x, X509_get0_notAfter(issuer))) {
        fail_ssl(e, "cannot build a certificate");
        goto fail;
    }
    X509V3_set_ctx(&ctx, ca ? x : issuer, x, NULL, NULL, 0);
    if (ca) {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE", e) < 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", e) < 0 ||
            add_ext(x, &ctx, NID_subject_key_identifier, "hash", e) < 0 ||
            add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", e) < 0)
            goto fail;
    } else {
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", e) < 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", e) < 0 ||
            add_ext(x, &ctx, NID_ext_key_usage, "serverAuth", e) < 0 ||
            add_ext(x, &ctx, NID_subject_key_identifier, "hash", e) < 0 ||
            add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", e) < 0 ||
            add_sans(x, s, e) < 0)
            goto fail;
    }
    if (!X509_sign(x, ca ? key : issuer_key, EVP_sha256())) {
        fail_ssl(e, "cannot sign a certificate");
        goto fail;
    }
    X509_NAME_free(name);
    BN_free(serial);
    return x;
fail:
    X509_free(x);
    X509_NAME_free(name);
    BN_free(serial);
    return NULL;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
                     struct certgen_err *e)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data;
    long len;
    int rc = -1;

    if (!mem)
        return fail(e, "out of memory");
    if (cert ? !PEM_write_bio_X509(mem, cert)
             : !PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL)) {
        fail_ssl(e, "cannot encode PEM");
        goto out;
    }
    len = BIO_get_mem_data(mem, &data);
    rc = write_atomic(dir, name, data, (size_t)len, cert ? 0644 : 0600, e);
out:
    BIO_free(mem);
    return rc;
}

/* Loads a reusable CA into ca and ca_key, or leaves both NULL when there is none or it expires
 * within the window (r->ca says which). Unusable CA files are an error. */
static int load_ca(const struct certgen_opts *o, time_t now, int renew_days, X509 **ca,
                   EVP_PKEY **ca_key, struct certgen_result *r, struct certgen_err *e)
{
    const char *dir = o->out_dir;
    bool cert_absent, key_absent;
    long long left;

    *ca = load_cert(dir, "ca.crt", &cert_absent, e);
    if (!*ca && !cert_absent)
        goto fail;
    *ca_key = load_key(dir, "ca.key", &key_absent, e);
    if (!*ca_key && !key_absent)
        goto fail;
    if (cert_absent && key_absent) {
        r->ca = CERTGEN_CREATED;
        return 0;
    }
    if (cert_absent || key_absent) {
        fail(e, "%s/%s exists but %s/%s does not: remove it to create a new CA", dir,
             cert_absent ? "ca.key" : "ca.crt", dir, cert_absent ? "ca.crt" : "ca.key");
        goto fail;
    }
    if (X509_check_ca(*ca) != 1 || !(X509_get_key_usage(*ca) & KU_KEY_CERT_SIGN)) {
        ERR_clear_error();
        fail(e, "%s/ca.crt: not a CA certificate (needs CA:TRUE and keyCertSign)", dir);
        goto fail;
    }
    if (X509_check_private_key(*ca, *ca_key) != 1) {
        ERR_clear_error();
        fail(e, "%s/ca.key does not match %s/ca.crt", dir, dir);
        goto fail;
    }
    if (seconds_left(*ca, now, &left) < 0) {
        fail_ssl(e, "ca.crt: unreadable notAfter");
        goto fail;
    }
    if (left <= (long long)renew_days * DAY) {
        if (left <= 0)
            snprintf(r->ca_reason, sizeof(r->ca_reason), "expired");
        else
            snprintf(r->ca_reason, sizeof(r->ca_reason), "expires within %d days", renew_days);
        r->ca = CERTGEN_RENEWED;
        X509_free(*ca);
        EVP_PKEY_free(*ca_key);
        *ca = NULL;
        *ca_key = NULL;
        return 0;
    }
    r->ca = CERTGEN_KEPT;
    return 0;
fail:
    X509_free(*ca);
    EVP_PKEY_free(*ca_key);
    *ca = NULL;
    *ca_key = NULL;
    return -1;
}

/* Why the serving certificate in `dir` must be (re)issued: writes the reason and returns true,
 * with r->leaf set to CREATED or RENEWED; false when it can stay. */
static bool leaf_needs_issue(const struct certgen_opts *o, const struct sans *want, X509 *ca,
                             time_t now, int renew_days, struct certgen_result *r)
{
    struct certgen_err why = {""};
    bool crt_absent, key_absent, issue = true;
    X509 *leaf = load_cert(o->out_dir, "tls.crt", &crt_absent, &why);
    EVP_PKEY *key = load_key(o->out_dir, "tls.key", &key_absent, &why);
    struct sans have = {{0}, 0};
    long long left;

    r->leaf = CERTGEN_RENEWED;
    if (crt_absent && key_absent) {
        r->leaf = CERTGEN_CREATED;
    } else if (crt_absent || key_absent) {
        snprintf(why.msg, sizeof(why.msg), "%s is missing", crt_absent ? "tls.crt" : "tls.key");
    } else if (!leaf || !key) {
        /* why.msg says which file is unreadable */
    } else if (X509_check_private_key(leaf, key) != 1) {
        snprintf(why.msg, sizeof(why.msg), "tls.key does not match tls.crt");
    } else if (!is_p256(key)) {
        snprintf(why.msg, sizeof(why.msg), "tls.key is not an ECDSA P-256 key");
    } else if (X509_check_issued(ca, leaf) != X509_V_OK ||
               X509_verify(leaf, X509_get0_pubkey(ca)) != 1) {
        snprintf(why.msg, sizeof(why.msg), "tls.crt is not signed by ca.crt");
    } else if (seconds_left(leaf, now, &left) < 0 || left <= 0) {
        snprintf(why.msg, sizeof(why.msg), "tls.crt expired");
    } else if (left <= (long long)renew_days * DAY) {
        snprintf(why.msg, sizeof(why.msg), "tls.crt expires within %d days", renew_days);
    } else if (cert_sans(leaf, &have, &why) < 0) {
        /* why.msg says what is odd about them */
    } else if (!sans_equal(&have, want)) {
        snprintf(why.msg, sizeof(why.msg), "its subject alternative names differ");
    } else {
        issue = false;
        r->leaf = CERTGEN_KEPT;
    }
    if (issue && r->leaf == CERTGEN_RENEWED)
        snprintf(r->leaf_reason, sizeof(r->leaf_reason), "%s", why.msg);
    ERR_clear_error();
    sans_release(&have);
    X509_free(leaf);
    EVP_PKEY_free(key);
    return issue;
}

int certgen_ensure(const struct certgen_opts *o, struct certgen_result *r, struct certgen_err *e)
{
    time_t now = o->now ? o->now : time(NULL);
    int days = o->days ? o->days : 365, ca_days = o->ca_days ? o->ca_days : 3650;
    int renew_days = o->renew_days < 0 ? 30 : o->renew_days;
    struct sans want = {{0}, 0};
    X509 *ca = NULL, *leaf = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    char cn[65];
    long long left;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    e->msg[0] = '\0';
    if (!o->service || !certgen_valid_label(o->service))
        return fail(e, "invalid service name \"%s\": want a DNS-1123 label",
                    o->service ? o->service : "");
    if (!o->namespace || !certgen_valid_label(o->namespace))
        return fail(e, "invalid namespace \"%s\": want a DNS-1123 label",
                    o->namespace ? o->namespace : "");
    if (!o->out_dir || !*o->out_dir)
        return fail(e, "no output directory");
    if (days < 1 || days > 36500 || ca_days < 1 || ca_days > 36500 || renew_days > 36500)
        return fail(e, "validity out of range (1..36500 days)");
    if (wanted_sans(o, &want, e) < 0)
        goto out;
    if (mkdirs(o->out_dir, e) < 0 || load_ca(o, now, renew_days, &ca, &ca_key, r, e) < 0)
        goto out;

    if (!ca) {
        ca_key = EVP_EC_gen("P-256");
        if (!ca_key) {
            fail_ssl(e, "cannot generate the CA key");
            goto out;
        }
        ca = make_cert(ca_key, "egressguard-ca", NULL, NULL, NULL, now, ca_days, e);
        if (!ca)
            goto out;
        /* Key first: a reader that sees the new ca.crt can also load its key. */
        if (write_pem(o->out_dir, "ca.key", NULL, ca_key, e) < 0 ||
            write_pem(o->out_dir, "ca.crt", ca, NULL, e) < 0)
            goto out;
    }

    if (r->ca != CERTGEN_KEPT) {
        /* A new CA invalidates whatever serving certificate was there. */
        if (file_exists(o->out_dir, "tls.crt") || file_exists(o->out_dir, "tls.key")) {
            r->leaf = CERTGEN_RENEWED;
            snprintf(r->leaf_reason, sizeof(r->leaf_reason), "the CA is new");
        } else {
            r->leaf = CERTGEN_CREATED;
        }
    } else if (!leaf_needs_issue(o, &want, ca, now, renew_days, r)) {
        bool absent;

        leaf = load_cert(o->out_dir, "tls.crt", &absent, e);
        if (!leaf || seconds_left(leaf, now, &left) < 0)
            goto out;
        r->leaf_not_after = now + (time_t)left;
        rc = 0;
        goto out;
    }

    key = EVP_EC_gen("P-256");
    if (!key) {
        fail_ssl(e, "cannot generate the serving key");
        goto out;
    }
    snprintf(cn, sizeof(cn), "%s.%s.svc", o->service, o->namespace);
    if (strlen(o->service) + strlen(o->namespace) + 5 > 64)
        snprintf(cn, sizeof(cn), "%s", o->service);
    leaf = make_cert(key, cn, &want, ca, ca_key, now, days, e);
    if (!leaf || seconds_left(leaf, now, &left) < 0)
        goto out;
    r->leaf_not_after = now + (time_t)left;
    if (write_pem(o->out_dir, "tls.key", NULL, key, e) < 0 ||
        write_pem(o->out_dir, "tls.crt", leaf, NULL, e) < 0)
        goto out;
    rc = 0;
out:
    ERR_clear_error();
    sans_release(&want);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    return rc;
}

char *certgen_ca_bundle(const char *path, struct certgen_err *e)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL, *out = NULL;
    size_t len = 0, alloc = 0;
    BIO *mem = NULL;
    X509 *x = NULL;

    if (!fp) {
        fail(e, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len == alloc) {
            char *bigger;
            if (alloc >= (1u << 20)) {
                fail(e, "%s: too large for a CA bundle (over 1 MiB)", path);
                goto out;
            }
            alloc = alloc ? alloc * 2 : 4096;
            bigger = realloc(data, alloc);
            if (!bigger) {
                fail(e, "out of memory");
                goto out;
            }
            data = bigger;
        }
        size_t n = fread(data + len, 1, alloc - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        fail(e, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    mem = BIO_new_mem_buf(data, (int)len);
    if (!mem) {
        fail(e, "out of memory");
        goto out;
    }
    x = PEM_read_bio_X509(mem, NULL, no_passphrase, NULL);
    if (!x) {
        fail(e, "%s: no PEM certificate in it", path);
        goto out;
    }
    out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out) {
        fail(e, "out of memory");
        goto out;
    }
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(mem);
    free(data);
    fclose(fp);
    return out;
}
