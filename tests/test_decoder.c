/* test_decoder.c - the decoder's backward is the exact gradient of its
 * forward: every one of the 20 parameter tensors (23 with the attention
 * prior, prior.h) and the input features,
 * for hard and soft attention and the random / mean ablations (alpha fixed
 * uniform), with and without the prior and its supervision term, for each
 * loss term alone and all together,
 * against central finite differences. A mutation test shows the checker
 * does catch a wrong gradient. Also: same seed, same bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "decoder.h"
#include "model.h"
#include "optim.h"
#include "test.h"

/* Finite-difference step, in parameter units. The loss is computed in float
 * (summed in double), so each value carries a relative rounding error of a
 * few 1e-7 (about 1e-6 absolute for these losses of order 1-10); divided by
 * 2*FD_EPS that is ~2e-4 of noise in the estimate. The truncation error of
 * the central difference is eps^2/6 |f'''|, ~1.5e-6 |f'''|: the fixture's
 * randomised weights reach |f'''| ~ 100 on some entries (a step of 1e-2 was
 * seen to miss by 6% there; 3e-3 keeps every entry below 0.12 of the
 * tolerance). A smaller step would drown in rounding, a larger one in
 * curvature. */
#define FD_EPS 3e-3
/* An entry passes when |analytic - numeric| <= FD_ATOL + FD_RTOL * max(|a|, |n|).
 * FD_ATOL is ~5x the noise floor estimated above; FD_RTOL 1% is far below
 * what any wrong term would give (a sign flip is a 200% error, a missing
 * factor or a dropped path tens of %), and the mutation test below proves a
 * 10% error in one tensor is caught. */
#define FD_ATOL 1e-3
#define FD_RTOL 1e-2
/* Entries checked per tensor: the largest |gradient| (so the check is never
 * vacuous) plus random ones. */
#define FD_SAMPLES 5
/* F of tiny_config: 3 mean + 1 colour + 2 hog + 1 patch + 5 moments + 2 position. */
#define TF 14

enum { GB = 3, GT = 5 };

typedef struct {
    Model m;
    DecoderWork w;
    float x[GB * 4 * TF];      /* (B, L, F) */
    int32_t tokens[GB * GT];  /* (B, T) */
    int lengths[GB];
    int regions[GB * GT];     /* (B, T) given s_t */
    float rweight[GB];
    float q[GB * 4];          /* (B, L) the prior's supervision targets */
    float *grad;              /* (n_params) */
    ModelParams g;
} Fixture;

static ModelConfig tiny_config_prior(int attention, int gate, int prior)
{
    ModelConfig c = model_default_config();
    c.feat = (FeatConfig){.version = FEAT_VERSION, .input = 16, .grid = 2, .window = 8, .stride = 8,
                          .color_levels = 1, .hog_cells = 1, .orient_bins = 2, .patch = 1};
    c.vocab = 7, c.embed = 3, c.hidden = 4, c.proj = 5, c.att = 3, c.max_len = GT;
    c.attention = attention, c.gate = gate, c.prior = prior;
    return c;
}

static ModelConfig tiny_config(int attention, int gate) { return tiny_config_prior(attention, gate, 0); }

static int fixture_init_prior(Fixture *fx, int attention, int gate, int prior, uint64_t seed)
{
    memset(fx, 0, sizeof *fx);
    ModelConfig c = tiny_config_prior(attention, gate, prior);
    const char *words[] = {"<pad>", "<start>", "<end>", "<unk>", "red", "square", "left"};
    Rng rng;
    rng_seed(&rng, seed, 0);
    GlmError err;
    if (model_init(&fx->m, &c, words, &rng, &err)) return 0;
    if (features_regions(&c.feat) != 4 || features_dim(&c.feat) != TF) return 0;
    /* move every parameter (biases too) off its special initial value */
    for (size_t k = 0; k < fx->m.n_params; k++) fx->m.params[k] += 0.3f * (2.0f * rng_uniform(&rng) - 1.0f);
    for (int k = 0; k < GB * 4 * TF; k++) fx->x[k] = rng_uniform(&rng);
    const int len[GB] = {GT, 3, 1};
    for (int b = 0; b < GB; b++) {
        fx->lengths[b] = len[b];
        fx->rweight[b] = 0.5f * (float)b - 0.7f;   /* mixed signs, as (r - b) gives */
        for (int t = 0; t < GT; t++) {
            fx->tokens[b * GT + t] = t == len[b] - 1 ? 2 : t < len[b] ? 4 + (int)rng_below(&rng, 3) : 0;
            fx->regions[b * GT + t] = (int)rng_below(&rng, 4);
        }
    }
    /* targets: caption 0 two object regions, caption 1 one, caption 2 none */
    fx->q[0] = fx->q[3] = 0.5f;
    fx->q[4 + 1] = 1.0f;
    fx->grad = calloc(fx->m.n_params, sizeof(float));
    if (!fx->grad) return 0;
    model_params_view(&fx->g, fx->grad, &c);
    return decoder_work_init(&fx->w, &c, GB, GT, &err) == GLM_OK;
}

static int fixture_init(Fixture *fx, int attention, int gate, uint64_t seed)
{
    return fixture_init_prior(fx, attention, gate, 0, seed);
}

static void fixture_free(Fixture *fx)
{
    decoder_work_free(&fx->w);
    free(fx->grad);
    model_free(&fx->m);
}

static double loss_at(Fixture *fx, const DecoderLoss *loss)
{
    decoder_forward(&fx->w, &fx->m.p, fx->x, fx->tokens, fx->lengths, GB, GT,
                    &(DecoderPick){fx->m.cfg.attention, REGIONS_GIVEN, fx->regions, NULL, NULL, 0}, loss);
    return fx->w.stats.loss;
}

typedef struct {
    int quiet;                 /* do not print mismatches (the mutation test expects them) */
    int checked, bad;
    double worst;              /* largest |a - n| / (FD_ATOL + FD_RTOL max(|a|, |n|)) */
    char where[64];
} CheckReport;

static void check_entry(CheckReport *r, Fixture *fx, const DecoderLoss *loss, float *theta, double analytic,
                        const char *name, size_t k)
{
    const float keep = *theta;
    *theta = keep + (float)FD_EPS;
    const double up = loss_at(fx, loss);
    *theta = keep - (float)FD_EPS;
    const double down = loss_at(fx, loss);
    *theta = keep;
    /* the step actually taken in float */
    const double numeric = (up - down) / ((double)(keep + (float)FD_EPS) - (double)(keep - (float)FD_EPS));
    const double ratio = fabs(analytic - numeric) / (FD_ATOL + FD_RTOL * fmax(fabs(analytic), fabs(numeric)));
    r->checked++;
    if (ratio > 1.0) {
        r->bad++;
        if (r->bad <= 3 && !r->quiet)
            printf("  grad mismatch %s[%zu]: analytic %.6g numeric %.6g\n", name, k, analytic, numeric);
    }
    if (ratio > r->worst) {
        r->worst = ratio;
        snprintf(r->where, sizeof r->where, "%s[%zu]", name, k);
    }
}

/* Compares the analytic gradient of `loss` with finite differences on
 * FD_SAMPLES entries of every tensor and of the input x. mutate >= 0 scales
 * tensor number `mutate`'s analytic gradient by `factor` first (the mutation
 * test). Returns the report; r.bad > 0 means "mismatch". */
static CheckReport grad_check(Fixture *fx, const DecoderLoss *loss, int mutate, float factor)
{
    CheckReport r = {.quiet = mutate >= 0};
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&fx->m.cfg, s);
    float dx[GB * 4 * TF] = {0};
    memset(fx->grad, 0, fx->m.n_params * sizeof(float));
    loss_at(fx, loss);
    decoder_backward(&fx->g, dx, &fx->w, &fx->m.p);
    Rng pick;
    rng_seed(&pick, 99, 0);
    float **pv = (float **)&fx->m.p, **gv = (float **)&fx->g;
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        if (!model_tensor_present(&s[i])) continue;   /* the prior's, in a model without one */
        const size_t n = (size_t)s[i].rows * (size_t)(s[i].cols ? s[i].cols : 1);
        if (i == mutate)
            for (size_t k = 0; k < n; k++) gv[i][k] *= factor;
        size_t big = 0;
        for (size_t k = 1; k < n; k++)
            if (fabsf(gv[i][k]) > fabsf(gv[i][big])) big = k;
        for (int j = 0; j < FD_SAMPLES; j++) {
            size_t k = j == 0 ? big : rng_below(&pick, (uint32_t)n);
            check_entry(&r, fx, loss, &pv[i][k], gv[i][k], s[i].name, k);
        }
    }
    for (int j = 0; j < FD_SAMPLES; j++) {
        size_t k = rng_below(&pick, GB * 4 * TF);
        check_entry(&r, fx, loss, &fx->x[k], dx[k], "x", k);
    }
    return r;
}

/* Largest |gradient| of tensor i under `loss` (is the term reaching it at all?). */
static float tensor_grad_max(Fixture *fx, const DecoderLoss *loss, int i)
{
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&fx->m.cfg, s);
    memset(fx->grad, 0, fx->m.n_params * sizeof(float));
    loss_at(fx, loss);
    decoder_backward(&fx->g, NULL, &fx->w, &fx->m.p);
    float **gv = (float **)&fx->g, mx = 0;
    const size_t n = (size_t)s[i].rows * (size_t)(s[i].cols ? s[i].cols : 1);
    for (size_t k = 0; k < n; k++) mx = fmaxf(mx, fabsf(gv[i][k]));
    return mx;
}

/* Tensors of the fixture's model (20, or 23 with the prior). */
static int n_present(const Fixture *fx)
{
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&fx->m.cfg, s);
    int n = 0;
    for (int i = 0; i < MODEL_N_TENSORS; i++) n += model_tensor_present(&s[i]);
    return n;
}

static const char *kind_name(int attention)
{
    static const char *names[] = {"hard", "soft", "random", "mean"};
    return names[attention];
}

static void run_checks_prior(int attention, int gate, int prior)
{
    Fixture fx;
    REQUIRE(fixture_init_prior(&fx, attention, gate, prior, 5 + (uint64_t)attention));
    const char *names[] = {"nll", "reinforce", "entropy", "doubly", "prior supervision", "all"};
    DecoderLoss terms[6] = {
        {.nll = 0.7f},
        {.reinforce = fx.rweight},
        {.entropy = 0.9f},
        {.doubly = 0.6f},
        {.prior = 0.8f, .prior_target = fx.q},
        {.nll = 0.7f, .reinforce = fx.rweight, .entropy = 0.9f, .doubly = 0.6f, .prior = 0.8f, .prior_target = fx.q},
    };
    for (int k = 0; k < 6; k++) {
        if (attention != ATTN_SOFT && k == 3) continue;   /* the penalty is soft attention's */
        if (!prior && k == 4) continue;                   /* nothing to supervise */
        CheckReport r = grad_check(&fx, &terms[k], -1, 1.0f);
        if (r.bad || getenv("GLIMPSE_FD_VERBOSE"))
            printf("  %s attention%s, %s term: %d of %d entries differ (worst %s, %.3g x tolerance)\n",
                   kind_name(attention), prior ? " with prior" : "", names[k], r.bad, r.checked, r.where, r.worst);
        CHECK_EQ_INT(r.bad, 0);
        CHECK_EQ_INT(r.checked, (n_present(&fx) + 1) * FD_SAMPLES);
    }
    CHECK_EQ_INT(n_present(&fx), prior ? 23 : 20);
    /* Non-vacuous: with every term on, each tensor the model uses gets a gradient. */
    ModelTensorSpec s[MODEL_N_TENSORS];
    model_tensor_specs(&fx.m.cfg, s);
    for (int i = 0; i < MODEL_N_TENSORS; i++) {
        /* the gate is soft attention's; the ablations never run the attention MLP */
        const int unused = (!(attention == ATTN_SOFT && gate) && !strncmp(s[i].name, "gate_", 5)) ||
                           ((attention == ATTN_RANDOM || attention == ATTN_MEAN) && !strncmp(s[i].name, "att_", 4));
        if (!model_tensor_present(&s[i])) continue;
        const float mx = tensor_grad_max(&fx, &terms[5], i);
        if (unused) {
            CHECK(mx == 0.0f);
        } else if (!(mx > 1e-3f)) {
            printf("  %s gets no gradient\n", s[i].name);
            CHECK(mx > 1e-3f);
        }
    }
    /* Hard attention: word likelihood alone sends nothing into the attention MLP. */
    if (attention == ATTN_HARD) {
        CHECK(tensor_grad_max(&fx, &terms[0], 10) == 0.0f);   /* att_w */
        CHECK(tensor_grad_max(&fx, &terms[1], 18) == 0.0f);   /* out_Lo: REINFORCE alone */
        if (prior) {
            CHECK(tensor_grad_max(&fx, &terms[0], 22) == 0.0f);   /* prior_v: nor into the prior */
            CHECK(tensor_grad_max(&fx, &terms[1], 22) > 1e-3f);   /* REINFORCE reaches it */
            CHECK(tensor_grad_max(&fx, &terms[2], 22) > 1e-3f);   /* the entropy bonus too */
            CHECK(tensor_grad_max(&fx, &terms[4], 10) == 0.0f);   /* supervision: the prior only */
        }
    }
    if (attention == ATTN_SOFT && prior) CHECK(tensor_grad_max(&fx, &terms[0], 22) > 1e-3f);   /* words, via the blend */
    fixture_free(&fx);
}

static void run_checks(int attention, int gate) { run_checks_prior(attention, gate, 0); }

TEST(decoder_gradients_hard)
{
    run_checks(ATTN_HARD, 0);
}

TEST(decoder_gradients_soft_gated)
{
    run_checks(ATTN_SOFT, 1);
}

TEST(decoder_gradients_hard_prior)
{
    run_checks_prior(ATTN_HARD, 0, 1);
}

TEST(decoder_gradients_soft_gated_prior)
{
    run_checks_prior(ATTN_SOFT, 1, 1);
}

/* The ablations: gate on in the config to show mean ignores it. */
TEST(decoder_gradients_random)
{
    run_checks(ATTN_RANDOM, 1);
}

TEST(decoder_gradients_mean)
{
    run_checks(ATTN_MEAN, 1);
}

/* Random attention: alpha is 1/L and sampled regions cover all L; mean: the
 * context z_t is exactly the mean of the projected regions. */
TEST(decoder_ablations_forward)
{
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_RANDOM, 0, 17));
    DecoderLoss nll = {.nll = 1.0f};
    Rng rng;
    rng_seed(&rng, 5, 0);
    int seen[4] = {0};
    for (int rep = 0; rep < 20; rep++) {
        decoder_forward(&fx.w, &fx.m.p, fx.x, fx.tokens, fx.lengths, GB, GT,
                        &(DecoderPick){fx.m.cfg.attention, REGIONS_ARGMAX, NULL, &rng, NULL, 0}, &nll);
        for (int t = 0; t < fx.lengths[0]; t++) seen[fx.w.regions[t]]++;
    }
    for (int i = 0; i < 4; i++) CHECK(seen[i] > 0);   /* 100 draws: P(a region unseen) ~ 1e-12 */
    for (long k = 0; k < (long)GT * GB * 4; k++) CHECK_NEAR(fx.w.alpha[k], 0.25, 1e-7);
    fixture_free(&fx);

    REQUIRE(fixture_init(&fx, ATTN_MEAN, 1, 19));
    loss_at(&fx, &nll);
    const DecoderWork *w = &fx.w;
    const int E = w->E, D = w->D;
    for (int t = 0; t < w->T; t++)
        for (int b = 0; b < GB; b++)
            for (int k = 0; k < D; k++) {
                double m = 0;
                for (int i = 0; i < 4; i++) m += 0.25 * w->a[((long)b * 4 + i) * D + k];
                CHECK_NEAR(w->xin[((long)t * GB + b) * (E + D) + E + k], m, 1e-6);
            }
    fixture_free(&fx);
}

/* search_run with random attention: without an Rng it draws from a fixed
 * seed (two runs agree), the draws cover every region, alpha is 1/L; with
 * the caller's Rng the draws follow it. */
TEST(decode_random_attention_draws_uniformly)
{
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_RANDOM, 0, 23));
    Search d;
    GlmError err;
    REQUIRE(search_init(&d, &fx.m.cfg, GB, 2, &err) == GLM_OK);
    int first[GB * GT], seen[4] = {0}, differ = 0;
    SearchOptions opt = {.beam = 1};
    search_run(&d, &fx.m.p, fx.x, GB, &opt);
    for (int n = 0; n < GB; n++)
        for (int t = 0; t < GT; t++) first[n * GT + t] = t <= d.results[n].len ? d.results[n].regions[t] : -1;
    search_run(&d, &fx.m.p, fx.x, GB, &opt);
    for (int n = 0; n < GB; n++)
        for (int t = 0; t <= d.results[n].len && t < GT; t++) {
            CHECK_EQ_INT(d.results[n].regions[t], first[n * GT + t]);
            CHECK_NEAR(d.results[n].alpha[t * 4 + 1], 0.25, 1e-7);
        }
    Rng rng;
    rng_seed(&rng, 8, 0);
    SearchOptions beam = {.beam = 2, .rng = &rng};
    for (int rep = 0; rep < 10; rep++) {
        search_run(&d, &fx.m.p, fx.x, GB, &beam);
        for (int n = 0; n < GB; n++)
            for (int t = 0; t <= d.results[n].len && t < GT; t++) {
                seen[d.results[n].regions[t]]++;
                differ |= d.results[n].regions[t] != first[n * GT + t];
            }
    }
    for (int i = 0; i < 4; i++) CHECK(seen[i] > 0);
    CHECK(differ);
    search_free(&d);
    fixture_free(&fx);
}

TEST(decoder_gradients_hard_constant_init)
{
    /* model.init_mean 0: h_0, c_0 no longer see the regions. */
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_HARD, 0, 13));
    fx.w.shape.init_mean = 0;
    DecoderLoss all = {.nll = 1.0f, .reinforce = fx.rweight, .entropy = 0.5f};
    CheckReport r = grad_check(&fx, &all, -1, 1.0f);
    CHECK_EQ_INT(r.bad, 0);
    CHECK(tensor_grad_max(&fx, &all, 2) == 0.0f);   /* init_h_W */
    CHECK(tensor_grad_max(&fx, &all, 4) == 0.0f);   /* init_c_W */
    CHECK(tensor_grad_max(&fx, &all, 3) > 1e-3f);   /* init_h_b still learns */
    fixture_free(&fx);
}

TEST(decoder_gradients_soft_ungated)
{
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_SOFT, 0, 11));
    DecoderLoss all = {.nll = 1.0f, .reinforce = fx.rweight, .entropy = 0.5f, .doubly = 1.0f};
    CheckReport r = grad_check(&fx, &all, -1, 1.0f);
    CHECK_EQ_INT(r.bad, 0);
    fixture_free(&fx);
}

/* The checker must catch a wrong gradient: a sign flip, and a 10% scale error. */
TEST(decoder_gradient_check_catches_mutations)
{
    for (int attention = 0; attention < 2; attention++) {
        Fixture fx;
        REQUIRE(fixture_init(&fx, attention, 1, 21));
        DecoderLoss all = {.nll = 1.0f, .reinforce = fx.rweight, .entropy = 0.5f,
                           .doubly = attention == ATTN_SOFT ? 1.0f : 0.0f};
        const int flip[] = {0, 8, 14, 18};   /* proj_W, att_Ua, lstm_Wh, out_Lo */
        for (int k = 0; k < 4; k++) {
            CheckReport r = grad_check(&fx, &all, flip[k], -1.0f);
            CHECK(r.bad > 0);
        }
        CheckReport r = grad_check(&fx, &all, 13, 1.1f);   /* lstm_Wx 10% too large */
        CHECK(r.bad > 0);
        r = grad_check(&fx, &all, -1, 1.0f);                /* and unmutated it passes */
        CHECK_EQ_INT(r.bad, 0);
        fixture_free(&fx);
    }
    /* the same for the prior's tensors, with and without supervision */
    for (int attention = 0; attention < 2; attention++)
        for (int sup = 0; sup < 2; sup++) {
            Fixture fx;
            REQUIRE(fixture_init_prior(&fx, attention, 1, 1, 21));
            DecoderLoss all = {.nll = 1.0f, .reinforce = fx.rweight, .entropy = 0.5f,
                               .doubly = attention == ATTN_SOFT ? 1.0f : 0.0f,
                               .prior = sup ? 0.8f : 0.0f, .prior_target = sup ? fx.q : NULL};
            for (int k = 20; k < 23; k++) {   /* prior_W, prior_b, prior_v */
                CheckReport r = grad_check(&fx, &all, k, -1.0f);
                CHECK(r.bad > 0);
            }
            CheckReport r = grad_check(&fx, &all, 20, 1.1f);
            CHECK(r.bad > 0);
            r = grad_check(&fx, &all, -1, 1.0f);
            CHECK_EQ_INT(r.bad, 0);
            fixture_free(&fx);
        }
}

/* A fresh prior is flat (prior_v starts at 0): the model's attention and
 * words are those of the same model without a prior, and so are the other
 * tensors' initial values (the prior's come last in the table). The
 * supervision term measures the cross-entropy it says. */
TEST(decoder_prior_starts_neutral_and_measures_its_term)
{
    ModelConfig c0 = tiny_config_prior(ATTN_HARD, 0, 0), c1 = tiny_config_prior(ATTN_HARD, 0, 1);
    const char *words[] = {"<pad>", "<start>", "<end>", "<unk>", "red", "square", "left"};
    Model m0, m1;
    Rng r0, r1;
    GlmError err;
    rng_seed(&r0, 4, 0);
    rng_seed(&r1, 4, 0);
    REQUIRE(model_init(&m0, &c0, words, &r0, &err) == GLM_OK);
    REQUIRE(model_init(&m1, &c1, words, &r1, &err) == GLM_OK);
    REQUIRE(m1.n_params == m0.n_params + (size_t)c1.att * (c1.proj + 2));
    CHECK(memcmp(m0.params, m1.params, m0.n_params * sizeof(float)) == 0);
    for (int k = 0; k < c1.att; k++) CHECK(m1.p.prior_v[k] == 0.0f);
    CHECK(m0.p.prior_W == NULL);
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_HARD, 0, 2));
    DecoderWork w0, w1;
    REQUIRE(decoder_work_init(&w0, &c0, GB, GT, &err) == GLM_OK);
    REQUIRE(decoder_work_init(&w1, &c1, GB, GT, &err) == GLM_OK);
    const DecoderPick pick = {.attention = ATTN_HARD, .mode = REGIONS_GIVEN, .given = fx.regions};
    const DecoderLoss nll = {.nll = 1.0f}, sup = {.nll = 1.0f, .prior = 0.5f, .prior_target = fx.q};
    const float J0 = decoder_forward(&w0, &m0.p, fx.x, fx.tokens, fx.lengths, GB, GT, &pick, &nll);
    const float J1 = decoder_forward(&w1, &m1.p, fx.x, fx.tokens, fx.lengths, GB, GT, &pick, &nll);
    CHECK(J0 == J1);
    CHECK(memcmp(w0.alpha, w1.alpha, (size_t)GT * GB * 4 * sizeof(float)) == 0);
    /* flat prior: CE = log 4 for each of the two captions with objects */
    decoder_forward(&w1, &m1.p, fx.x, fx.tokens, fx.lengths, GB, GT, &pick, &sup);
    CHECK_NEAR(w1.stats.prior, 2 * log(4.0), 1e-5);
    CHECK_NEAR(w1.stats.loss, J1 + 0.5 * 2 * log(4.0), 1e-4);
    /* without a prior the supervision is ignored */
    decoder_forward(&w0, &m0.p, fx.x, fx.tokens, fx.lengths, GB, GT, &pick, &sup);
    CHECK(w0.stats.prior == 0.0);
    CHECK((float)w0.stats.loss == J0);
    decoder_work_free(&w0);
    decoder_work_free(&w1);
    fixture_free(&fx);
    model_free(&m0);
    model_free(&m1);
}

/* Decoding with a prior: a strong pi0 decides where greedy search looks,
 * and the search's attention is the decoder's. */
TEST(search_uses_the_prior)
{
    Fixture fx;
    REQUIRE(fixture_init_prior(&fx, ATTN_HARD, 0, 1, 9));
    /* make pi0 large and different per region: v big, so the prior dominates e */
    for (int k = 0; k < fx.m.cfg.att; k++) fx.m.p.prior_v[k] = 1000.0f * (k % 2 ? 1.0f : -1.0f);
    Search d;
    GlmError err;
    REQUIRE(search_init(&d, &fx.m.cfg, GB, 1, &err) == GLM_OK);
    SearchOptions opt = {.beam = 1};
    search_run(&d, &fx.m.p, fx.x, GB, &opt);
    for (int n = 0; n < GB; n++) {
        const float *pi0 = d.pi0 + (long)n * 4;
        int best = 0;
        for (int i = 1; i < 4; i++) best = pi0[i] > pi0[best] ? i : best;
        float second = -1e30f;
        for (int i = 0; i < 4; i++) second = i != best && pi0[i] > second ? pi0[i] : second;
        REQUIRE(pi0[best] - second > 10.0f);   /* far beyond |e_ti| <= |w|_1 of this fixture */
        for (int t = 0; t <= d.results[n].len && t < GT; t++) CHECK_EQ_INT(d.results[n].regions[t], best);
    }
    search_free(&d);
    fixture_free(&fx);
}

/* The loss terms measure what they say: the NLL equals -sum log p of the
 * targets, the per-caption log-likelihood sums to -NLL, alpha rows sum to 1. */
TEST(decoder_forward_measures)
{
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_SOFT, 1, 3));
    DecoderLoss nll = {.nll = 1.0f};
    double J = loss_at(&fx, &nll);
    double want = 0, sum_caption = 0;
    DecoderWork *w = &fx.w;
    for (int b = 0; b < GB; b++) {
        sum_caption += w->caption_logp[b];
        for (int t = 0; t < fx.lengths[b]; t++)
            want -= log(w->prob[((size_t)t * GB + b) * 7 + fx.tokens[b * GT + t]]);
    }
    CHECK_NEAR(J, want, 1e-4);
    CHECK_NEAR(sum_caption, -want, 1e-4);
    CHECK_EQ_INT(w->stats.tokens, GT + 3 + 1);
    CHECK_EQ_INT(w->T, GT);
    for (int t = 0; t < GT; t++)
        for (int b = 0; b < GB; b++) {
            double s = 0;
            for (int i = 0; i < 4; i++) s += w->alpha[((size_t)t * GB + b) * 4 + i];
            CHECK_NEAR(s, 1.0, 1e-5);
        }
    fixture_free(&fx);
}

/* Same seed, same bytes: a few sampled-region training steps twice. */
static void train_steps(float *out, size_t n, uint64_t seed)
{
    Fixture fx;
    REQUIRE(fixture_init(&fx, ATTN_HARD, 0, 7));
    REQUIRE(fx.m.n_params == n);
    AdamState adam;
    GlmError err;
    REQUIRE(optim_adam_init(&adam, fx.m.n_params, &err) == GLM_OK);
    AdamConfig ac = optim_adam_default();
    Rng rng;
    rng_seed(&rng, seed, 1);
    for (int step = 0; step < 5; step++) {
        DecoderLoss loss = {.nll = 1.0f / GB, .reinforce = fx.rweight, .entropy = 0.01f};
        decoder_forward(&fx.w, &fx.m.p, fx.x, fx.tokens, fx.lengths, GB, GT,
                        &(DecoderPick){fx.m.cfg.attention, REGIONS_SAMPLE, NULL, &rng, NULL, 0}, &loss);
        memset(fx.grad, 0, n * sizeof(float));
        decoder_backward(&fx.g, NULL, &fx.w, &fx.m.p);
        optim_clip_grad_norm(fx.grad, n, 1.0f);
        optim_adam_step(fx.m.params, &adam, fx.grad, &ac);
    }
    memcpy(out, fx.m.params, n * sizeof(float));
    optim_adam_free(&adam);
    fixture_free(&fx);
}

TEST(decoder_training_is_deterministic)
{
    ModelConfig c = tiny_config(ATTN_HARD, 0);
    size_t n = model_param_count(&c);
    float *a = calloc(n, sizeof(float)), *b = calloc(n, sizeof(float)), *d = calloc(n, sizeof(float));
    REQUIRE(a && b && d);
    train_steps(a, n, 42);
    train_steps(b, n, 42);
    train_steps(d, n, 43);
    CHECK(memcmp(a, b, n * sizeof(float)) == 0);
    CHECK(memcmp(a, d, n * sizeof(float)) != 0);   /* the seed does reach the sampler */
    free(a);
    free(b);
    free(d);
}
