/* test_lstm.c - the LSTM step of lstm.h on its own: the float forward
 * matches eq. 1-3 computed in double precision, and the backward matches
 * central finite differences of that double-precision step, for every input
 * and weight. (The decoder's check in test_decoder.c covers the step inside
 * the whole model; this one points at the LSTM when it is the culprit.)
 *
 * The loss is J = sum rh . h_t + sum rc . c_t with fixed random rh, rc, so
 * the gradient reaching h_t is rh and the one reaching c_t from the next
 * step is rc: what lstm_backward is given in the decoder. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lstm.h"
#include "rng.h"
#include "test.h"

enum { LB = 3, LNX = 5, LH = 4, LG = 4 * LH };

/* Finite-difference step in double: truncation error ~h^2, round-off
 * ~1e-16 / h, both far below the float-side tolerance. */
#define FD_STEP 1e-6
/* The analytic gradient is computed in float: ~1e-7 relative per product,
 * summed over a few dozen terms. */
#define FD_TOL 2e-5

typedef struct {
    double x[LB * LNX], h[LB * LH], c[LB * LH];
    double Wx[LG * LNX], Wh[LG * LH], b[LG];
    double rh[LB * LH], rc[LB * LH];
} LstmCase;

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* eq. 1-3 in double; h_out, c_out may be NULL. Returns J. */
static double lstm_ref(const LstmCase *k, double *h_out, double *c_out)
{
    double J = 0;
    for (int r = 0; r < LB; r++)
        for (int j = 0; j < LH; j++) {
            double pre[4];
            for (int q = 0; q < 4; q++) {
                const int row = q * LH + j;
                double s = k->b[row];
                for (int i = 0; i < LNX; i++) s += k->Wx[row * LNX + i] * k->x[r * LNX + i];
                for (int i = 0; i < LH; i++) s += k->Wh[row * LH + i] * k->h[r * LH + i];
                pre[q] = s;
            }
            const double ig = sigm(pre[0]), fg = sigm(pre[1]), og = sigm(pre[2]), gg = tanh(pre[3]);
            const double c = fg * k->c[r * LH + j] + ig * gg, h = og * tanh(c);
            if (h_out) h_out[r * LH + j] = h;
            if (c_out) c_out[r * LH + j] = c;
            J += k->rh[r * LH + j] * h + k->rc[r * LH + j] * c;
        }
    return J;
}

static void fill(double *v, int n, Rng *rng, double scale)
{
    for (int i = 0; i < n; i++) v[i] = scale * (2.0 * rng_uniform(rng) - 1.0);
}

static void to_float(float *dst, const double *src, int n)
{
    for (int i = 0; i < n; i++) dst[i] = (float)src[i];
}

/* Central difference of J in entry i of v (a field of k). */
static double loss_of(void *k) { return lstm_ref(k, NULL, NULL); }

#define COMPARE(what, v, grad, n) TEST_FD_CHECK(what, loss_of, &k, v, grad, n, FD_STEP, FD_TOL)

TEST(lstm_step_matches_eq_1_3_and_its_finite_differences)
{
    LstmCase k;
    Rng rng;
    rng_seed(&rng, 17, 0);
    fill(k.x, LB * LNX, &rng, 1.0), fill(k.h, LB * LH, &rng, 0.9), fill(k.c, LB * LH, &rng, 1.5);
    fill(k.Wx, LG * LNX, &rng, 0.8), fill(k.Wh, LG * LH, &rng, 0.8), fill(k.b, LG, &rng, 0.5);
    fill(k.rh, LB * LH, &rng, 1.0), fill(k.rc, LB * LH, &rng, 1.0);
    float x[LB * LNX], h[LB * LH], c[LB * LH], Wx[LG * LNX], Wh[LG * LH], b[LG];
    to_float(x, k.x, LB * LNX), to_float(h, k.h, LB * LH), to_float(c, k.c, LB * LH);
    to_float(Wx, k.Wx, LG * LNX), to_float(Wh, k.Wh, LG * LH), to_float(b, k.b, LG);

    /* forward: the float step is eq. 1-3 */
    float gates[LB * LG], c1[LB * LH], h1[LB * LH], tc[LB * LH];
    lstm_forward(gates, c1, h1, tc, x, LNX, h, c, Wx, Wh, b, LB, LNX, LH);
    double h_ref[LB * LH], c_ref[LB * LH];
    lstm_ref(&k, h_ref, c_ref);
    for (int i = 0; i < LB * LH; i++) {
        CHECK_NEAR(h1[i], h_ref[i], 1e-6);
        CHECK_NEAR(c1[i], c_ref[i], 1e-6);
    }

    /* backward: accumulate into zeroed gradients */
    float dh[LB * LH], dc[LB * LH], dx[LB * LNX] = {0}, dh_prev[LB * LH] = {0};
    float dWx[LG * LNX] = {0}, dWh[LG * LH] = {0}, db[LG] = {0}, dpre[LB * LG];
    to_float(dh, k.rh, LB * LH), to_float(dc, k.rc, LB * LH);
    lstm_backward(dx, LNX, dh_prev, dc, dWx, dWh, db, dpre, dh, gates, tc, c, x, LNX, h, Wx, Wh, LB, LNX, LH);
    int bad = 0;
    bad += COMPARE("x", k.x, dx, LB * LNX);
    bad += COMPARE("h_prev", k.h, dh_prev, LB * LH);
    bad += COMPARE("c_prev", k.c, dc, LB * LH);   /* dc now reaches c_{t-1} */
    bad += COMPARE("Wx", k.Wx, dWx, LG * LNX);
    bad += COMPARE("Wh", k.Wh, dWh, LG * LH);
    bad += COMPARE("b", k.b, db, LG);
    CHECK_EQ_INT(bad, 0);
}

/* The backward accumulates (+=): running it twice doubles the weight
 * gradients, as the decoder's loop over time relies on. */
TEST(lstm_backward_accumulates)
{
    Rng rng;
    rng_seed(&rng, 3, 0);
    float x[LB * LNX], h[LB * LH], c[LB * LH], Wx[LG * LNX], Wh[LG * LH], b[LG];
    for (int i = 0; i < LB * LNX; i++) x[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < LB * LH; i++) h[i] = rng_uniform(&rng) - 0.5f, c[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < LG * LNX; i++) Wx[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < LG * LH; i++) Wh[i] = rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < LG; i++) b[i] = rng_uniform(&rng) - 0.5f;
    float gates[LB * LG], c1[LB * LH], h1[LB * LH], tc[LB * LH], dpre[LB * LG];
    lstm_forward(gates, c1, h1, tc, x, LNX, h, c, Wx, Wh, b, LB, LNX, LH);
    float once[LG] = {0}, twice[LG] = {0};
    for (int rep = 0; rep < 3; rep++) {
        float dh[LB * LH], dc[LB * LH], dx[LB * LNX] = {0}, dhp[LB * LH] = {0}, dWx[LG * LNX] = {0}, dWh[LG * LH] = {0};
        for (int i = 0; i < LB * LH; i++) dh[i] = 1.0f, dc[i] = 0.5f;
        lstm_backward(dx, LNX, dhp, dc, dWx, dWh, rep == 0 ? once : twice, dpre, dh, gates, tc, c, x, LNX, h, Wx, Wh,
                      LB, LNX, LH);
    }
    for (int i = 0; i < LG; i++) CHECK_NEAR(twice[i], 2.0 * once[i], 1e-5 * (1 + fabs(once[i])));
}

/* lstm_expf, lstm_tanhf and lstm_sigmoidf against libm in double, on a
 * dense grid: exp within EXP_REL relative over [-87, 88] (the header's
 * promise; float rounding alone is 6e-8), tanh and sigmoid within ACT_ABS
 * absolute everywhere, saturating cleanly far out, odd, and NaN-free. */
#define EXP_REL 2e-7
#define ACT_ABS 2e-7
TEST(nonlinearities_match_libm)
{
    double worst_exp = 0, worst_tanh = 0, worst_sigm = 0;
    for (int k = 0; k <= 2000000; k++) {
        const float x = -87.0f + 175.0f * (float)k / 2000000.0f;
        const double e = exp((double)x);
        const double re = fabs((double)lstm_expf(x) - e) / e;
        worst_exp = re > worst_exp ? re : worst_exp;
        const float v = x / 4.0f;   /* -21.75 .. 22: both saturations */
        const double dt = fabs((double)lstm_tanhf(v) - tanh((double)v));
        const double ds = fabs((double)lstm_sigmoidf(v) - sigm((double)v));
        worst_tanh = dt > worst_tanh ? dt : worst_tanh;
        worst_sigm = ds > worst_sigm ? ds : worst_sigm;
        CHECK(lstm_tanhf(-v) == -lstm_tanhf(v));
    }
    printf("  lstm_expf worst relative error %.2e, tanhf %.2e, sigmoidf %.2e absolute\n", worst_exp,
           worst_tanh, worst_sigm);
    CHECK(worst_exp < EXP_REL);
    CHECK(worst_tanh < ACT_ABS);
    CHECK(worst_sigm < ACT_ABS);
    CHECK(lstm_tanhf(1e30f) == 1.0f && lstm_tanhf(-1e30f) == -1.0f && lstm_tanhf(0.0f) == 0.0f);
    CHECK(lstm_sigmoidf(-1e30f) >= 0.0f && lstm_sigmoidf(-1e30f) < 1e-37f && lstm_sigmoidf(1e30f) == 1.0f);
    CHECK(lstm_expf(-1e30f) > 0.0f && isfinite(lstm_expf(1e30f)));
}
