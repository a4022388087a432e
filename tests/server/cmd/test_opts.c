/* The option parser of every subcommand (server/cmd/opts.c): forms, operands, "--", help, and the
 * usage errors with their "did you mean". stderr is captured to assert the messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "server/cmd/cli.h"
#include "server/cmd/opts.h"

enum { O_POLICY, O_OUTPUT, O_VERBOSE, O_OUTPUT_FILE, O_NS };
enum { HELP = 100, ERROR = 101 }; /* how parse_all() reports OPTS_STOP */

static const struct opt table[] = {
    {"policy", 'p', OPT_VALUE, O_POLICY},  {"output", 'o', OPT_VALUE, O_OUTPUT},
    {"verbose", 'v', OPT_FLAG, O_VERBOSE}, {"output-file", 0, OPT_VALUE, O_OUTPUT_FILE},
    {"namespace", 'n', OPT_VALUE, O_NS},   {NULL, 0, 0, 0},
};

/* Everything written to stderr between capture_start() and capture_end(). */
static int saved_fd = -1;
static FILE *capture;

static void capture_start(void)
{
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_fd = dup(STDERR_FILENO);
    assert_true(saved_fd >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

static char *capture_end(void)
{
    static char buf[2048];
    size_t n;

    fflush(stderr);
    assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
    close(saved_fd);
    rewind(capture);
    n = fread(buf, 1, sizeof(buf) - 1, capture);
    buf[n] = '\0';
    fclose(capture);
    return buf;
}

/*
 * Parses argv (NULL-terminated, argv[0] the command) to the end or the first non-option result,
 * writing "id=value" words (o=operand, H=help, E=error) into out, space-separated.
 */
static int parse_all(const char **argv, char *out, size_t size)
{
    struct opts p;
    const char *val;
    int argc = 0, id, last = OPTS_END;
    size_t used = 0;

    while (argv[argc])
        argc++;
    out[0] = '\0';
    /* The parser only reads argv; the cast lets the tests use string literals. */
    opts_init(&p, "test", "HELP TEXT\n", table, argc, (char **)argv);
    while ((id = opts_next(&p, &val)) != OPTS_END) {
        char tag[8];

        last = id;
        if (id == OPTS_STOP)
            last = p.status == EXIT_PASS ? HELP : ERROR;
        if (id == OPTS_OPERAND)
            snprintf(tag, sizeof(tag), "o");
        else if (last == HELP)
            snprintf(tag, sizeof(tag), "H");
        else if (last == ERROR)
            snprintf(tag, sizeof(tag), "E");
        else
            snprintf(tag, sizeof(tag), "%d", id);
        used += (size_t)snprintf(out + used, size - used, "%s%s=%s", used ? " " : "", tag,
                                 val ? val : "");
        if (id == OPTS_STOP)
            break;
    }
    return last;
}

static void test_opts_next_forms(void **state)
{
    const char *argv[] = {"check",  "-p",        "a.yaml", "--output=json", "-ojunit", "--policy",
                          "b.yaml", "--verbose", "-v",     "--output-file", "r.txt",   "-nfoo",
                          NULL};
    char got[512];

    (void)state;
    parse_all(argv, got, sizeof(got));
    assert_string_equal(got, "0=a.yaml 1=json 1=junit 0=b.yaml 2= 2= 3=r.txt 4=foo");
}

static void test_opts_next_operands_anywhere(void **state)
{
    const char *argv[] = {"check", "x.yaml", "-p", "p.yaml", "-", "dir/", "-v", NULL};
    char got[512];

    (void)state;
    parse_all(argv, got, sizeof(got));
    assert_string_equal(got, "o=x.yaml 0=p.yaml o=- o=dir/ 2=");
}

static void test_opts_next_double_dash_ends_options(void **state)
{
    const char *argv[] = {"check", "-v", "--", "-p", "--help", NULL};
    char got[512];

    (void)state;
    parse_all(argv, got, sizeof(got));
    assert_string_equal(got, "2= o=-p o=--help");
}

static void test_opts_next_value_may_look_like_an_option(void **state)
{
    const char *argv[] = {"check", "-p", "-v", "--output", "--verbose", NULL};
    char got[512];

    (void)state;
    parse_all(argv, got, sizeof(got));
    assert_string_equal(got, "0=-v 1=--verbose");
}

static void test_opts_next_help(void **state)
{
    const char *a[] = {"check", "x.yaml", "--help", "--bogus", NULL};
    const char *b[] = {"check", "-h", NULL};
    char got[512];

    (void)state;
    assert_int_equal(parse_all(a, got, sizeof(got)), HELP);
    assert_string_equal(got, "o=x.yaml H=");
    assert_int_equal(parse_all(b, got, sizeof(got)), HELP);
}

static void test_opts_next_unknown_long_suggests(void **state)
{
    const char *argv[] = {"check", "--polcy", "p.yaml", NULL};
    char got[512];

    (void)state;
    capture_start();
    assert_int_equal(parse_all(argv, got, sizeof(got)), ERROR);
    assert_string_equal(capture_end(),
                        "egressguard test: unknown option '--polcy' (did you mean '--policy'?)\n"
                        "Run 'egressguard test --help' for usage.\n");
}

static void test_opts_next_unknown_with_value_suggests(void **state)
{
    const char *a[] = {"check", "--ouptut=json", NULL};
    const char *b[] = {"check", "-policy", "p.yaml", NULL}; /* one dash: still --policy */
    char got[512];

    (void)state;
    capture_start();
    assert_int_equal(parse_all(a, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "unknown option '--ouptut=json' (did you mean "
                                          "'--output'?)"));
    capture_start();
    assert_int_equal(parse_all(b, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "unknown option '-policy' (did you mean '--policy'?)"));
}

static void test_opts_next_unknown_far_has_no_suggestion(void **state)
{
    const char *a[] = {"check", "--frobnicate", NULL};
    const char *b[] = {"check", "-x", NULL};
    char got[512];
    char *msg;

    (void)state;
    capture_start();
    assert_int_equal(parse_all(a, got, sizeof(got)), ERROR);
    msg = capture_end();
    assert_non_null(strstr(msg, "unknown option '--frobnicate'\n"));
    capture_start();
    assert_int_equal(parse_all(b, got, sizeof(got)), ERROR);
    msg = capture_end();
    assert_non_null(strstr(msg, "unknown option '-x'\n"));
}

static void test_opts_next_missing_value(void **state)
{
    const char *a[] = {"check", "-v", "--policy", NULL};
    const char *b[] = {"check", "-p", NULL};
    char got[512];

    (void)state;
    capture_start();
    assert_int_equal(parse_all(a, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "egressguard test: --policy needs a value\n"));
    capture_start();
    assert_int_equal(parse_all(b, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "egressguard test: -p needs a value\n"));
}

static void test_opts_next_flag_with_value(void **state)
{
    const char *a[] = {"check", "--verbose=yes", NULL};
    const char *b[] = {"check", "-vx", NULL}; /* flags stand alone */
    char got[512];

    (void)state;
    capture_start();
    assert_int_equal(parse_all(a, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "--verbose takes no value (got 'yes')"));
    capture_start();
    assert_int_equal(parse_all(b, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "unknown option '-vx'"));
}

static void test_opts_next_prefix_is_not_a_match(void **state)
{
    /* --output must not swallow --output-file, nor --out match --output. */
    const char *a[] = {"check", "--output-file", "r.txt", NULL};
    const char *b[] = {"check", "--out", "json", NULL};
    char got[512];

    (void)state;
    parse_all(a, got, sizeof(got));
    assert_string_equal(got, "3=r.txt");
    capture_start();
    assert_int_equal(parse_all(b, got, sizeof(got)), ERROR);
    assert_non_null(strstr(capture_end(), "unknown option '--out'"));
}

/* Parses one option so that p->name is set, for the value helpers. */
static void one_option(struct opts *p, const char **argv, int argc)
{
    const char *val;

    opts_init(p, "test", "HELP TEXT\n", table, argc, (char **)argv);
    assert_true(opts_next(p, &val) >= 0);
}

static void test_opts_number(void **state)
{
    const char *argv[] = {"t", "--output", "x", NULL};
    struct opts p;
    long long n = 0;

    (void)state;
    one_option(&p, argv, 3);
    assert_int_equal(opts_number(&p, "30", "seconds", 1, 30, &n), 0);
    assert_int_equal(n, 30);
    assert_int_equal(opts_number(&p, "0", NULL, 0, 5, &n), 0);
    assert_int_equal(n, 0);
    capture_start();
    assert_int_equal(opts_number(&p, "31", "seconds", 1, 30, &n), EXIT_USAGE);
    assert_non_null(strstr(capture_end(), "egressguard test: --output: want a whole number of "
                                          "seconds from 1 to 30, got '31'\n"));
}

static void test_opts_number_rejects_non_numbers(void **state)
{
    static const char *const bad[] = {"",    "3x", "x3", " 3", "+3", "99999999999999999999",
                                      "1.5", "-1"};
    const char *argv[] = {"t", "-o", "x", NULL};
    struct opts p;
    long long n = 7;

    (void)state;
    one_option(&p, argv, 3);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        capture_start();
        assert_int_equal(opts_number(&p, bad[i], NULL, 0, 1000, &n), EXIT_USAGE);
        assert_non_null(strstr(capture_end(), "-o: want a whole number from 0 to 1000"));
        assert_int_equal(n, 7);
    }
}

static void test_opts_choice(void **state)
{
    static const char *const formats[] = {"text", "json", "yaml", NULL};
    const char *argv[] = {"t", "-o", "x", NULL};
    struct opts p;

    (void)state;
    one_option(&p, argv, 3);
    assert_int_equal(opts_choice(&p, "yaml", "format", formats), 2);
    capture_start();
    assert_int_equal(opts_choice(&p, "jsno", "format", formats), -1);
    assert_non_null(strstr(capture_end(), "egressguard test: -o: unknown format 'jsno' (did you "
                                          "mean 'json'?); one of: text, json, yaml\n"));
    capture_start();
    assert_int_equal(opts_choice(&p, "xml", "format", formats), -1);
    assert_non_null(strstr(capture_end(), "-o: unknown format 'xml'; one of: text, json, yaml\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_next_forms),
        cmocka_unit_test(test_opts_next_operands_anywhere),
        cmocka_unit_test(test_opts_next_double_dash_ends_options),
        cmocka_unit_test(test_opts_next_value_may_look_like_an_option),
        cmocka_unit_test(test_opts_next_help),
        cmocka_unit_test(test_opts_next_unknown_long_suggests),
        cmocka_unit_test(test_opts_next_unknown_with_value_suggests),
        cmocka_unit_test(test_opts_next_unknown_far_has_no_suggestion),
        cmocka_unit_test(test_opts_next_missing_value),
        cmocka_unit_test(test_opts_next_flag_with_value),
        cmocka_unit_test(test_opts_next_prefix_is_not_a_match),
        cmocka_unit_test(test_opts_number),
        cmocka_unit_test(test_opts_number_rejects_non_numbers),
        cmocka_unit_test(test_opts_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
