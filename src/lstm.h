/* lstm.h - one step of the LSTM of Xu et al. 2015 (sec. 3.1.2, eq. 1-3),
 * batched over B rows, forward and backward.
 *
 *   (i, f, o, g) = (sigm, sigm, sigm, tanh)(Wx x_t + Wh h_{t-1} + b)   (eq. 1)
 *   c_t = f * c_{t-1} + i * g                                          (eq. 2)
 *   h_t = o * tanh(c_t)                                                (eq. 3)
 *
 * Gate order in the rows of Wx, Wh, b and in the per-row gate buffers: i, f,
 * o, g, each H wide. x_t is whatever the caller concatenates (the decoder
 * passes [E y_{t-1}; z_t], E + D wide, as rows with a stride ldx so the two
 * halves can live side by side in one buffer).
 *
 * Every product is one cblas_sgemm over the batch. Nothing here allocates.
 * Not here: attention, the output layer, time loops (see decoder.c).
 */
#ifndef GLIMPSE_LSTM_H
#define GLIMPSE_LSTM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The decoder's nonlinearities (also used by attention.c, prior.c, step.c).
 * They run on every gate and on every region's attention feature at every
 * word, so they are written to be vectorised by the compiler: no calls, no
 * branches. lstm_expf is exp by range reduction, x = n ln2 + r with
 * |r| <= ln2/2 (ln2 split in two so n * LN2_HI is exact), e^r by its Taylor
 * series to r^7 (truncation < 5e-9 relative) and 2^n put into the exponent
 * bits; within 2e-7 relative of exp over [-87, 88] (tests/test_lstm.c),
 * clamped outside it (exp(-87) ~ 1.6e-38, exp(88) ~ 1.7e38). The backward
 * passes use 1 - tanh^2 and s (1 - s) of the values computed here, so
 * gradients stay exact for them. */
static inline float lstm_expf(float x)
{
    const float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    const float ROUND = 12582912.0f;   /* 1.5 * 2^23: t + ROUND - ROUND rounds t */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float t = x * LOG2E + ROUND;
    float n = t - ROUND;
    int32_t ti;
    memcpy(&ti, &t, sizeof ti);
    int32_t ni = ti - 0x4B400000;      /* the integer n: ROUND's bits subtracted */
    float r = x - n * LN2_HI - n * LN2_LO;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t si = (ni + 127) * (1 << 23);   /* 2^n, n in -126..127 */
    float s;
    memcpy(&s, &si, sizeof s);
    return p * s;
}
static inline float lstm_tanhf(float v)
{
    const float e = lstm_expf(-2.0f * fabsf(v));
    const float t = (1.0f - e) / (1.0f + e);
    return copysignf(t, v);
}
static inline float lstm_sigmoidf(float v) { return 1.0f / (1.0f + lstm_expf(-v)); }

/* gates: (B, 4H) activations i, f, o, g after their nonlinearities
 * c, h, tc: (B, H) new cell, new hidden, tanh(c)
 * x: (B, NX) rows ldx apart; h_prev, c_prev: (B, H)
 * Wx: (4H, NX), Wh: (4H, H), b: (4H) */
void lstm_forward(float *gates, float *c, float *h, float *tc,
                  const float *x, int ldx, const float *h_prev, const float *c_prev,
                  const float *Wx, const float *Wh, const float *b, int B, int NX, int H);

/* Backward of one step. In: dh (B, H) the whole gradient reaching h_t;
 * dc (B, H) the gradient reaching c_t from step t+1 (zeros at the last step),
 * which is replaced by the gradient reaching c_{t-1}.
 * Accumulates (+=) into dx (B, NX) rows lddx apart, dh_prev (B, H), dWx, dWh, db.
 * dpre: (B, 4H) scratch (left holding the pre-activation gradients). */
void lstm_backward(float *dx, int lddx, float *dh_prev, float *dc, float *dWx, float *dWh,
                   float *db, float *dpre,
                   const float *dh, const float *gates, const float *tc, const float *c_prev,
                   const float *x, int ldx, const float *h_prev,
                   const float *Wx, const float *Wh, int B, int NX, int H);

#endif
