/* test_attention.c - the attention of attention.h on its own: the float
 * forward matches eq. 4-5 (and the gated soft context of sec. 4.2.1)
 * computed in double precision, and the backward (attn_softmax_backward,
 * attn_backward, attn_precompute_backward, attn_soft_context_backward)
 * matches central finite differences of that double-precision forward, for
 * the regions, the state and every weight.
 *
 * The loss J = sum r . alpha + sum q . z, with fixed random r and q: the
 * first term reaches the MLP through alpha, the second through the blend
 * and the gate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "rng.h"
#include "test.h"

enum { AB = 2, AL = 4, AD = 3, AA = 5, AH = 4 };

#define FD_STEP 1e-6   /* see test_lstm.c */
#define FD_TOL 2e-5

typedef struct {
    double a[AB * AL * AD], h[AB * AH];
    double Wa[AA * AD], b[AA], Ua[AA * AH], w[AA], gW[AH], gb[1];
    double r[AB * AL], q[AB * AD];
} AttnCase;

/* e_i = w . tanh(Wa a_i + b + Ua h), alpha = softmax(e),
 * z = sigmoid(gW . h + gb) sum_i alpha_i a_i. Returns J; alpha_out unless NULL. */
static double attn_ref(const AttnCase *k, double *alpha_out)
{
    double J = 0;
    for (int row = 0; row < AB; row++) {
        double e[AL], mx = -1e300;
        for (int i = 0; i < AL; i++) {
            double s = 0;
            for (int j = 0; j < AA; j++) {
                double u = k->b[j];
                for (int d = 0; d < AD; d++) u += k->Wa[j * AD + d] * k->a[(row * AL + i) * AD + d];
                for (int d = 0; d < AH; d++) u += k->Ua[j * AH + d] * k->h[row * AH + d];
                s += k->w[j] * tanh(u);
            }
            e[i] = s;
            mx = s > mx ? s : mx;
        }
        double z = 0;
        for (int i = 0; i < AL; i++) z += exp(e[i] - mx);
        double gate = k->gb[0];
        for (int d = 0; d < AH; d++) gate += k->gW[d] * k->h[row * AH + d];
        gate = 1.0 / (1.0 + exp(-gate));
        double ctx[AD] = {0};
        for (int i = 0; i < AL; i++) {
            const double al = exp(e[i] - mx) / z;
            if (alpha_out) alpha_out[row * AL + i] = al;
            J += k->r[row * AL + i] * al;
            for (int d = 0; d < AD; d++) ctx[d] += al * k->a[(row * AL + i) * AD + d];
        }
        for (int d = 0; d < AD; d++) J += k->q[row * AD + d] * gate * ctx[d];
    }
    return J;
}

static double loss_of(void *k) { return attn_ref(k, NULL); }

#define COMPARE(what, v, grad, n) TEST_FD_CHECK(what, loss_of, &k, v, grad, n, FD_STEP, FD_TOL)

static void fill(double *v, int n, Rng *rng, double scale)
{
    for (int i = 0; i < n; i++) v[i] = scale * (2.0 * rng_uniform(rng) - 1.0);
}

static void to_float(float *dst, const double *src, int n)
{
    for (int i = 0; i < n; i++) dst[i] = (float)src[i];
}

TEST(attention_matches_eq_4_5_and_its_finite_differences)
{
    AttnCase k;
    Rng rng;
    rng_seed(&rng, 29, 0);
    fill(k.a, AB * AL * AD, &rng, 1.0), fill(k.h, AB * AH, &rng, 0.9);
    fill(k.Wa, AA * AD, &rng, 0.9), fill(k.b, AA, &rng, 0.4), fill(k.Ua, AA * AH, &rng, 0.9);
    fill(k.w, AA, &rng, 1.5), fill(k.gW, AH, &rng, 0.8), fill(k.gb, 1, &rng, 0.5);
    fill(k.r, AB * AL, &rng, 1.0), fill(k.q, AB * AD, &rng, 1.0);
    float a[AB * AL * AD], h[AB * AH], Wa[AA * AD], b[AA], Ua[AA * AH], w[AA], gW[AH], gb[1];
    to_float(a, k.a, AB * AL * AD), to_float(h, k.h, AB * AH), to_float(Wa, k.Wa, AA * AD), to_float(b, k.b, AA);
    to_float(Ua, k.Ua, AA * AH), to_float(w, k.w, AA), to_float(gW, k.gW, AH), to_float(gb, k.gb, 1);

    /* forward, as the decoder runs it */
    float wa[AB * AL * AA], tt[AB * AL * AA], uh[AB * AA], alpha[AB * AL], logalpha[AB * AL];
    float z[AB * AD], zraw[AB * AD], beta[AB];
    attn_precompute(wa, a, Wa, b, AB * AL, AD, AA);
    attn_forward(alpha, logalpha, tt, uh, wa, h, Ua, w, NULL, AB, AL, AA, AH);
    attn_soft_context(z, AD, zraw, beta, alpha, a, h, gW, gb, 1, AB, AL, AD, AH);
    double alpha_ref[AB * AL];
    attn_ref(&k, alpha_ref);
    for (int i = 0; i < AB * AL; i++) {
        CHECK_NEAR(alpha[i], alpha_ref[i], 1e-6);
        CHECK_NEAR(logalpha[i], log(alpha_ref[i]), 1e-5);
    }

    /* backward: dz = q, dalpha = r, then through the blend, the softmax,
     * the MLP and the precomputed part */
    float dz[AB * AD], dalpha[AB * AL], de[AB * AL], da[AB * AL * AD] = {0}, dh[AB * AH] = {0};
    float dWa[AA * AD] = {0}, db[AA] = {0}, dUa[AA * AH] = {0}, dw[AA] = {0}, dgW[AH] = {0}, dgb[1] = {0};
    float dwa[AB * AL * AA] = {0}, duh[AB * AA];
    to_float(dz, k.q, AB * AD), to_float(dalpha, k.r, AB * AL);
    attn_soft_context_backward(dalpha, da, dh, dgW, dgb, dz, AD, zraw, beta, alpha, a, h, gW, 1, AB, AL, AD, AH);
    attn_softmax_backward(de, dalpha, alpha, AB, AL);
    attn_backward(dwa, dh, dUa, dw, duh, de, tt, h, Ua, w, AB, AL, AA, AH);
    attn_precompute_backward(da, dWa, db, dwa, a, Wa, AB * AL, AD, AA);
    int bad = 0;
    bad += COMPARE("a", k.a, da, AB * AL * AD);
    bad += COMPARE("h_prev", k.h, dh, AB * AH);
    bad += COMPARE("Wa", k.Wa, dWa, AA * AD);
    bad += COMPARE("b", k.b, db, AA);
    bad += COMPARE("Ua", k.Ua, dUa, AA * AH);
    bad += COMPARE("w", k.w, dw, AA);
    bad += COMPARE("gate_W", k.gW, dgW, AH);
    bad += COMPARE("gate_b", k.gb, dgb, 1);
    CHECK_EQ_INT(bad, 0);
}
