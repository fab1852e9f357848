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
#include "scenes.h"

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
/* Usage error: prints the message and "try 'glimpse help CMD'"; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Finds the shipped model NAME (e.g. "shapes.glm") for commands run without
 * --model. Looks, in order, at $GLIMPSE_MODEL (a file path, used as is),
 * <dir of the binary>/../models/NAME (the build tree) and
 * <dir of the binary>/../share/glimpse/models/NAME (an install prefix).
 * Writes the first existing path into buf and returns 1; returns 0 and
 * leaves in buf a message listing where it looked, when none exists. */
int cli_default_model(char *buf, size_t size, const char *name);

/* 1 when a file can be created at path (its directory exists and is
 * writable); else prints "glimpse: PATH: reason" and returns 0. Commands
 * call it before long work, so a typo costs no training time. */
int cli_can_create(const char *path);

/* Where a command's captioned images come from: --data DIR (the glimpse
 * data set format, with a split), or --captions FILE --images DIR with an
 * optional split list (Flickr8k token file or COCO JSON). */
typedef struct {
    const char *data_dir;
    const char *captions, *images;
    const char *lists[3];   /* train, val, test split lists for --captions */
    int strict;
} CliData;

/* Loads one split ("train", "val", "test") per d, printing the skip
 * warnings (at most the first ones, then a summary) on stderr. Returns
 * GLM_OK, or an error code after printing the error. *empty is set (and
 * GLM_OK returned) when allow_empty and the split has no images (or, for
 * --captions, no list for it); without allow_empty a missing list means
 * every image of the caption file. */
int cli_load_split(Dataset *out, const CliData *d, const char *split, int allow_empty, int *empty);

/* For --data DIR with an objects.tsv (a generated data set): loads the
 * ground truth into *out and sets *have; else *have = 0. Prints the error
 * and returns its code on failure. */
int cli_load_objects(SceneObjectSet *out, const CliData *d, int *have);

int cmd_regions(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_caption(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
