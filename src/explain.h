/* explain.h - one REINFORCE update on one image, taken apart for a reader
 * (`glimpse explain`): what the policy is, what is sampled, what the
 * reward and the baseline are, what the gradient does to every region's
 * score, and what one gradient step does to the policy.
 *
 *     Explain e;
 *     explain_init(&e, &model, &refs, &err);       // refs: encoded, dataset_encode
 *     ExplainOptions o = explain_default_options();
 *     ExplainRollout a;
 *     explain_rollout(&e, &a, x, image, &o, &rng);   // x: (L, F), refs' image index
 *     explain_step(&e, &a, x, a.advantage, &o);      // alpha after one step
 *     char *text = explain_text(&e, &refs, image, w, h, &o, &a, 1, &err);   // what the command prints
 *     explain_free(&e);
 *
 * Nothing here re-implements the training: the rollout, its reward, the
 * greedy (self-critical) baseline and the advantage are reinforce_rollout's
 * (reinforce.h) on a batch of one image, with lambda_r = 1, so the weight
 * of the caption is exactly the advantage r - b; the gradient of
 * A log alpha_t(s_t) w.r.t. the attention logits is reinforce_score_grad;
 * the gradient w.r.t. the weights is decoder_backward's on the replay of
 * the rollout (decoder.h, REGIONS_GIVEN), the pass training runs; Adam is
 * optim.h's. What one step is:
 *
 *   loss(theta) = -A sum_t log alpha_t(s_t; theta)        (the REINFORCE term)
 *   SGD:   theta <- theta - lr grad loss
 *   Adam:  optim_adam_step from fresh moments, whose first step is
 *          lr * g / (|g| + eps), about lr * sign(g) for every weight
 *
 * SGD is the default because it shows the REINFORCE formula itself: the
 * step is theta + lr A grad log pi(s), so to first order log pi(s) changes
 * by lr A |grad log pi(s)|^2, which has the sign of A. Adam (what training uses,
 * with moments over many steps) normalises each weight's step, which hides
 * how large the gradient was. Either way the change of log pi(s) =
 * sum_t log alpha_t(s_t) has the sign of A for a small enough lr; one
 * word's alpha_t(s_t) alone may move the other way, since the weights are
 * shared between the steps.
 *
 * The model is never changed: the step is taken on a copy of its weights.
 * Memory: explain_init allocates everything; the other calls allocate only
 * the text they return. Errors: GLM_ENOMEM / GLM_EINPUT with a reason.
 * Not here: loading files and the command line (cmd_explain.c).
 */
#ifndef GLIMPSE_EXPLAIN_H
#define GLIMPSE_EXPLAIN_H

#include <stdint.h>

#include "common.h"
#include "dataset.h"
#include "image.h"
#include "decoder.h"
#include "model.h"
#include "optim.h"
#include "reinforce.h"
#include "rng.h"
#include "search.h"

typedef enum { EXPLAIN_SGD = 0, EXPLAIN_ADAM = 1 } ExplainOptimizer;

#define EXPLAIN_DEFAULT_SGD_LR 1e-3f
#define EXPLAIN_DEFAULT_ADAM_LR 3e-3f   /* train_default_options' peak lr */
#define EXPLAIN_DEFAULT_TRIES 20

typedef struct {
    int reward;       /* ReinforceReward: REWARD_CIDER, REWARD_BLEU4 or REWARD_F1 */
    int optimizer;    /* ExplainOptimizer */
    float lr;         /* the step's learning rate */
    int tries;        /* rollouts tried to find one with the other sign */
} ExplainOptions;

/* CIDEr-D, SGD at EXPLAIN_DEFAULT_SGD_LR, EXPLAIN_DEFAULT_TRIES tries. */
ExplainOptions explain_default_options(void);
const char *explain_optimizer_name(int o);
int explain_optimizer_parse(const char *s);   /* -1 for an unknown name */

/* One sampled rollout and what one step did to it; arrays sized by
 * explain_init for the model's T = max_len steps and L regions. */
typedef struct {
    int n;               /* steps: the words, then <end> when the caption ended */
    int words;           /* words without <end> */
    int32_t *tok;        /* (T) word ids, <end> at step `words` when it ended */
    int *region;         /* (T) s_t, the region sampled at step t */
    float *alpha;        /* (T, L) alpha_t: the policy at step t */
    float *p;            /* (T) probability of the word at step t */
    float *dlogit;       /* (T, L) d/de_ti [A log alpha_t(s_t)] = A (1[i = s_t] - alpha_ti) */
    double reward;       /* r: the rollout's reward */
    double baseline;     /* b: the greedy decode's reward */
    double advantage;    /* r - b, the weight reinforce_rollout gave the caption */
    double logpi;        /* sum_t log alpha_t(s_t) before the step */
    /* after explain_step */
    int stepped;
    double weight;       /* the A the step used */
    double grad_norm;    /* |grad loss| over every weight */
    float *alpha_after;  /* (T, L) */
    double logpi_after;
} ExplainRollout;

typedef struct {
    const Model *model;       /* borrowed */
    int T, L, V;
    Reinforce rl;             /* reinforce.h, batch of one */
    DecoderWork work;         /* the replay */
    Search greedy;            /* the baseline's decode, kept for display */
    int32_t *gtok;            /* (T) greedy words */
    int glen;
    double greedy_reward;
    float *grad;              /* (n_params) grad loss of the last step */
    float *grad_rl;           /* (n_params) what reinforce_rollout accumulated for the last rollout */
    ModelParams g, g_rl;      /* views */
    float *stepped;           /* (n_params) the weights after the step */
    ModelParams p_stepped;
    AdamState adam;
    ExplainRollout roll[2];   /* the first rollout and one of the other sign */
} Explain;

/* For model (borrowed) and references refs (encoded with the model's
 * vocabulary; borrowed during the call only). Free with explain_free, also
 * after a failure. */
int explain_init(Explain *e, const Model *model, const Dataset *refs, GlmError *err);
void explain_free(Explain *e);

/* The rollout: reinforce_rollout on image `image` of the references (x its
 * (L, F) region vectors) with a greedy baseline and lambda_r = 1, the
 * rollout copied into *out (out may be &e->roll[k]; its arrays must come
 * from explain_init), the per-step logit gradients from
 * reinforce_score_grad, and the greedy decode into e->gtok. The advantage
 * is out->advantage. */
void explain_rollout(Explain *e, ExplainRollout *out, const float *x, int image, const ExplainOptions *o, Rng *rng);

/* Up to o->tries further rollouts (into *out) until one's advantage has
 * the sign opposite to `first` (any non-zero one when first is 0).
 * Returns the try that found it, 0 when none did. */
int explain_other_sign(Explain *e, ExplainRollout *out, const float *x, int image, double first,
                       const ExplainOptions *o, Rng *rng);

/* One step on the REINFORCE term of ro with weight A (ro->advantage, or
 * any other value: a test sets 0): replay, backward into e->grad, step a
 * copy of the weights (e->stepped), replay again for ro->alpha_after. */
void explain_step(Explain *e, ExplainRollout *ro, const float *x, double weight, const ExplainOptions *o);

/* The walk-through as text (malloc'd, NUL-terminated; caller frees): part
 * 1 the region grid of a w x h picture, then for each of the n rollouts
 * parts 2-5. NULL with GLM_ENOMEM. */
char *explain_text(const Explain *e, const Dataset *refs, int image, int w, int h, const ExplainOptions *o,
                   const ExplainRollout *rolls, int n, GlmError *err);

/* The same walk-through as one self-contained HTML page at path (atomic,
 * fileio.h): text (explain_text's) and, per rollout, the heatmaps of alpha_t
 * before and after the step (heatmap.h), drawn on img (the picture as the
 * model saw it, padded square when the model keeps the aspect ratio;
 * boxes (L, 4) its region cells), inlined as PNG data URIs; no network.
 * Errors as heatmap_render and fileio_write. */
int explain_write_html(const char *path, const Explain *e, const char *text, const Image *img, const char *name,
                       const int *boxes, const ExplainRollout *rolls, int n, GlmError *err);

/* The same heatmaps as one PNG at path (atomic): for each of the n (1 or 2)
 * rollouts, alpha_t before the step, then after. Errors as heatmap_render
 * and render_write_png. */
int explain_write_png(const char *path, const Explain *e, const Image *img, const char *name, const int *boxes,
                      const ExplainRollout *rolls, int n, GlmError *err);

#endif
