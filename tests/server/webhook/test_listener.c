/* --listen and the listening socket (server/webhook/listener.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/webhook/listener.h"

static void test_listener_parse(void **state)
{
    struct sockaddr_storage a;
    socklen_t len;
    bool lo;
    struct err e = {0};

    (void)state;
    assert_int_equal(listener_parse("127.0.0.1:8443", &a, &len, &lo, &e), 0);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 8443);
    assert_true(lo);
    assert_int_equal(listener_parse("[::1]:0", &a, &len, &lo, &e), 0);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_true(lo);
    assert_int_equal(listener_parse(":443", &a, &len, &lo, &e), 0);
    assert_false(lo);
    assert_int_equal(listener_parse("localhost:443", &a, &len, &lo, &e), -1);
    assert_string_equal(e.msg, "bad address in --listen: \"localhost\" is not an IPv4 or IPv6 "
                               "address");
    assert_int_equal(listener_parse("127.0.0.1:65536", &a, &len, &lo, &e), -1);
    assert_int_equal(listener_parse("127.0.0.1", &a, &len, &lo, &e), -1);
}

/* A second listener on a port in use is an error naming the port: before, libmicrohttpd was
 * asked for SO_REUSEPORT, and two servers shared the port and split its connections. */
static void test_listener_port_in_use(void **state)
{
    struct sockaddr_storage a, bound;
    socklen_t len, blen = sizeof(bound);
    bool lo;
    struct err e = {0};
    char text[64], want[128];
    int one, two;
    unsigned port;

    (void)state;
    assert_int_equal(listener_parse("127.0.0.1:0", &a, &len, &lo, &e), 0);
    one = listener_open(&a, len, &e);
    assert_true(one >= 0);
    assert_int_equal(getsockname(one, (struct sockaddr *)&bound, &blen), 0);
    port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    snprintf(text, sizeof(text), "127.0.0.1:%u", port);
    assert_int_equal(listener_parse(text, &a, &len, &lo, &e), 0);
    two = listener_open(&a, len, &e);
    assert_int_equal(two, -1);
    snprintf(want, sizeof(want),
             "cannot listen on 127.0.0.1:%u: the port is in use (another server is listening "
             "on it)",
             port);
    assert_string_equal(e.msg, want);
    close(one);
    /* once the first is gone, the port is free again at once (SO_REUSEADDR) */
    two = listener_open(&a, len, &e);
    assert_true(two >= 0);
    close(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_parse),
        cmocka_unit_test(test_listener_port_in_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
