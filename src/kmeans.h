/* kmeans.h - a learned, CNN-free feature block: a dictionary of small
 * patches found by spherical k-means on whitened patches (Coates, Lee & Ng
 * 2011, "An analysis of single-layer networks in unsupervised feature
 * learning"; Coates & Ng 2012 for the spherical variant).
 *
 * The hand-made blocks (features.h) say what the designer thought mattered:
 * colour, edge orientations, a coarse patch. The dictionary lets the
 * training pictures say which small shapes recur: corners of a given angle,
 * the tip of a triangle, a sleeve. One layer, no backpropagation:
 *
 *   patch    a P x P window of the figure map (features.h), so the
 *            dictionary sees figure against ground, whatever the polarity
 *            or the background colour;
 *   normalise  x <- (x - mean(x)) / sqrt(var(x) + KMEANS_NORM_EPS), per patch
 *            (brightness and contrast of the patch itself);
 *   whiten   z = W (x - mu), W = U diag(1 / sqrt(lambda + KMEANS_ZCA_EPS)) U^T
 *            from the eigenvectors U and eigenvalues lambda of the patches'
 *            covariance (ZCA: decorrelates neighbouring pixels, so k-means
 *            finds edges and corners instead of blurs);
 *   learn    K unit centroids c_k: start from K whitened training patches,
 *            then KMEANS_ITERS rounds of: give each (unit-length) patch to
 *            the centroid with the largest c_k . z, set c_k to the sum of
 *            its patches plus itself (so an empty cluster stays), normalise.
 *            Signed: the figure map has a polarity (figure is 1), so an
 *            edge with the figure on its left is not one with it on its
 *            right, and the encoding below keeps only c_k . z > 0;
 *   encode   f_k = max(0, c_k . z - KMEANS_ALPHA) for a patch at every
 *            KMEANS_STEP pixels (the soft threshold of Coates & Ng 2012);
 *   pool     features.c averages f over the patches centred in a region's
 *            window: K numbers per region.
 *
 * The dictionary is one float block, stored in the model file as tensor
 * "feat.dict" of shape (1 + n + K, n), n = P*P:
 *   row 0        mu
 *   rows 1..n    W
 *   rows n+1..   c_1 .. c_K
 * It is learned once, before training, from the training pictures, with
 * the trainer's seed: the same pictures and seed give the same bytes.
 */
#ifndef GLIMPSE_KMEANS_H
#define GLIMPSE_KMEANS_H

#include <stddef.h>

#include "common.h"
#include "features.h"
#include "rng.h"

#define KMEANS_MAX_K 256
#define KMEANS_MAX_PATCH 12
#define KMEANS_NORM_EPS 0.01f   /* of a patch's variance; f lies in [0, 1] */
#define KMEANS_ZCA_EPS 0.1f     /* of an eigenvalue; normalised patches have variance ~1 */
#define KMEANS_ITERS 10
#define KMEANS_ALPHA 0.5f
#define KMEANS_STEP 2           /* pixels between encoded patches */

/* Floats in a dictionary of K centroids of P x P patches. */
static inline size_t kmeans_dict_floats(int P, int K) { return (size_t)(1 + P * P + K) * (size_t)(P * P); }

/* Brightness and contrast normalisation of one patch of n values, in place. */
void kmeans_normalise(float *x, int n);

/* Learns a dictionary (kmeans_dict_floats(P, K) floats) from N patches
 * (N, P*P), already normalised; N >= K. The patches are overwritten
 * (whitened). Draws the initial centroids from rng. GLM_EINPUT when there
 * are fewer than K patches, GLM_ENOMEM. */
int kmeans_learn(float *dict, float *patches, long N, int P, int K, Rng *rng, GlmError *err);

/* Encodes N patches (N, P*P), normalised, into act (N, K); white (N, P*P)
 * is scratch and the patches are changed (mu subtracted). */
void kmeans_encode(float *act, float *patches, float *white, long N, const float *dict, int P, int K);

/* The whole learning step, as glimpse train runs it: up to
 * KMEANS_PER_PICTURE patches with content from each of up to
 * KMEANS_MAX_PICTURES of the n pictures at paths (evenly spread over the
 * list), through features_patches with cfg (whose kmeans and kmeans_patch
 * say K and P), then kmeans_learn. Pictures that do not load are passed
 * over. dict: kmeans_dict_floats(P, K) floats. GLM_EINPUT when too few
 * patches with content were found, GLM_ENOMEM. */
#define KMEANS_PER_PICTURE 16
#define KMEANS_MAX_PICTURES 4000
int kmeans_learn_pictures(float *dict, const char *const *paths, int n, const FeatConfig *cfg, Rng *rng,
                          GlmError *err);

/* Eigen-decomposition of the symmetric n x n matrix A (row-major, doubles,
 * destroyed): eigenvalues in lambda (n), eigenvectors as the columns of U
 * (n x n), by cyclic Jacobi rotations. Exposed for its test. */
void kmeans_symmetric_eigen(double *A, double *lambda, double *U, int n);

#endif
