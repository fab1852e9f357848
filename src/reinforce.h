/* reinforce.h - REINFORCE for the hard-attention choices (Williams 1992;
 * Xu et al. 2015, sec. 4.1, eq. 9-12).
 *
 * The decoder picks one region s_t per word, s_t ~ alpha_t: the attention
 * weights are a policy over positions, pi(s_t) = alpha_t(s_t). The caption
 * depends on that discrete sample, so backpropagation has no derivative to
 * follow from the caption back into alpha. The score-function estimator
 * gives the gradient of the expected reward from samples instead:
 *
 *     grad J = E_s[ (r(s) - b) grad sum_t log alpha_t(s_t) ]        (eq. 11-12)
 *
 * with a baseline b that does not depend on s, so it moves no mean, only
 * the variance. One update (reinforce_rollout), in order:
 *   1. baseline: greedy (self-critical, Rennie et al. 2017): b is the reward
 *      of the same image decoded with argmax regions and words; mean: a
 *      moving average of the batch's mean reward, b <- 0.9 b + 0.1 mean r
 *      (eq. 12's b_k); none: b = 0.
 *   2. rollout: a caption decoded with s_t ~ alpha_t and sampled words
 *      (search.h), its words and regions recorded.
 *   3. reward r: the rollout's CIDEr-D (or BLEU-4, or unigram F1) against
 *      all of the image's references (metrics.h): task performance.
 *   4. advantage and weight: w_b = lambda_r (r_b - b_b) / B.
 *   5. replay: the rollout teacher-forced on its own words with its own
 *      regions (decoder.h, REGIONS_GIVEN) under the loss
 *      -sum_b w_b sum_t log alpha_bt(s_bt); its backward accumulates the
 *      policy gradient into the model's gradient (reinforce_score_grad is
 *      the step that turns w_b into a gradient of the attention logits).
 * The paper's own estimator (REWARD_LOGLIK, reinforce_loglik) needs no
 * rollout: r = log p(y | s, a) of the reference caption under the regions
 * that the cross-entropy pass itself sampled, b the moving average, and the
 * weights ride on that same pass.
 *
 * Also here, for the decoder's backward, the gradients of the two terms
 * that act on the policy alone: -w log alpha_t(s_t) and the entropy bonus.
 *
 * Determinism: every draw comes from the caller's Rng. Memory: everything is
 * allocated by reinforce_init; an update allocates nothing.
 * Not here: the cross-entropy of the words and the optimizer (train.h), the
 * metrics themselves (metrics.h), the decoding (search.h).
 */
#ifndef GLIMPSE_REINFORCE_H
#define GLIMPSE_REINFORCE_H

#include <stdint.h>

#include "common.h"
#include "dataset.h"
#include "decoder.h"
#include "metrics.h"
#include "model.h"
#include "rng.h"
#include "search.h"

typedef enum { REWARD_CIDER = 0, REWARD_BLEU4, REWARD_F1, REWARD_LOGLIK } ReinforceReward;
typedef enum { BASELINE_GREEDY = 0, BASELINE_MEAN, BASELINE_NONE } ReinforceBaseline;

/* Names for --help and progress lines; parse returns -1 for an unknown name. */
const char *reinforce_reward_name(int r);
const char *reinforce_baseline_name(int b);
int reinforce_reward_parse(const char *s);
int reinforce_baseline_parse(const char *s);

typedef struct {
    int reward;      /* ReinforceReward */
    int baseline;    /* ReinforceBaseline */
    float weight;    /* lambda_r; 0 switches REINFORCE off */
} ReinforceOptions;

/* What one update measured. */
typedef struct {
    double reward;     /* mean reward of the batch */
    double baseline;   /* mean baseline used */
    double loss;       /* -sum_b w_b sum_t log alpha(s_t), as minimised */
} ReinforceStats;

typedef struct {
    int B_max, T;
    const MetricsIndex *refs;  /* every image's references, for the reward */
    MetricsIndex *own_refs;    /* refs when this one built it (else borrowed) */
    MetricsScratch *scratch;
    Search search;             /* rollouts and greedy decodes, beam 1 */
    float avg;                 /* the moving-average baseline */
    int avg_set;               /* 0 until the first reward */
    /* per update, sized once */
    int32_t *rtok;             /* (B, T) rollout words then <end> */
    int *rlen;                 /* (B) */
    int *rreg;                 /* (B, T) rollout regions */
    float *reward, *base;      /* (B) r_b, b_b */
    float *weight;             /* (B) w_b = lambda_r (r_b - b_b) / B */
} Reinforce;

/* For batches of up to B_max images of data (encoded, dataset_encode;
 * borrowed only during the call) with a model of configuration cfg.
 * GLM_ENOMEM with a reason. Free with reinforce_free (also after a failure). */
int reinforce_init(Reinforce *r, const ModelConfig *cfg, const Dataset *data, int B_max, GlmError *err);
void reinforce_free(Reinforce *r);
/* The same for one worker of a data-parallel trainer: it borrows the
 * references of `from` (which must outlive it) and has its own scratch,
 * search and per-update buffers. */
int reinforce_init_shared(Reinforce *r, const ModelConfig *cfg, const Reinforce *from, int B_max, GlmError *err);

/* The reward of a caption (word ids, no <start>/<end>) of image `image`. */
double reinforce_reward(Reinforce *r, const ReinforceOptions *o, int image, const int32_t *words, int n);

/* Baselines b_b for the B rewards in r->reward into r->base (greedy ones
 * must be there already when have_greedy), then the moving average moves. */
void reinforce_baselines(Reinforce *r, const ReinforceOptions *o, int B, int have_greedy);

/* w_b = lambda_r (r_b - b_b) / B into r->weight; fills st. */
void reinforce_weights(Reinforce *r, const ReinforceOptions *o, int B, ReinforceStats *st);

/* The whole update on a batch: x (B, L, F) region vectors of images
 * `images` (B). Steps 1-5 above; accumulates (+=) the policy gradient into
 * grad (a view of a block the caller zeroed) through w's buffers. */
void reinforce_rollout(Reinforce *r, const ReinforceOptions *o, DecoderWork *w, ModelParams *grad,
                       const ModelParams *p, const float *x, const int *images, int B, Rng *rng,
                       ReinforceStats *st);

/* reinforce_rollout in its parts, for a trainer that splits the batch into
 * shards (train.h): steps 1-3 on a shard (greedy baselines into r->base,
 * the rollout into r->rtok, r->rreg, r->rlen, rewards into r->reward); the
 * caller then puts all shards' rewards into one Reinforce for
 * reinforce_baselines and reinforce_weights over the whole batch, and the
 * weights back; step 5 on the shard. rows (B): image b's rollout draws
 * from rows[b] (NULL: all from rng). */
void reinforce_sample(Reinforce *r, const ReinforceOptions *o, const ModelParams *p, const float *x,
                      const int *images, int B, Rng *rng, Rng *rows);
/* Replays r's rollouts (B) with the weights in r->weight; accumulates into
 * grad and returns the loss -sum_b w_b sum_t log alpha(s_t). same_x: w's
 * last forward was on this x with these parameters (DecoderPick.same_x). */
double reinforce_replay(Reinforce *r, DecoderWork *w, ModelParams *grad, const ModelParams *p, const float *x, int B,
                        int same_x);

/* The paper's estimator: rewards from the last forward's caption_logp
 * (the cross-entropy pass with sampled regions), the moving-average or no
 * baseline, and its weights set on that pass (decoder_set_reinforce), so
 * its backward carries them. */
void reinforce_loglik(Reinforce *r, const ReinforceOptions *o, DecoderWork *w, int B, ReinforceStats *st);

/* The policy's own terms, per row of attention logits e (L), alpha =
 * softmax(e):
 *   score:   de += d/de [-w log alpha_s]  = w (alpha - onehot(s))
 *   entropy: de += d/de [-lambda H(alpha)] = lambda alpha (log alpha + H)
 * The first is REINFORCE's grad log pi for the chosen region s: with w > 0
 * (a reward above the baseline) a gradient-descent step raises e_s and
 * lowers every other logit in proportion to its alpha; with w < 0 the
 * opposite. */
void reinforce_score_grad(float *de, const float *alpha, int s, float w, int L);
void reinforce_entropy_grad(float *de, const float *alpha, const float *logalpha, float lambda, int L);

#endif
