/* prior.c - the predicted attention prior pi0 (see prior.h): a one-hidden-
 * layer MLP per region, its backward, and the attention-correctness
 * supervision term (Liu et al. AAAI 2017). */
#include "prior.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "evaluate.h"
#include "lstm.h"

void prior_forward(float *pi0, float *u, const float *a, const float *W, const float *b, const float *v,
                   int BL, int D, int K)
{
    /* u (BL, K) = tanh(a W^T + b) */
    for (int r = 0; r < BL; r++) memcpy(u + (long)r * K, b, (size_t)K * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BL, K, D, 1.0f, a, D, W, D, 1.0f, u, K);
    for (long k = 0; k < (long)BL * K; k++) u[k] = lstm_tanhf(u[k]);
    /* pi0 (BL) = u v */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, BL, K, 1.0f, u, K, v, 1, 0.0f, pi0, 1);
}

void prior_backward(float *da, float *dW, float *db, float *dv, float *du, const float *dpi0, const float *u,
                    const float *a, const float *W, const float *v, int BL, int D, int K)
{
    /* dv += u^T dpi0 */
    cblas_sgemv(CblasRowMajor, CblasTrans, BL, K, 1.0f, u, K, dpi0, 1, 1.0f, dv, 1);
    /* du (BL, K) = dpi0 v (1 - u^2), the gradient before the tanh */
    for (int r = 0; r < BL; r++) {
        const float d = dpi0[r];
        const float *ur = u + (long)r * K;
        float *g = du + (long)r * K;
        for (int k = 0; k < K; k++) {
            g[k] = d * v[k] * (1.0f - ur[k] * ur[k]);
            db[k] += g[k];
        }
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, D, BL, 1.0f, du, K, a, D, 1.0f, dW, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BL, D, K, 1.0f, du, K, W, D, 1.0f, da, D);
}

void prior_softmax(float *out, const float *pi0, int L)
{
    float mx = pi0[0];
    for (int i = 1; i < L; i++) mx = pi0[i] > mx ? pi0[i] : mx;
    double sum = 0;
    for (int i = 0; i < L; i++) sum += exp((double)(pi0[i] - mx));
    for (int i = 0; i < L; i++) out[i] = (float)(exp((double)(pi0[i] - mx)) / sum);
}

double prior_supervise(float *dpi0, const float *pi0, const float *q, float weight, int B, int L)
{
    double total = 0;
    for (int r = 0; r < B; r++) {
        const float *p = pi0 + (long)r * L, *qr = q + (long)r * L;
        double mass = 0;
        for (int i = 0; i < L; i++) mass += qr[i];
        if (mass == 0) continue;
        float mx = p[0];
        for (int i = 1; i < L; i++) mx = p[i] > mx ? p[i] : mx;
        double sum = 0;
        for (int i = 0; i < L; i++) sum += exp((double)(p[i] - mx));
        const double lse = mx + log(sum);
        for (int i = 0; i < L; i++) total -= (double)qr[i] * ((double)p[i] - lse);
        /* d/dpi0_i of -sum_j q_j log softmax_j = mass * softmax_i - q_i */
        if (dpi0)
            for (int i = 0; i < L; i++)
                dpi0[(long)r * L + i] += weight * (float)(mass * exp((double)p[i] - lse) - (double)qr[i]);
    }
    return total;
}

int prior_targets(float *q, const FeatConfig *cfg, int w, int h, const SceneObject *objs, int n)
{
    const int L = features_regions(cfg);
    int hits = 0;
    for (int i = 0; i < L; i++) {
        int held = 0;
        for (int j = 0; j < n && !held; j++) held = eval_grounded(cfg, i, w, h, &objs[j].box);
        q[i] = (float)held;
        hits += held;
    }
    for (int i = 0; i < L && hits; i++) q[i] /= (float)hits;
    return hits;
}
