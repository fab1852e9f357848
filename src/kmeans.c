/* kmeans.c - the learned patch dictionary: see kmeans.h. */
#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "image.h"

void kmeans_normalise(float *x, int n)
{
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    const double mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    const float inv = (float)(1.0 / sqrt(ss / n + KMEANS_NORM_EPS));
    for (int i = 0; i < n; i++) x[i] = (float)(x[i] - mean) * inv;
}

void kmeans_symmetric_eigen(double *A, double *lambda, double *U, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) U[i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const double a2 = A[i * n + j] * A[i * n + j];
                if (i == j) diag += a2;
                else off += a2;
            }
        if (off <= 1e-22 * diag) break;
        for (int p = 0; p < n - 1; p++)
            for (int q = p + 1; q < n; q++) {
                const double apq = A[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                /* the rotation in the (p, q) plane that zeroes A[p][q] */
                const double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                const double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                const double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) {   /* A <- A J (columns p, q) */
                    const double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {   /* A <- J^T A (rows p, q) */
                    const double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {   /* U <- U J */
                    const double ukp = U[k * n + p], ukq = U[k * n + q];
                    U[k * n + p] = c * ukp - s * ukq;
                    U[k * n + q] = s * ukp + c * ukq;
                }
            }
    }
    for (int i = 0; i < n; i++) lambda[i] = A[i * n + i];
}

/* out = W (x - mu) for every row x of patches (mu is subtracted in place),
 * through one sgemm. */
static void whiten(float *out, float *patches, long N, const float *dict, int n)
{
    const float *mu = dict, *W = dict + n;
    for (long r = 0; r < N; r++)
        for (int i = 0; i < n; i++) patches[r * n + i] -= mu[i];
    /* (N, n) = (N, n) W^T; W is symmetric, the transpose only says which way */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, n, n, 1.0f, patches, n, W, n, 0.0f, out, n);
}

static void normalise_rows(float *v, long N, int n)
{
    for (long r = 0; r < N; r++) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double)v[r * n + i] * v[r * n + i];
        const float inv = ss > 1e-20 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int i = 0; i < n; i++) v[r * n + i] *= inv;
    }
}

int kmeans_learn(float *dict, float *patches, long N, int P, int K, Rng *rng, GlmError *err)
{
    const int n = P * P;
    GLM_ASSERT(P >= 2 && P <= KMEANS_MAX_PATCH && K >= 1 && K <= KMEANS_MAX_K);
    if (N < K) return glm_fail(err, GLM_EINPUT, "%ld patches with content for a dictionary of %d: too few pictures", N, K);
    double *cov = calloc((size_t)n * n, sizeof(double)), *U = calloc((size_t)n * n, sizeof(double));
    double *lambda = calloc((size_t)n, sizeof(double)), *mean = calloc((size_t)n, sizeof(double));
    float *dots = glm_malloc_array((size_t)N * K, sizeof(float));
    float *sum = glm_malloc_array((size_t)K * n, sizeof(float));
    float *tmp = glm_malloc_array((size_t)N * n, sizeof(float));
    int rc = GLM_OK;
    if (!cov || !U || !lambda || !mean || !dots || !sum || !tmp) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory learning a %d-patch dictionary from %ld patches", K, N);
        goto out;
    }
    /* mu and the covariance, in double */
    for (long r = 0; r < N; r++)
        for (int i = 0; i < n; i++) mean[i] += patches[r * n + i];
    for (int i = 0; i < n; i++) mean[i] /= (double)N;
    for (long r = 0; r < N; r++) {
        const float *x = patches + r * n;
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) cov[i * n + j] += (x[i] - mean[i]) * (x[j] - mean[j]);
    }
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) cov[j * n + i] = cov[i * n + j] /= (double)(N - 1 > 0 ? N - 1 : 1);
    kmeans_symmetric_eigen(cov, lambda, U, n);
    float *mu = dict, *W = dict + n, *C = dict + (size_t)(1 + n) * n;
    for (int i = 0; i < n; i++) mu[i] = (float)mean[i];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double w = 0;
            for (int k = 0; k < n; k++) w += U[i * n + k] * U[j * n + k] / sqrt(fmax(lambda[k], 0.0) + KMEANS_ZCA_EPS);
            W[i * n + j] = (float)w;
        }

    whiten(tmp, patches, N, dict, n);
    memcpy(patches, tmp, (size_t)N * n * sizeof(float));
    normalise_rows(patches, N, n);
    /* K distinct starting patches (a partial Fisher-Yates over the rows) */
    int *pick = glm_malloc_array((size_t)N, sizeof(int));
    if (!pick) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory learning a dictionary");
        goto out;
    }
    for (long r = 0; r < N; r++) pick[r] = (int)r;
    for (int k = 0; k < K; k++) {
        const long j = k + (long)rng_below(rng, (uint32_t)(N - k));
        const int t = pick[k];
        pick[k] = pick[j], pick[j] = t;
        memcpy(C + (size_t)k * n, patches + (size_t)pick[k] * n, (size_t)n * sizeof(float));
    }
    free(pick);
    for (int it = 0; it < KMEANS_ITERS; it++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, K, n, 1.0f, patches, n, C, n, 0.0f, dots, K);
        memcpy(sum, C, (size_t)K * n * sizeof(float));   /* + itself: an empty cluster stays put */
        for (long r = 0; r < N; r++) {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (dots[r * K + k] > dots[r * K + best]) best = k;
            for (int i = 0; i < n; i++) sum[(size_t)best * n + i] += patches[r * n + i];
        }
        normalise_rows(sum, K, n);
        memcpy(C, sum, (size_t)K * n * sizeof(float));
    }
out:
    free(cov);
    free(U);
    free(lambda);
    free(mean);
    free(dots);
    free(sum);
    free(tmp);
    return rc;
}

void kmeans_encode(float *act, float *patches, float *white, long N, const float *dict, int P, int K)
{
    const int n = P * P;
    whiten(white, patches, N, dict, n);
    const float *C = dict + (size_t)(1 + n) * n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, K, n, 1.0f, white, n, C, n, 0.0f, act, K);
    for (long i = 0; i < N * K; i++) act[i] = act[i] > KMEANS_ALPHA ? act[i] - KMEANS_ALPHA : 0.0f;
}

int kmeans_learn_pictures(float *dict, const char *const *paths, int n, const FeatConfig *cfg, Rng *rng,
                          GlmError *err)
{
    const int P = cfg->kmeans_patch, K = cfg->kmeans, pp = P * P, used = GLM_MIN(n, KMEANS_MAX_PICTURES);
    float *patches = glm_malloc_array((size_t)used * KMEANS_PER_PICTURE, (size_t)pp * sizeof(float));
    if (!patches && used > 0) return glm_fail(err, GLM_ENOMEM, "out of memory for %d pictures' patches", used);
    long N = 0;
    int rc = GLM_OK;
    for (int k = 0; k < used && rc == GLM_OK; k++) {
        const int i = (int)((long)k * n / used);
        Image img;
        GlmError why;
        if (image_load(&img, paths[i], &why)) continue;
        int got = 0;
        rc = features_patches(patches + (size_t)N * pp, &got, KMEANS_PER_PICTURE, &img, cfg, rng, err);
        image_free(&img);
        N += got;
    }
    if (rc == GLM_OK) rc = kmeans_learn(dict, patches, N, P, K, rng, err);
    free(patches);
    return rc;
}
