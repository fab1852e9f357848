/* cli.c - shared helpers of the subcommands: one-line errors, number
 * parsing, finding the default model, loading a data set split. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "dataset_labels.h"
#include "evaluate.h"
#include "pool.h"

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
    if (cmd) fprintf(stderr, "%s %s: ", program, cmd);
    else fprintf(stderr, "%s: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd) fprintf(stderr, " (try '%s help %s')\n", program, cmd);
    else fprintf(stderr, " (try '%s --help')\n", program);
    return 2;
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (opt == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt > 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
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

int cli_load_model(Model *m, const char **path, char *found, size_t cap, const char *name)
{
    if (!*path) {
        if (!cli_default_model(found, cap, name)) {
            cli_error("%s", found);
            return 2;
        }
        *path = found;
    }
    GlmError err;
    return model_load(m, *path, &err) ? cli_report(&err) : 0;
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

/* The skip warnings of a load (the first ones, then a summary). */
static void print_skips(const Dataset *out, const char *what)
{
    for (int i = 0; i < out->n_messages; i++) cli_error("warning: %s", out->messages[i]);
    char line[512];
    if (dataset_skip_summary(line, sizeof line, out)) cli_error("%s: %s", what, line);
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
    print_skips(out, split);
    return GLM_OK;
}

int cli_load_labels(Dataset *out, DatasetObjects *objs, const CliData *d)
{
    GlmError err = {0};
    int rc = dataset_labels_load(out, objs, d->labels, d->images, d->lists[2], d->strict, &err);
    if (rc) return cli_error("%s", err.msg), rc;
    print_skips(out, d->labels);
    return GLM_OK;
}

int cli_check_boxes(const DatasetObjects *objs, const Dataset *d, const int *sizes, const char *src)
{
    GlmError err = {0};
    for (int i = 0; i < d->n_images; i++)
        if (dataset_objects_check_size(objs, d->images[i].name, sizes[2 * i], sizes[2 * i + 1], src, &err))
            return cli_report(&err), GLM_EINPUT;
    return GLM_OK;
}

int cli_default_threads(void) { return GLM_MIN(pool_online_cores(), CLI_MAX_DEFAULT_THREADS); }

int cli_split_features(float **x, int **sizes, Dataset *d, const CliData *cd, const FeatConfig *cfg, const char *split,
                       void (*progress)(void *ctx, int done, int total), void *ctx)
{
    const int msgs = d->n_messages, skipped = dataset_n_skipped(d);
    GlmError err = {0};
    const int rc = eval_features(x, sizes, d, cfg, cd->strict, cd->threads, progress, ctx, &err);
    if (rc) return cli_report(&err), rc;
    for (int i = msgs; i < d->n_messages; i++) cli_error("warning: %s", d->messages[i]);
    if (dataset_n_skipped(d) > skipped)
        cli_error("%s: %d unreadable image%s skipped (--strict makes that an error)", split,
                  dataset_n_skipped(d) - skipped, dataset_n_skipped(d) - skipped == 1 ? "" : "s");
    return GLM_OK;
}

int cli_load_objects(DatasetObjects *out, const CliData *d, int *have)
{
    *have = 0;
    if (!d->data_dir) return GLM_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/objects.tsv", d->data_dir);
    if (access(path, F_OK) != 0) return GLM_OK;
    GlmError err = {0};
    int rc = dataset_objects_load(out, d->data_dir, &err);
    if (rc) return cli_error("%s", err.msg), rc;
    *have = 1;
    return GLM_OK;
}

int cli_can_create(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("%s: is a directory", path);
        return 0;
    }
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

int cli_can_create_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        cli_error("%s: not a regular file (a device, FIFO or socket); give a file path", path);
        return 0;
    }
    return cli_can_create(path);
}

int cli_feature_option(FeatConfig *c, int opt, const char *arg)
{
    static const struct {
        int opt;
        const char *name;
        long lo, hi;
        size_t off;
    } table[] = {
        {CLI_O_INPUT, "--input", 8, 1024, offsetof(FeatConfig, input)},
        {CLI_O_GRID, "--grid", 1, 32, offsetof(FeatConfig, grid)},
        {CLI_O_WINDOW, "--window", 2, 1024, offsetof(FeatConfig, window)},
        {CLI_O_STRIDE, "--stride", 1, 1024, offsetof(FeatConfig, stride)},
        {CLI_O_PATCH, "--patch", 1, 32, offsetof(FeatConfig, patch)},
        {CLI_O_HOG, "--hog-cells", 1, 64, offsetof(FeatConfig, hog_cells)},
        {CLI_O_COLOR, "--color-levels", 1, 8, offsetof(FeatConfig, color_levels)},
        {CLI_O_RECENTRE, "--recentre", 0, 1024, offsetof(FeatConfig, recentre)},
        {CLI_O_FIGURE, "--figure", 0, 1, offsetof(FeatConfig, figure)},
        {CLI_O_KEEP_ASPECT, "--keep-aspect", 0, 1, offsetof(FeatConfig, keep_aspect)},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].opt != opt) continue;
        long v;
        if (!cli_parse_int(table[i].name, arg, table[i].lo, table[i].hi, &v)) return -1;
        *(int *)((char *)c + table[i].off) = (int)v;
        return 1;
    }
    return 0;
}

void cli_feature_help(const FeatConfig *d)
{
    printf("  --input PX            picture side after resizing (default %d)\n"
           "  --grid G              regions per side, L = G*G (default %d)\n"
           "  --window PX           region window side (default %d)\n"
           "  --stride PX           distance between windows (default %d)\n"
           "  --patch P             grey patch cells per side (default %d)\n"
           "  --hog-cells N         orientation-histogram cells per side (default %d)\n"
           "  --color-levels Q      colour histogram levels per channel (default %d)\n"
           "  --recentre PX         read the shape blocks (hog, patch) from the window moved\n"
           "                        onto its edge centroid, at most PX pixels; 0 keeps them\n"
           "                        on the window (default %d; src/features.h)\n"
           "  --figure 0|1          1: the blocks are read from how far each pixel stands from the\n"
           "                        picture's background (any background, either polarity, any\n"
           "                        contrast); 0: from grey levels, as feature version 3 (default %d)\n"
           "  --keep-aspect 0|1     1: pad a picture that is not square with its own background\n"
           "                        before resizing; 0: stretch it (default %d)\n",
           d->input, d->grid, d->window, d->stride, d->patch, d->hog_cells, d->color_levels, d->recentre, d->figure,
           d->keep_aspect);
}
