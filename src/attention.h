/* attention.h - the attention of Xu et al. 2015 (sec. 3.1.2 and 4), one
 * decoder step batched over B rows, forward and backward.
 *
 *   e_ti     = w . tanh(Wa a_i + Ua h_{t-1} + b)          (eq. 4, the f_att MLP)
 *   alpha_ti = exp(e_ti) / sum_k exp(e_tk)                  (eq. 5)
 *   hard (sec. 4.1): z_t = a_{s_t}, one region chosen by the caller
 *   soft (sec. 4.2): z_t = beta_t sum_i alpha_ti a_i,
 *                    beta_t = sigmoid(gate_W . h_{t-1} + gate_b) (or 1 without the gate)
 * Two ablations keep alpha_t fixed at uniform (attn_uniform) instead of eq. 4-5,
 * so nothing learns where to look:
 *   random: z_t = a_{s_t} with s_t drawn uniformly (attn_hard_context)
 *   mean:   z_t = mean_i a_i, no gate (attn_soft_context with the uniform alpha)
 *
 * Wa a_i + b does not depend on t, so it is computed once per batch
 * (attn_precompute) and each step adds Ua h_{t-1}. Every product is a cblas
 * call over the batch; nothing here allocates. Not here: how s_t is chosen
 * (decoder.c samples or takes the argmax), the loss terms on alpha
 * (decoder.c), the LSTM (lstm.h).
 */
#ifndef GLIMPSE_ATTENTION_H
#define GLIMPSE_ATTENTION_H

#include "model.h"

/* 1 when alpha_t comes from eq. 4-5 (hard, soft); 0 for the ablations whose
 * alpha_t is fixed uniform (random, mean), which never use the att_* weights. */
static inline int attn_learned(int kind) { return kind == ATTN_HARD || kind == ATTN_SOFT; }
/* 1 when z_t blends all regions (soft, mean); 0 when it is one region (hard, random). */
static inline int attn_blends(int kind) { return kind == ATTN_SOFT || kind == ATTN_MEAN; }

/* wa: (B*L, A) = a Wa^T + b.  a: (B*L, D), Wa: (A, D), b: (A) */
void attn_precompute(float *wa, const float *a, const float *Wa, const float *b, int BL, int D, int A);
/* Backward of attn_precompute: accumulates dWa (A, D), db (A) and da (B*L, D)
 * from dwa (B*L, A). */
void attn_precompute_backward(float *da, float *dWa, float *db, const float *dwa, const float *a,
                              const float *Wa, int BL, int D, int A);

/* alpha, logalpha: (B, L); tt: (B, L, A) the tanh of eq. 4, kept for backward;
 * uh: (B, A) scratch. wa: (B, L, A) from attn_precompute; h_prev: (B, H);
 * Ua: (A, H); w: (A). prior: (B, L) added to the logits before the softmax,
 * e_ti + pi0_i (prior.h), or NULL. Its gradient is de itself. */
void attn_forward(float *alpha, float *logalpha, float *tt, float *uh,
                  const float *wa, const float *h_prev, const float *Ua, const float *w,
                  const float *prior, int B, int L, int A, int H);
/* de: (B, L) gradient of the logits e_ti. Accumulates dwa (B, L, A),
 * dh_prev (B, H), dUa (A, H), dw (A). duh: (B, A) scratch. */
void attn_backward(float *dwa, float *dh_prev, float *dUa, float *dw, float *duh,
                   const float *de, const float *tt, const float *h_prev, const float *Ua,
                   const float *w, int B, int L, int A, int H);
/* de (B, L) = the softmax's backward of dalpha (B, L): alpha * (dalpha - <alpha, dalpha>). */
void attn_softmax_backward(float *de, const float *dalpha, const float *alpha, int B, int L);

/* alpha (B, L) = 1/L, logalpha (B, L) = -log L: the fixed attention of the
 * random and mean ablations. */
void attn_uniform(float *alpha, float *logalpha, int B, int L);

/* Hard: row r of z (rows ldz apart, D used) = a[r][s[r * lds]].
 * a: (B, L, D), s: (B) chosen regions, lds apart. */
void attn_hard_context(float *z, int ldz, const int *s, int lds, const float *a, int B, int L, int D);
/* da[r][s[r * lds]] += dz[r]. */
void attn_hard_context_backward(float *da, const float *dz, int lddz, const int *s, int lds, int B, int L,
                                int D);

/* Soft: zraw (B, D) = sum_i alpha_i a_i; beta (B) the gate (1 when gate == 0);
 * z rows (ldz apart) = beta * zraw. gate_W: (H), gate_b: (1). */
void attn_soft_context(float *z, int ldz, float *zraw, float *beta,
                       const float *alpha, const float *a, const float *h_prev,
                       const float *gate_W, const float *gate_b, int gate, int B, int L, int D, int H);
/* From dz (B, D) rows lddz apart, accumulates dalpha (B, L), da (B, L, D) and,
 * with the gate, dh_prev (B, H), dgate_W (H), dgate_b (1). */
void attn_soft_context_backward(float *dalpha, float *da, float *dh_prev, float *dgate_W, float *dgate_b,
                                const float *dz, int lddz, const float *zraw, const float *beta,
                                const float *alpha, const float *a, const float *h_prev,
                                const float *gate_W, int gate, int B, int L, int D, int H);

#endif
