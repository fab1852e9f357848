/* cli.c - shared helpers of the subcommands: one-line errors, number
 * parsing, finding the default model, loading a data set split. */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"

static const char *program = "glimpse";

void cli_set_program(const char *name) { program = name; }

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_report(const GlmError *err)
{
    cli_error("%s", err->msg);
    return glm_exit_code(err->code ? err->code : GLM_EIO);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "glimpse %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'glimpse help %s')\n", cmd);
    return 2;
}

int cli_parse_int(const char *name, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_error("%s: '%s' is not an integer in [%ld, %ld]", name, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_float(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        cli_error("%s: '%s' is not a number in [%g, %g]", name, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_default_model(char *buf, size_t size, const char *name)
{
    const char *env = getenv("GLIMPSE_MODEL");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return 1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, size, "no model given, $GLIMPSE_MODEL unset and the binary's directory unknown");
        return 0;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    const char *rel[] = {"../models", "../share/glimpse/models"};
    for (int i = 0; i < 2; i++) {
        snprintf(buf, size, "%s/%s/%s", exe, rel[i], name);
        if (access(buf, R_OK) == 0) return 1;
    }
    snprintf(buf, size, "no model given and no %s in $GLIMPSE_MODEL, %s/../models or %s/../share/glimpse/models",
             name, exe, exe);
    return 0;
}

int cli_load_split(Dataset *out, const CliData *d, const char *split, int allow_empty, int *empty)
{
    GlmError err = {0};
    int rc, k = !strcmp(split, "train") ? 0 : !strcmp(split, "val") ? 1 : 2;
    if (empty) *empty = 0;
    if (d->data_dir) {
        rc = dataset_load_dir(out, d->data_dir, split, d->strict, &err);
    } else {
        /* No list: every image, except for an optional split (validation). */
        if (!d->lists[k] && allow_empty) {
            if (empty) *empty = 1;
            return GLM_OK;
        }
        rc = dataset_load_captions(out, d->captions, d->images, d->lists[k], d->strict, &err);
    }
    if (rc) {
        if (allow_empty && rc == GLM_EINPUT && strstr(err.msg, "no usable image")) {
            if (empty) *empty = 1;
            return GLM_OK;
        }
        cli_error("%s", err.msg);
        return rc;
    }
    for (int i = 0; i < out->n_messages; i++) cli_error("warning: %s", out->messages[i]);
    char line[512];
    if (dataset_skip_summary(line, sizeof line, out)) cli_error("%s: %s", split, line);
    return GLM_OK;
}

int cli_load_objects(SceneObjectSet *out, const CliData *d, int *have)
{
    *have = 0;
    if (!d->data_dir) return GLM_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/objects.tsv", d->data_dir);
    if (access(path, F_OK) != 0) return GLM_OK;
    GlmError err = {0};
    int rc = scene_objects_load(out, d->data_dir, &err);
    if (rc) return cli_error("%s", err.msg), rc;
    *have = 1;
    return GLM_OK;
}

int cli_can_create(const char *path)
{
    char copy[4096];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
        cli_error("%s: path too long", path);
        return 0;
    }
    const char *dir = dirname(copy);
    if (access(dir, W_OK) != 0) {
        cli_error("%s: cannot write there: %s: %s", path, dir, strerror(errno));
        return 0;
    }
    return 1;
}
