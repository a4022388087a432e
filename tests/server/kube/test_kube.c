/* The Kubernetes client (server/kube/kube.c, kubeconfig.c, secret.c, backoff.c): kubeconfig
 * reading, every libcurl option checked, proxy credentials kept out of messages, query escaping,
 * secrets wiped before release, backoff and pauses on the monotonic clock. libcurl's option
 * setter is wrapped (-Wl,--wrap=curl_easy_setopt, see the Makefile) so that a test can make it
 * refuse an option. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/kube/backoff.h"
#include "server/kube/kube.h"
#include "server/kube/kubeconfig.h"
#include "server/kube/secret.h"

/* No global state in the code under test; this is the test's own switch for the wrapper. */
static CURLoption refuse_option = (CURLoption)-1;

CURLcode __real_curl_easy_setopt(CURL *h, CURLoption o, ...);
CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption o, ...);

/* Forwards by the option's type (curl.h: the option number's range says what follows). */
CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption o, ...)
{
    va_list ap;
    CURLcode rc;

    if (o == refuse_option)
        return CURLE_NOT_BUILT_IN;
    va_start(ap, o);
    if (o < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        rc = __real_curl_easy_setopt(h, o, v);
    } else if (o >= CURLOPTTYPE_OFF_T && o < CURLOPTTYPE_BLOB) {
        curl_off_t v = va_arg(ap, curl_off_t);
        rc = __real_curl_easy_setopt(h, o, v);
    } else {
        void *v = va_arg(ap, void *);
        rc = __real_curl_easy_setopt(h, o, v);
    }
    va_end(ap);
    return rc;
}

static const char *const kubeconfig_text =
    "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', "
    "certificate-authority-data: bm90IGEgQ0EK}}]\n"
    "users: [{name: u, user: {token: tok-123}}]\n"
    "contexts: [{name: t, context: {cluster: c, user: u}}]\n";

static struct kube *client(void)
{
    struct kube_config c;
    struct err e = {0};
    struct kube *k;

    if (kubeconfig_parse(kubeconfig_text, strlen(kubeconfig_text), "kc", NULL, &c, &e) < 0)
        fail_msg("kubeconfig: %s", e.msg);
    if (!(k = kube_from_config(&c, &e)))
        fail_msg("kube: %s", e.msg);
    kube_set_timeout(k, 2000, 2000);
    return k;
}

static void test_kubeconfig_parse_inline(void **state)
{
    struct kube_config c;
    struct err e = {0};

    (void)state;
    assert_int_equal(kubeconfig_parse(kubeconfig_text, strlen(kubeconfig_text), "kc", NULL, &c,
                                      &e),
                     0);
    assert_string_equal(c.server, "https://127.0.0.1:1");
    assert_string_equal(c.ca_pem, "not a CA\n");
    assert_string_equal(c.token.data, "tok-123");
    assert_null(c.token_file);
    kube_config_release(&c);
}

/* File references are relative to the kubeconfig's directory, as kubectl reads them. */
static void test_kubeconfig_load_relative_files(void **state)
{
    struct kube_config c;
    struct err e = {0};

    (void)state;
    assert_int_equal(kubeconfig_load("tests/data/kubeconfig/relative.yaml", &c, &e), 0);
    assert_string_equal(c.server, "https://127.0.0.1:6443"); /* trailing slash dropped */
    assert_string_equal(c.ca_file, "tests/data/kubeconfig/ca.crt");
    assert_string_equal(c.ca_pem, "not a real certificate authority\n");
    assert_string_equal(c.token_file, "tests/data/kubeconfig/token");
    kube_config_release(&c);
}

static void test_kubeconfig_refuses_what_it_cannot_honour(void **state)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"kind: Config\ncurrent-context: x\n", "kc: current-context \"x\" not found"},
        {"kind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'http://10.0.0.1'}}]\n",
         "kc: server http://10.0.0.1: only https:// is supported"},
        {"kind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: true}}]\n",
         "kc: insecure-skip-tls-verify is not supported: give the cluster's certificate-authority"},
        {"kind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
         "users: [{name: u, user: {username: a, password: b}}]\n",
         "kc: user.username is not supported: give a token, tokenFile or a client certificate"},
        {"kind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: 'a$b'}}]\n",
         "certificate-authority-data is not valid base64"},
        {"kind: Config\ncurrent-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {}}]\n",
         "kc: the current context's user has neither a token nor a client certificate and key"},
        {"a: [\n", NULL},
    };
    struct kube_config c;
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(kubeconfig_parse(bad[i].text, strlen(bad[i].text), "kc", NULL, &c, &e),
                         -1);
        if (bad[i].msg)
            assert_string_equal(e.msg, bad[i].msg);
        else
            assert_true(e.line > 0); /* broken YAML: positioned */
        assert_null(c.server);
    }
    memset(&e, 0, sizeof(e));
    assert_int_equal(kubeconfig_load("tests/data/kubeconfig/exec.yaml", &c, &e), -1);
    assert_string_equal(e.msg, "tests/data/kubeconfig/exec.yaml: user.exec is not supported: "
                               "give a token, tokenFile or a client certificate");
}

/* A security option libcurl refuses: no request goes out (without its CA the request would
 * trust the system's CAs instead). */
static void test_kube_request_refused_option_makes_no_request(void **state)
{
    static const struct {
        CURLoption o;
        const char *name;
    } opts[] = {
        {CURLOPT_CAINFO_BLOB, "CURLOPT_CAINFO_BLOB"},
        {CURLOPT_PROTOCOLS_STR, "CURLOPT_PROTOCOLS_STR"},
        {CURLOPT_SSL_VERIFYPEER, "CURLOPT_SSL_VERIFYPEER"},
        {CURLOPT_HTTPHEADER, "CURLOPT_HTTPHEADER"},
    };
    struct kube *k = client();
    json_t *resp;

    (void)state;
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        struct err e = {0};
        char want[200];
        refuse_option = opts[i].o;
        assert_int_equal(kube_request(k, "GET", "/api/v1/namespaces", NULL, &resp, &e), -1);
        snprintf(want, sizeof(want), "libcurl refused %s (%s): no request made", opts[i].name,
                 curl_easy_strerror(CURLE_NOT_BUILT_IN));
        assert_string_equal(e.msg, want);
        assert_null(resp);
    }
    refuse_option = (CURLoption)-1;
    kube_free(k);
}

/* An unparseable proxy in the environment: the variable is named, its value (credentials) not. */
static void test_kube_request_bad_proxy_env_hides_credentials(void **state)
{
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    struct kube *k = client();
    json_t *resp;

    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        struct err e = {0};
        char want[200];
        setenv(vars[i], "http://admin:s3cret@[broken", 1);
        assert_int_equal(kube_request(k, "GET", "/api/v1/namespaces", NULL, &resp, &e), -1);
        unsetenv(vars[i]);
        snprintf(want, sizeof(want),
                 "the %s environment variable is not a proxy URL libcurl can use (its value is "
                 "not shown: it may hold credentials)",
                 vars[i]);
        assert_string_equal(e.msg, want);
        assert_null(strstr(e.msg, "s3cret"));
    }
    kube_free(k);
}

static void test_kube_redact(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Unsupported proxy syntax in 'http://admin:s3cret@[broken'",
         "Unsupported proxy syntax in 'http://***@[broken'"},
        {"proxy user:pw@host:3128 and http://a@b", "proxy ***@host:3128 and http://***@b"},
        {"no credentials here", "no credentials here"},
        {"http://***@x", "http://***@x"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[200];
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        kube_redact(buf);
        assert_string_equal(buf, cases[i].out);
    }
}

/* Continue tokens are base64 ('+', '/', '='); selectors carry '/' and '='. */
static void test_kube_query_escape(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(kube_query_escape("eyJ2Ijo+/x==", &b), 0);
    assert_string_equal(buf_str(&b), "eyJ2Ijo%2B%2Fx%3D%3D");
    buf_reset(&b);
    assert_int_equal(kube_query_escape("egressguard.io/enforced=true,a in (b c)", &b), 0);
    assert_string_equal(buf_str(&b), "egressguard.io%2Fenforced%3Dtrue%2Ca%20in%20%28b%20c%29");
    buf_release(&b);
}

static int released_zeroed;

static void check_release(void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;

    for (i = 0; i < n && !c[i]; i++)
        ;
    released_zeroed = i == n;
    free(p);
}

static void test_secret_wiped_before_release(void **state)
{
    struct secret s = {.release = check_release};

    (void)state;
    assert_int_equal(secret_set(&s, "Bearer tok", 10), 0);
    released_zeroed = -1;
    assert_int_equal(secret_set(&s, "Bearer new", 10), 0); /* the old one goes */
    assert_int_equal(released_zeroed, 1);
    assert_string_equal(s.data, "Bearer new");
    released_zeroed = -1;
    secret_clear(&s);
    assert_int_equal(released_zeroed, 1);
    assert_null(s.data);
}

static void test_backoff_jitter_doubles_to_the_cap(void **state)
{
    struct backoff b;
    long bound = 100;

    (void)state;
    backoff_init(&b, 100, 1000, 42);
    for (int i = 0; i < 8; i++) {
        long d = backoff_next(&b);
        assert_true(d >= bound / 2 && d <= bound);
        bound = bound * 2 > 1000 ? 1000 : bound * 2;
    }
    backoff_reset(&b);
    assert_true(backoff_next(&b) <= 100);
}

static void *stopper(void *p)
{
    pause_stop(p);
    return NULL;
}

/* The wait is timed on CLOCK_MONOTONIC (a wall-clock step cannot stretch it) and ends at once
 * on stop. */
static void test_pause_monotonic_and_stoppable(void **state)
{
    struct pause p;
    pthread_t t;

    (void)state;
    assert_int_equal(pause_init(&p), 0);
    assert_int_equal(p.clock, CLOCK_MONOTONIC);
    assert_false(pause_for(&p, 1)); /* times out */
    pause_wake(&p);
    assert_false(pause_for(&p, 3600 * 1000)); /* woken: returns although an hour was asked */
    assert_int_equal(pthread_create(&t, NULL, stopper, &p), 0);
    assert_true(pause_for(&p, 3600 * 1000));
    pthread_join(t, NULL);
    assert_true(pause_stopping(&p));
    assert_true(pause_for(&p, 3600 * 1000));
    pause_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubeconfig_parse_inline),
        cmocka_unit_test(test_kubeconfig_load_relative_files),
        cmocka_unit_test(test_kubeconfig_refuses_what_it_cannot_honour),
        cmocka_unit_test(test_kube_request_refused_option_makes_no_request),
        cmocka_unit_test(test_kube_request_bad_proxy_env_hides_credentials),
        cmocka_unit_test(test_kube_redact),
        cmocka_unit_test(test_kube_query_escape),
        cmocka_unit_test(test_secret_wiped_before_release),
        cmocka_unit_test(test_backoff_jitter_doubles_to_the_cap),
        cmocka_unit_test(test_pause_monotonic_and_stoppable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
