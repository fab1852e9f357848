/* step.h - one step of the caption decoder of Xu et al. 2015 (sec. 3.1.2),
 * forward only, batched over R rows. The teacher-forced pass (decoder.c,
 * which also differentiates it) and caption search (search.c) both run
 * these, so every equation of the step is written once.
 *
 * Once per caption:
 *   step_regions   a_i = tanh(proj_W x_i + proj_b)                       (D)
 *                  h_0, c_0 = tanh(init_* mean_i a_i + init_*_b)         (H)
 *                  and Wa a_i + att_b, the part of eq. 4 that does not
 *                  depend on t
 *   step_prior     with the attention prior (prior.h): pi0_i from a_i
 * Then at every step t, in this order:
 *   step_attend    alpha_t from h_{t-1} (eq. 4-5, logits plus pi0 with the
 *                  prior), or the ablations' fixed uniform alpha (model.h)
 *   -- the caller picks s_t: that is the hard-attention choice (sec. 4.1):
 *      a sample of alpha_t (training rollouts), its argmax (captioning),
 *      or a given region (replaying a rollout) --
 *   step_advance   x_t = [E y_{t-1}; z_t], z_t = a_{s_t} (hard, random) or
 *                  the alpha-blend (soft, gated by beta_t; mean); the LSTM
 *                  (eq. 1-3, lstm.h); the deep output and p(y_t) (eq. 7)
 *
 * Nothing here allocates; every product is a cblas call over the R rows.
 */
#ifndef GLIMPSE_STEP_H
#define GLIMPSE_STEP_H

#include <stdint.h>

#include "model.h"

/* The sizes and kind of one model, as the step needs them. */
typedef struct {
    int L, F, D, H, E, A, V;
    int attention;   /* AttnKind */
    int gate;        /* soft attention uses beta_t */
    int init_mean;   /* h_0, c_0 from the mean region (else learned constants) */
    int prior;       /* the attention prior pi0 is added to the logits (prior.h) */
} StepShape;

StepShape step_shape(const ModelConfig *cfg);

/* a (R, L, D), amean (R, D), h0 and c0 (R, H), and wa (R, L, A) when the
 * attention is learned, from x (R, L, F). With init_mean 0 amean is left
 * zero, so h0 and c0 are learned constants that say nothing of the image. */
void step_regions(float *a, float *amean, float *h0, float *c0, float *wa, const float *x,
                  const ModelParams *p, const StepShape *s, int R);

/* With the prior (s->prior): pi0 (R, L) and its hidden layer u (R, L, A),
 * kept for the backward, from a (R, L, D) (prior.h). Without it: nothing. */
void step_prior(float *pi0, float *u, const float *a, const ModelParams *p, const StepShape *s, int R);

/* alpha, logalpha (R, L); tt (R, L, A) the tanh of eq. 4 (kept for the
 * backward) and uh (R, A) scratch, used by learned attention only.
 * wa (R, L, A) from step_regions, h_prev (R, H); pi0 (R, L) from step_prior,
 * read when s->prior (else may be NULL). */
void step_attend(float *alpha, float *logalpha, float *tt, float *uh, const float *wa, const float *h_prev,
                 const float *pi0, const ModelParams *p, const StepShape *s, int R);

/* What step_advance writes, each (R, ...) with R rows. */
typedef struct {
    float *xin;      /* (R, E + D) the LSTM input [E y_{t-1}; z_t] */
    float *zraw;     /* (R, D) blends: sum_i alpha_i a_i, before the gate */
    float *beta;     /* (R) blends: the gate (1 without it) */
    float *gates;    /* (R, 4H) i, f, o, g after their nonlinearities */
    float *c, *h;    /* (R, H) c_t, h_t */
    float *tc;       /* (R, H) tanh(c_t) */
    float *deep;     /* (R, E) E y_{t-1} + Lh h_t + Lz z_t */
    float *prob;     /* (R, V) p(y_t) */
    float *logprob;  /* (R, V) log p(y_t) */
} StepOut;

/* y_prev (R) the words fed in; s (R, rows lds apart) the picked regions
 * (read by hard and random attention); alpha (R, L) this step's weights;
 * a (R, L, D); h_prev, c_prev (R, H). */
void step_advance(const StepOut *o, const int32_t *y_prev, const int *s, int lds, const float *alpha,
                  const float *a, const float *h_prev, const float *c_prev, const ModelParams *p,
                  const StepShape *sh, int R);

#endif
