/* test_explain.c - `glimpse explain` (explain.h, cmd_explain.c):
 *  - on a small model trained here, one step moves log pi(s) = sum_t log
 *    alpha_t(s_t) in the direction of the advantage's sign, and not at all
 *    when the advantage is 0; for rollouts found with either sign, the
 *    real advantage does the same;
 *  - the step's gradient is reinforce_rollout's own (the same bytes);
 *  - the printed gradient w.r.t. the attention scores matches finite
 *    differences, and the printed |grad| predicts the first-order change of
 *    log pi(s) under SGD;
 *  - the command on a shipped sample prints all five parts, finds a data
 *    set's references, and refuses what it cannot explain;
 *  - the page renders in headless Chromium with its before/after pictures.
 *
 * The toy task (as in test_reinforce.c, smaller): 2x2 regions; image n shows
 * its colour in region n % 4 and nothing elsewhere, and its caption is
 * "there is COLOUR". The model starts from constant h_0, so all it knows of
 * the image comes through the region it picks: a policy that has learned a
 * little, but not everything, samples rollouts that beat the greedy decode
 * and rollouts that do worse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "explain.h"
#include "test.h"
#include "train.h"
#include "vocab.h"

enum { EX_L = 4, EX_N = 8 };
#define EX_F 14   /* 3 mean + 1 colour + 2 hog + 1 patch + 5 moments + 2 position */

static const char *const ex_colours[4] = {"red", "green", "blue", "yellow"};

typedef struct {
    Dataset data;
    Vocab vocab;
    Model model;
    float x[EX_N * EX_L * EX_F];   /* (N, L, F) */
} ExToy;

static int ex_toy(ExToy *toy, const char *name, int train_steps)
{
    memset(toy, 0, sizeof *toy);
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    if (test_run("rm -rf %s && mkdir -p %s/images", dir, dir) != 0) return 0;
    snprintf(path, sizeof path, "%s/captions.tsv", dir);
    FILE *fc = fopen(path, "w");
    snprintf(path, sizeof path, "%s/train.txt", dir);
    FILE *ft = fopen(path, "w");
    int ok = fc && ft;
    for (int n = 0; n < EX_N && ok; n++) {
        ok &= fprintf(fc, "ex_%d.png#0\tthere is %s\n", n, ex_colours[(n / 4 + n) % 4]) > 0;
        ok &= fprintf(ft, "ex_%d.png\n", n) > 0;
        snprintf(path, sizeof path, "%s/images/ex_%d.png", dir, n);
        ok &= test_write(path, "", 0);
    }
    if (fc) ok &= fclose(fc) == 0;
    if (ft) ok &= fclose(ft) == 0;
    GlmError err;
    if (!ok || dataset_load_dir(&toy->data, dir, "train", 1, &err) ||
        vocab_build(&toy->vocab, toy->data.captions, toy->data.n_captions, 1, &err))
        return 0;
    ModelConfig c = model_default_config();
    c.feat = (FeatConfig){.version = FEAT_VERSION, .input = 16, .grid = 2, .window = 8, .stride = 8,
                          .color_levels = 1, .hog_cells = 1, .orient_bins = 2, .patch = 1};
    c.vocab = vocab_size(&toy->vocab), c.embed = 8, c.hidden = 16, c.proj = 8, c.att = 8, c.max_len = 5;
    c.attention = ATTN_HARD, c.init_mean = 0;
    if (features_dim(&c.feat) != EX_F || dataset_encode(&toy->data, &toy->vocab, c.max_len - 1, &err)) return 0;
    Rng rng;
    rng_seed(&rng, 5, 0);
    if (model_init(&toy->model, &c, vocab_words(&toy->vocab), &rng, &err)) return 0;
    for (int n = 0; n < EX_N; n++)
        for (int i = 0; i < EX_L; i++) {
            float *v = toy->x + ((size_t)n * EX_L + i) * EX_F;
            memset(v, 0, EX_F * sizeof(float));
            if (i == n % EX_L) v[(n / 4 + n) % 4] = 1.0f;   /* the colour, one-hot, where it is */
            v[4 + i] = 1.0f;                                 /* which region this is */
        }
    /* a little training: the words and some of the looking */
    TrainOptions o = train_default_options();
    o.batch = EX_N, o.lr = 1e-2f, o.warmup = 0, o.clip = 0, o.rl_weight = 1.0f, o.reward = REWARD_F1, o.seed = 3;
    Trainer t;
    if (trainer_init(&t, &toy->model, &toy->data, toy->x, &o, &err)) return 0;
    for (int s = 0; s < train_steps && ok; s++) {
        TrainStats st;
        ok = trainer_step(&t, &st, &err) == GLM_OK;
    }
    trainer_free(&t);
    return ok;
}

static void ex_toy_free(ExToy *toy)
{
    model_free(&toy->model);
    vocab_free(&toy->vocab);
    dataset_free(&toy->data);
}

static ExplainOptions ex_options(void)
{
    ExplainOptions o = explain_default_options();
    o.reward = REWARD_F1;
    o.lr = 0.05f;
    return o;
}

/* ---- the step's direction -------------------------------------------- */

TEST(explain_step_moves_log_pi_with_the_advantage_sign)
{
    ExToy toy;
    REQUIRE(ex_toy(&toy, "explain-sign", 60));
    Explain e;
    GlmError err;
    REQUIRE(explain_init(&e, &toy.model, &toy.data, &err) == GLM_OK);
    const ExplainOptions o = ex_options();
    Rng rng;
    rng_seed(&rng, 9, 0);
    float *before = malloc(toy.model.n_params * sizeof(float));
    REQUIRE(before);
    memcpy(before, toy.model.params, toy.model.n_params * sizeof(float));
    int seen_pos = 0, seen_neg = 0;
    for (int k = 0; k < 200 && !(seen_pos && seen_neg); k++) {
        const int image = k % EX_N;
        const float *x = toy.x + (size_t)image * EX_L * EX_F;
        ExplainRollout *a = &e.roll[0];
        explain_rollout(&e, a, x, image, &o, &rng);
        CHECK_NEAR(a->advantage, a->reward - a->baseline, 1e-6);
        CHECK_NEAR(a->baseline, e.greedy_reward, 1e-6);   /* b is the greedy decode's reward */
        /* with a set weight of either sign and 0, on every rollout */
        for (int sgn = -1; sgn <= 1; sgn++) {
            explain_step(&e, a, x, sgn, &o);
            const double d = a->logpi_after - a->logpi;
            if (sgn > 0) CHECK(d > 0);
            if (sgn < 0) CHECK(d < 0);
            if (sgn == 0) {
                CHECK(d == 0);
                CHECK(memcmp(a->alpha_after, a->alpha, (size_t)a->n * EX_L * sizeof(float)) == 0);
            }
        }
        /* with the rollout's own advantage */
        if (a->advantage != 0) {
            explain_step(&e, a, x, a->advantage, &o);
            const double d = a->logpi_after - a->logpi;
            if (a->advantage > 0) {
                CHECK(d > 0);
                seen_pos++;
            } else {
                CHECK(d < 0);
                seen_neg++;
            }
        }
    }
    printf("  rollouts with a positive advantage %d, negative %d\n", seen_pos, seen_neg);
    CHECK(seen_pos > 0 && seen_neg > 0);   /* the toy policy is neither random nor certain */
    /* the model itself is never changed */
    CHECK(memcmp(before, toy.model.params, toy.model.n_params * sizeof(float)) == 0);
    free(before);
    explain_free(&e);
    ex_toy_free(&toy);
}

/* The step's gradient is the one training accumulates: reinforce_rollout's
 * (lambda_r = 1, batch of one) and explain_step's at weight A agree to the
 * byte; and Adam's first step moves the same way. */
TEST(explain_gradient_is_reinforce_rollouts_own)
{
    ExToy toy;
    REQUIRE(ex_toy(&toy, "explain-same", 60));
    Explain e;
    GlmError err;
    REQUIRE(explain_init(&e, &toy.model, &toy.data, &err) == GLM_OK);
    ExplainOptions o = ex_options();
    Rng rng;
    rng_seed(&rng, 4, 0);
    int compared = 0;
    for (int k = 0; k < 100 && compared < 3; k++) {
        const int image = k % EX_N;
        const float *x = toy.x + (size_t)image * EX_L * EX_F;
        ExplainRollout *a = &e.roll[0];
        explain_rollout(&e, a, x, image, &o, &rng);
        if (a->advantage == 0) continue;
        explain_step(&e, a, x, a->advantage, &o);
        CHECK(memcmp(e.grad, e.grad_rl, toy.model.n_params * sizeof(float)) == 0);
        double n2 = 0;
        for (size_t i = 0; i < toy.model.n_params; i++) n2 += (double)e.grad[i] * e.grad[i];
        CHECK(n2 > 0);
        o.optimizer = EXPLAIN_ADAM, o.lr = EXPLAIN_DEFAULT_ADAM_LR;
        explain_step(&e, a, x, a->advantage, &o);
        CHECK((a->logpi_after - a->logpi) * a->advantage > 0);
        o = ex_options();
        compared++;
    }
    CHECK_EQ_INT(compared, 3);
    explain_free(&e);
    ex_toy_free(&toy);
}

/* ---- the printed gradients --------------------------------------------- */

typedef struct {
    double e[EX_L];   /* scores; alpha = softmax(e) */
    int s;
    double A;
} ScoreCtx;

static double score_objective(void *ctx)
{
    ScoreCtx *c = ctx;
    double mx = c->e[0], z = 0;
    for (int i = 1; i < EX_L; i++) mx = fmax(mx, c->e[i]);
    for (int i = 0; i < EX_L; i++) z += exp(c->e[i] - mx);
    return c->A * (c->e[c->s] - mx - log(z));   /* A log alpha_s */
}

/* Finite differences in double: step for the scores, and the tolerance
 * relative to 1 + |fd| (the analytic values are floats). */
#define EX_FD_STEP 1e-5
#define EX_FD_TOL 1e-4

TEST(explain_printed_gradient_matches_finite_differences)
{
    ExToy toy;
    REQUIRE(ex_toy(&toy, "explain-fd", 60));
    Explain e;
    GlmError err;
    REQUIRE(explain_init(&e, &toy.model, &toy.data, &err) == GLM_OK);
    const ExplainOptions o = ex_options();
    Rng rng;
    rng_seed(&rng, 2, 0);
    int checked = 0;
    for (int k = 0; k < 100 && checked < 2; k++) {
        const int image = k % EX_N;
        const float *x = toy.x + (size_t)image * EX_L * EX_F;
        ExplainRollout *a = &e.roll[0];
        explain_rollout(&e, a, x, image, &o, &rng);
        if (a->advantage == 0) continue;
        checked++;
        for (int t = 0; t < a->n; t++) {
            /* log alpha as the scores: softmax does not see the shift */
            ScoreCtx c = {.s = a->region[t], .A = a->advantage};
            for (int i = 0; i < EX_L; i++) c.e[i] = log((double)a->alpha[(size_t)t * EX_L + i]);
            CHECK_EQ_INT(TEST_FD_CHECK("dlogit", score_objective, &c, c.e, a->dlogit + (size_t)t * EX_L, EX_L,
                                       EX_FD_STEP, EX_FD_TOL),
                         0);
        }
        /* the weights' gradient, along itself: a small SGD step with weight 1
         * changes log pi(s) by lr |grad log pi|^2 to first order */
        ExplainOptions tiny = o;
        tiny.lr = 1e-3f;
        explain_step(&e, a, x, 1.0, &tiny);
        const double want = (double)tiny.lr * a->grad_norm * a->grad_norm, got = a->logpi_after - a->logpi;
        printf("  first-order change of log pi %.6g, measured %.6g\n", want, got);
        CHECK(want > 0);
        CHECK_NEAR(got, want, 0.1 * want);
    }
    CHECK_EQ_INT(checked, 2);
    explain_free(&e);
    ex_toy_free(&toy);
}

TEST(explain_text_has_the_five_parts)
{
    ExToy toy;
    REQUIRE(ex_toy(&toy, "explain-text", 60));
    Explain e;
    GlmError err;
    REQUIRE(explain_init(&e, &toy.model, &toy.data, &err) == GLM_OK);
    const ExplainOptions o = ex_options();
    Rng rng;
    rng_seed(&rng, 1, 0);
    explain_rollout(&e, &e.roll[0], toy.x, 0, &o, &rng);
    explain_step(&e, &e.roll[0], toy.x, e.roll[0].advantage, &o);
    char *text = explain_text(&e, &toy.data, 0, 16, 16, &o, e.roll, 1, &err);
    REQUIRE(text);
    CHECK_STR_CONTAINS(text, "1. The regions");
    CHECK_STR_CONTAINS(text, "2. The policy");
    CHECK_STR_CONTAINS(text, "3. The reward");
    CHECK_STR_CONTAINS(text, "4. The gradient");
    CHECK_STR_CONTAINS(text, "5. One step");
    CHECK_STR_CONTAINS(text, "\"there is ");   /* the reference */
    free(text);
    explain_free(&e);
    ex_toy_free(&toy);
}

/* ---- the command ----------------------------------------------------- */

#define SAMPLE "assets/samples/shapes-3.png"
#define SAMPLE_REFS "a large green cross above a large yellow square below a large green triangle"

TEST(explain_cli_prints_all_five_parts_on_a_shipped_sample)
{
    const char *bin = test_glimpse_bin();
    REQUIRE(test_run("%s explain --model models/shapes.glm --refs '%s' " SAMPLE, bin, SAMPLE_REFS) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/last.out", test_tmpdir());
    char *out = test_slurp(path, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "1. The regions");
    CHECK_STR_CONTAINS(out, "row 4  20:0-13,51-64");   /* the 5x5 cells of a 64-px picture */
    CHECK_STR_CONTAINS(out, "2. The policy");
    CHECK_STR_CONTAINS(out, "sampled region");
    CHECK_STR_CONTAINS(out, "3. The reward: BLEU-4");
    CHECK_STR_CONTAINS(out, "advantage A = r - b");
    CHECK_STR_CONTAINS(out, "4. The gradient");
    CHECK_STR_CONTAINS(out, "5. One step: plain SGD");
    CHECK_STR_CONTAINS(out, "log pi(s) = sum_t log alpha_t(s_t): ");
    /* the same seed, the same bytes */
    char first[700];
    snprintf(first, sizeof first, "%s/explain-1.out", test_tmpdir());
    REQUIRE(test_write(first, out, strlen(out)));
    REQUIRE(test_run("%s explain --model models/shapes.glm --refs '%s' " SAMPLE, bin, SAMPLE_REFS) == 0);
    char *again = test_slurp(path, NULL);
    REQUIRE(again);
    CHECK(strcmp(out, again) == 0);
    free(again);
    free(out);
}

TEST(explain_cli_finds_a_data_sets_references_and_refuses_bad_input)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    REQUIRE(test_run("rm -rf %s/explain-data && %s data shapes --out %s/explain-data --count 10 --seed 4242 --quiet",
                     tmp, bin, tmp) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/last.out", tmp);
    REQUIRE(test_run("%s explain --model models/shapes.glm %s/explain-data/images/shapes_000003.png", bin, tmp) == 0);
    char *out = test_slurp(path, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "references: the data set's (captions.tsv); reward cider");
    CHECK_STR_CONTAINS(out, "3. The reward: CIDEr-D");
    CHECK_STR_CONTAINS(out, "5 references");
    free(out);
    char errp[600];
    snprintf(errp, sizeof errp, "%s/last.err", tmp);
    /* a picture from elsewhere needs --refs */
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm " SAMPLE, bin), 2);
    char *e1 = test_slurp(errp, NULL);
    CHECK_STR_CONTAINS(e1, "--refs");
    free(e1);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat' --reward cider " SAMPLE, bin), 2);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat||a dog' " SAMPLE, bin), 2);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat' " SAMPLE " " SAMPLE, bin), 2);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat' %s/nothing.png", bin, tmp), 2);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat' --optimizer rmsprop " SAMPLE, bin), 2);
    CHECK_EQ_INT(test_run("%s explain --model models/shapes.glm --refs 'a cat' --html %s/no/such/dir/p.html " SAMPLE,
                          bin, tmp),
                 2);
    CHECK_EQ_INT(test_run("%s explain --help", bin), 0);
    out = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(out, "--optimizer NAME");
    free(out);
}

/* ---- the page ------------------------------------------------------------ */

TEST(explain_page_renders_in_headless_chromium_with_both_pictures)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    char page[600], dom[600];
    snprintf(page, sizeof page, "%s/explain.html", tmp);
    snprintf(dom, sizeof dom, "%s/explain-dom.html", tmp);
    REQUIRE(test_run("%s explain --model models/shapes.glm --refs '%s' --html %s " SAMPLE, bin, SAMPLE_REFS, page) ==
            0);
    char *html = test_slurp(page, NULL);
    REQUIRE(html);
    CHECK_STR_CONTAINS(html, "id=\"before1\"");
    CHECK_STR_CONTAINS(html, "id=\"after1\"");
    CHECK_STR_CONTAINS(html, "src=\"data:image/png;base64,");
    CHECK_STR_CONTAINS(html, "5. One step");
    CHECK(!strstr(html, "http:") && !strstr(html, "https:") && !strstr(html, "src=\"//"));
    free(html);
    if (test_run("command -v chromium") != 0) {
        printf("SKIP explain_page_renders_in_headless_chromium_with_both_pictures: chromium is not installed "
               "(tools/install-deps.sh --test installs it)\n");
        return;
    }
    REQUIRE(test_run("timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
                     "--no-first-run --disable-background-networking --disable-component-update "
                     "--disable-sync --user-data-dir='%s/chromium-profile' --dump-dom 'file://%s' > '%s'",
                     tmp, page, dom) == 0);
    char *d = test_slurp(dom, NULL);
    REQUIRE(d);
    /* the script wrote each picture's decoded size once the page loaded */
    const char *p = strstr(d, "id=\"decoded\">");
    REQUIRE(p);
    int wb = 0, hb = 0, wa = 0, ha = 0;
    const char *b1 = strstr(p, "before1 "), *a1 = strstr(p, "after1 ");
    REQUIRE(b1 && a1);
    CHECK(sscanf(b1, "before1 %dx%d", &wb, &hb) == 2);
    CHECK(sscanf(a1, "after1 %dx%d", &wa, &ha) == 2);
    printf("  decoded: before %dx%d, after %dx%d\n", wb, hb, wa, ha);
    CHECK(wb > 0 && hb > 0);
    CHECK(wa == wb && ha == hb);
    CHECK_STR_CONTAINS(d, "5. One step");   /* the walk-through is on the page */
    free(d);
}
