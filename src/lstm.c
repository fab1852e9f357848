/* lstm.c - the LSTM step of Xu et al. 2015, eq. 1-3 (see lstm.h). */
#include "common.h"
#include "lstm.h"

#include <cblas.h>
#include <math.h>

GLM_VECTOR_CLONES
void lstm_forward(float *gates, float *c, float *h, float *tc,
                  const float *x, int ldx, const float *h_prev, const float *c_prev,
                  const float *Wx, const float *Wh, const float *b, int B, int NX, int H)
{
    const int G = 4 * H;
    /* pre-activations (B, 4H) = x Wx^T + h_prev Wh^T + b (eq. 1) */
    for (int r = 0; r < B; r++)
        for (int k = 0; k < G; k++) gates[(long)r * G + k] = b[k];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, NX, 1.0f, x, ldx, Wx, NX, 1.0f, gates, G);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G, H, 1.0f, h_prev, H, Wh, H, 1.0f, gates, G);
    for (int r = 0; r < B; r++) {
        float *g = gates + (long)r * G;
        for (int k = 0; k < 3 * H; k++) g[k] = lstm_sigmoidf(g[k]);
        for (int k = 3 * H; k < G; k++) g[k] = lstm_tanhf(g[k]);
        const float *gi = g, *gf = g + H, *go = g + 2 * H, *gg = g + 3 * H;
        const float *cp = c_prev + (long)r * H;
        float *cr = c + (long)r * H, *hr = h + (long)r * H, *tr = tc + (long)r * H;
        for (int j = 0; j < H; j++) {
            cr[j] = gf[j] * cp[j] + gi[j] * gg[j];   /* eq. 2 */
            tr[j] = lstm_tanhf(cr[j]);
            hr[j] = go[j] * tr[j];                   /* eq. 3 */
        }
    }
}

void lstm_backward(float *dx, int lddx, float *dh_prev, float *dc, float *dWx, float *dWh,
                   float *db, float *dpre,
                   const float *dh, const float *gates, const float *tc, const float *c_prev,
                   const float *x, int ldx, const float *h_prev,
                   const float *Wx, const float *Wh, int B, int NX, int H)
{
    const int G = 4 * H;
    for (int r = 0; r < B; r++) {
        const float *g = gates + (long)r * G;
        const float *gi = g, *gf = g + H, *go = g + 2 * H, *gg = g + 3 * H;
        const float *dhr = dh + (long)r * H, *tr = tc + (long)r * H, *cp = c_prev + (long)r * H;
        float *dcr = dc + (long)r * H, *dp = dpre + (long)r * G;
        for (int j = 0; j < H; j++) {
            float d_o = dhr[j] * tr[j];
            float d_c = dcr[j] + dhr[j] * go[j] * (1.0f - tr[j] * tr[j]);
            float d_i = d_c * gg[j], d_f = d_c * cp[j], d_g = d_c * gi[j];
            dp[j] = d_i * gi[j] * (1.0f - gi[j]);
            dp[H + j] = d_f * gf[j] * (1.0f - gf[j]);
            dp[2 * H + j] = d_o * go[j] * (1.0f - go[j]);
            dp[3 * H + j] = d_g * (1.0f - gg[j] * gg[j]);
            dcr[j] = d_c * gf[j];   /* reaches c_{t-1} */
        }
        for (int k = 0; k < G; k++) db[k] += dp[k];
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, NX, B, 1.0f, dpre, G, x, ldx, 1.0f, dWx, NX);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, B, 1.0f, dpre, G, h_prev, H, 1.0f, dWh, H);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, NX, G, 1.0f, dpre, G, Wx, NX, 1.0f, dx, lddx);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, G, 1.0f, dpre, G, Wh, H, 1.0f, dh_prev, H);
}
