/* train.h - training the captioner (Xu et al. 2015, sec. 4): hard attention
 * by REINFORCE on a caption-overlap reward, soft attention by backprop.
 *
 * One step on a batch of B (image, reference caption) pairs, hard attention:
 *   1. Cross-entropy: sample s_t ~ alpha_t for the reference caption and
 *      minimise -log p(y | s, a) per token; its gradient reaches every weight
 *      except through the discrete choice. An entropy bonus on alpha_t.
 *   2. REINFORCE for the choices (reinforce.h: rollout, reward, baseline,
 *      advantage, replay): minimise -rl_weight (r - b) sum_t log alpha_t(s_t)
 *      along a rollout with sampled regions, scored by CIDEr-D, BLEU-4 or
 *      unigram F1 against the image's references; or the paper's own
 *      reward, r = log p(y | s, a) of step 1's samples.
 *   3. The first soft_warmup steps, and then a batch with probability
 *      soft_mix, use the expectation (soft attention) instead of a sample:
 *      backprop teaches the attention and the LSTM to use the context before
 *      the noisier REINFORCE signal takes over (the paper mixes soft batches
 *      in half the time).
 * With an attention prior (prior.h) and opt.prior_supervise, step 1 also
 * pulls softmax(pi0) toward the image's object regions.
 * Soft attention: cross-entropy plus the doubly stochastic penalty.
 * Then: global gradient-norm clipping, Adam, lr warm-up and exponential
 * decay (a schedule that does not depend on the total, so a run can be
 * stopped and resumed anywhere).
 *
 * Data parallelism (opt.threads = N, pool.h): the batch is cut into N
 * contiguous shards; worker k runs steps 1 and 2 on shard k with its own
 * decoder buffers, rollout buffers and gradient, then the gradients are
 * summed in shard order (0, 1, ...) and clipping and Adam run once. Every
 * normalisation (1/ntok, 1/B, the baselines' batch mean) uses the whole
 * batch, so the sum of the shards' gradients is the full batch's gradient:
 * N = 1 and N = 2 differ only by the order of floating-point sums. A step
 * has two phases because the REINFORCE weights need every shard's reward:
 *   phase 1 (workers)  cross-entropy forward and backward; greedy decode,
 *                      rollout and rewards (reinforce_sample)
 *   main               baselines and weights over the whole batch
 *   phase 2 (workers)  the replay's forward and backward (or, for the
 *                      loglik reward, the cross-entropy pass's backward)
 *
 * Determinism: every random draw is made per example, so the shard split
 * does not change what is sampled: at each step the trainer's Rng draws a
 * 64-bit key (after the soft-batch coin, a batch-level draw), and pair j's
 * region samples come from Rng streams seeded from (key, 2j) for the
 * cross-entropy pass and (key, 2j + 1) for the rollout. The batch order of
 * epoch e is a shuffle seeded from (seed, e); checkpoint.h saves all of
 * the state, so resuming gives the same bytes as never stopping (for the
 * same thread count; another count changes only the summation order).
 */
#ifndef GLIMPSE_TRAIN_H
#define GLIMPSE_TRAIN_H

#include <stdint.h>

#include "common.h"
#include "dataset.h"
#include "decoder.h"
#include "model.h"
#include "optim.h"
#include "reinforce.h"

typedef struct {
    int reward;            /* ReinforceReward (reinforce.h) */
    int baseline;          /* ReinforceBaseline */
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
    int min_count;         /* words seen fewer times in training become <unk> (vocab.h) */
    float lr;              /* peak learning rate */
    float lr_decay;        /* lr multiplied by this every lr_decay_every steps (smoothly) */
    long lr_decay_every;
    long warmup;           /* linear warm-up steps */
    float clip;            /* global gradient-norm limit, 0: none */
    float prior_supervise; /* models with an attention prior: weight of its supervision
                              toward the object regions (prior.h), per image; 0: off */
    long steps;            /* train until this step */
    uint64_t seed;
    int threads;           /* workers, each on a shard of the batch (at most B are used);
                              not saved in checkpoints: a run may resume with another */
} TrainOptions;

TrainOptions train_default_options(void);

/* The recipes of the shipped models (`glimpse train --preset NAME`,
 * `make models`): sets *o, the model and feature sizes of *mc and
 * *val_every as models/NAME.glm was trained. 0 for an unknown name. The
 * names, for --help: TRAIN_PRESETS. */
#define TRAIN_PRESETS "shapes, fashion"
int train_preset(const char *name, TrainOptions *o, ModelConfig *mc, long *val_every);

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

/* One worker's share of a step (train.c). */
typedef struct {
    int lo, hi;               /* rows [lo, hi) of the batch */
    DecoderWork work;         /* for hi - lo rows */
    Reinforce rl;             /* borrows the trainer's references */
    float *own;               /* (n_params) this shard's gradient; shard 0 uses Trainer.grad */
    ModelParams g;            /* views into its gradient */
    double loss, nll, entropy, rl_loss;
    double cpu;               /* thread CPU seconds this shard's phases took, in all */
} TrainShard;

typedef struct Pool Pool;

typedef struct {
    TrainOptions opt;
    Model *model;             /* borrowed: trained in place */
    const Dataset *data;      /* training pairs, encoded (dataset_encode) */
    const float *x;           /* (n_images, L, F) region vectors of data's images */
    float *grad;              /* (n_params) */
    ModelParams g;            /* views into grad */
    AdamState adam;
    Reinforce rl;             /* the whole batch's rewards, baselines and weights, the
                                 moving average and the references (reinforce.h) */
    Rng rng;
    int n_shards;             /* min(opt.threads, B) */
    TrainShard *shards;       /* (n_shards) */
    Pool *pool;               /* n_shards workers (pool.h) */
    Rng *xe_rows, *roll_rows; /* (B) this step's per-example streams */
    double cpu_critical;      /* the sum over phases of the slowest shard's thread CPU
                                 seconds: what the phases take on idle cores (for
                                 measuring the speed-up on a busy machine, bench/) */
    long step;                /* steps done */
    float best;               /* best validation score so far (the caller's measure) */
    int best_set;
    /* per-batch buffers, sized once */
    int T;                    /* steps per caption: the model's max_len */
    float *bx;                /* (B, L, F) */
    int32_t *btok;            /* (B, T) reference words then <end> */
    int *blen;                /* (B) */
    int *bimg;                /* (B) image of each pair */
    int *pairs;               /* (n_pairs) the captions trained on (opt.refs per image) */
    int n_pairs;
    int *perm;                /* (n_pairs) this epoch's order */
    const float *prior_target;/* (n_images, L) prior_targets of data's images, set by the
                                 caller for opt.prior_supervise; borrowed; NULL: none */
    float *bq;                /* (B, L) the batch's rows of prior_target */
    long perm_epoch;
} Trainer;

/* Prepares training of *model (not owned) on the encoded pairs of data
 * with region vectors x (not owned; both must outlive the trainer). With
 * opt->threads > 1 it starts the workers and makes OpenBLAS single-threaded
 * (the workers call it at the same time). GLM_ENOMEM or GLM_EINPUT with a
 * reason. */
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

/* Saving and resuming a run: checkpoint.h. */

#endif
