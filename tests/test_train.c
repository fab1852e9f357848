/* test_train.c - `glimpse train` end to end on a tiny generated data set:
 * determinism, bit-identical resume, and clear errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "modelfile.h"
#include "test.h"

/* A tiny model so the suite stays fast (also under the sanitizers). */
#define TINY "--hidden 16 --embed 8 --proj 8 --att 8 --max-len 12 --batch 8 --val-every 0 -q"

static const char *data_dir(void)
{
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/train-data", test_tmpdir());
        if (test_run("%s data shapes --out %s --count 24 --seed 5", test_glimpse_bin(), dir) != 0) dir[0] = 0;
    }
    return dir;
}

TEST(train_same_seed_same_bytes_and_resume_is_bit_identical)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    /* 2N steps in one go, twice: the same bytes. */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/full.glm --steps 12 " TINY, bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/full2.glm --steps 12 " TINY, bin, dir, tmp), 0);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/full.glm", tmp);
    snprintf(b, sizeof b, "%s/full2.glm", tmp);
    CHECK(test_same_file(a, b));
    /* N steps, then resumed for N more: the same bytes again. */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/half.glm --steps 6 " TINY, bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/resumed.glm --resume %s/half.glm.ckpt --steps 12 -q "
                          "--val-every 0", bin, dir, tmp, tmp), 0);
    snprintf(b, sizeof b, "%s/resumed.glm", tmp);
    CHECK(test_same_file(a, b));
    /* And the check can fail: another seed gives other bytes. */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/other.glm --steps 12 --seed 99 " TINY, bin, dir, tmp), 0);
    snprintf(b, sizeof b, "%s/other.glm", tmp);
    CHECK(!test_same_file(a, b));
    /* The trained model captions. */
    CHECK_EQ_INT(test_run("%s caption --model %s %s/images/shapes_000000.png", bin, a, dir), 0);
}

/* --threads 2 (train.h: data parallelism): the same bytes twice, and a run
 * stopped and resumed at 2 threads gives the bytes of one that never
 * stopped. How 1 and 2 threads relate: test_reinforce.c. */
TEST(train_threads_2_same_bytes_and_resume_is_bit_identical)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t2.glm --steps 12 --threads 2 " TINY, bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t2b.glm --steps 12 --threads 2 " TINY, bin, dir, tmp), 0);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/t2.glm", tmp);
    snprintf(b, sizeof b, "%s/t2b.glm", tmp);
    CHECK(test_same_file(a, b));
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t2h.glm --steps 6 --threads 2 " TINY, bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t2r.glm --resume %s/t2h.glm.ckpt --steps 12 --threads 2 -q "
                          "--val-every 0", bin, dir, tmp, tmp), 0);
    snprintf(b, sizeof b, "%s/t2r.glm", tmp);
    CHECK(test_same_file(a, b));
    /* one thread is another summation order: other bytes (close values: test_reinforce.c) */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t1.glm --steps 12 --threads 1 " TINY, bin, dir, tmp), 0);
    snprintf(b, sizeof b, "%s/t1.glm", tmp);
    CHECK(!test_same_file(a, b));
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/t0.glm --steps 2 --threads 0 " TINY, bin, dir, tmp), 2);
}

TEST(train_soft_and_every_reward_and_baseline_run)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    const char *variants[] = {
        "--attention soft", "--reward bleu4 --baseline mean", "--reward f1 --baseline none",
        "--reward loglik --baseline mean", "--soft-mix 0.5", "--soft-warmup 2 --refs 1",
        "--attention random", "--attention mean",
    };
    for (int i = 0; i < 8; i++) {
        int st = test_run("%s train --data %s --out %s/v.glm --steps 4 %s " TINY, bin, dir, tmp, variants[i]);
        if (st != 0) test_failed(__FILE__, __LINE__, "train %s: exit %d", variants[i], st);
    }
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/v.glm --epochs 1 " TINY, bin, dir, tmp), 0);
    /* --steps and --epochs together are a usage error. */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/v.glm --epochs 1 --steps 3 " TINY, bin, dir, tmp), 2);
    /* With validation, the best model and a checkpoint are written. */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/val.glm --steps 4 --val-every 2 --hidden 16 --embed 8 "
                          "--proj 8 --att 8 --batch 8 -q", bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s eval --model %s/val.glm --data %s --json", bin, tmp, dir), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/last.out", tmp);
    char *out = test_slurp(path, NULL);
    const char *keys[] = {"\"bleu1\"", "\"bleu4\"", "\"cider\"", "\"rouge_l\"", "\"semantic_accuracy\"",
                          "\"object_accuracy\"", "\"grounding_accuracy\"", "\"images\"", "\"images_per_second\""};
    for (int i = 0; i < 9; i++) CHECK_STR_CONTAINS(out, keys[i]);
    free(out);
}

TEST(train_bad_arguments_and_input)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    CHECK_EQ_INT(test_run("%s train --data %s", bin, dir), 2);                          /* no --out */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/x.glm --reward nope", bin, dir, tmp), 2);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/x.glm --steps 0", bin, dir, tmp), 2);
    CHECK_EQ_INT(test_run("%s train --data %s/nowhere --out %s/x.glm -q", bin, tmp, tmp), 2);   /* bad input */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/x.glm --resume %s/images/shapes_000000.png -q", bin,
                          dir, tmp, dir), 2);
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    char *err = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(err, "bad magic");
    free(err);
    CHECK_EQ_INT(test_run("%s train --help", bin), 0);
    CHECK_EQ_INT(test_run("%s eval --model %s/nope.glm --data %s", bin, tmp, dir), 2);
}

/* The caption-file formats through the commands: Flickr8k tokens and COCO
 * JSON with an images directory, skips reported, --strict failing on them. */
TEST(train_and_eval_from_flickr_and_coco_files)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    char images[600];
    snprintf(images, sizeof images, "%s/capfiles", tmp);
    /* a.png, b.png, c.png: any pictures will do; d.png and missing.png stay missing. */
    REQUIRE(test_run("mkdir -p %s && %s data shapes --out %s/src --count 3 --seed 2 --quiet && "
                     "cp %s/src/images/shapes_000000.png %s/a.png && cp %s/src/images/shapes_000001.png %s/b.png && "
                     "cp %s/src/images/shapes_000002.png %s/c.png",
                     images, bin, images, images, images, images, images, images, images) == 0);
    const char *small = "--steps 2 --batch 2 --hidden 8 --embed 4 --proj 4 --att 4 --min-count 1 -q --val-every 0";
    CHECK_EQ_INT(test_run("%s train --captions tests/data/flickr/Flickr8k.token.txt --images %s --out %s/f.glm %s",
                          bin, images, tmp, small), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    char *err = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(err, "Flickr8k.token.txt:4:");   /* the line without a tab */
    CHECK_STR_CONTAINS(err, "skipped");
    free(err);
    CHECK_EQ_INT(test_run("%s train --captions tests/data/flickr/Flickr8k.token.txt --images %s --out %s/s.glm "
                          "--strict %s", bin, images, tmp, small), 2);
    CHECK_EQ_INT(test_run("%s train --captions tests/data/coco/captions.json --images %s --out %s/c.glm %s",
                          bin, images, tmp, small), 0);
    CHECK_EQ_INT(test_run("%s eval --model %s/c.glm --captions tests/data/coco/captions.json --images %s --json",
                          bin, tmp, images), 0);
    snprintf(path, sizeof path, "%s/last.out", tmp);
    char *out = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(out, "\"semantic_accuracy\": null");   /* no ground truth for these */
    CHECK_STR_CONTAINS(out, "\"images\": 2");                  /* a.png and b.png (c.png has a bad id) */
    free(out);
}

/* An output path that cannot be written is refused before any work. */
TEST(train_and_eval_refuse_an_unwritable_output_first)
{
    const char *bin = test_glimpse_bin(), *dir = data_dir();
    REQUIRE(dir[0]);
    CHECK_EQ_INT(test_run("%s train --data %s --out /nonexistent-dir/m.glm --steps 1 -q", bin, dir), 2);
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", test_tmpdir());
    char *err = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(err, "/nonexistent-dir/m.glm: cannot write there");
    free(err);
    CHECK_EQ_INT(test_run("%s eval --model models/shapes.glm --data %s --out /nonexistent-dir/c.tsv", bin, dir), 2);
}

/* Sets the train.best of a checkpoint to v (a best that nothing beats). */
static int set_best(const char *ckpt, float v)
{
    MfFile f;
    GlmError err;
    if (mf_read(&f, ckpt, &err)) return 0;
    int found = 0;
    for (int i = 0; i < f.n_settings; i++)
        if (!strcmp(f.settings[i].key, "train.best")) {
            uint32_t u;
            memcpy(&u, &v, 4);
            f.settings[i].value = u;
            found = 1;
        }
    int ok = found && mf_write(ckpt, &f, &err) == GLM_OK;
    mf_free(&f);
    return ok;
}

/* A resumed run whose validation never beats the checkpoint's best: with a
 * new --out the last model is written (it used to print "wrote" and write
 * nothing); with the run's own --out the best from before is kept. */
TEST(train_resume_without_a_better_validation_still_leaves_a_model)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    const char *val = "--hidden 16 --embed 8 --proj 8 --att 8 --max-len 12 --batch 8 -q --val-every 2";
    REQUIRE(test_run("%s train --data %s --out %s/rb.glm --steps 4 %s", bin, dir, tmp, val) == 0);
    char ckpt[600], out[600], fresh[600];
    snprintf(out, sizeof out, "%s/rb.glm", tmp);
    snprintf(ckpt, sizeof ckpt, "%s/rb.glm.ckpt", tmp);
    snprintf(fresh, sizeof fresh, "%s/rb-new.glm", tmp);
    REQUIRE(set_best(ckpt, 1e9f));
    size_t n_before;
    char *before = test_slurp(out, &n_before);
    REQUIRE(before);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s --resume %s --steps 6 --val-every 2", bin, dir, fresh, ckpt), 0);
    Model m;
    GlmError err;
    CHECK_EQ_INT(model_load(&m, fresh, &err), GLM_OK);   /* the file is there and is a model */
    model_free(&m);
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    char *msg = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(msg, "did not beat the checkpoint's best");
    CHECK_STR_CONTAINS(msg, "is the last model");
    free(msg);
    /* the run's own --out: the earlier best stays byte for byte */
    snprintf(ckpt, sizeof ckpt, "%s/rb-new.glm.ckpt", tmp);
    REQUIRE(set_best(ckpt, 1e9f));
    CHECK_EQ_INT(test_run("%s train --data %s --out %s --resume %s --steps 8 --val-every 2", bin, dir, out, ckpt), 0);
    size_t n_after;
    char *after = test_slurp(out, &n_after);
    CHECK(after && n_after == n_before && memcmp(after, before, n_before) == 0);
    msg = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(msg, "is kept as it was");
    CHECK_STR_CONTAINS(msg, "glimpse: kept");
    free(msg);
    free(before);
    free(after);
}

/* --resume refuses the options it would ignore, naming the option, before
 * any work; the ones it takes still work. */
TEST(train_resume_refuses_options_it_would_ignore)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    REQUIRE(test_run("%s train --data %s --out %s/ro.glm --steps 2 " TINY, bin, dir, tmp) == 0);
    const char *refused[] = {"--lr 0.1", "--hidden 32", "--grid 3", "--reward bleu4", "--seed 4", "--preset shapes",
                             "--recentre 2", "--attention soft"};
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(test_run("%s train --data %s --out %s/ro2.glm --resume %s/ro.glm.ckpt --steps 3 -q %s", bin, dir,
                              tmp, tmp, refused[i]), 2);
        char *msg = test_slurp(path, NULL), name[32];
        snprintf(name, sizeof name, "%.*s cannot be changed", (int)strcspn(refused[i], " "), refused[i]);
        CHECK_STR_CONTAINS(msg, name);
        free(msg);
    }
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/ro2.glm --resume %s/ro.glm.ckpt --steps 3 --threads 1 "
                          "--val-every 0 --ckpt-every 1 -q", bin, dir, tmp, tmp), 0);
}

/* Every output is checked before the long work: a directory as --out is
 * refused at once with exit 2 (it used to train, fail, and leave DIR.ckpt). */
TEST(train_refuses_a_directory_as_out_before_training)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    char out[600];
    snprintf(out, sizeof out, "%.500s/outdir", tmp);
    REQUIRE(test_run("mkdir -p %s", out) == 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s --steps 2 " TINY, bin, dir, out), 2);
    char path[700];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    char *msg = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(msg, "outdir: is a directory");
    CHECK(msg && !strstr(msg, "step"));   /* nothing was trained */
    free(msg);
    snprintf(path, sizeof path, "%s.ckpt", out);
    CHECK(access(path, F_OK) != 0);
    /* and a directory where the checkpoint goes */
    snprintf(path, sizeof path, "%s/m.glm.ckpt", tmp);
    REQUIRE(test_run("mkdir -p %s", path) == 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/m.glm --steps 2 " TINY, bin, dir, tmp), 2);
}

/* --preset is the Makefile's recipe: the same bytes as the options spelled
 * out (shortened to a few steps), and later options override it. */
TEST(train_preset_is_the_recipe_spelled_out)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    const char *small = "--steps 3 --batch 4 --hidden 8 --embed 4 --proj 4 --att 4 --max-len 12 -q --val-every 0";
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/pre1.glm --preset shapes %s", bin, dir, tmp, small), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/pre2.glm %s --soft-warmup 6000 --lr-decay-every 13500 "
                          "--input 80 --grid 5 --window 28 --stride 16 --hog-cells 3 --patch 6 --kmeans 32 --kmeans-patch 6 "
                          "--seed 1 --refs 1",
                          bin, dir, tmp, small), 0);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/pre1.glm", tmp);
    snprintf(b, sizeof b, "%s/pre2.glm", tmp);
    CHECK(test_same_file(a, b));
    /* the preset's place does not matter: options override it either way */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/pre3.glm %s --preset shapes", bin, dir, tmp, small), 0);
    snprintf(b, sizeof b, "%s/pre3.glm", tmp);
    CHECK(test_same_file(a, b));
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/pre4.glm --preset shapes %s --seed 2", bin, dir, tmp, small), 0);
    snprintf(b, sizeof b, "%s/pre4.glm", tmp);
    CHECK(!test_same_file(a, b));
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/pre5.glm --preset bogus %s", bin, dir, tmp, small), 2);
    /* --gate: soft attention only */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/g.glm --attention soft --gate %s", bin, dir, tmp, small), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/g.glm --gate %s", bin, dir, tmp, small), 2);
}

/* --resume on captions that make another vocabulary used to turn every new
 * word into <unk> silently: refused, exit 2, naming a word that differs. */
TEST(train_resume_refuses_another_vocabulary)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    REQUIRE(test_run("%s train --data %s --out %s/voc.glm --steps 2 " TINY, bin, dir, tmp) == 0);
    char other[600];
    snprintf(other, sizeof other, "%s/voc-fashion", tmp);
    REQUIRE(test_run("%s data fashion --out %s --count 12 --seed 3 --quiet", bin, other) == 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/voc2.glm --resume %s/voc.glm.ckpt --steps 3 -q", bin, other,
                          tmp, tmp), 2);
    char path[700];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    char *msg = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(msg, "another vocabulary than the checkpoint's");
    free(msg);
    /* the same data resumes */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/voc2.glm --resume %s/voc.glm.ckpt --steps 3 -q", bin, dir,
                          tmp, tmp), 0);
}

/* --bar: the first validation that meets every bar is reported, once, with
 * its step; a bar no tiny run reaches is never reported; a bad spec is a
 * usage error. */
TEST(train_bar_reports_the_first_validation_that_meets_it)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir(), *dir = data_dir();
    REQUIRE(dir[0]);
    const char *val = "--hidden 16 --embed 8 --proj 8 --att 8 --max-len 12 --batch 8 --val-every 2";
    char path[600];
    snprintf(path, sizeof path, "%s/last.err", tmp);
    REQUIRE(test_run("%s train --data %s --out %s/bar.glm --steps 4 %s --bar grounding=0", bin, dir, tmp, val) == 0);
    char *msg = test_slurp(path, NULL);
    REQUIRE(msg);
    CHECK_STR_CONTAINS(msg, "validation met the bars (grounding >= 0.00) at step 2,");
    const char *first = strstr(msg, "met the bars");
    CHECK(first && !strstr(first + 1, "met the bars"));   /* once */
    free(msg);
    REQUIRE(test_run("%s train --data %s --out %s/bar.glm --steps 4 %s --bar semantic=1,object=1", bin, dir, tmp, val) == 0);
    msg = test_slurp(path, NULL);
    REQUIRE(msg);
    CHECK(!strstr(msg, "met the bars"));
    free(msg);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bar.glm --steps 4 --bar semantic:0.9", bin, dir, tmp), 2);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bar.glm --steps 4 --bar grounding=1.5", bin, dir, tmp), 2);
}
