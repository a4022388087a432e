#include "cnitest.h"

#include <stdlib.h>
#include <string.h>

#include "policy/doc/doc.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

char *cnitest_models(cnitest_reader rd, const char *yaml, struct err *e)
{
    struct doc **docs = NULL;
    struct egress_list l;
    struct object o;
    struct buf b;
    size_t n = 0, i;
    char *text = NULL;

    egress_list_init(&l);
    buf_init(&b, 0);
    if (doc_parse_stream(yaml, strlen(yaml), "t.yaml", &docs, &n, e) < 0 || n == 0)
        goto out;
    object_init(&o, doc_root(docs[0]), docs[0]);
    o.file = "t.yaml";
    o.line = doc_line(docs[0]);
    if (rd(&o, &l, e) < 0)
        goto out;
    for (i = 0; i < l.n; i++)
        egress_model_format(&l.models[i], &b);
    text = buf_detach(&b, NULL);
    if (!text)
        text = calloc(1, 1);
out:
    egress_list_release(&l);
    buf_release(&b);
    for (i = 0; i < n; i++)
        doc_free(docs[i]);
    free(docs);
    return text;
}

void cnitest_expect_models(cnitest_reader rd, const char *yaml, const char *want)
{
    struct err e = {0};
    char *got = cnitest_models(rd, yaml, &e);

    if (!got)
        fail_msg("unexpected error %d:%d %s", e.line, e.col, e.msg);
    assert_string_equal(got, want);
    free(got);
}

void cnitest_expect_error(cnitest_reader rd, const char *yaml, int line, int col, const char *msg)
{
    struct err e = {0};
    char *got = cnitest_models(rd, yaml, &e);

    if (got)
        fail_msg("expected an error, got models:\n%s", got);
    assert_string_equal(e.msg, msg);
    assert_int_equal(e.line, line);
    assert_int_equal(e.col, col);
}
