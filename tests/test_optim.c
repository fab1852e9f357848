/* test_optim.c - Adam and gradient clipping of optim.h on their own.
 *
 * Adam has no backward to check against finite differences; what can be
 * wrong is the update itself. optim.c folds the bias corrections into the
 * step size and epsilon; here Algorithm 1 of Kingma & Ba (2015) is computed
 * as the paper writes it, in double precision (m_hat = m / (1 - b1^t),
 * v_hat = v / (1 - b2^t), theta -= lr m_hat / (sqrt(v_hat) + eps)), and the
 * float parameters must follow it over several steps. The folded eps equals
 * eps / sqrt(1 - b2^t) before the division by sqrt(1 - b2^t): the same
 * update, exactly, in real arithmetic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "rng.h"
#include "test.h"

enum { ON = 16, OSTEPS = 5 };

/* float rounding over five updates of parameters of size ~1 */
#define ADAM_TOL 1e-6

TEST(optim_adam_follows_algorithm_1_in_double)
{
    for (int wd = 0; wd < 2; wd++) {
        AdamState s;
        GlmError err;
        REQUIRE(optim_adam_init(&s, ON, &err) == GLM_OK);
        AdamConfig c = optim_adam_default();
        c.lr = 0.01f;
        c.eps = 1e-3f;   /* large enough that a wrong eps shows */
        c.weight_decay = wd ? 0.1f : 0.0f;
        Rng rng;
        rng_seed(&rng, 7, 0);
        float p[ON], g[ON];
        double pd[ON], m[ON] = {0}, v[ON] = {0};
        for (int i = 0; i < ON; i++) pd[i] = p[i] = rng_uniform(&rng) - 0.5f;
        for (int t = 1; t <= OSTEPS; t++) {
            for (int i = 0; i < ON; i++) g[i] = (float)(2.0 * rng_uniform(&rng) - 1.0) * (i % 4 ? 1.0f : 1e-3f);
            optim_adam_step(p, &s, g, &c);
            for (int i = 0; i < ON; i++) {
                m[i] = c.beta1 * m[i] + (1 - (double)c.beta1) * g[i];
                v[i] = c.beta2 * v[i] + (1 - (double)c.beta2) * (double)g[i] * g[i];
                const double mh = m[i] / (1 - pow(c.beta1, t)), vh = v[i] / (1 - pow(c.beta2, t));
                /* decoupled decay (AdamW): lr * wd * theta, from the value before the step */
                pd[i] -= c.lr * mh / (sqrt(vh) + c.eps) + (double)c.lr * c.weight_decay * pd[i];
            }
            for (int i = 0; i < ON; i++) CHECK_NEAR(p[i], pd[i], ADAM_TOL);
        }
        CHECK_EQ_INT(s.step, OSTEPS);
        optim_adam_free(&s);
    }
}

/* Clipping scales the whole gradient to the limit and reports the norm
 * from before; under the limit nothing changes. */
TEST(optim_clip_scales_to_the_limit)
{
    float g[4] = {3, 0, -4, 0};
    CHECK_NEAR(optim_clip_grad_norm(g, 4, 10.0f), 5.0, 1e-6);
    CHECK_NEAR(g[0], 3.0, 0);
    CHECK_NEAR(optim_clip_grad_norm(g, 4, 1.0f), 5.0, 1e-6);
    CHECK_NEAR(g[0], 0.6, 1e-6);
    CHECK_NEAR(g[2], -0.8, 1e-6);
    CHECK_NEAR(optim_clip_grad_norm(g, 4, 0.0f), 1.0, 1e-6);   /* 0: no clipping */
    CHECK_NEAR(g[0], 0.6, 1e-6);
}
