/* realpath() is XSI, beyond the POSIX base the Makefile asks for. */
#define _XOPEN_SOURCE 700

#include "server/cmd/outfile.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool same_file(const struct stat *a, const char *path)
{
    struct stat b;

    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/*
 * The canonical path `out` would have: its directory resolved (it must exist for the report to
 * be written at all), its name kept. 0, or -1 when the directory does not resolve.
 */
static int canonical(const char *out, char *buf, size_t size)
{
    const char *slash = strrchr(out, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    int n;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash == out ? 1 : slash - out), out);
    if (!realpath(dir, real))
        return -1;
    n = snprintf(buf, size, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : out);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Would the manifest reader, reading directory `dir` (canonical), read the file `path`
 * (canonical)? It reads *.yaml, *.yml and *.json below it and skips hidden entries.
 */
static bool read_from_dir(const char *dir, const char *path)
{
    size_t n = strlen(dir), len = strlen(path);
    const char *rest;

    if (strncmp(path, dir, n) || (path[n] != '/' && strcmp(dir, "/")))
        return false;
    rest = strcmp(dir, "/") ? path + n : path;
    if (strstr(rest, "/."))
        return false;
    return (len > 5 && !strcmp(path + len - 5, ".yaml")) ||
           (len > 4 && !strcmp(path + len - 4, ".yml")) ||
           (len > 5 && !strcmp(path + len - 5, ".json"));
}

int outfile_check(const char *out, const char *policy, char *const *inputs, size_t n, struct err *e)
{
    char path[PATH_MAX], dir[PATH_MAX];
    struct stat st;

    if (!strcmp(out, "-"))
        return 0;
    if (stat(out, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return err_set(e, "--output-file %s is a directory", out);
        if (policy && same_file(&st, policy))
            return err_set(e, "--output-file %s is the policy file", out);
        for (size_t i = 0; i < n; i++)
            if (strcmp(inputs[i], "-") && same_file(&st, inputs[i]))
                return err_set(e, "--output-file %s is the input %s", out, inputs[i]);
    }
    if (canonical(out, path, sizeof(path)) < 0)
        return 0; /* no such directory: opening it will say so */
    for (size_t i = 0; i < n; i++) {
        struct stat in;

        if (!strcmp(inputs[i], "-") || stat(inputs[i], &in) < 0 || !S_ISDIR(in.st_mode) ||
            !realpath(inputs[i], dir))
            continue;
        if (read_from_dir(dir, path))
            return err_set(e,
                           "--output-file %s is inside the input directory %s, where the next "
                           "run would read it as a manifest",
                           out, inputs[i]);
    }
    return 0;
}
