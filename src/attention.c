/* attention.c - eq. 4-5 of Xu et al. 2015 and the hard / soft context
 * vectors of sec. 4.1 and 4.2, plus the fixed uniform attention of the
 * random / mean ablations (see attention.h). */
#include "common.h"
#include "attention.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "lstm.h"

void attn_precompute(float *wa, const float *a, const float *Wa, const float *b, int BL, int D, int A)
{
    for (int r = 0; r < BL; r++) memcpy(wa + (long)r * A, b, (size_t)A * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BL, A, D, 1.0f, a, D, Wa, D, 1.0f, wa, A);
}

void attn_precompute_backward(float *da, float *dWa, float *db, const float *dwa, const float *a,
                              const float *Wa, int BL, int D, int A)
{
    for (int r = 0; r < BL; r++)
        for (int k = 0; k < A; k++) db[k] += dwa[(long)r * A + k];
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, A, D, BL, 1.0f, dwa, A, a, D, 1.0f, dWa, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BL, D, A, 1.0f, dwa, A, Wa, D, 1.0f, da, D);
}

GLM_VECTOR_CLONES
void attn_forward(float *alpha, float *logalpha, float *tt, float *uh,
                  const float *wa, const float *h_prev, const float *Ua, const float *w,
                  const float *prior, int B, int L, int A, int H)
{
    /* uh (B, A) = h_prev Ua^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, A, H, 1.0f, h_prev, H, Ua, H, 0.0f, uh, A);
    for (int r = 0; r < B; r++) {
        const float *u = uh + (long)r * A;
        for (int i = 0; i < L; i++) {
            const float *in = wa + ((long)r * L + i) * A;
            float *out = tt + ((long)r * L + i) * A;
            for (int k = 0; k < A; k++) out[k] = lstm_tanhf(in[k] + u[k]);
        }
    }
    /* e (B*L) = tt w, written into logalpha and normalised in place (eq. 5) */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, B * L, A, 1.0f, tt, A, w, 1, 0.0f, logalpha, 1);
    if (prior) cblas_saxpy(B * L, 1.0f, prior, 1, logalpha, 1);
    for (int r = 0; r < B; r++) {
        float *la = logalpha + (long)r * L, *al = alpha + (long)r * L;
        float mx = la[0];
        for (int i = 1; i < L; i++) mx = la[i] > mx ? la[i] : mx;
        double sum = 0;
        for (int i = 0; i < L; i++) sum += exp((double)(la[i] - mx));
        float lse = mx + (float)log(sum);
        for (int i = 0; i < L; i++) {
            la[i] -= lse;
            al[i] = expf(la[i]);
        }
    }
}

void attn_backward(float *dwa, float *dh_prev, float *dUa, float *dw, float *duh,
                   const float *de, const float *tt, const float *h_prev, const float *Ua,
                   const float *w, int B, int L, int A, int H)
{
    /* dw += tt^T de */
    cblas_sgemv(CblasRowMajor, CblasTrans, B * L, A, 1.0f, tt, A, de, 1, 1.0f, dw, 1);
    memset(duh, 0, (size_t)B * A * sizeof(float));
    for (int r = 0; r < B; r++) {
        float *du = duh + (long)r * A;
        for (int i = 0; i < L; i++) {
            const float d = de[(long)r * L + i];
            if (d == 0.0f) continue;
            const float *t = tt + ((long)r * L + i) * A;
            float *dp = dwa + ((long)r * L + i) * A;
            for (int k = 0; k < A; k++) {
                float g = d * w[k] * (1.0f - t[k] * t[k]);
                dp[k] += g;
                du[k] += g;
            }
        }
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, A, H, B, 1.0f, duh, A, h_prev, H, 1.0f, dUa, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, A, 1.0f, duh, A, Ua, H, 1.0f, dh_prev, H);
}

void attn_softmax_backward(float *de, const float *dalpha, const float *alpha, int B, int L)
{
    for (int r = 0; r < B; r++) {
        const float *al = alpha + (long)r * L, *da = dalpha + (long)r * L;
        float dot = 0;
        for (int i = 0; i < L; i++) dot += al[i] * da[i];
        for (int i = 0; i < L; i++) de[(long)r * L + i] = al[i] * (da[i] - dot);
    }
}

void attn_uniform(float *alpha, float *logalpha, int B, int L)
{
    const float u = 1.0f / (float)L, lu = -logf((float)L);
    for (long k = 0; k < (long)B * L; k++) alpha[k] = u, logalpha[k] = lu;
}

void attn_hard_context(float *z, int ldz, const int *s, int lds, const float *a, int B, int L, int D)
{
    for (int r = 0; r < B; r++)
        memcpy(z + (long)r * ldz, a + ((long)r * L + s[(long)r * lds]) * D, (size_t)D * sizeof(float));
}

void attn_hard_context_backward(float *da, const float *dz, int lddz, const int *s, int lds, int B, int L,
                                int D)
{
    for (int r = 0; r < B; r++) {
        float *d = da + ((long)r * L + s[(long)r * lds]) * D;
        const float *g = dz + (long)r * lddz;
        for (int k = 0; k < D; k++) d[k] += g[k];
    }
}

void attn_soft_context(float *z, int ldz, float *zraw, float *beta,
                       const float *alpha, const float *a, const float *h_prev,
                       const float *gate_W, const float *gate_b, int gate, int B, int L, int D, int H)
{
    for (int r = 0; r < B; r++) {
        float *zr = zraw + (long)r * D;
        /* zraw_r (D) = a_r^T alpha_r, a_r is (L, D) */
        cblas_sgemv(CblasRowMajor, CblasTrans, L, D, 1.0f, a + (long)r * L * D, D, alpha + (long)r * L, 1,
                    0.0f, zr, 1);
        float bt = 1.0f;
        if (gate) bt = lstm_sigmoidf(cblas_sdot(H, gate_W, 1, h_prev + (long)r * H, 1) + gate_b[0]);
        beta[r] = bt;
        float *zo = z + (long)r * ldz;
        for (int k = 0; k < D; k++) zo[k] = bt * zr[k];
    }
}

void attn_soft_context_backward(float *dalpha, float *da, float *dh_prev, float *dgate_W, float *dgate_b,
                                const float *dz, int lddz, const float *zraw, const float *beta,
                                const float *alpha, const float *a, const float *h_prev,
                                const float *gate_W, int gate, int B, int L, int D, int H)
{
    for (int r = 0; r < B; r++) {
        const float *g = dz + (long)r * lddz, *ar = a + (long)r * L * D;
        const float bt = beta[r];
        if (gate) {
            float dbeta = cblas_sdot(D, g, 1, zraw + (long)r * D, 1);
            float dpre = dbeta * bt * (1.0f - bt);
            cblas_saxpy(H, dpre, h_prev + (long)r * H, 1, dgate_W, 1);
            dgate_b[0] += dpre;
            cblas_saxpy(H, dpre, gate_W, 1, dh_prev + (long)r * H, 1);
        }
        /* dalpha_i += beta a_i . dz;  da_i += beta alpha_i dz */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, L, D, bt, ar, D, g, 1, 1.0f, dalpha + (long)r * L, 1);
        cblas_sger(CblasRowMajor, L, D, bt, alpha + (long)r * L, 1, g, 1, da + (long)r * L * D, D);
    }
}
