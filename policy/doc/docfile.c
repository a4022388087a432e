#include "policy/doc/docfile.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* What libyaml reads from a file: counted against DOC_MAX_BYTES, sniffed for "{{", up to end. */
struct file_input {
    FILE *fp;
    size_t total;
    size_t end;        /* read no further than this offset (SIZE_MAX: to the end) */
    size_t first_high; /* offset of the first byte >= 0x80 (SIZE_MAX: none yet) */
    bool over, failed, template_seen;
    char last;
};

static int read_file(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
    struct file_input *in = data;
    size_t n;

    if (in->end - in->total < size)
        size = in->end - in->total;
    n = size ? fread(buffer, 1, size, in->fp) : 0;
    if (!n && ferror(in->fp)) {
        in->failed = true;
        return 0;
    }
    if (n && !in->template_seen) {
        const unsigned char *p = buffer, *end = buffer + n;

        in->template_seen = in->last == '{' && buffer[0] == '{';
        while (!in->template_seen && (p = memchr(p, '{', (size_t)(end - p))) && p + 1 < end)
            in->template_seen = *++p == '{';
        in->last = (char)buffer[n - 1];
    }
    if (in->first_high == SIZE_MAX)
        for (size_t i = 0; i < n; i++)
            if (buffer[i] & 0x80) {
                in->first_high = in->total + i;
                break;
            }
    in->total += n;
    if (in->total > DOC_MAX_BYTES) {
        in->over = true;
        return 0;
    }
    *size_read = n;
    return 1;
}

int doc_stream_file(FILE *fp, const char *file, const struct doc_sink *sink, void *cls,
                    struct err *e)
{
    struct file_input in = {.fp = fp, .first_high = SIZE_MAX, .end = SIZE_MAX};
    struct doc_run_opts o = {.file = file, .template_seen = &in.template_seen,
                             .first_high = &in.first_high};
    yaml_parser_t parser;
    struct stat st;
    int rc;

    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > (off_t)DOC_MAX_BYTES)
        return doc_too_large(e, file, (size_t)st.st_size);

    if (!yaml_parser_initialize(&parser))
        return err_set(e, "out of memory");
    yaml_parser_set_input(&parser, read_file, &in);
    rc = doc_run(&parser, &o, sink, cls, e);
    yaml_parser_delete(&parser);
    if (rc < 0 && in.over)
        return doc_too_large(e, file, in.total);
    if (rc < 0 && in.failed) {
        err_set(e, "cannot read: %s", strerror(errno));
        return err_at(e, file, 0, 0);
    }
    return rc;
}

int doc_stream_file_at(FILE *fp, const char *file, const struct doc_start *at, long end,
                       const struct doc_sink *sink, void *cls, struct err *e)
{
    /* first_high: no need to look for non-ASCII bytes (skip is not asked) */
    struct file_input in = {.fp = fp, .first_high = 0, .end = end < 0 ? SIZE_MAX : (size_t)end};
    struct doc_run_opts o = {.file = file, .template_seen = &in.template_seen, .one_doc = true};
    yaml_parser_t parser;
    int rc;

    if (at->offset < 0 || fseek(fp, at->offset, SEEK_SET) < 0) {
        err_set(e, "cannot read: %s", at->offset < 0 ? "no known offset" : strerror(errno));
        return err_at(e, file, (int)at->line + 1, 0);
    }
    in.total = (size_t)at->offset;
    if (!yaml_parser_initialize(&parser))
        return err_set(e, "out of memory");
    yaml_parser_set_input(&parser, read_file, &in);
    /* libyaml counts from here as it did from the file's start (lines, columns, characters) */
    parser.mark.line = at->line;
    parser.mark.index = (size_t)at->offset;
    rc = doc_run(&parser, &o, sink, cls, e);
    yaml_parser_delete(&parser);
    if (rc < 0 && in.failed) {
        err_set(e, "cannot read: %s", strerror(errno));
        return err_at(e, file, 0, 0);
    }
    return rc;
}
