/* meta.h - meta-learned attention: Reptile (Nichol, Achiam and Schulman
 * 2018, "On First-Order Meta-Learning Algorithms", Algorithm 1) over a
 * family of captioning tasks that differ in where to look (meta_tasks.h),
 * the joint multi-task control, and adaptation to a new task with its
 * learning curve.
 *
 * Reptile, one outer iteration i of o.outer:
 *   1. sample a task tau uniformly from the meta-training tasks (the run's Rng);
 *   2. theta = phi; run o.k steps of the normal trainer (train.h:
 *      trainer_step - hard attention, REINFORCE, cross-entropy, the entropy
 *      bonus, soft batches with probability soft_mix) on tau's data,
 *      giving theta_k;
 *   3. phi <- phi + eps_i (theta_k - phi), eps_i annealed linearly from
 *      o.eps to o.eps_end over the run (as in the paper).
 * The inner loop starts every time from a fresh Adam state (zero moments,
 * step 0; reset through Trainer.adam, the trainer's public state): the
 * moments of the previous task would otherwise carry its gradients into
 * the next. The inner learning rate is constant (the inner options'
 * warm-up and decay are switched off). Each task keeps its own Trainer,
 * so its batch order continues across visits. phi is what is saved.
 *
 * The control that matters (meta_joint): the same trainer, the same
 * compute (o.outer * o.k steps of the same batch size), on the joint data
 * set where every image carries the captions of all meta-training tasks
 * (meta_tasks_dataset with all of them): ordinary multi-task training.
 *
 * Adaptation (meta_adapt), what `glimpse meta eval` and the experiment
 * measure: from a model (random, joint or Reptile), a fresh trainer on the
 * task's data, and every `every` steps the greedy captions of the eval
 * images scored by meta_score_caption (in-order object accuracy,
 * grounding, exact captions) and the teacher-forced NLL.
 *
 * Determinism: every draw comes from Rngs seeded from o.seed (task
 * sequence) and the inner options' seed (per-task trainers); the same
 * seeds give the same bytes, with one BLAS thread.
 * Not here: RL^2 (Duan et al. 2016) - not implemented; the task family
 * (meta_tasks.h); the trainer (train.h); the command line (cmd_meta.c).
 */
#ifndef GLIMPSE_META_H
#define GLIMPSE_META_H

#include <stdint.h>

#include "common.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "meta_tasks.h"
#include "model.h"
#include "train.h"

typedef struct {
    int k;              /* inner trainer steps per task visit */
    long outer;         /* outer iterations */
    float eps;          /* outer step size at the start */
    float eps_end;      /* ... and at the end (linear) */
    TrainOptions inner; /* the trainer's options for every inner loop and for adaptation */
    uint64_t seed;      /* the task sequence */
} MetaOptions;

/* k 10, outer 600, eps 1.0 -> 0.05 (the paper's
 * anneal), seed 1, and meta_inner_default_options(). */
MetaOptions meta_default_options(void);
/* train_default_options() with what short inner loops need: batch 16,
 * lr 0.01 constant (warm-up 0, no decay), no soft warm-up but soft_mix 0.5
 * (half the batches soft, as the paper mixes them), refs 0 (every
 * reference the data set gives). */
TrainOptions meta_inner_default_options(void);

/* One task's training data: an encoded data set (dataset_encode) and the
 * (n_images, L, F) region vectors of its images. */
typedef struct {
    const Dataset *data;
    const float *x;
} MetaTaskData;

/* Called after every outer iteration (may be NULL). */
typedef void (*MetaProgressFn)(void *ctx, long iter, long total, int task, const TrainStats *last);

/* Reptile on m's parameters (in place: they start as phi_0 and end as the
 * meta-parameters). GLM_EINPUT when a step's loss is not finite (the model
 * is then phi of the last outer iteration), GLM_ENOMEM. */
int meta_reptile(Model *m, const MetaTaskData *tasks, int n_tasks, const MetaOptions *o,
                 MetaProgressFn progress, void *ctx, GlmError *err);
/* The joint control: o.outer * o.k steps of one trainer on joint (every
 * meta-training task's captions per image). Errors as meta_reptile. */
int meta_joint(Model *m, const MetaTaskData *joint, const MetaOptions *o, MetaProgressFn progress, void *ctx,
               GlmError *err);

/* What adaptation is scored on: one task's captions over eval images. */
typedef struct {
    MetaTask task;
    const Dataset *data;          /* the task's data set over the eval images, encoded */
    const float *x;               /* (n_images, L, F) */
    const int *sizes;             /* (n_images, 2) original width, height */
    const DatasetObjects *objs;   /* their objects */
} MetaEvalSet;

typedef struct {
    long step;            /* adaptation steps done */
    double in_order;      /* in-order object accuracy */
    double grounding;     /* grounded / in order */
    double exact;         /* exact captions / images */
    double nll;           /* teacher-forced NLL per token, argmax regions */
} MetaPoint;

/* Scores m on ev now: greedy captions and the NLL. GLM_ENOMEM. */
int meta_measure(MetaPoint *out, const Model *m, const MetaEvalSet *ev, GlmError *err);

/* Adapts m in place: `steps` trainer steps (options inner, fresh Adam) on
 * train; measures ev at step 0 and every `every` steps (and at the end).
 * pts gets the points (at most steps / every + 2), *n_pts their number.
 * Errors as meta_reptile. */
int meta_adapt(MetaPoint *pts, int *n_pts, Model *m, const MetaTaskData *train, const TrainOptions *inner,
               long steps, long every, const MetaEvalSet *ev, GlmError *err);

/* The first point whose in_order >= in_order_bar and grounding >=
 * grounding_bar: its step, or -1 when none reaches the bar. */
long meta_steps_to(const MetaPoint *pts, int n, double in_order_bar, double grounding_bar);

#endif
