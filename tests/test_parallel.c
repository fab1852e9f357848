/* test_parallel.c - the commands that split images across workers (pool.h)
 * give the same output for any --threads: `glimpse eval` (region features
 * of the split and the decoding), `glimpse caption` (features and
 * decoding, --sample included), with an unreadable image among the others.
 * Training with threads: test_train.c (bytes, resume) and test_reinforce.c
 * (1 against 2 and 3 threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* 70 scenes: 56 in train, so 4 batches of 16 (the last one short) and
 * shares of 19 + 19 + 18 feature images at 3 threads; image 5 is made
 * unreadable, so every later image moves down by one. */
static const char *data_dir(void)
{
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/parallel-data", test_tmpdir());
        if (test_run("%s data shapes --out %s --count 70 --seed 9 --quiet && "
                     "head -c 100 %s/images/shapes_000005.png > %s/cut.png && mv %s/cut.png %s/images/shapes_000005.png",
                     test_glimpse_bin(), dir, dir, dir, dir, dir) != 0)
            dir[0] = 0;
    }
    return dir;
}

TEST(parallel_eval_same_output_for_any_thread_count)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    const int threads[3] = {1, 2, 3};
    char caps[3][600], errs[3][600];
    for (int k = 0; k < 3; k++) {
        snprintf(caps[k], sizeof caps[k], "%s/par-eval-%d.tsv", tmp, threads[k]);
        snprintf(errs[k], sizeof errs[k], "%s/par-eval-%d.err", tmp, threads[k]);
        CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --data %s --split train --beam 2 --threads %d "
                              "--out %s 2> %s", bin, dir, threads[k], caps[k], errs[k]), 0);
    }
    char *err = test_slurp(errs[0], NULL), *out = test_slurp(caps[0], NULL);
    REQUIRE(err && out);
    CHECK_STR_CONTAINS(err, "1 unreadable image skipped");
    /* the image after the skipped one is captioned under its own name */
    CHECK_STR_CONTAINS(out, "shapes_000006.png\t");
    CHECK(!strstr(out, "shapes_000005.png"));
    free(err);
    free(out);
    for (int k = 1; k < 3; k++) {
        CHECK(test_same_file(caps[0], caps[k]));
        CHECK(test_same_file(errs[0], errs[k]));
    }
}

TEST(parallel_caption_same_output_for_any_thread_count)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    /* 40 arguments: the unreadable one and a missing one among them, so the
     * batches of 16 are filled across the gaps */
    char list[8192] = "";
    size_t used = 0;
    for (int i = 0; i < 38; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, " %s/images/shapes_%06d.png", dir, i);
    snprintf(list + used, sizeof list - used, " %s/none.png %s/images/shapes_000001.png", dir, dir);
    const char *modes[2] = {"", "--sample --seed 3 --json"};
    for (int mode = 0; mode < 2; mode++) {
        char first[600], path[600];
        for (int t = 1; t <= 3; t++) {
            snprintf(path, sizeof path, "%s/par-cap-%d-%d.txt", tmp, mode, t);
            if (t == 1) snprintf(first, sizeof first, "%s", path);
            CHECK_EQ_INT(test_run("%s caption --model models/shapes.glm --threads %d %s %s > %s", bin, t,
                                  modes[mode], list, path), 2);
            if (t > 1) CHECK(test_same_file(first, path));
            /* each unreadable image reported once */
            char errp[600];
            snprintf(errp, sizeof errp, "%s/last.err", tmp);
            char *errs = test_slurp(errp, NULL);
            int n_err = 0;
            for (const char *c = errs; c && *c; c++) n_err += *c == '\n';
            CHECK_EQ_INT(n_err, 2);
            free(errs);
        }
        char *out = test_slurp(first, NULL);
        REQUIRE(out);
        int lines = 0;
        for (const char *c = out; *c; c++) lines += *c == '\n';
        CHECK_EQ_INT(lines, 38);   /* 40 arguments, two unreadable */
        free(out);
    }
    /* the sampled captions do depend on the seed: the comparison can fail */
    CHECK_EQ_INT(test_run("%s caption --model models/shapes.glm --threads 2 --sample --seed 4 --json %s > %s/par-cap-s4.txt",
                          bin, list, tmp), 2);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/par-cap-1-1.txt", tmp);
    snprintf(b, sizeof b, "%s/par-cap-s4.txt", tmp);
    CHECK(!test_same_file(a, b));
    CHECK_EQ_INT(test_run("%s caption --model models/shapes.glm --threads 0 %s/images/shapes_000000.png", bin, dir), 2);
}
