/*
 * The floor of `check` (tests/bench/check.sh): the least a streaming reader of the same manifests
 * can do. It parses the file with libyaml's event API as it reads it, builds each document into a
 * jansson tree (what deciding anything about an object needs) and frees it, and counts the
 * documents. No positions, no checks, no decisions. Usage: floor_stream FILE; prints the count.
 * `floor_stream --json FILE` is the floor of one AdmissionReview instead (tests/bench/peers.sh):
 * the file parsed by jansson into one tree, and freed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 128

struct frame {
    json_t *node;
    char *key;
};

/* Attaches node under the open container (or makes it the root); steals node. */
static int attach(struct frame *stack, int depth, json_t **root, json_t *node)
{
    struct frame *f;
    int rc;

    if (!node)
        return -1;
    if (!depth) {
        json_decref(*root);
        *root = node;
        return 0;
    }
    f = &stack[depth - 1];
    if (json_is_array(f->node))
        return json_array_append_new(f->node, node);
    if (!f->key) {
        json_decref(node);
        return -1;
    }
    rc = json_object_set_new(f->node, f->key, node);
    free(f->key);
    f->key = NULL;
    return rc;
}

int main(int argc, char **argv)
{
    struct frame stack[MAX_DEPTH];
    yaml_parser_t parser;
    yaml_event_t ev;
    json_t *root = NULL;
    FILE *fp;
    long docs = 0;
    int depth = 0, done = 0, rc = 1;

    if (argc == 3 && !strcmp(argv[1], "--json")) {
        json_t *j = json_load_file(argv[2], 0, NULL);

        printf("%s\n", j ? "parsed" : "not JSON");
        json_decref(j);
        return j ? 0 : 1;
    }
    if (argc != 2 || !(fp = fopen(argv[1], "rb"))) {
        fprintf(stderr, "usage: floor_stream [--json] FILE\n");
        return 2;
    }
    if (!yaml_parser_initialize(&parser))
        return 1;
    yaml_parser_set_input_file(&parser, fp);
    while (!done) {
        int r = 0;

        if (!yaml_parser_parse(&parser, &ev))
            goto out;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_END_EVENT:
            docs += root != NULL;
            json_decref(root);
            root = NULL;
            break;
        case YAML_SCALAR_EVENT: {
            const char *v = (const char *)ev.data.scalar.value;
            struct frame *f = depth ? &stack[depth - 1] : NULL;

            if (f && json_is_object(f->node) && !f->key)
                r = (f->key = strdup(v)) ? 0 : -1;
            else
                r = attach(stack, depth, &root, json_stringn(v, ev.data.scalar.length));
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            json_t *n = ev.type == YAML_MAPPING_START_EVENT ? json_object() : json_array();

            if (!n || depth == MAX_DEPTH) {
                r = -1;
                break;
            }
            json_incref(n);
            r = attach(stack, depth, &root, n);
            stack[depth].node = n;
            stack[depth++].key = NULL;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            free(stack[depth].key);
            json_decref(stack[depth].node);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (r < 0)
            goto out;
    }
    printf("%ld documents\n", docs);
    rc = 0;
out:
    while (depth > 0) {
        depth--;
        free(stack[depth].key);
        json_decref(stack[depth].node);
    }
    json_decref(root);
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}
