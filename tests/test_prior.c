/* test_prior.c - the attention prior of prior.h on its own: the float
 * forward pi0_i = v . tanh(W a_i + b) matches a double-precision reference,
 * and prior_backward plus the supervision term's gradient match central
 * finite differences of that reference, for the regions and every weight.
 * The loss J = sum r . pi0 + lambda * CE(q, softmax(pi0)) with fixed random r
 * and targets q (one row uniform over two regions, one over one region,
 * one without objects, which must add nothing). Also: the targets follow
 * the grounding rule, and attn_forward adds the prior to the logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "evaluate.h"
#include "prior.h"
#include "rng.h"
#include "test.h"

enum { PB = 3, PL = 4, PD = 3, PK = 5 };

#define FD_STEP 1e-6   /* see test_lstm.c: double-precision reference, so a small step */
#define FD_TOL 2e-5
#define LAMBDA 0.7f

typedef struct {
    double a[PB * PL * PD], W[PK * PD], b[PK], v[PK];
    double r[PB * PL];
    float q[PB * PL];
    int supervise;
} PriorCase;

/* pi0 in double, and J. */
static double prior_ref(const PriorCase *k, double *pi0_out)
{
    double J = 0;
    for (int row = 0; row < PB; row++) {
        double pi0[PL], mass = 0;
        for (int i = 0; i < PL; i++) {
            const double *ai = k->a + (row * PL + i) * PD;
            double s = 0;
            for (int j = 0; j < PK; j++) {
                double pre = k->b[j];
                for (int d = 0; d < PD; d++) pre += k->W[j * PD + d] * ai[d];
                s += k->v[j] * tanh(pre);
            }
            pi0[i] = s;
            if (pi0_out) pi0_out[row * PL + i] = s;
            J += k->r[row * PL + i] * s;
            mass += k->q[row * PL + i];
        }
        if (!k->supervise || mass == 0) continue;
        double mx = pi0[0], sum = 0;
        for (int i = 1; i < PL; i++) mx = fmax(mx, pi0[i]);
        for (int i = 0; i < PL; i++) sum += exp(pi0[i] - mx);
        for (int i = 0; i < PL; i++) J -= LAMBDA * k->q[row * PL + i] * (pi0[i] - mx - log(sum));
    }
    return J;
}

static double loss_of(void *k) { return prior_ref(k, NULL); }

#define COMPARE(what, v, grad, n) TEST_FD_CHECK(what, loss_of, k, v, grad, n, FD_STEP, FD_TOL)

static void fill(double *v, int n, Rng *rng, double scale)
{
    for (int i = 0; i < n; i++) v[i] = scale * (2.0 * rng_uniform(rng) - 1.0);
}

static void to_float(float *dst, const double *src, int n)
{
    for (int i = 0; i < n; i++) dst[i] = (float)src[i];
}

static void check_case(int supervise)
{
    static PriorCase kc;
    PriorCase *k = &kc;
    memset(k, 0, sizeof *k);
    Rng rng;
    rng_seed(&rng, 31 + (uint64_t)supervise, 0);
    fill(k->a, PB * PL * PD, &rng, 1.0), fill(k->W, PK * PD, &rng, 0.9), fill(k->b, PK, &rng, 0.4);
    fill(k->v, PK, &rng, 1.5), fill(k->r, PB * PL, &rng, 1.0);
    k->q[0] = k->q[2] = 0.5f;   /* row 0: two object regions */
    k->q[PL + 3] = 1.0f;        /* row 1: one; row 2: none */
    k->supervise = supervise;
    float a[PB * PL * PD], W[PK * PD], b[PK], v[PK];
    to_float(a, k->a, PB * PL * PD), to_float(W, k->W, PK * PD), to_float(b, k->b, PK), to_float(v, k->v, PK);
    float pi0[PB * PL], u[PB * PL * PK];
    prior_forward(pi0, u, a, W, b, v, PB * PL, PD, PK);
    double ref[PB * PL];
    const double J = prior_ref(k, ref);
    for (int i = 0; i < PB * PL; i++) CHECK_NEAR(pi0[i], ref[i], 1e-5);
    double lin = 0;
    for (int i = 0; i < PB * PL; i++) lin += k->r[i] * ref[i];
    const double ce = prior_supervise(NULL, pi0, k->q, 0.0f, PB, PL);
    CHECK_NEAR(lin + (supervise ? LAMBDA * ce : 0.0), J, 1e-4);
    /* backward: dpi0 = r, plus the supervision's share */
    float dpi0[PB * PL], du[PB * PL * PK], da[PB * PL * PD] = {0}, dW[PK * PD] = {0}, db[PK] = {0}, dv[PK] = {0};
    to_float(dpi0, k->r, PB * PL);
    if (supervise) {
        float before = dpi0[2 * PL];
        prior_supervise(dpi0, pi0, k->q, LAMBDA, PB, PL);
        CHECK(dpi0[2 * PL] == before);   /* no objects, no term */
    }
    prior_backward(da, dW, db, dv, du, dpi0, u, a, W, v, PB * PL, PD, PK);
    int bad = 0;
    bad += COMPARE("a", k->a, da, PB * PL * PD);
    bad += COMPARE("prior_W", k->W, dW, PK * PD);
    bad += COMPARE("prior_b", k->b, db, PK);
    bad += COMPARE("prior_v", k->v, dv, PK);
    CHECK_EQ_INT(bad, 0);
}

TEST(prior_matches_its_definition_and_finite_differences)
{
    check_case(0);
}

TEST(prior_supervision_matches_finite_differences)
{
    check_case(1);
}

/* The cross-entropy is the one of Liu et al.: -sum_i q_i log softmax(pi0)_i,
 * so log L for uniform pi0 and q on one region, and smallest when softmax(pi0)
 * = q. */
TEST(prior_supervision_values)
{
    float pi0[PL] = {0}, q[PL] = {0, 1, 0, 0};
    CHECK_NEAR(prior_supervise(NULL, pi0, q, 0, 1, PL), log((double)PL), 1e-6);
    float sharp[PL] = {-5, 5, -5, -5};
    CHECK(prior_supervise(NULL, sharp, q, 0, 1, PL) < 1e-3);
    float p[PL];
    prior_softmax(p, sharp, PL);
    double s = 0;
    for (int i = 0; i < PL; i++) s += p[i];
    CHECK_NEAR(s, 1.0, 1e-6);
    CHECK(p[1] > 0.99f);
}

/* Targets: a box that covers one grid cell exactly marks that cell only,
 * by the rule grounding uses (eval_grounded); no objects, no target. */
TEST(prior_targets_follow_the_grounding_rule)
{
    FeatConfig fc = features_default_config();
    const int L = features_regions(&fc), G = fc.grid;
    REQUIRE(L <= 64);
    float q[64];
    int x0, y0, x1, y1;
    features_region_cell(&fc, 1, 2, &x0, &y0, &x1, &y1);   /* row 1, column 2 */
    SceneObject o = {.words = "red square"};
    o.box = (SceneBox){x0, y0, x1, y1};
    const int hits = prior_targets(q, &fc, fc.input, fc.input, &o, 1);
    REQUIRE(hits >= 1);
    CHECK(q[1 * G + 2] > 0);
    double s = 0;
    for (int i = 0; i < L; i++) {
        s += q[i];
        CHECK(q[i] == 0 || fabsf(q[i] - 1.0f / (float)hits) < 1e-7f);
        CHECK((q[i] > 0) == eval_grounded(&fc, i, fc.input, fc.input, &o.box));
    }
    CHECK_NEAR(s, 1.0, 1e-6);
    CHECK_EQ_INT(prior_targets(q, &fc, fc.input, fc.input, &o, 0), 0);
    for (int i = 0; i < L; i++) CHECK(q[i] == 0.0f);
}

/* attn_forward with a prior: alpha = softmax(e + pi0), i.e. the logits shift
 * by pi0 (the log-ratios of alpha move by the differences of pi0). */
TEST(attention_adds_the_prior_to_the_logits)
{
    enum { B = 2, L = 3, A = 2, H = 2 };
    Rng rng;
    rng_seed(&rng, 3, 0);
    float wa[B * L * A], h[B * H], Ua[A * H], w[A], pi0[B * L];
    for (int i = 0; i < B * L * A; i++) wa[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < B * H; i++) h[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < A * H; i++) Ua[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < A; i++) w[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    for (int i = 0; i < B * L; i++) pi0[i] = 3.0f * rng_uniform(&rng) - 1.5f;
    float al0[B * L], la0[B * L], al1[B * L], la1[B * L], tt[B * L * A], uh[B * A];
    attn_forward(al0, la0, tt, uh, wa, h, Ua, w, NULL, B, L, A, H);
    attn_forward(al1, la1, tt, uh, wa, h, Ua, w, pi0, B, L, A, H);
    for (int r = 0; r < B; r++)
        for (int i = 1; i < L; i++)
            CHECK_NEAR(la1[r * L + i] - la1[r * L], la0[r * L + i] - la0[r * L] + pi0[r * L + i] - pi0[r * L], 1e-5);
}
