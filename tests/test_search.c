/* test_search.c - learning works end to end and decoding gives it back:
 * a small model memorises 8 synthetic images (a coloured square in one
 * corner, "a red square top left") with hard and with soft attention, and
 * greedy and beam decoding reproduce every caption exactly. Search agrees
 * with the teacher-forced decoder, and `glimpse caption` prints what the
 * library decodes, as text and as JSON Lines, and reports bad images. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stb_image_write.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search.h"
#include "decoder.h"
#include "features.h"
#include "image.h"
#include "model.h"
#include "optim.h"
#include "test.h"

enum { N_IMG = 8, CAP_LEN = 6, SIDE = 64 };

static const char *const WORDS[] = {"<pad>", "<start>", "<end>", "<unk>", "a",   "red", "green",
                                    "blue",  "yellow",  "square", "top",  "bottom", "left", "right"};
#define N_WORDS ((int)(sizeof WORDS / sizeof WORDS[0]))
static const float COLOURS[4][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}};
/* colour, top(0)/bottom(1), left(0)/right(1): all 8 captions distinct */
static const int SCENES[N_IMG][3] = {{0, 0, 0}, {1, 0, 1}, {2, 1, 0}, {3, 1, 1},
                                     {0, 1, 1}, {1, 1, 0}, {2, 0, 1}, {3, 0, 0}};

typedef struct {
    Model m;
    Image img[N_IMG];
    float *x;                       /* (N_IMG, L, F) */
    int32_t tokens[N_IMG * CAP_LEN];
    int lengths[N_IMG];
    float last_nll;                 /* per token, at the last training step */
} Memo;

static void scene_caption(int32_t *out, int k)
{
    const int32_t ids[CAP_LEN] = {4, 5 + SCENES[k][0], 9, 10 + SCENES[k][1], 12 + SCENES[k][2], 2};
    memcpy(out, ids, sizeof ids);
}

static int memo_build(Memo *mm, int attention, uint64_t seed)
{
    memset(mm, 0, sizeof *mm);
    ModelConfig c = model_default_config();
    c.vocab = N_WORDS, c.embed = 16, c.hidden = 32, c.proj = 32, c.att = 16, c.max_len = 8;
    c.attention = attention, c.gate = attention == ATTN_SOFT;
    Rng rng;
    rng_seed(&rng, seed, 0);
    GlmError err;
    if (model_init(&mm->m, &c, WORDS, &rng, &err)) return 0;
    const int L = features_regions(&c.feat), F = features_dim(&c.feat);
    mm->x = calloc((size_t)N_IMG * L * F, sizeof(float));
    float *scratch = calloc(features_scratch_floats(&c.feat), sizeof(float));
    if (!mm->x || !scratch) return 0;
    for (int k = 0; k < N_IMG; k++) {
        Image *im = &mm->img[k];
        if (image_init(im, SIDE, SIDE, &err)) return 0;
        const int x0 = SCENES[k][2] ? 40 : 4, y0 = SCENES[k][1] ? 40 : 4;
        for (int y = y0; y < y0 + 20; y++)
            for (int x = x0; x < x0 + 20; x++) memcpy(im->data + ((size_t)y * SIDE + x) * 3, COLOURS[SCENES[k][0]], 3 * sizeof(float));
        features_compute(mm->x + (size_t)k * L * F, im, &c.feat, scratch);
        scene_caption(mm->tokens + k * CAP_LEN, k);
        mm->lengths[k] = CAP_LEN;
    }
    free(scratch);
    return 1;
}

static void memo_free(Memo *mm)
{
    for (int k = 0; k < N_IMG; k++) image_free(&mm->img[k]);
    free(mm->x);
    model_free(&mm->m);
}

/* Adam on the whole set as one batch. reinforce: hard attention's REINFORCE
 * term with the caption log-likelihood as reward and a running-mean baseline
 * (sec. 4.1); otherwise cross-entropy alone (hard: regions still sampled). */
static int memo_train(Memo *mm, int steps, int reinforce, uint64_t seed)
{
    GlmError err;
    DecoderWork w;
    AdamState adam;
    float *grad = calloc(mm->m.n_params, sizeof(float));
    if (!grad || decoder_work_init(&w, &mm->m.cfg, N_IMG, CAP_LEN, &err) ||
        optim_adam_init(&adam, mm->m.n_params, &err)) {
        free(grad);
        return 0;
    }
    ModelParams g;
    model_params_view(&g, grad, &mm->m.cfg);
    AdamConfig ac = optim_adam_default();
    ac.lr = 1e-2f;
    Rng rng;
    rng_seed(&rng, seed, 2);
    float rw[N_IMG], baseline = 0;
    for (int step = 0; step < steps; step++) {
        DecoderLoss loss = {.nll = 1.0f / N_IMG, .entropy = reinforce ? 0.01f / N_IMG : 0.0f};
        decoder_forward(&w, &mm->m.p, mm->x, mm->tokens, mm->lengths, N_IMG, CAP_LEN,
                        &(DecoderPick){mm->m.cfg.attention, REGIONS_SAMPLE, NULL, &rng, NULL, 0}, &loss);
        if (reinforce) {
            float mean = 0;
            for (int b = 0; b < N_IMG; b++) mean += w.caption_logp[b] / N_IMG;
            baseline = step == 0 ? mean : 0.9f * baseline + 0.1f * mean;
            for (int b = 0; b < N_IMG; b++) rw[b] = (w.caption_logp[b] - baseline) / N_IMG;
            decoder_set_reinforce(&w, rw);
        }
        memset(grad, 0, mm->m.n_params * sizeof(float));
        decoder_backward(&g, NULL, &w, &mm->m.p);
        optim_clip_grad_norm(grad, mm->m.n_params, 5.0f);
        optim_adam_step(mm->m.params, &adam, grad, &ac);
        mm->last_nll = (float)(w.stats.nll / (double)w.stats.tokens);
    }
    optim_adam_free(&adam);
    decoder_work_free(&w);
    free(grad);
    return 1;
}

static int result_is_caption(const SearchResult *r, int k)
{
    int32_t want[CAP_LEN];
    scene_caption(want, k);
    if (!r->ended || r->len != CAP_LEN - 1) return 0;
    for (int j = 0; j < r->len; j++)
        if (r->words[j] != want[j]) return 0;
    return 1;
}

/* The decoded caption's word probabilities are the teacher-forced decoder's
 * on that caption (with the same regions for hard attention). */
static void check_decode_matches_decoder(Memo *mm, const Search *d)
{
    DecoderWork w;
    GlmError err;
    REQUIRE(decoder_work_init(&w, &mm->m.cfg, N_IMG, mm->m.cfg.max_len, &err) == GLM_OK);
    const int T = mm->m.cfg.max_len, V = mm->m.cfg.vocab;
    int32_t tokens[N_IMG * 8] = {0};
    int lengths[N_IMG], regions[N_IMG * 8] = {0};
    for (int n = 0; n < N_IMG; n++) {
        const SearchResult *r = &d->results[n];
        lengths[n] = r->len + r->ended;
        for (int t = 0; t < lengths[n]; t++) tokens[n * T + t] = r->words[t], regions[n * T + t] = r->regions[t];
    }
    DecoderLoss loss = {.nll = 1.0f};
    decoder_forward(&w, &mm->m.p, mm->x, tokens, lengths, N_IMG, T,
                    &(DecoderPick){mm->m.cfg.attention, REGIONS_GIVEN, regions, NULL, NULL, 0}, &loss);
    for (int n = 0; n < N_IMG; n++) {
        const SearchResult *r = &d->results[n];
        double logp = 0;
        for (int t = 0; t < lengths[n]; t++) {
            CHECK_NEAR(r->p[t], w.prob[((size_t)t * N_IMG + n) * V + r->words[t]], 1e-4);
            CHECK_EQ_INT(r->regions[t], w.regions[n * T + t]);
            logp += log(r->p[t]);
        }
        CHECK_NEAR(r->logp, logp, 1e-3);
        CHECK_NEAR(r->score, logp / lengths[n], 1e-3);
    }
    decoder_work_free(&w);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define MEMO_STEPS 300
/* "near zero": below 0.05 nats per word, i.e. the right word at >95%. */
#define MEMO_MAX_NLL 0.05

static void memorise(int attention, int reinforce, uint64_t seed)
{
    Memo mm;
    REQUIRE(memo_build(&mm, attention, seed));
    double t0 = seconds();
    REQUIRE(memo_train(&mm, MEMO_STEPS, reinforce, seed));
    if (getenv("GLIMPSE_TEST_VERBOSE"))
        printf("  memorise %s%s: %d steps in %.3f s, nll/word %.4f\n", attention ? "soft" : "hard",
               reinforce ? "+reinforce" : "", MEMO_STEPS, seconds() - t0, mm.last_nll);
    CHECK(mm.last_nll < MEMO_MAX_NLL);
    Search d;
    GlmError err;
    REQUIRE(search_init(&d, &mm.m.cfg, N_IMG, 3, &err) == GLM_OK);
    for (int beam = 1; beam <= 3; beam += 2) {
        SearchOptions opt = {.beam = beam};
        search_run(&d, &mm.m.p, mm.x, N_IMG, &opt);
        for (int n = 0; n < N_IMG; n++) {
            if (!result_is_caption(&d.results[n], n)) {
                printf("  image %d, beam %d: got", n, beam);
                for (int j = 0; j < d.results[n].len; j++) printf(" %s", WORDS[d.results[n].words[j]]);
                printf("\n");
            }
            CHECK(result_is_caption(&d.results[n], n));
            const int L = d.L;
            for (int j = 0; j <= d.results[n].len && j < d.T; j++) {
                double s = 0;
                for (int i = 0; i < L; i++) s += d.results[n].alpha[j * L + i];
                CHECK_NEAR(s, 1.0, 1e-4);
                CHECK(d.results[n].regions[j] >= 0 && d.results[n].regions[j] < L);
            }
        }
        check_decode_matches_decoder(&mm, &d);
    }
    search_free(&d);
    memo_free(&mm);
}

TEST(search_memorise_soft)
{
    memorise(ATTN_SOFT, 0, 1);
}

TEST(search_memorise_hard_cross_entropy)
{
    memorise(ATTN_HARD, 0, 2);
}

TEST(search_memorise_hard_reinforce)
{
    memorise(ATTN_HARD, 1, 3);
}

/* Sampled regions (hard attention): the seed decides them, reproducibly. */
TEST(search_sampling_is_seeded)
{
    Memo mm;
    REQUIRE(memo_build(&mm, ATTN_HARD, 4));
    Search d;
    GlmError err;
    REQUIRE(search_init(&d, &mm.m.cfg, N_IMG, 2, &err) == GLM_OK);
    int first[N_IMG * 8], differ = 0;
    for (int run = 0; run < 3; run++) {
        Rng rng;
        rng_seed(&rng, run < 2 ? 77 : 78, 0);
        SearchOptions opt = {.beam = 2, .sample = 1, .rng = &rng};
        search_run(&d, &mm.m.p, mm.x, N_IMG, &opt);
        for (int n = 0; n < N_IMG; n++)
            for (int t = 0; t < 8; t++) {
                const int s = t <= d.results[n].len && t < d.T ? d.results[n].regions[t] : -1;
                if (run == 0) first[n * 8 + t] = s;
                else if (run == 1) CHECK_EQ_INT(s, first[n * 8 + t]);
                else differ += s != first[n * 8 + t];
            }
    }
    CHECK(differ > 0);
    search_free(&d);
    memo_free(&mm);
}

/* ---- the command line ---------------------------------------------------- */

static int write_png(const char *path, const Image *im)
{
    unsigned char *px = malloc((size_t)im->w * im->h * 3);
    if (!px) return 0;
    for (size_t k = 0; k < (size_t)im->w * im->h * 3; k++) px[k] = (unsigned char)(im->data[k] * 255.0f + 0.5f);
    int ok = stbi_write_png(path, im->w, im->h, 3, px, im->w * 3);
    free(px);
    return ok;
}

/* The caption of scene k as text, in one of two rotating buffers (so two
 * calls can share a printf). */
static char *caption_text(int k)
{
    static char bufs[2][128];
    static int next;
    char *buf = bufs[next++ % 2];
    int32_t ids[CAP_LEN];
    scene_caption(ids, k);
    buf[0] = 0;
    for (int j = 0; j < CAP_LEN - 1; j++) {
        if (j) strcat(buf, " ");
        strcat(buf, WORDS[ids[j]]);
    }
    return buf;
}

TEST(caption_command)
{
    Memo mm;
    REQUIRE(memo_build(&mm, ATTN_SOFT, 1));
    REQUIRE(memo_train(&mm, MEMO_STEPS, 0, 1));
    const char *dir = test_tmpdir();
    char model[512], png[3][512];
    snprintf(model, sizeof model, "%s/memo.glm", dir);
    GlmError err;
    REQUIRE(model_save(&mm.m, model, NULL, 0, &err) == GLM_OK);
    const int pick[3] = {0, 3, 6};
    for (int k = 0; k < 3; k++) {
        /* a quote in a file name must come out escaped in the JSON */
        snprintf(png[k], sizeof png[k], "%s/scene \"%d\".png", dir, pick[k]);
        REQUIRE(write_png(png[k], &mm.img[pick[k]]));
    }

    /* text: IMAGE<TAB>caption */
    CHECK_EQ_INT(test_run("%s caption --model %s --beam 1 '%s' '%s'", test_glimpse_bin(), model, png[0], png[1]), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/last.out", dir);
    char *out = test_slurp(path, NULL);
    char want[1400];
    snprintf(want, sizeof want, "%s\t%s\n%s\t%s\n", png[0], caption_text(pick[0]), png[1], caption_text(pick[1]));
    CHECK(out && !strcmp(out, want));
    if (out && strcmp(out, want)) printf("  got:\n%s  want:\n%s", out, want);
    free(out);

    /* JSON Lines, with a missing image in the middle: reported, exit 2, others captioned */
    int rc = test_run("%s caption --model %s --json '%s' '%s/nope.png' '%s'", test_glimpse_bin(), model, png[0],
                      dir, png[2]);
    CHECK_EQ_INT(rc, 2);
    snprintf(path, sizeof path, "%s/last.err", dir);
    char *errs = test_slurp(path, NULL);
    CHECK_STR_CONTAINS(errs, "nope.png");
    int err_lines = 0;
    for (char *c = errs; c && *c; c++) err_lines += *c == '\n';
    CHECK_EQ_INT(err_lines, 1);
    free(errs);
    snprintf(path, sizeof path, "%s/last.out", dir);
    out = test_slurp(path, NULL);
    REQUIRE(out);
    const int L = features_regions(&mm.m.cfg.feat), G = mm.m.cfg.feat.grid;
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        REQUIRE(lines < 2);
        const int k = lines == 0 ? 0 : 2;
        cJSON *j = cJSON_Parse(line);
        REQUIRE(j);
        cJSON *image = cJSON_GetObjectItemCaseSensitive(j, "image");
        cJSON *cap = cJSON_GetObjectItemCaseSensitive(j, "caption");
        cJSON *words = cJSON_GetObjectItemCaseSensitive(j, "words");
        CHECK(cJSON_IsString(image) && !strcmp(image->valuestring, png[k]));
        CHECK(cJSON_IsString(cap) && !strcmp(cap->valuestring, caption_text(pick[k])));
        CHECK(cJSON_IsArray(words) && cJSON_GetArraySize(words) == CAP_LEN - 1);
        int32_t ids[CAP_LEN];
        scene_caption(ids, pick[k]);
        int wi = 0;
        const cJSON *wd;
        cJSON_ArrayForEach(wd, words)
        {
            const cJSON *word = cJSON_GetObjectItemCaseSensitive(wd, "word");
            const cJSON *region = cJSON_GetObjectItemCaseSensitive(wd, "region");
            const cJSON *row = cJSON_GetObjectItemCaseSensitive(wd, "row");
            const cJSON *col = cJSON_GetObjectItemCaseSensitive(wd, "col");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(wd, "p");
            const cJSON *alpha = cJSON_GetObjectItemCaseSensitive(wd, "alpha");
            CHECK(cJSON_IsString(word) && wi < CAP_LEN && !strcmp(word->valuestring, WORDS[ids[wi]]));
            REQUIRE(cJSON_IsNumber(region) && cJSON_IsNumber(row) && cJSON_IsNumber(col));
            CHECK(region->valueint >= 0 && region->valueint < L);
            CHECK_EQ_INT(row->valueint, region->valueint / G);
            CHECK_EQ_INT(col->valueint, region->valueint % G);
            CHECK(cJSON_IsNumber(p) && p->valuedouble > 0.5 && p->valuedouble <= 1.0);
            REQUIRE(cJSON_IsArray(alpha));
            CHECK_EQ_INT(cJSON_GetArraySize(alpha), L);
            double sum = 0, best = -1;
            int arg = -1, i = 0;
            const cJSON *a;
            cJSON_ArrayForEach(a, alpha)
            {
                sum += a->valuedouble;
                if (a->valuedouble > best) best = a->valuedouble, arg = i;
                i++;
            }
            CHECK_NEAR(sum, 1.0, 1e-4);
            CHECK_EQ_INT(arg, region->valueint);   /* soft: the region is argmax alpha */
            wi++;
        }
        cJSON_Delete(j);
    }
    CHECK_EQ_INT(lines, 2);
    free(out);

    /* usage errors */
    CHECK_EQ_INT(test_run("%s caption --model %s", test_glimpse_bin(), model), 2);
    CHECK_EQ_INT(test_run("%s caption --model %s --beam 0 '%s'", test_glimpse_bin(), model, png[0]), 2);
    CHECK_EQ_INT(test_run("%s caption --model %s/none.glm '%s'", test_glimpse_bin(), dir, png[0]), 2);
    CHECK_EQ_INT(test_run("%s caption --help", test_glimpse_bin()), 0);
    memo_free(&mm);
}

/* ---- beam search against exhaustive search -------------------------------- */

/* A random untrained model with 3 usable words (<end>, 3, 4) and captions of
 * at most 3 steps has 15 possible captions: a beam wider than that is
 * exhaustive, so it must return the best length-normalised one, and beam 1
 * must be step-by-step argmax. Checked through the teacher-forced decoder. */
static void beam_vs_brute_force(int attention)
{
    ModelConfig c = model_default_config();
    c.feat = (FeatConfig){.version = FEAT_VERSION, .input = 16, .grid = 2, .window = 8, .stride = 8,
                          .color_levels = 1, .hog_cells = 1, .orient_bins = 2, .patch = 1};
    c.vocab = 5, c.embed = 4, c.hidden = 6, c.proj = 5, c.att = 3, c.max_len = 3;
    c.attention = attention, c.gate = attention == ATTN_SOFT;
    const char *words[] = {"<pad>", "<start>", "<end>", "x", "y"};
    Rng rng;
    rng_seed(&rng, 31 + (uint64_t)attention, 0);
    Model m;
    GlmError err;
    REQUIRE(model_init(&m, &c, words, &rng, &err) == GLM_OK);
    for (size_t k = 0; k < m.n_params; k++) m.params[k] *= 2.0f;   /* sharper, less uniform choices */
    enum { NI = 3, NSEQ = 15, TT = 3, TF = 14 };   /* TF: F of the tiny feature config */
    const int L = 4, F = TF;
    float x[NI * 4 * TF];
    for (int k = 0; k < NI * L * F; k++) x[k] = rng_uniform(&rng);

    /* every caption: [<end>], [w <end>], [w w <end>], [w w w] */
    int32_t seq[NSEQ][TT];
    int seq_len[NSEQ], ns = 0;
    for (int n = 1; n <= TT; n++)
        for (int mask = 0; mask < (1 << (n - 1)); mask++) {
            for (int t = 0; t < n - 1; t++) seq[ns][t] = 3 + ((mask >> t) & 1);
            seq[ns][n - 1] = 2;
            seq_len[ns++] = n;
        }
    for (int mask = 0; mask < 8; mask++) {
        for (int t = 0; t < TT; t++) seq[ns][t] = 3 + ((mask >> t) & 1);
        seq_len[ns++] = TT;
    }
    REQUIRE(ns == NSEQ);

    DecoderWork w;
    REQUIRE(decoder_work_init(&w, &c, NSEQ, TT, &err) == GLM_OK);
    Search d;
    REQUIRE(search_init(&d, &c, NI, 16, &err) == GLM_OK);
    SearchOptions wide = {.beam = 16}, greedy = {.beam = 1};
    SearchResult best_beam[NI], greedy_res[NI];
    int32_t beam_words[NI][TT], greedy_words[NI][TT];
    search_run(&d, &m.p, x, NI, &wide);
    for (int n = 0; n < NI; n++) best_beam[n] = d.results[n], memcpy(beam_words[n], d.results[n].words, sizeof beam_words[n]);
    search_run(&d, &m.p, x, NI, &greedy);
    for (int n = 0; n < NI; n++) greedy_res[n] = d.results[n], memcpy(greedy_words[n], d.results[n].words, sizeof greedy_words[n]);

    float xs[NSEQ * 4 * TF];
    int32_t tokens[NSEQ * TT];
    DecoderLoss loss = {.nll = 1.0f};
    for (int n = 0; n < NI; n++) {
        for (int s = 0; s < NSEQ; s++) {
            memcpy(xs + s * L * F, x + n * L * F, (size_t)L * F * sizeof(float));
            memcpy(tokens + s * TT, seq[s], sizeof seq[s]);
        }
        decoder_forward(&w, &m.p, xs, tokens, seq_len, NSEQ, TT, &(DecoderPick){m.cfg.attention, REGIONS_ARGMAX, NULL, NULL, NULL, 0},
                        &loss);
        int best = 0;
        for (int s = 1; s < NSEQ; s++)
            if (w.caption_logp[s] / seq_len[s] > w.caption_logp[best] / seq_len[best]) best = s;
        const SearchResult *r = &best_beam[n];
        CHECK_EQ_INT(r->len + r->ended, seq_len[best]);
        CHECK_EQ_INT(r->ended, seq[best][seq_len[best] - 1] == 2);
        for (int t = 0; t < GLM_MIN(seq_len[best], r->len + r->ended); t++) CHECK_EQ_INT(beam_words[n][t], seq[best][t]);
        CHECK_NEAR(r->score, w.caption_logp[best] / seq_len[best], 1e-4);
        /* greedy: the argmax word at each step, which is the beam-1 result */
        int32_t g[TT];
        int glen = 0;
        for (int t = 0; t < TT; t++) {
            /* the sequence whose prefix is g[0..t-1]: row 0 of a one-row forward */
            int32_t tok[TT] = {0};
            memcpy(tok, g, (size_t)t * sizeof(int32_t));
            int len1 = t + 1;
            decoder_forward(&w, &m.p, x + n * L * F, tok, &len1, 1, TT,
                            &(DecoderPick){m.cfg.attention, REGIONS_ARGMAX, NULL, NULL, NULL, 0}, &loss);
            const float *pr = w.prob + (size_t)t * 5;
            int arg = 2;
            for (int v = 3; v < 5; v++) arg = pr[v] > pr[arg] ? v : arg;
            g[glen++] = arg;
            if (arg == 2) break;
        }
        CHECK_EQ_INT(greedy_res[n].len + greedy_res[n].ended, glen);
        for (int t = 0; t < GLM_MIN(glen, greedy_res[n].len + greedy_res[n].ended); t++)
            CHECK_EQ_INT(greedy_words[n][t], g[t]);
    }
    search_free(&d);
    decoder_work_free(&w);
    model_free(&m);
}

TEST(search_beam_is_exhaustive_when_wide_soft)
{
    beam_vs_brute_force(ATTN_SOFT);
}

TEST(search_beam_is_exhaustive_when_wide_hard)
{
    beam_vs_brute_force(ATTN_HARD);
}
