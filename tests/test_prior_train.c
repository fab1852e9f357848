/* test_prior_train.c - `glimpse train --prior` and `--prior-supervise` end
 * to end on a tiny generated data set: they train, the supervision changes
 * what is learned, a resumed run with both gives the same bytes as an
 * uninterrupted one (the checkpoint carries the supervision weight), glimpse
 * info shows them, and bad combinations are usage errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* A tiny model so the suite stays fast (also under the sanitizers); a soft
 * warm-up of 2 steps, so both soft and hard batches reach the prior. */
#define TINY "--hidden 16 --embed 8 --proj 8 --att 8 --max-len 12 --batch 8 --val-every 0 --soft-warmup 2 -q"

TEST(train_prior_supervised_resumes_bit_identically)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    char dir[600], a[700], b[700], c[700];
    snprintf(dir, sizeof dir, "%s/prior-data", tmp);
    REQUIRE(test_run("%s data shapes --out %s --count 24 --seed 6 --quiet", bin, dir) == 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/p-full.glm --steps 8 --prior 1 --prior-supervise 2 " TINY,
                          bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/p-half.glm --steps 4 --prior 1 --prior-supervise 2 " TINY,
                          bin, dir, tmp), 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/p-resumed.glm --resume %s/p-half.glm.ckpt --steps 8 -q "
                          "--val-every 0", bin, dir, tmp, tmp), 0);
    snprintf(a, sizeof a, "%s/p-full.glm", tmp);
    snprintf(b, sizeof b, "%s/p-resumed.glm", tmp);
    CHECK(test_same_file(a, b));
    /* the supervision reaches training: without it, other weights */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/p-free.glm --steps 8 --prior 1 " TINY, bin, dir, tmp), 0);
    snprintf(c, sizeof c, "%s/p-free.glm", tmp);
    CHECK(!test_same_file(a, c));
    CHECK_EQ_INT(test_run("%s info %s", bin, a), 0);
    char last[700];
    snprintf(last, sizeof last, "%s/last.out", tmp);
    char *out = test_slurp(last, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "attention prior yes");
    CHECK_STR_CONTAINS(out, "supervised toward the object regions, weight 2");
    free(out);
    CHECK_EQ_INT(test_run("%s caption --model %s %s/images/shapes_000000.png", bin, a, dir), 0);
    /* a model trained without --prior has none (and no supervision line) */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/p-none.glm --steps 2 " TINY, bin, dir, tmp), 0);
    snprintf(c, sizeof c, "%s/p-none.glm", tmp);
    CHECK_EQ_INT(test_run("%s info %s", bin, c), 0);
    out = test_slurp(last, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "attention prior none");
    CHECK(strstr(out, "supervised") == NULL);
    free(out);
    /* usage errors, exit 2, before any training */
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bad.glm --prior 2 " TINY, bin, dir, tmp), 2);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bad.glm --prior-supervise 1 " TINY, bin, dir, tmp), 2);
    snprintf(last, sizeof last, "%s/last.err", tmp);
    out = test_slurp(last, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "--prior-supervise needs --prior 1");
    free(out);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bad.glm --prior 1 --attention random " TINY, bin, dir, tmp), 2);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bad.glm --resume %s/p-half.glm.ckpt --prior-supervise 1 -q",
                          bin, dir, tmp, tmp), 2);
    /* supervision needs the object boxes: a data set without objects.tsv */
    char bare[700];
    snprintf(bare, sizeof bare, "%s/prior-bare", tmp);
    REQUIRE(test_run("cp -r %s %s && rm %s/objects.tsv", dir, bare, bare) == 0);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bad.glm --prior 1 --prior-supervise 1 " TINY, bin, bare, tmp), 2);
    out = test_slurp(last, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "--prior-supervise needs the data set's objects.tsv");
    free(out);
    CHECK_EQ_INT(test_run("%s train --data %s --out %s/bare.glm --steps 2 --prior 1 " TINY, bin, bare, tmp), 0);
    /* --help names both, with defaults */
    CHECK_EQ_INT(test_run("%s train --help", bin), 0);
    snprintf(last, sizeof last, "%s/last.out", tmp);
    out = test_slurp(last, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "--prior N");
    CHECK_STR_CONTAINS(out, "(default 0)");
    CHECK_STR_CONTAINS(out, "--prior-supervise L");
    free(out);
}
