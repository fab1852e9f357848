/* step.c - one decoder step, forward (see step.h): the region projection
 * and initial state, attention (eq. 4-5, attention.c), the context, the
 * LSTM (eq. 1-3, lstm.c) and the deep output layer (eq. 7).
 * Not here: picking s_t (the callers), loss terms and backward (decoder.c). */
#include "step.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "attention.h"
#include "lstm.h"
#include "prior.h"

StepShape step_shape(const ModelConfig *cfg)
{
    return (StepShape){
        .L = features_regions(&cfg->feat), .F = features_dim(&cfg->feat), .D = cfg->proj, .H = cfg->hidden,
        .E = cfg->embed, .A = cfg->att, .V = cfg->vocab, .attention = cfg->attention, .gate = cfg->gate,
        .init_mean = cfg->init_mean, .prior = cfg->prior,
    };
}

void step_regions(float *a, float *amean, float *h0, float *c0, float *wa, const float *x,
                  const ModelParams *p, const StepShape *s, int R)
{
    const int L = s->L, F = s->F, D = s->D, H = s->H, RL = R * L;
    /* a (R*L, D) = tanh(x proj_W^T + proj_b) */
    for (int r = 0; r < RL; r++) memcpy(a + (long)r * D, p->proj_b, (size_t)D * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, RL, D, F, 1.0f, x, F, p->proj_W, F, 1.0f, a, D);
    for (long k = 0; k < (long)RL * D; k++) a[k] = lstm_tanhf(a[k]);
    for (int r = 0; r < R; r++) {
        float *m = amean + (long)r * D;
        memset(m, 0, (size_t)D * sizeof(float));
        for (int i = 0; i < L && s->init_mean; i++)
            cblas_saxpy(D, 1.0f / (float)L, a + ((long)r * L + i) * D, 1, m, 1);
    }
    /* h0, c0 (R, H) = tanh(amean init_W^T + init_b) */
    float *out[2] = {h0, c0};
    const float *W[2] = {p->init_h_W, p->init_c_W}, *bias[2] = {p->init_h_b, p->init_c_b};
    for (int k = 0; k < 2; k++) {
        for (int r = 0; r < R; r++) memcpy(out[k] + (long)r * H, bias[k], (size_t)H * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, H, D, 1.0f, amean, D, W[k], D, 1.0f, out[k], H);
        for (long j = 0; j < (long)R * H; j++) out[k][j] = lstm_tanhf(out[k][j]);
    }
    if (attn_learned(s->attention)) attn_precompute(wa, a, p->att_Wa, p->att_b, RL, D, s->A);
}

void step_prior(float *pi0, float *u, const float *a, const ModelParams *p, const StepShape *s, int R)
{
    if (s->prior) prior_forward(pi0, u, a, p->prior_W, p->prior_b, p->prior_v, R * s->L, s->D, s->A);
}

void step_attend(float *alpha, float *logalpha, float *tt, float *uh, const float *wa, const float *h_prev,
                 const float *pi0, const ModelParams *p, const StepShape *s, int R)
{
    if (attn_learned(s->attention))
        attn_forward(alpha, logalpha, tt, uh, wa, h_prev, p->att_Ua, p->att_w, s->prior ? pi0 : NULL, R, s->L,
                     s->A, s->H);
    else
        attn_uniform(alpha, logalpha, R, s->L);
}

/* eq. 7: deep (R, E) = E y + h Lh^T + z Lz^T; prob (R, V) = softmax(deep Lo^T
 * + out_b) and logprob its log. emb and z are rows ldx apart (inside xin). */
static void deep_output(float *deep, float *prob, float *logprob, const float *emb, const float *z, int ldx,
                        const float *h, const ModelParams *p, const StepShape *s, int R)
{
    const int E = s->E, H = s->H, D = s->D, V = s->V;
    for (int r = 0; r < R; r++) memcpy(deep + (long)r * E, emb + (long)r * ldx, (size_t)E * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, E, H, 1.0f, h, H, p->out_Lh, H, 1.0f, deep, E);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, E, D, 1.0f, z, ldx, p->out_Lz, D, 1.0f, deep, E);
    for (int r = 0; r < R; r++) memcpy(prob + (long)r * V, p->out_b, (size_t)V * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, V, E, 1.0f, deep, E, p->out_Lo, E, 1.0f, prob, V);
    for (int r = 0; r < R; r++) {
        float *pr = prob + (long)r * V;
        float mx = pr[0];
        for (int v = 1; v < V; v++) mx = pr[v] > mx ? pr[v] : mx;
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp((double)(pr[v] - mx));
        const float lse = mx + (float)log(sum);
        for (int v = 0; v < V; v++) {
            const float lp = pr[v] - lse;
            logprob[(long)r * V + v] = lp;
            pr[v] = expf(lp);
        }
    }
}

void step_advance(const StepOut *o, const int32_t *y_prev, const int *s, int lds, const float *alpha,
                  const float *a, const float *h_prev, const float *c_prev, const ModelParams *p,
                  const StepShape *sh, int R)
{
    const int E = sh->E, D = sh->D, NX = E + D;
    float *z = o->xin + E;   /* z_t sits beside E y_{t-1} in each row of xin */
    for (int r = 0; r < R; r++)
        memcpy(o->xin + (long)r * NX, p->embed + (long)y_prev[r] * E, (size_t)E * sizeof(float));
    if (attn_blends(sh->attention))   /* mean: the uniform blend, never gated */
        attn_soft_context(z, NX, o->zraw, o->beta, alpha, a, h_prev, p->gate_W, p->gate_b,
                          sh->attention == ATTN_SOFT && sh->gate, R, sh->L, D, sh->H);
    else
        attn_hard_context(z, NX, s, lds, a, R, sh->L, D);
    lstm_forward(o->gates, o->c, o->h, o->tc, o->xin, NX, h_prev, c_prev, p->lstm_Wx, p->lstm_Wh, p->lstm_b, R,
                 NX, sh->H);
    deep_output(o->deep, o->prob, o->logprob, o->xin, z, NX, o->h, p, sh, R);
}
