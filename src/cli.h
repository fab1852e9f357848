/* cli.h - what the glimpse subcommands share.
 *
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` in src/cmd_NAME.c,
 * with argv[0] == "NAME"; it parses its own options with getopt_long, prints
 * its --help (every option with its default) to stdout, and returns the exit
 * status: 0 ok, 1 runtime failure, 2 usage error or bad input. It is listed
 * in the command table in main.c.
 */
#ifndef GLIMPSE_CLI_H
#define GLIMPSE_CLI_H

#include "common.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "features.h"
#include "model.h"

/* The beam width of caption, eval and glimpse-heatmap: one default, so that
 * eval's scores describe what caption prints and the heatmap shows it. */
#define CLI_DEFAULT_BEAM 3

/* The name errors start with: "glimpse" unless a tool sets its own. */
void cli_set_program(const char *name);
/* Prints "glimpse: " (the program name) + message + newline to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "glimpse: <err->msg>" and returns glm_exit_code(err->code). */
int cli_report(const GlmError *err);
/* Parses a whole decimal integer / float in [lo, hi]; on failure prints
 * "glimpse: NAME: ..." and returns 0, else 1. */
int cli_parse_int(const char *name, const char *s, long lo, long hi, long *out);
int cli_parse_float(const char *name, const char *s, double lo, double hi, double *out);
/* Usage error: prints the message and "try 'glimpse help CMD'" (cmd NULL,
 * for a tool: "try 'PROGRAM --help'"); returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The default case of a getopt_long loop: one line naming the option that
 * was unknown, or that lacks its value; returns 2. Commands set opterr = 0
 * (so getopt prints nothing itself) and start the option string with ':'
 * (so a missing value comes back as ':'). */
int cli_bad_option(const char *cmd, int opt, char **argv);

/* Finds the shipped model NAME (e.g. "shapes.glm") for commands run without
 * --model. Looks, in order, at $GLIMPSE_MODEL (a file path, used as is),
 * <dir of the binary>/../models/NAME (the build tree) and
 * <dir of the binary>/../share/glimpse/models/NAME (an install prefix).
 * Writes the first existing path into buf and returns 1; returns 0 and
 * leaves in buf a message listing where it looked, when none exists. */
int cli_default_model(char *buf, size_t size, const char *name);
/* Loads *m from *path, or, when *path is NULL, from the default model NAME
 * as cli_default_model finds it, written into found (cap bytes) and *path
 * pointed at it, so the command can name the file it loaded. 0 when
 * loaded; otherwise the reason is printed and the command's exit status
 * returned (2 none found or a bad file, 1 an I/O failure). */
int cli_load_model(Model *m, const char **path, char *found, size_t cap, const char *name);

/* 1 when a file can be written at path (it is not a directory, and its
 * directory exists and is writable); else prints "glimpse: PATH: reason"
 * and returns 0. Commands call it for every output before long work, so a
 * typo costs no training time. */
int cli_can_create(const char *path);
/* The same for an output that must be a regular file (a model and its
 * checkpoint: MODEL.ckpt beside a device makes no sense): an existing
 * device, FIFO or socket there is refused too. */
int cli_can_create_file(const char *path);

/* The region-feature options (features.h), one set for every command that
 * takes them (train, regions): add CLI_FEATURE_OPTIONS to the getopt table
 * and let cli_feature_option handle its values. */
enum {
    CLI_O_INPUT = 900, CLI_O_GRID, CLI_O_WINDOW, CLI_O_STRIDE, CLI_O_PATCH, CLI_O_HOG, CLI_O_COLOR,
    CLI_O_RECENTRE, CLI_O_FIGURE, CLI_O_KEEP_ASPECT,
};
#define CLI_FEATURE_OPTIONS                                                                          \
    {"input", 1, 0, CLI_O_INPUT}, {"grid", 1, 0, CLI_O_GRID}, {"window", 1, 0, CLI_O_WINDOW},        \
    {"stride", 1, 0, CLI_O_STRIDE}, {"patch", 1, 0, CLI_O_PATCH}, {"hog-cells", 1, 0, CLI_O_HOG},    \
    {"color-levels", 1, 0, CLI_O_COLOR}, {"recentre", 1, 0, CLI_O_RECENTRE},                         \
    {"figure", 1, 0, CLI_O_FIGURE}, {"keep-aspect", 1, 0, CLI_O_KEEP_ASPECT}
/* For a getopt value: 0 when it is not a feature option; 1 when it was and
 * *c took its value; -1 (message printed) when the value is out of range. */
int cli_feature_option(FeatConfig *c, int opt, const char *arg);
/* The --help lines of those options, with the defaults d. */
void cli_feature_help(const FeatConfig *d);

/* Where a command's captioned images come from: --data DIR (the glimpse
 * data set format, with a split), or --captions FILE --images DIR with an
 * optional split list (Flickr8k token file or COCO JSON), or (eval only)
 * --labels FILE --images DIR (a labels file, dataset_labels.h). */
/* The default --threads of eval and caption (whose output does not depend
 * on it): the online cores, at most CLI_MAX_DEFAULT_THREADS. */
#define CLI_MAX_DEFAULT_THREADS 8
int cli_default_threads(void);

typedef struct {
    const char *data_dir;
    const char *captions, *images;
    const char *labels;
    const char *lists[3];   /* train, val, test split lists for --captions */
    int strict;
    int threads;            /* workers for the region features (0 or 1: one) */
} CliData;

/* Loads one split ("train", "val", "test") per d, printing the skip
 * warnings (at most the first ones, then a summary) on stderr. Returns
 * GLM_OK, or an error code after printing the error. *empty is set (and
 * GLM_OK returned) when allow_empty and the split has no images (or, for
 * --captions, no list for it); without allow_empty a missing list means
 * every image of the caption file. */
int cli_load_split(Dataset *out, const CliData *d, const char *split, int allow_empty, int *empty);

/* The region vectors of a loaded split (eval_features): an image that
 * turns out unreadable is skipped with a warning, like a missing one at
 * load time, unless d->strict; then, and on any other failure, the error
 * is printed and its code returned. */
int cli_split_features(float **x, int **sizes, Dataset *d, const CliData *cd, const FeatConfig *cfg, const char *split,
                       void (*progress)(void *ctx, int done, int total), void *ctx);

/* For --data DIR with an objects.tsv (a generated data set): loads the
 * ground truth into *out and sets *have; else *have = 0. Prints the error
 * and returns its code on failure. */
int cli_load_objects(DatasetObjects *out, const CliData *d, int *have);

/* For --labels FILE --images DIR: the images (restricted to d->lists[2]
 * when given) and their objects, with the skip warnings printed as by
 * cli_load_split. Prints the error and returns its code on failure. */
int cli_load_labels(Dataset *out, DatasetObjects *objs, const CliData *d);

/* Checks that every object box of the loaded images fits its picture
 * (sizes as from cli_split_features; dataset_objects_check_size). src is
 * the file the objects came from, for the message. Prints the error and
 * returns GLM_EINPUT on the first that does not. */
int cli_check_boxes(const DatasetObjects *objs, const Dataset *d, const int *sizes, const char *src);

int cmd_regions(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_caption(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_meta(int argc, char **argv);

#endif
