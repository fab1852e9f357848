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

/* The decoder's nonlinearities (also used by attention.c and decoder.c).
 * tanh through expf: glibc's tanhf took over half the training time, this
 * form is ~4x faster and within ~1e-7 absolute of tanhf; the backward uses
 * 1 - tanh^2 of the value computed here, so gradients stay exact for it. */
static inline float lstm_tanhf(float v)
{
    const float e = expf(-2.0f * fabsf(v));
    const float t = (1.0f - e) / (1.0f + e);
    return v < 0 ? -t : t;
}
static inline float lstm_sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

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
