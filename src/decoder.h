/* decoder.h - the caption decoder of Xu et al. 2015 (sec. 3.1.2 and 4),
 * teacher-forced over a batch of B captions, forward and exact backward:
 * the pass that training differentiates. Its step is step.h's, which
 * caption search (search.h) runs too.
 *
 * Usage (one training step):
 *     DecoderWork w;
 *     decoder_work_init(&w, &model.cfg, B_max, T_max, &err);      // once
 *     ...
 *     DecoderLoss loss = {.nll = 1.0f / B};
 *     DecoderPick pick = {.attention = model.cfg.attention, .mode = REGIONS_SAMPLE, .rng = &rng};
 *     float J = decoder_forward(&w, &model.p, x, tokens, lengths, B, T, &pick, &loss);
 *     memset(grad_block, 0, n_params * sizeof(float));             // zeroed once
 *     decoder_backward(&grad, NULL, &w, &model.p);                  // accumulates
 *     decoder_work_free(&w);
 *
 * One step t (the input y_{t-1} is <start> at t = 0, then the caption's words;
 * step.h):
 *   a_i = tanh(proj_W x_i + proj_b);  h_0, c_0 = tanh(init_* mean_i a_i + init_*_b)
 *   alpha_t from h_{t-1} (eq. 4-5, attention.h), z_t hard or soft
 *   LSTM on [E y_{t-1}; z_t] (eq. 1-3, lstm.h)
 *   p(y_t) = softmax(out_Lo (E y_{t-1} + out_Lh h_t + out_Lz z_t) + out_b)   (eq. 7)
 *
 * The loss minimised (DecoderLoss, every term masked to the steps t < len_b,
 * each switched off by a zero weight):
 *   nll      * sum_b sum_t -log p(y_bt)                   teacher-forced words
 * - sum_b reinforce[b] sum_t log alpha_bt(s_bt)            REINFORCE (sec. 4.1)
 * - entropy  * sum_b sum_t H(alpha_bt)                     entropy bonus
 * + doubly   * sum_b sum_i (1 - sum_t alpha_bti)^2         soft only (sec. 4.2.1)
 * + prior    * sum_b -sum_i q_bi log softmax(pi0_b)_i      with the prior (prior.h)
 * With the attention prior, e_ti gets + pi0_i at every step, so every term
 * acting on alpha also reaches the prior's weights: dpi0_i = sum_t de_ti.
 * Hard attention: s_t is discrete, so alpha gets gradients only from the
 * REINFORCE and entropy terms; a_{s_t} gets them through z_t.
 * The ablations random and mean (model.h) fix alpha_t = 1/L and never run the
 * attention MLP: the att_* weights get no gradient, the alpha terms are
 * constants (their values still enter the loss), and the doubly stochastic
 * penalty is left out as for hard attention.
 *
 * Memory: decoder_work_init allocates every buffer for (B_max, T_max) once;
 * forward and backward never allocate.
 */
#ifndef GLIMPSE_DECODER_H
#define GLIMPSE_DECODER_H

#include <stdint.h>

#include "common.h"
#include "model.h"
#include "rng.h"
#include "step.h"

/* How the forward pass picks the hard-attention region s_t (soft attention
 * always records argmax alpha_t as "the" region, and uses the blend; mean
 * attention records region 0). Random attention draws s_t uniformly in
 * SAMPLE and ARGMAX mode alike (there is no argmax), so both need the Rng. */
typedef enum {
    REGIONS_SAMPLE = 0,   /* s_t ~ Categorical(alpha_t), drawn from the Rng */
    REGIONS_ARGMAX = 1,   /* s_t = argmax alpha_t */
    REGIONS_GIVEN = 2,    /* s_t from the caller (replaying a sample; gradient checks) */
} RegionMode;

/* How a forward pass forms z_t: the attention kind of this pass (the
 * model's; or ATTN_SOFT for a hard model's soft batch, the expectation
 * instead of a sample) and how the hard choice s_t is made. */
typedef struct {
    int attention;          /* AttnKind */
    RegionMode mode;
    const int *given;       /* (B, T) the regions for REGIONS_GIVEN, rows T apart; else NULL */
    Rng *rng;               /* for REGIONS_SAMPLE, and REGIONS_ARGMAX with random attention */
    Rng *rows;              /* (B) or NULL: caption b draws from rows[b] instead of rng, so
                               its draws do not depend on the other captions of the batch */
    int same_x;             /* x, B and the parameters are the last forward's: its region
                               projections and h_0, c_0 are reused (a rollout's replay on
                               the batch of the cross-entropy pass) */
} DecoderPick;

typedef struct {
    float nll;              /* weight of the summed word negative log-likelihood */
    const float *reinforce; /* (B) per-caption weight of -sum_t log alpha_t(s_t); NULL: off */
    float entropy;          /* weight of -sum_t H(alpha_t) (an entropy bonus when > 0) */
    float doubly;           /* weight of the doubly stochastic penalty; soft only */
    float prior;            /* weight of the prior's supervision (prior.h); models with a prior */
    const float *prior_target; /* (B, L) its targets q, rows summing to 1 (or 0: no term); NULL: off */
} DecoderLoss;

/* What the last forward measured (sums over the batch, masked). */
typedef struct {
    double loss;        /* the weighted total that backward differentiates */
    double nll;         /* sum of -log p(y_t) */
    double entropy;     /* sum of H(alpha_t) */
    double doubly;      /* sum_b sum_i (1 - sum_t alpha_ti)^2 */
    double logp_regions;/* sum of log alpha_t(s_t) */
    double prior;       /* sum_b -sum_i q_bi log softmax(pi0_b)_i, when supervised */
    long tokens;        /* sum of the lengths */
} DecoderStats;

/* The buffers indexed by time are time-major, (T, B, ...) with the last
 * forward's B (w->B) and steps run (w->T), so one step is one contiguous
 * (B, ...) block for the sgemm calls; the per-caption ones are (B, T_max). */
typedef struct {
    /* sizes */
    int B_max, T_max, L, F, D, H, E, A, V;
    int model_attention;  /* the model's AttnKind */
    int attention;        /* the last forward's (DecoderPick.attention) */
    StepShape shape;      /* the sizes again as step.h takes them, the gate and init_mean */
    /* the last forward's batch: B rows, T steps run (max length), tokens' stride */
    int B, T;
    DecoderLoss loss;
    DecoderStats stats;
    /* inputs, copied */
    float *x;          /* (B, L, F) region vectors */
    int32_t *tokens;   /* (B, T_max) target words */
    int *lengths;      /* (B) */
    int32_t *yin;      /* (B) the words fed in at the current step */
    float *rweight;    /* (B) copy of loss.reinforce */
    /* outputs the caller may read after forward */
    int *regions;      /* (B, T_max) s_t (hard) or argmax alpha_t (soft) */
    float *alpha;      /* (T, B, L) attention weights */
    float *prob;       /* (T, B, V) word probabilities */
    float *caption_logp; /* (B) sum_t log p(y_t): the REINFORCE reward of sec. 4.1 */
    /* activations */
    float *a;          /* (B, L, D) projected regions */
    float *wa;         /* (B, L, A) att_Wa a + att_b */
    float *amean;      /* (B, D) */
    float *h, *c;      /* (T+1, B, H) h_0..h_T, c_0..c_T */
    float *tc;         /* (T, B, H) tanh(c_t) */
    float *gates;      /* (T, B, 4H) */
    float *tt;         /* (T, B, L, A) tanh inside eq. 4 */
    float *logalpha;   /* (T, B, L) */
    float *beta;       /* (T, B) soft gate */
    float *zraw;       /* (T, B, D) soft context before the gate */
    float *xin;        /* (T, B, E + D) LSTM input [E y_{t-1}; z_t] */
    float *deep;       /* (T, B, E) E y + Lh h + Lz z */
    float *cover;      /* (B, L) sum_t alpha_ti (masked) */
    float *pi0;        /* (B, L) the attention prior's scores (models with a prior) */
    float *pu;         /* (B, L, A) its hidden layer */
    float *ptarget;    /* (B, L) copy of loss.prior_target */
    /* backward scratch */
    float *dh, *dh_prev, *dc;  /* (B, H) */
    float *dxin;       /* (B, E + D) */
    float *ddeep;      /* (B, E) */
    float *dlogits;    /* (B, V) */
    float *dpre;       /* (B, 4H) */
    float *dalpha, *de; /* (B, L) */
    float *dpi0;       /* (B, L) sum_t de_t, then the supervision's share */
    float *dpu;        /* (B, L, A) */
    float *duh;        /* (B, A) also forward scratch uh */
    float *dwa;        /* (B, L, A) */
    float *da;         /* (B, L, D) */
    float *dmean;      /* (B, D) */
    float *dinit;      /* (B, H) */
    float *block;      /* the one float allocation behind all of the above */
    int *iblock;       /* the one int allocation */
} DecoderWork;

/* Sizes every buffer for up to B_max captions of up to T_max steps.
 * GLM_ENOMEM (or GLM_EINPUT for sizes out of range) with a reason. Free with
 * decoder_work_free (also after a failed init). */
int decoder_work_init(DecoderWork *w, const ModelConfig *cfg, int B_max, int T_max, GlmError *err);
void decoder_work_free(DecoderWork *w);

/* Teacher-forced forward over B <= B_max captions.
 * x: (B, L, F) region vectors; tokens: (B, T) rows T apart, T <= T_max, the
 * words then <end>, padding ignored; lengths: (B) in [1, T], counting <end>.
 * pick: this pass's attention kind and how s_t is chosen (given regions
 * have rows T apart). Steps run: max length.
 * Returns the weighted loss (also in w->stats); w->regions holds s_t.
 * Everything is copied, so the arguments need not outlive the call. */
float decoder_forward(DecoderWork *w, const ModelParams *p, const float *x, const int32_t *tokens,
                      const int *lengths, int B, int T, const DecoderPick *pick, const DecoderLoss *loss);

/* Replaces the REINFORCE weights (B) of the last forward, for rewards that
 * the forward itself produces (w->caption_logp, or a score of the sampled
 * regions); updates w->stats.loss. NULL switches the term off. */
void decoder_set_reinforce(DecoderWork *w, const float *weights);

/* Exact gradient of the last forward's loss: accumulates (+=) into grad (a
 * ModelParams view over a block the caller zeroed) and, unless NULL, into
 * dx (B, L, F), the gradient w.r.t. the region vectors. */
void decoder_backward(ModelParams *grad, float *dx, DecoderWork *w, const ModelParams *p);

#endif
