/* optim.c - Adam and gradient clipping over one flat block (see optim.h). */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

AdamConfig optim_adam_default(void)
{
    return (AdamConfig){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f};
}

int optim_adam_init(AdamState *s, size_t n, GlmError *err)
{
    memset(s, 0, sizeof *s);
    s->m = glm_calloc_array(n, sizeof(float));
    s->v = glm_calloc_array(n, sizeof(float));
    if (!s->m || !s->v) {
        optim_adam_free(s);
        return glm_fail(err, GLM_ENOMEM, "out of memory for the optimizer state (%zu parameters)", n);
    }
    s->n = n;
    return GLM_OK;
}

void optim_adam_free(AdamState *s)
{
    free(s->m);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void optim_adam_step(float *params, AdamState *s, const float *grad, const AdamConfig *c)
{
    s->step++;
    /* bias corrections 1 - beta^t, folded into the step size and eps */
    const double c1 = 1.0 - pow((double)c->beta1, (double)s->step);
    const double c2 = 1.0 - pow((double)c->beta2, (double)s->step);
    const float lr_t = (float)((double)c->lr * sqrt(c2) / c1);
    const float eps_t = (float)((double)c->eps * sqrt(c2));
    const float b1 = c->beta1, b2 = c->beta2, decay = c->lr * c->weight_decay;
    float *m = s->m, *v = s->v;
    for (size_t k = 0; k < s->n; k++) {
        const float g = grad[k];
        m[k] = b1 * m[k] + (1.0f - b1) * g;
        v[k] = b2 * v[k] + (1.0f - b2) * g * g;
        params[k] -= lr_t * m[k] / (sqrtf(v[k]) + eps_t) + decay * params[k];
    }
}

float optim_clip_grad_norm(float *grad, size_t n, float max_norm)
{
    double ss = 0;
    for (size_t k = 0; k < n; k++) ss += (double)grad[k] * grad[k];
    const double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        const float scale = (float)(max_norm / norm);
        for (size_t k = 0; k < n; k++) grad[k] *= scale;
    }
    return (float)norm;
}
