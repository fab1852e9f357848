/* prior.h - a predicted attention prior: from the image alone, an importance
 * score pi0_i per region, added to every step's attention logits
 * (variant 2 of reinforcement-learned attention, project issue 14):
 *
 *   u_i    = tanh(prior_W a_i + prior_b)        (K) a small MLP on region i
 *   pi0_i  = prior_v . u_i                      the score of region i
 *   e_ti  <- e_ti + pi0_i                       every step t (attention.h)
 *
 * Input a_i, the projected region (model.h), not the raw x_i: it is already
 * computed, has the scale the attention MLP expects (tanh), and the prior's
 * gradient then also shapes the region projection it shares with the
 * decoder. No summary of the whole image is fed in: in the scenes glimpse
 * is built for, whether a region matters is a local property (does it hold
 * an object or background), softmax(e + pi0) is blind to any per-image
 * shift of pi0, and the LSTM state already brings the image's context into
 * eq. 4. There is no output bias for the same reason (it would cancel in
 * the softmax). K is the attention width A, so there is no new size.
 * prior_v starts at 0 (a vector of the parameter table, and vectors start
 * at 0: model.c), so a fresh model's prior is flat and its attention starts
 * exactly as without one.
 *
 * Trained jointly: REINFORCE, the entropy bonus and (in soft batches) the
 * word likelihood reach pi0 through the logits, dpi0_i = sum_t de_ti
 * (decoder.c). Optional weak supervision ("attention correctness", Liu et
 * al. AAAI 2017): with q the uniform distribution over the regions that
 * hold an object (prior_targets),
 *   loss_sup = lambda * sum_b -sum_i q_bi log softmax(pi0_b)_i
 * (prior_supervise). Not here: the parameter table (model.c), when the
 * prior runs (step.c, decoder.c, search.c).
 */
#ifndef GLIMPSE_PRIOR_H
#define GLIMPSE_PRIOR_H

#include "features.h"
#include "scenes.h"

/* pi0 (BL) and u (BL, K), kept for the backward, from a (BL, D).
 * W: (K, D), b (K), v (K). */
void prior_forward(float *pi0, float *u, const float *a, const float *W, const float *b, const float *v,
                   int BL, int D, int K);
/* From dpi0 (BL), accumulates da (BL, D), dW (K, D), db (K), dv (K).
 * du: (BL, K) scratch, overwritten. */
void prior_backward(float *da, float *dW, float *db, float *dv, float *du, const float *dpi0, const float *u,
                    const float *a, const float *W, const float *v, int BL, int D, int K);

/* The supervision term over B rows of L regions: returns
 * sum_b -sum_i q_bi log softmax(pi0_b)_i for target rows q (B, L) (each sums
 * to 1, or is all 0: no objects, no term), and, unless dpi0 is NULL,
 * accumulates weight * its gradient w.r.t. pi0 into dpi0 (B, L). */
double prior_supervise(float *dpi0, const float *pi0, const float *q, float weight, int B, int L);

/* out (L) = softmax(pi0) of one image's row pi0 (L). */
void prior_softmax(float *out, const float *pi0, int L);

/* Supervision targets of one image: q (L) uniform over the regions of cfg's
 * grid that hold an object by the rule grounding is scored with
 * (eval_grounded: the region, scaled to the w x h image, overlaps the box by
 * a third of its area), for n objects; all 0 when no region does. Returns
 * how many regions hold one. */
int prior_targets(float *q, const FeatConfig *cfg, int w, int h, const SceneObject *objs, int n);

#endif
