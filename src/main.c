/* main.c - the glimpse command: dispatches `glimpse <command> [options]`.
 *
 * Each command lives in src/cmd_NAME.c and is listed in the table below; a
 * command is listed only once it works. Exit status: 0 ok, 1 runtime
 * failure, 2 usage error or bad input.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blas_kernel.h"
#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    /* commands */
    {"caption", cmd_caption, "describe images with a trained model (hard or soft attention)"},
    {"data", cmd_data, "write a synthetic data set: shape scenes or Fashion-MNIST scenes"},
    {"regions", cmd_regions, "load images and print their region grids and feature blocks"},
    {"eval", cmd_eval, "caption a data set split and score it (BLEU, CIDEr-D, ROUGE-L, accuracies)"},
    {"train", cmd_train, "train a captioner: hard attention by REINFORCE, or soft attention"},
    {"score", cmd_score, "BLEU-1..4, CIDEr-D and ROUGE-L of candidate captions against references"},
    {"explain", cmd_explain, "walk through one REINFORCE update on one image, in words and numbers"},
    {"info", cmd_info, "what a model or checkpoint file holds: sizes, features, training options"},
    {"meta", cmd_meta, "meta-learned attention: Reptile over caption dialects, and adaptation curves"},
};

#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "glimpse %s - Show, Attend and Tell with hard attention\n"
            "\n"
            "usage: glimpse <command> [options]\n"
            "       glimpse help <command>     options of one command\n"
            "       glimpse --version\n"
            "\n"
            "commands:\n",
            GLIMPSE_VERSION);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nExit status: 0 ok, 1 runtime failure, 2 bad usage or bad input.\n");
}

/* Every command's output is checked once more here: a full disk or a
 * closed pipe on standard output is a failure (exit 1), never a silent
 * loss, whatever the command printed. */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("standard output: %s", errno ? strerror(errno) : "write failed");
        return status ? status : 1;
    }
    return status;
}

static const Command *find_command(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    blas_kernel_ensure(argv);   /* OpenBLAS's kernels for this CPU (blas_kernel.h) */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        usage(stdout);
        return finish(0);
    }
    if (!strcmp(name, "--version")) {
        printf("glimpse %s\n", GLIMPSE_VERSION);
        return finish(0);
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const Command *c = find_command(argv[2]);
        if (!c) {
            cli_error("help: no command '%s' (try 'glimpse --help')", argv[2]);
            return 2;
        }
        char *help_argv[] = {argv[2], "--help", NULL};
        return finish(c->run(2, help_argv));
    }
    const Command *c = find_command(name);
    if (!c) {
        cli_error("no command '%s' (try 'glimpse --help')", name);
        return 2;
    }
    return finish(c->run(argc - 1, argv + 1));
}
