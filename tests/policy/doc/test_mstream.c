/*
 * The streaming manifest reader: what a sink is told, in which order, and what it is told to take
 * back. A recording sink writes every event as a line: "obj SEQ KIND NAME line L", "retract SEQ",
 * "err FILE:LINE:COL: MSG".
 */
#include "policy/doc/mstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/base/buf.h"
#include "policy/doc/manifest.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

struct rec {
    struct buf log;
    size_t items_alone; /* objects whose doc holds only them (a List item streamed out) */
    unsigned wanted;    /* on a replay: the numbers the sink wants (bit seq) */
};

static int on_object(void *cls, size_t seq, const struct object *obj, bool *keep)
{
    struct rec *r = cls;

    (void)keep;
    buf_printf(&r->log, "obj %zu %s %s line %d\n", seq, obj->kind, obj->name, obj->line);
    r->items_alone += doc_root(obj->doc) == obj->json;
    return 0;
}

static int on_retract(void *cls, size_t seq)
{
    struct rec *r = cls;

    buf_printf(&r->log, "retract %zu\n", seq);
    return 0;
}

static int on_error(void *cls, const struct err *e)
{
    struct rec *r = cls;
    char text[700];

    err_format(e, text, sizeof(text));
    buf_printf(&r->log, "err %s\n", text);
    return 0;
}

static const struct manifest_sink sink = {
    .object = on_object, .retract = on_retract, .error = on_error, .keeps_all = false};

static bool on_wants(void *cls, size_t from, size_t to)
{
    struct rec *r = cls;
    bool want = false;

    for (size_t i = from; i < to; i++)
        want = want || (r->wanted >> i & 1u);
    buf_printf(&r->log, "wants %zu %zu: %s\n", from, to, want ? "yes" : "no");
    return want;
}

static const struct manifest_sink replay_sink = {.object = on_object,
                                                 .retract = on_retract,
                                                 .error = on_error,
                                                 .keeps_all = false,
                                                 .wants = on_wants};

/* Reads text as in.yaml, then replays it wanting the numbers of `wanted`; the replay's events. */
static void replay_text(const char *text, unsigned wanted, struct rec *r)
{
    struct manifest_stream *s = manifest_stream_new(&replay_sink, r);

    assert_non_null(s);
    buf_init(&r->log, 0);
    r->wanted = wanted;
    assert_int_equal(manifest_stream_read_buffer(s, text, strlen(text), "in.yaml"), 0);
    buf_reset(&r->log);
    manifest_stream_replay(s);
    assert_int_equal(manifest_stream_read_buffer(s, text, strlen(text), "in.yaml"), 0);
    manifest_stream_free(s);
}

/* Reads text as file in.yaml; the events as text. */
static void read_text(const char *text, struct rec *r)
{
    struct manifest_stream *s = manifest_stream_new(&sink, r);

    assert_non_null(s);
    buf_init(&r->log, 0);
    r->items_alone = 0;
    assert_int_equal(manifest_stream_read_buffer(s, text, strlen(text), "in.yaml"), 0);
    manifest_stream_free(s);
}

static void expect(struct rec *r, const char *want)
{
    assert_string_equal(buf_str(&r->log), want);
    buf_release(&r->log);
}

/* kubectl's order: the List's kind after its items, which have their own. Each streams out. */
static void test_mstream_kubectl_list_streams_its_items(void **state)
{
    struct rec r;

    (void)state;
    read_text("apiVersion: v1\nitems:\n"
              "- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n"
              "- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n"
              "kind: List\nmetadata: {resourceVersion: \"\"}\n",
              &r);
    assert_int_equal(r.items_alone, 2);
    expect(&r, "obj 0 Pod a line 3\nobj 1 Pod b line 4\n");
}

/* A typed List whose kind comes after its items: items without a kind wait for it. */
static void test_mstream_items_wait_for_the_list_kind(void **state)
{
    struct rec r;

    (void)state;
    read_text("apiVersion: networking.k8s.io/v1\nitems:\n"
              "- metadata: {name: n1}\n"
              "- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n"
              "- metadata: {name: n2}\n"
              "kind: NetworkPolicyList\n---\n"
              "apiVersion: v1\nkind: Pod\nmetadata: {name: after}\n",
              &r);
    /* Numbers keep the input order even when the held items come last. */
    expect(&r, "obj 1 Pod p line 4\nobj 0 NetworkPolicy n1 line 3\nobj 2 NetworkPolicy n2 line 5\n"
               "obj 3 Pod after line 8\n");
}

/* A root `items` list in what is no List: the items are taken back, the document is one object. */
static void test_mstream_items_of_a_non_list_taken_back(void **state)
{
    struct rec r;
    struct manifest *m;

    (void)state;
    read_text("apiVersion: v1\nkind: Pod\nmetadata: {name: first}\n---\n"
              "apiVersion: example.com/v1\nitems:\n"
              "- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n"
              "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"
              "kind: Widget\nmetadata: {name: w}\n",
              &r);
    expect(&r, "obj 0 Pod first line 1\nobj 1 Pod a line 7\nobj 2 Pod b line 8\nretract 1\n"
               "obj 1 Widget w line 5\n");
    /* The manifest reader, which keeps everything, ends up with the two objects. */
    m = manifest_new();
    assert_non_null(m);
    assert_int_equal(manifest_read_buffer(m, "apiVersion: x/v1\nitems: [{kind: Pod}]\nkind: W\n",
                                          45, "w.yaml"),
                     0);
    assert_int_equal(manifest_n_objects(m), 1);
    assert_string_equal(manifest_object(m, 0)->kind, "W");
    assert_int_equal(json_array_size(json_object_get(manifest_object(m, 0)->json, "items")), 0);
    manifest_free(m);
}

/* A file that does not parse is one error: what was read of it is taken back. */
static void test_mstream_broken_file_taken_back(void **state)
{
    struct rec r;

    (void)state;
    read_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n"
              "kind: List\nitems:\n- metadata: {name: x}\n"
              "- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n---\n"
              "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n",
              &r);
    /* The item error of the List ("list item has no kind") went with the file. */
    expect(&r, "obj 0 Pod a line 1\nobj 1 Pod b line 8\nretract 0\n"
               "err in.yaml:13:1: did not find expected ',' or ']' while parsing a flow "
               "sequence\n");
}

/* Standard input is read again, from its copy, with the same numbers. */
static void test_mstream_stdin_read_twice(void **state)
{
    struct rec r;
    struct manifest_stream *s;
    char first[400];
    FILE *in = tmpfile();

    (void)state;
    assert_non_null(in);
    fputs("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: List\napiVersion: v1\n"
          "items: [{kind: Pod, metadata: {name: b}}]\n",
          in);
    rewind(in);
    assert_int_equal(dup2(fileno(in), fileno(stdin)), 0);
    s = manifest_stream_new(&sink, &r);
    assert_non_null(s);
    buf_init(&r.log, 0);
    assert_int_equal(manifest_stream_read(s, "-"), 0);
    snprintf(first, sizeof(first), "%s", buf_str(&r.log));
    assert_string_equal(first, "obj 0 Pod a line 1\nobj 1 Pod b line 7\n");
    buf_reset(&r.log);
    manifest_stream_number_from(s, 0);
    assert_int_equal(manifest_stream_read(s, "-"), 0);
    assert_string_equal(buf_str(&r.log), first);
    buf_release(&r.log);
    manifest_stream_free(s);
    fclose(in);
}

/*
 * A replay builds only the documents holding a number the sink wants, a List's items as one
 * document, and numbers them as the first reading did (an empty document gives none).
 */
static void test_mstream_replay_passes_over_unwanted_documents(void **state)
{
    static const char text[] = "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n"
                               "---\nkind: List\napiVersion: v1\n"
                               "items: [{kind: Pod, apiVersion: v1, metadata: {name: b}},\n"
                               "        {kind: Pod, apiVersion: v1, metadata: {name: c}}]\n"
                               "---\n# nothing\n"
                               "---\nkind: Pod\napiVersion: v1\nmetadata: {name: d}\n";
    struct rec r;

    (void)state;
    replay_text(text, 1u << 2 | 1u << 3, &r);
    expect(&r, "wants 0 1: no\n"
               "wants 1 3: yes\n"
               "obj 1 Pod b line 7\n"
               "obj 2 Pod c line 8\n"
               "wants 3 3: no\n"
               "wants 3 4: yes\n"
               "obj 3 Pod d line 12\n");
    replay_text(text, 0, &r);
    expect(&r, "wants 0 1: no\nwants 1 3: no\nwants 3 3: no\nwants 3 4: no\n");
}

/* A file that took its numbers back (it does not parse) is replayed in full, sink not asked. */
static void test_mstream_replay_of_a_broken_file_reads_it_all(void **state)
{
    static const char text[] = "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n"
                               "---\nkind: Pod\n  bad: [\n";
    struct rec r;
    char first[700];
    struct manifest_stream *s = manifest_stream_new(&replay_sink, &r);

    (void)state;
    assert_non_null(s);
    buf_init(&r.log, 0);
    r.wanted = 0;
    assert_int_equal(manifest_stream_read_buffer(s, text, strlen(text), "in.yaml"), 0);
    snprintf(first, sizeof(first), "%s", buf_str(&r.log));
    assert_non_null(strstr(first, "obj 0 Pod a line 1\nretract 0\nerr in.yaml:"));
    buf_reset(&r.log);
    manifest_stream_replay(s);
    assert_int_equal(manifest_stream_read_buffer(s, text, strlen(text), "in.yaml"), 0);
    /* the error was told by the first reading */
    assert_string_equal(buf_str(&r.log), "obj 0 Pod a line 1\nretract 0\n");
    buf_release(&r.log);
    manifest_stream_free(s);
}

/*
 * Replays a file: writes text to a temporary file, reads it, overwrites its bytes from `tail`
 * on with '#' (a comment to the end of the file: a replay that reads that far sees no more
 * documents), replays wanting `wanted`. The replay's events.
 */
static void replay_file(const char *text, const char *tail, unsigned wanted, struct rec *r)
{
    char path[] = "/tmp/test_mstream_XXXXXX";
    int fd = mkstemp(path);
    size_t at = tail ? (size_t)(strstr(text, tail) - text) : strlen(text);
    struct manifest_stream *s = manifest_stream_new(&replay_sink, r);
    FILE *f;

    assert_true(fd >= 0);
    assert_non_null(s);
    assert_non_null(f = fdopen(fd, "w"));
    fputs(text, f);
    fclose(f);
    buf_init(&r->log, 0);
    r->wanted = wanted;
    assert_int_equal(manifest_stream_read(s, path), 0);
    buf_reset(&r->log);
    assert_non_null(f = fopen(path, "r+"));
    fseek(f, (long)at, SEEK_SET);
    for (size_t i = at; i < strlen(text); i++)
        fputc(text[i] == '\n' ? '\n' : '#', f);
    fclose(f);
    manifest_stream_replay(s);
    assert_int_equal(manifest_stream_read(s, path), 0);
    manifest_stream_free(s);
    unlink(path);
}

/*
 * A file's wanted documents are read again from where they start, with their positions, and
 * the rest of the file is not read: the document after them, overwritten, still counts.
 */
static void test_mstream_replay_reads_wanted_documents_in_place(void **state)
{
    static const char text[] = "# leading comment\n"
                               "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n"
                               "---\nkind: List\napiVersion: v1\n"
                               "items: [{kind: Pod, apiVersion: v1, metadata: {name: b}},\n"
                               "        {kind: Pod, apiVersion: v1, metadata: {name: c}}]\n"
                               "---\nkind: Pod\napiVersion: v1\nmetadata: {name: d}\n";
    struct rec r;
    char *log;

    (void)state;
    replay_file(text, "---\nkind: Pod", 1u << 1, &r);
    log = buf_detach(&r.log, NULL);
    assert_string_equal(log, "wants 0 1: no\n"
                             "wants 1 3: yes\n"
                             "obj 1 Pod b line 8\n"
                             "obj 2 Pod c line 9\n"
                             "wants 3 4: no\n");
    free(log);
}

/*
 * A byte that is not ASCII before a document: libyaml counts characters, so its offset is not
 * known, and the file is parsed whole again (the overwritten tail then reads as comments).
 */
static void test_mstream_replay_after_non_ascii_parses_whole_file(void **state)
{
    static const char text[] = "kind: Pod\napiVersion: v1\n"
                               "metadata: {name: a, labels: {x: \"\xc3\xa9\"}}\n"
                               "---\nkind: Pod\napiVersion: v1\nmetadata: {name: b}\n"
                               "---\nkind: Pod\napiVersion: v1\nmetadata: {name: c}\n";
    struct rec r;
    char *log;

    (void)state;
    replay_file(text, "---\nkind: Pod\napiVersion: v1\nmetadata: {name: c}", 1u << 1 | 1u << 2,
                &r);
    log = buf_detach(&r.log, NULL);
    assert_string_equal(log, "wants 0 1: no\n"
                             "wants 1 2: yes\n"
                             "obj 1 Pod b line 5\n");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mstream_kubectl_list_streams_its_items),
        cmocka_unit_test(test_mstream_items_wait_for_the_list_kind),
        cmocka_unit_test(test_mstream_items_of_a_non_list_taken_back),
        cmocka_unit_test(test_mstream_broken_file_taken_back),
        cmocka_unit_test(test_mstream_stdin_read_twice),
        cmocka_unit_test(test_mstream_replay_passes_over_unwanted_documents),
        cmocka_unit_test(test_mstream_replay_of_a_broken_file_reads_it_all),
        cmocka_unit_test(test_mstream_replay_reads_wanted_documents_in_place),
        cmocka_unit_test(test_mstream_replay_after_non_ascii_parses_whole_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
