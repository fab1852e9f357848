/* test_cli.c - the command as a whole: dispatch, help, version, exit
 * codes, and where a command without --model finds its model. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static char *slurp_last(const char *which)
{
    char path[600];
    snprintf(path, sizeof path, "%s/last.%s", test_tmpdir(), which);
    return test_slurp(path, NULL);
}

TEST(cli_dispatch_help_version_and_exit_codes)
{
    const char *bin = test_glimpse_bin();
    CHECK_EQ_INT(test_run("%s --version", bin), 0);
    char *out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "glimpse ");
    free(out);
    CHECK_EQ_INT(test_run("%s --help", bin), 0);
    out = slurp_last("out");
    const char *cmds[] = {"caption", "train", "eval", "score", "data", "regions"};
    for (int i = 0; i < 6; i++) CHECK_STR_CONTAINS(out, cmds[i]);
    free(out);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(test_run("%s help %s", bin, cmds[i]), 0);
        CHECK_EQ_INT(test_run("%s %s --help", bin, cmds[i]), 0);
        out = slurp_last("out");
        CHECK_STR_CONTAINS(out, "usage: glimpse");
        free(out);
    }
    CHECK_EQ_INT(test_run("%s", bin), 2);
    CHECK_EQ_INT(test_run("%s frobnicate", bin), 2);
    char *err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "glimpse: no command 'frobnicate'");
    free(err);
    CHECK_EQ_INT(test_run("%s help frobnicate", bin), 2);
    CHECK_EQ_INT(test_run("%s regions --grid 0 x.png", bin), 2);
}

/* An installed glimpse finds PREFIX/share/glimpse/models/shapes.glm next to
 * PREFIX/bin; $GLIMPSE_MODEL overrides; with neither, a clear error. */
TEST(cli_default_model_lookup)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    REQUIRE(test_run("mkdir -p %s/prefix/bin %s/prefix/share/glimpse/models %s/bare/bin && "
                     "cp %s %s/prefix/bin/glimpse && cp %s %s/bare/bin/glimpse && "
                     "cp models/shapes.glm %s/prefix/share/glimpse/models/",
                     tmp, tmp, tmp, bin, tmp, bin, tmp, tmp) == 0);
    char cwd[512];
    REQUIRE(getcwd(cwd, sizeof cwd));
    CHECK_EQ_INT(test_run("cd / && %s/prefix/bin/glimpse caption %s/assets/samples/shapes-1.png", tmp, cwd), 0);
    char *out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "shapes-1.png\t");
    free(out);
    /* No model next to this copy: an error naming where it looked, exit 2. */
    CHECK_EQ_INT(test_run("%s/bare/bin/glimpse caption assets/samples/shapes-1.png", tmp), 2);
    char *err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "share/glimpse/models");
    free(err);
    /* $GLIMPSE_MODEL wins. */
    CHECK_EQ_INT(test_run("GLIMPSE_MODEL=models/fashion.glm %s/bare/bin/glimpse caption assets/samples/fashion-1.png",
                          tmp), 0);
    CHECK_EQ_INT(test_run("GLIMPSE_MODEL=%s/none.glm %s/bare/bin/glimpse caption assets/samples/fashion-1.png",
                          tmp, tmp), 2);
}

/* glimpse info: a model's configuration and, once glimpse train recorded
 * them, its training options; a file that is not a model is bad input. */
TEST(cli_info_shows_config_and_training_options)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    CHECK_EQ_INT(test_run("%s info models/shapes.glm", bin), 0);
    char *out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "attention       hard");
    CHECK_STR_CONTAINS(out, "5x5 grid");
    CHECK_STR_CONTAINS(out, "parameters");
    CHECK_STR_CONTAINS(out, "extractor version");
    free(out);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/info-data", tmp);
    REQUIRE(test_run("%s data shapes --out %s --count 12 --seed 3 --quiet", bin, dir) == 0);
    REQUIRE(test_run("%s train --data %s --out %s/info.glm --steps 2 --batch 4 --hidden 8 --embed 4 --proj 4 "
                     "--att 4 --reward bleu4 --seed 77 -q --val-every 0", bin, dir, tmp) == 0);
    CHECK_EQ_INT(test_run("%s info %s/info.glm %s/info.glm.ckpt", bin, tmp, tmp), 0);
    out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "reward bleu4");
    CHECK_STR_CONTAINS(out, "seed 77");
    CHECK_STR_CONTAINS(out, "training checkpoint at step 2");
    free(out);
    CHECK_EQ_INT(test_run("%s info assets/samples/shapes-1.png", bin), 2);
    CHECK_EQ_INT(test_run("%s info", bin), 2);
}

/* One line for a bad option, from us (getopt's own message is off), with
 * exit 2, in every command and the heatmap tool. */
TEST(cli_bad_option_is_one_line_everywhere)
{
    const char *bin = test_glimpse_bin();
    const char *cmds[] = {"caption", "train", "eval", "score", "data shapes", "regions", "info"};
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_INT(test_run("%s %s --no-such-option", bin, cmds[i]), 2);
        char *err = slurp_last("err");
        REQUIRE(err);
        CHECK_STR_CONTAINS(err, "unknown option '--no-such-option'");
        CHECK(strchr(err, '\n') == err + strlen(err) - 1);   /* exactly one line */
        free(err);
    }
    CHECK_EQ_INT(test_run("%s train --data", bin), 2);
    char *err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "option '--data' needs a value");
    CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
    free(err);
    char tool[600];
    snprintf(tool, sizeof tool, "%s", bin);
    char *slash = strrchr(tool, '/');
    REQUIRE(slash);
    snprintf(slash + 1, sizeof tool - (size_t)(slash + 1 - tool), "glimpse-heatmap");
    CHECK_EQ_INT(test_run("%s --bogus", tool), 2);
    err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "glimpse-heatmap: unknown option '--bogus'");
    CHECK(err && strchr(err, '\n') == err + strlen(err) - 1);
    free(err);
}

/* Every --help ends with what the exit status means. */
TEST(cli_every_help_ends_with_the_exit_status)
{
    const char *bin = test_glimpse_bin();
    const char *cmds[] = {"caption", "train", "eval", "score", "data", "regions", "info"};
    for (int i = 0; i < 7; i++) {
        CHECK_EQ_INT(test_run("%s %s --help", bin, cmds[i]), 0);
        char *out = slurp_last("out");
        REQUIRE(out);
        const char *last = strstr(out, "\nExit status:");
        if (!last) test_failed(__FILE__, __LINE__, "%s --help has no exit-status section", cmds[i]);
        else if (strstr(last + 1, "\n\n")) test_failed(__FILE__, __LINE__, "%s --help: the exit status is not last", cmds[i]);
        free(out);
    }
}

/* eval's default decoding is caption's: the captions eval scores (--out)
 * are the very ones caption prints for the same images. A barely trained
 * model, whose greedy and beam captions differ, so the check can fail. */
TEST(cli_eval_scores_what_caption_prints)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    char dir[600], cwd[512];
    REQUIRE(getcwd(cwd, sizeof cwd));
    snprintf(dir, sizeof dir, "%s/evcap", tmp);
    REQUIRE(test_run("%s data shapes --out %s-train --count 40 --seed 40 --quiet && "
                     "%s data shapes --out %s --count 6 --seed 41 --split 0,0,1 --quiet", bin, dir, bin, dir) == 0);
    REQUIRE(test_run("%s train --data %s-train --out %s/evcap.glm --steps 30 --batch 4 --hidden 8 --embed 4 "
                     "--proj 4 --att 4 -q --val-every 0", bin, dir, tmp) == 0);
    CHECK_EQ_INT(test_run("%s eval --model %s/evcap.glm --data %s --out %s/evcap.tsv", bin, tmp, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s eval --model %s/evcap.glm --data %s --out %s/greedy.tsv --beam 1", bin, tmp, dir, tmp), 0);
    CHECK_EQ_INT(test_run("cd %s/images && %s%s%s caption --model %s/evcap.glm *.png > %s/cap.tsv", dir,
                          bin[0] == '/' ? "" : cwd, bin[0] == '/' ? "" : "/", bin, tmp, tmp), 0);
    char a[700], b[700], c[700];
    snprintf(a, sizeof a, "%s/evcap.tsv", tmp);
    snprintf(b, sizeof b, "%s/cap.tsv", tmp);
    snprintf(c, sizeof c, "%s/greedy.tsv", tmp);
    char *ev = test_slurp(a, NULL), *cap = test_slurp(b, NULL), *greedy = test_slurp(c, NULL);
    REQUIRE(ev && cap && greedy);
    CHECK(strcmp(ev, cap) == 0);
    CHECK(strcmp(greedy, cap) != 0);   /* the test has teeth: another decoding differs */
    free(ev);
    free(cap);
    free(greedy);
}
