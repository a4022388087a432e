#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/certgen.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>

#include <cmocka.h>

#define DAY 86400

struct fixture {
    char dir[64];   /* the temporary root */
    char out[128];  /* dir/pki: what certgen writes */
    struct certgen_opts o;
};

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char child[512];

    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/test_certgen.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->out, sizeof(f->out), "%s/pki", f->dir);
    f->o.service = "egressguard";
    f->o.namespace = "egressguard";
    f->o.out_dir = f->out;
    f->o.renew_days = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    remove_tree(f->dir);
    free(f);
    return 0;
}

/* The whole file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *dir, const char *name)
{
    char path[256], *data = NULL;
    FILE *fp;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        data = calloc(1, (size_t)len + 1);
        if (data && fread(data, 1, (size_t)len, fp) != (size_t)len) {
            free(data);
            data = NULL;
        }
    }
    fclose(fp);
    return data;
}

static void spit(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static X509 *read_cert(const char *dir, const char *name)
{
    char *pem = slurp(dir, name);
    BIO *mem;
    X509 *x;

    assert_non_null(pem);
    mem = BIO_new_mem_buf(pem, -1);
    x = PEM_read_bio_X509(mem, NULL, NULL, NULL);
    BIO_free(mem);
    free(pem);
    assert_non_null(x);
    return x;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
    char *pem = slurp(dir, name);
    BIO *mem;
    EVP_PKEY *k;

    assert_non_null(pem);
    mem = BIO_new_mem_buf(pem, -1);
    k = PEM_read_bio_PrivateKey(mem, NULL, NULL, NULL);
    BIO_free(mem);
    free(pem);
    assert_non_null(k);
    return k;
}

static void assert_p256(EVP_PKEY *k)
{
    char group[32] = "";
    size_t len;

    assert_true(EVP_PKEY_is_a(k, "EC"));
    assert_int_equal(EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &len), 1);
    assert_string_equal(group, "prime256v1");
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[256];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

/* The SANs of a certificate as "DNS:x" / "IP:x" joined by commas, in certificate order. */
static void sans_text(X509 *x, char *out, size_t size)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    out[0] = '\0';
    assert_non_null(gens);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *d;
        char item[300];

        if (g->type == GEN_DNS) {
            snprintf(item, sizeof(item), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else {
            assert_int_equal(g->type, GEN_IPADD);
            d = ASN1_STRING_get0_data(g->d.iPAddress);
            if (ASN1_STRING_length(g->d.iPAddress) == 4)
                snprintf(item, sizeof(item), "IP:%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
            else
                snprintf(item, sizeof(item), "IP:v6(%02x..%02x)", d[0], d[15]);
        }
        if (*out)
            strncat(out, ",", size - strlen(out) - 1);
        strncat(out, item, size - strlen(out) - 1);
    }
    GENERAL_NAMES_free(gens);
}

static void ensure_ok(struct fixture *f, struct certgen_result *r)
{
    struct certgen_err e = {""};

    if (certgen_ensure(&f->o, r, &e) < 0)
        fail_msg("certgen_ensure: %s", e.msg);
}

static void ensure_fails(struct fixture *f, const char *want)
{
    struct certgen_result r;
    struct certgen_err e = {""};

    assert_int_equal(certgen_ensure(&f->o, &r, &e), -1);
    assert_string_equal(e.msg, want);
}

static void test_certgen_ensure_creates_chain(void **state)
{
    struct fixture *f = *state;
    const char *dns[] = {"Webhook.Example.COM"}, *ips[] = {"10.0.0.7", "::1"};
    struct certgen_result r;
    char sans[1024];
    X509 *ca, *leaf;
    EVP_PKEY *ca_key, *key;
    const ASN1_OCTET_STRING *ca_skid, *akid_keyid;
    AUTHORITY_KEYID *akid;
    BASIC_CONSTRAINTS *bc;
    int crit;

    f->o.dns = dns;
    f->o.n_dns = 1;
    f->o.ips = ips;
    f->o.n_ips = 2;
    ensure_ok(f, &r);
    assert_int_equal(r.ca, CERTGEN_CREATED);
    assert_int_equal(r.leaf, CERTGEN_CREATED);
    assert_int_equal(mode_of(f->out, "ca.key"), 0600);
    assert_int_equal(mode_of(f->out, "tls.key"), 0600);
    assert_int_equal(mode_of(f->out, "ca.crt"), 0644);
    assert_int_equal(mode_of(f->out, "tls.crt"), 0644);

    ca = read_cert(f->out, "ca.crt");
    leaf = read_cert(f->out, "tls.crt");
    ca_key = read_key(f->out, "ca.key");
    key = read_key(f->out, "tls.key");
    assert_p256(ca_key);
    assert_p256(key);
    assert_int_equal(X509_check_private_key(ca, ca_key), 1);
    assert_int_equal(X509_check_private_key(leaf, key), 1);
    assert_int_equal(X509_verify(leaf, X509_get0_pubkey(ca)), 1);
    assert_int_equal(X509_check_issued(ca, leaf), X509_V_OK);

    sans_text(leaf, sans, sizeof(sans));
    assert_string_equal(sans, "DNS:egressguard,DNS:egressguard.egressguard,"
                              "DNS:egressguard.egressguard.svc,"
                              "DNS:egressguard.egressguard.svc.cluster.local,"
                              "DNS:webhook.example.com,IP:10.0.0.7,IP:v6(00..01)");

    bc = X509_get_ext_d2i(ca, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_true(bc->ca);
    assert_int_equal(crit, 1);
    BASIC_CONSTRAINTS_free(bc);
    assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);

    bc = X509_get_ext_d2i(leaf, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_false(bc->ca);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
    assert_non_null(X509_get0_subject_key_id(leaf));
    ca_skid = X509_get0_subject_key_id(ca);
    assert_non_null(ca_skid);
    akid = X509_get_ext_d2i(leaf, NID_authority_key_identifier, NULL, NULL);
    assert_non_null(akid);
    akid_keyid = akid->keyid;
    assert_non_null(akid_keyid);
    assert_int_equal(ASN1_OCTET_STRING_cmp(akid_keyid, ca_skid), 0);
    AUTHORITY_KEYID_free(akid);

    /* Expiry reported is a year away, give or take the clock ticking during the test. */
    assert_true(r.leaf_not_after >= time(NULL) + 364 * DAY);
    assert_true(r.leaf_not_after <= time(NULL) + 366 * DAY);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
}

static void test_certgen_ensure_reuses_valid_files(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char *ca1, *cakey1, *tls1, *ca2, *cakey2, *tls2;

    ensure_ok(f, &r);
    ca1 = slurp(f->out, "ca.crt");
    cakey1 = slurp(f->out, "ca.key");
    tls1 = slurp(f->out, "tls.crt");
    ensure_ok(f, &r);
    assert_int_equal(r.ca, CERTGEN_KEPT);
    assert_int_equal(r.leaf, CERTGEN_KEPT);
    assert_string_equal(r.leaf_reason, "");
    ca2 = slurp(f->out, "ca.crt");
    cakey2 = slurp(f->out, "ca.key");
    tls2 = slurp(f->out, "tls.crt");
    assert_string_equal(ca1, ca2);
    assert_string_equal(cakey1, cakey2);
    assert_string_equal(tls1, tls2);
    free(ca1), free(cakey1), free(tls1), free(ca2), free(cakey2), free(tls2);
}

static void test_certgen_ensure_renews_near_expiry(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char *ca1, *tls1, *ca2, *tls2;

    f->o.days = 20;
    f->o.renew_days = 10;
    ensure_ok(f, &r);
    ca1 = slurp(f->out, "ca.crt");
    tls1 = slurp(f->out, "tls.crt");

    ensure_ok(f, &r); /* 20 days left, window 10: stays */
    assert_int_equal(r.leaf, CERTGEN_KEPT);

    f->o.renew_days = 30; /* window bigger than what is left */
    ensure_ok(f, &r);
    assert_int_equal(r.ca, CERTGEN_KEPT);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_string_equal(r.leaf_reason, "tls.crt expires within 30 days");
    ca2 = slurp(f->out, "ca.crt");
    tls2 = slurp(f->out, "tls.crt");
    assert_string_equal(ca1, ca2);
    assert_string_not_equal(tls1, tls2);
    free(ca1), free(tls1), free(ca2), free(tls2);
}

static void test_certgen_ensure_renews_expired_by_clock(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;

    ensure_ok(f, &r);
    f->o.now = time(NULL) + 400 * DAY; /* the default 365-day certificate is past its end */
    ensure_ok(f, &r);
    assert_int_equal(r.ca, CERTGEN_KEPT);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_string_equal(r.leaf_reason, "tls.crt expired");
    assert_true(r.leaf_not_after > f->o.now + 364 * DAY);
}

static void test_certgen_ensure_renews_ca_near_expiry(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char *ca1, *ca2;
    X509 *ca, *leaf;

    f->o.ca_days = 20;
    ensure_ok(f, &r);
    ca1 = slurp(f->out, "ca.crt");
    /* The serving certificate is capped at the CA's end, so it is near expiry too. */
    leaf = read_cert(f->out, "tls.crt");
    ca = read_cert(f->out, "ca.crt");
    assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(ca)), 0);
    X509_free(leaf);
    X509_free(ca);

    f->o.ca_days = 0;
    ensure_ok(f, &r);
    assert_int_equal(r.ca, CERTGEN_RENEWED);
    assert_string_equal(r.ca_reason, "expires within 30 days");
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_string_equal(r.leaf_reason, "the CA is new");
    ca2 = slurp(f->out, "ca.crt");
    assert_string_not_equal(ca1, ca2);
    ca = read_cert(f->out, "ca.crt");
    leaf = read_cert(f->out, "tls.crt");
    assert_int_equal(X509_verify(leaf, X509_get0_pubkey(ca)), 1);
    X509_free(leaf);
    X509_free(ca);
    free(ca1), free(ca2);
}

static void test_certgen_ensure_renews_on_san_change(void **state)
{
    struct fixture *f = *state;
    const char *dns[] = {"a.example.com", "b.example.com"};
    const char *dns_again[] = {"B.example.com", "a.example.com", "a.example.com"};
    struct certgen_result r;
    char sans[1024];
    X509 *leaf;

    ensure_ok(f, &r);
    f->o.dns = dns;
    f->o.n_dns = 2;
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_string_equal(r.leaf_reason, "its subject alternative names differ");
    leaf = read_cert(f->out, "tls.crt");
    sans_text(leaf, sans, sizeof(sans));
    X509_free(leaf);
    assert_non_null(strstr(sans, "DNS:a.example.com,DNS:b.example.com"));

    /* Same set in another order, case and with a duplicate: nothing to do. */
    f->o.dns = dns_again;
    f->o.n_dns = 3;
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_KEPT);

    f->o.n_dns = 0; /* dropping a name renews too */
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
}

static void test_certgen_ensure_replaces_files_atomically(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char path[256], *old_pem, *new_pem, held[2048] = "";
    struct stat before, after;
    struct dirent *de;
    int fd, files = 0;
    DIR *d;

    ensure_ok(f, &r);
    old_pem = slurp(f->out, "tls.crt");
    snprintf(path, sizeof(path), "%s/tls.crt", f->out);
    assert_int_equal(stat(path, &before), 0);
    fd = open(path, O_RDONLY); /* a reader that opened the file before the renewal */
    assert_true(fd >= 0);

    f->o.renew_days = 400;
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_true(read(fd, held, sizeof(held) - 1) > 0);
    close(fd);
    assert_string_equal(held, old_pem); /* the old file, whole: it was replaced, not rewritten */
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    new_pem = slurp(f->out, "tls.crt");
    assert_string_not_equal(old_pem, new_pem);

    d = opendir(f->out); /* no temporary file is left behind */
    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            files++;
    closedir(d);
    assert_int_equal(files, 4);
    free(old_pem), free(new_pem);
}

static void test_certgen_ensure_unwritable_dir(void **state)
{
    struct fixture *f = *state;
    char want[512];

    /* A path under a regular file fails even for root, unlike permission bits. */
    spit(f->dir, "file", "x");
    snprintf(f->out, sizeof(f->out), "%s/file/pki", f->dir);
    snprintf(want, sizeof(want), "cannot create directory %s/file/pki: Not a directory", f->dir);
    ensure_fails(f, want);

    snprintf(f->out, sizeof(f->out), "%s/file", f->dir);
    snprintf(want, sizeof(want), "cannot create directory %s/file: Not a directory", f->dir);
    ensure_fails(f, want);
}

static void test_certgen_ensure_garbage_ca(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char want[512], *ca;

    ensure_ok(f, &r);
    ca = slurp(f->out, "ca.crt");
    spit(f->out, "ca.crt", "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
    snprintf(want, sizeof(want), "%s/ca.crt: not a PEM certificate", f->out);
    ensure_fails(f, want);

    spit(f->out, "ca.crt", ca);
    spit(f->out, "ca.key", "not a key\n");
    snprintf(want, sizeof(want), "%s/ca.key: not an unencrypted PEM private key", f->out);
    ensure_fails(f, want);

    snprintf(want, sizeof(want), "%s/ca.key", f->out);
    unlink(want);
    snprintf(want, sizeof(want), "%s/ca.crt exists but %s/ca.key does not: remove it to create a new CA",
             f->out, f->out);
    ensure_fails(f, want);
    free(ca);
}

static void test_certgen_ensure_rejects_leaf_as_ca(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char *tls, *key, want[512];

    ensure_ok(f, &r);
    tls = slurp(f->out, "tls.crt");
    key = slurp(f->out, "tls.key");
    spit(f->out, "ca.crt", tls);
    spit(f->out, "ca.key", key);
    snprintf(want, sizeof(want), "%s/ca.crt: not a CA certificate (needs CA:TRUE and keyCertSign)",
             f->out);
    ensure_fails(f, want);
    free(tls), free(key);
}

static void test_certgen_ensure_mismatched_ca_key(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char *key, want[512];

    ensure_ok(f, &r);
    key = slurp(f->out, "tls.key");
    spit(f->out, "ca.key", key);
    snprintf(want, sizeof(want), "%s/ca.key does not match %s/ca.crt", f->out, f->out);
    ensure_fails(f, want);
    free(key);
}

static void test_certgen_ensure_garbage_leaf_is_renewed(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    char want[256];

    ensure_ok(f, &r);
    spit(f->out, "tls.crt", "garbage\n");
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    snprintf(want, sizeof(want), "%s/tls.crt: not a PEM certificate", f->out);
    assert_string_equal(r.leaf_reason, want);

    snprintf(want, sizeof(want), "%s/tls.key", f->out);
    unlink(want);
    ensure_ok(f, &r);
    assert_int_equal(r.leaf, CERTGEN_RENEWED);
    assert_string_equal(r.leaf_reason, "tls.key is missing");
}

static void test_certgen_ensure_rejects_bad_names(void **state)
{
    struct fixture *f = *state;
    const char *bad_dns[] = {"-bad.example.com"}, *bad_ip[] = {"10.0.0.300"};
    char path[256];

    f->o.service = "Egress_Guard";
    ensure_fails(f, "invalid service name \"Egress_Guard\": want a DNS-1123 label");
    f->o.service = "egressguard";
    f->o.namespace = "";
    ensure_fails(f, "invalid namespace \"\": want a DNS-1123 label");
    f->o.namespace = "egressguard";
    f->o.dns = bad_dns;
    f->o.n_dns = 1;
    ensure_fails(f, "invalid DNS name \"-bad.example.com\"");
    f->o.n_dns = 0;
    f->o.ips = bad_ip;
    f->o.n_ips = 1;
    ensure_fails(f, "invalid IP address \"10.0.0.300\"");
    /* Nothing was written for a bad request. */
    snprintf(path, sizeof(path), "%s/ca.crt", f->out);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_certgen_ca_bundle_base64(void **state)
{
    struct fixture *f = *state;
    struct certgen_result r;
    struct certgen_err e = {""};
    char path[256], *pem, *bundle;
    unsigned char decoded[4096];
    int n;

    ensure_ok(f, &r);
    snprintf(path, sizeof(path), "%s/ca.crt", f->out);
    bundle = certgen_ca_bundle(path, &e);
    assert_non_null(bundle);
    assert_null(strchr(bundle, '\n'));
    n = EVP_DecodeBlock(decoded, (const unsigned char *)bundle, (int)strlen(bundle));
    assert_true(n > 0);
    pem = slurp(f->out, "ca.crt");
    /* DecodeBlock counts padding as zero bytes: compare the PEM's length only. */
    assert_memory_equal(decoded, pem, strlen(pem));
    free(pem);
    free(bundle);

    snprintf(path, sizeof(path), "%s/tls.key", f->out);
    assert_null(certgen_ca_bundle(path, &e));
    snprintf(path, sizeof(path), "%s/tls.key: no PEM certificate in it", f->out);
    assert_string_equal(e.msg, path);
    snprintf(path, sizeof(path), "%s/absent.crt", f->out);
    assert_null(certgen_ca_bundle(path, &e));
    assert_non_null(strstr(e.msg, "absent.crt: No such file or directory"));
}

static void test_certgen_valid_label_cases(void **state)
{
    (void)state;
    assert_true(certgen_valid_label("egressguard"));
    assert_true(certgen_valid_label("a-1"));
    assert_false(certgen_valid_label(""));
    assert_false(certgen_valid_label("-a"));
    assert_false(certgen_valid_label("a-"));
    assert_false(certgen_valid_label("A"));
    assert_false(certgen_valid_label("a.b"));
    assert_false(certgen_valid_label("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_certgen_ensure_creates_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_reuses_valid_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_renews_near_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_renews_expired_by_clock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_renews_ca_near_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_renews_on_san_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_replaces_files_atomically, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_unwritable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_garbage_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_rejects_leaf_as_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_mismatched_ca_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_garbage_leaf_is_renewed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ensure_rejects_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certgen_ca_bundle_base64, setup, teardown),
        cmocka_unit_test(test_certgen_valid_label_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
