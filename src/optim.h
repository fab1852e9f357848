/* optim.h - Adam (Kingma & Ba 2015, Algorithm 1) over the model's one flat
 * parameter block, and global gradient-norm clipping.
 *
 *     AdamState s;
 *     optim_adam_init(&s, model.n_params, &err);
 *     AdamConfig ac = optim_adam_default();
 *     ...each step: zero grad, forward, backward,
 *     optim_clip_grad_norm(grad, model.n_params, 5.0f);
 *     optim_adam_step(model.params, &s, grad, &ac);
 *     optim_adam_free(&s);
 *
 * The moment blocks m and v mirror the parameter block float for float, so
 * model_params_view gives them the parameters' tensor names (a checkpoint
 * can store them as "train.*" tensors) and the update is one flat loop.
 * Not here: learning-rate schedules (the trainer sets cfg.lr per step).
 */
#ifndef GLIMPSE_OPTIM_H
#define GLIMPSE_OPTIM_H

#include <stddef.h>

#include "common.h"

typedef struct {
    float lr;            /* step size */
    float beta1, beta2;  /* moment decay rates */
    float eps;           /* added to sqrt(v_hat) */
    float weight_decay;  /* decoupled (AdamW) decay per step, times lr; 0 = plain Adam */
} AdamConfig;

typedef struct {
    float *m;     /* (n) first moment, mirrors the parameters */
    float *v;     /* (n) second moment */
    size_t n;
    long step;    /* updates done so far (the bias correction needs it) */
} AdamState;

/* lr 1e-3, betas 0.9 / 0.999, eps 1e-8, no weight decay. */
AdamConfig optim_adam_default(void);
/* Zeroed moments for n parameters; GLM_ENOMEM with a reason. The state owns
 * m and v: free with optim_adam_free. */
int optim_adam_init(AdamState *s, size_t n, GlmError *err);
void optim_adam_free(AdamState *s);
/* One bias-corrected update of params (n) from grad (n); increments s->step. */
void optim_adam_step(float *params, AdamState *s, const float *grad, const AdamConfig *cfg);
/* Scales grad (n) so that its L2 norm is at most max_norm (max_norm <= 0:
 * no clipping). Returns the norm before clipping. */
float optim_clip_grad_norm(float *grad, size_t n, float max_norm);

#endif
