/* train.h - training the captioner (Xu et al. 2015, sec. 4): hard attention
 * by REINFORCE on a caption-overlap reward, soft attention by backprop.
 *
 * One step on a batch of B (image, reference caption) pairs, hard attention:
 *   1. Cross-entropy: sample s_t ~ alpha_t for the reference caption and
 *      minimise -log p(y | s, a) per token; its gradient reaches every weight
 *      except through the discrete choice. An entropy bonus on alpha_t.
 *   2. REINFORCE for the choices (the score-function estimator, eq. 12):
 *      decode a caption with sampled regions (a rollout), score it against
 *      the image's references (reward r: CIDEr-D, BLEU-4 or unigram F1),
 *      and minimise -rl_weight (r - b) sum_t log alpha_t(s_t) along the
 *      rollout, replayed teacher-forced on its own words with its regions.
 *      reward loglik is the paper's own choice: r = log p(y | s, a) of the
 *      reference under the regions sampled in step 1, no rollout.
 *      Baselines b: greedy (self-critical: the reward of the argmax-region
 *      decode of the same image), mean (b <- 0.9 b + 0.1 mean r, as in the
 *      paper), none.
 *   3. The first soft_warmup steps, and then a batch with probability
 *      soft_mix, use the expectation (soft attention) instead of a sample:
 *      backprop teaches the attention and the LSTM to use the context before
 *      the noisier REINFORCE signal takes over (the paper mixes soft batches
 *      in half the time).
 * Soft attention: cross-entropy plus the doubly stochastic penalty.
 * Then: global gradient-norm clipping, Adam, lr warm-up and exponential
 * decay (a schedule that does not depend on the total, so a run can be
 * stopped and resumed anywhere).
 *
 * Determinism: every random draw comes from the trainer's Rng; the batch
 * order of epoch e is a shuffle seeded from (seed, e). A checkpoint holds
 * the parameters, Adam's moments and step, the Rng, the step, the baseline,
 * the best validation score and the options, so resuming gives the same bytes as never stopping.
 */
#ifndef GLIMPSE_TRAIN_H
#define GLIMPSE_TRAIN_H

#include <stdint.h>

#include "common.h"
#include "dataset.h"
#include "search.h"
#include "decoder.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"

typedef enum { REWARD_CIDER = 0, REWARD_BLEU4, REWARD_F1, REWARD_LOGLIK } TrainReward;
typedef enum { BASELINE_GREEDY = 0, BASELINE_MEAN, BASELINE_NONE } TrainBaseline;

typedef struct {
    int reward;            /* TrainReward */
    int baseline;          /* TrainBaseline */
    float entropy;         /* entropy bonus weight, per token */
    float rl_weight;       /* lambda_r */
    float soft_mix;        /* probability of a soft batch (hard attention only) */
    long soft_warmup;      /* hard attention: the first steps are all soft batches */
    float doubly;          /* doubly stochastic penalty weight (soft attention) */
    int batch;             /* B */
    int refs;              /* train on each image's first refs references; 0: all. The
                              reward still scores against all of them. With one
                              reference (the data sets' canonical, left-to-right
                              caption) the words follow one order, so the object
                              the policy looks at is the one the next words name */
    float lr;              /* peak learning rate */
    float lr_decay;        /* lr multiplied by this every lr_decay_every steps (smoothly) */
    long lr_decay_every;
    long warmup;           /* linear warm-up steps */
    float clip;            /* global gradient-norm limit, 0: none */
    long steps;            /* train until this step */
    uint64_t seed;
} TrainOptions;

TrainOptions train_default_options(void);
/* Names for the option values, for --help and progress lines. */
const char *train_reward_name(int r);
const char *train_baseline_name(int b);
int train_reward_parse(const char *s);     /* -1 if unknown */
int train_baseline_parse(const char *s);

typedef struct {
    long step;
    double loss;          /* the minimised total, per batch */
    double nll;           /* per token */
    double reward;        /* mean reward of the batch (rollouts, or loglik) */
    double baseline;      /* mean baseline used */
    double entropy;       /* mean attention entropy per step, nats */
    double grad_norm;     /* before clipping */
    double lr;
    int soft;             /* this batch used soft attention */
} TrainStats;

typedef struct {
    TrainOptions opt;
    Model *model;             /* borrowed: trained in place */
    const Dataset *data;      /* training pairs, encoded (dataset_encode) */
    const float *x;           /* (n_images, L, F) region vectors of data's images */
    float *grad;              /* (n_params) */
    ModelParams g;            /* views into grad */
    AdamState adam;
    DecoderWork work;
    Search dec;             /* rollouts and greedy baselines, beam 1 */
    MetricsIndex *refs;       /* references per image, for the reward */
    MetricsScratch *scratch;
    Rng rng;
    long step;                /* steps done */
    float baseline;           /* the moving-average baseline */
    int baseline_set;         /* 0 until the first reward */
    float best;               /* best validation score so far (the caller's measure) */
    int best_set;
    /* per-batch buffers, sized once */
    int T;                    /* steps per caption: the model's max_len */
    float *bx;                /* (B, L, F) */
    int32_t *btok;            /* (B, T) reference words then <end> */
    int *blen;                /* (B) */
    int *bimg;                /* (B) image of each pair */
    int32_t *rtok;            /* (B, T) rollout words then <end> */
    int *rlen;                /* (B) */
    int *rreg;                /* (B, T) rollout regions */
    float *reward, *base, *weight;   /* (B) */
    int *pairs;               /* (n_pairs) the captions trained on (opt.refs per image) */
    int n_pairs;
    int *perm;                /* (n_pairs) this epoch's order */
    long perm_epoch;
} Trainer;

/* Prepares training of *model (not owned) on the encoded pairs of data
 * with region vectors x (not owned; both must outlive the trainer). */
int trainer_init(Trainer *t, Model *model, const Dataset *data, const float *x,
                 const TrainOptions *opt, GlmError *err);
void trainer_free(Trainer *t);

/* One step. GLM_EINPUT with a message naming the step when the loss or the
 * gradient is not finite; the model is then left as before the step. */
int trainer_step(Trainer *t, TrainStats *st, GlmError *err);

/* How many (image, reference) pairs an epoch has with opt.refs = refs. */
long train_count_pairs(const Dataset *d, int refs);

/* The learning rate at a step. */
float train_lr_at(const TrainOptions *o, long step);

/* Checkpoints: the model plus train.* state (see the file's comment). */
int trainer_save_checkpoint(const Trainer *t, const char *path, GlmError *err);
/* Reads the options stored in a checkpoint (to set up the trainer). */
int train_checkpoint_options(TrainOptions *opt, const char *path, GlmError *err);
/* Restores Adam, the Rng, the step and the baseline into an initialised
 * trainer whose model was loaded from the same checkpoint. */
int trainer_restore(Trainer *t, const char *path, GlmError *err);

#endif
