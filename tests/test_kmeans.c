/* test_kmeans.c - the learned patch dictionary (kmeans.h): the eigen
 * solver, that k-means finds planted prototypes, that learning is
 * deterministic per seed, that the dictionary survives a model file round
 * trip, and that its block ignores the background as the figure map does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features.h"
#include "kmeans.h"
#include "model.h"
#include "modelfile.h"
#include "test.h"

TEST(kmeans_jacobi_eigen_decomposes_a_symmetric_matrix)
{
    enum { N = 7 };
    double A[N * N], keep[N * N], U[N * N], lambda[N];
    Rng r;
    rng_seed(&r, 5, 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) A[i * N + j] = A[j * N + i] = 2.0 * rng_uniform(&r) - 1.0;
    memcpy(keep, A, sizeof A);
    kmeans_symmetric_eigen(A, lambda, U, N);
    double worst = 0, ortho = 0;
    for (int k = 0; k < N; k++)
        for (int i = 0; i < N; i++) {
            double av = 0;   /* (A u_k)_i - lambda_k u_ik */
            for (int j = 0; j < N; j++) av += keep[i * N + j] * U[j * N + k];
            worst = fmax(worst, fabs(av - lambda[k] * U[i * N + k]));
        }
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++) {
            double d = 0;
            for (int i = 0; i < N; i++) d += U[i * N + a] * U[i * N + b];
            ortho = fmax(ortho, fabs(d - (a == b)));
        }
    CHECK(worst < 1e-9);
    CHECK(ortho < 1e-9);
}

/* Patches drawn from four planted edge prototypes with noise: the learned
 * centroids must tell them apart (each prototype's best centroid differs)
 * and learning twice with the same seed gives the same bytes. */
TEST(kmeans_learns_planted_prototypes_deterministically)
{
    enum { P = 4, n = P * P, NPROTO = 4, K = 8, PER = 200, NP = NPROTO * PER };
    float proto[NPROTO][n];
    for (int y = 0; y < P; y++)
        for (int x = 0; x < P; x++) {
            proto[0][y * P + x] = x < P / 2;            /* vertical edge */
            proto[1][y * P + x] = y < P / 2;            /* horizontal edge */
            proto[2][y * P + x] = x + y < P - 1;        /* diagonal */
            proto[3][y * P + x] = (x == 1 || x == 2) && (y == 1 || y == 2);   /* a dot */
        }
    float *a = malloc(sizeof(float) * NP * n), *b = malloc(sizeof(float) * NP * n);
    float *da = malloc(sizeof(float) * kmeans_dict_floats(P, K)), *db = malloc(sizeof(float) * kmeans_dict_floats(P, K));
    REQUIRE(a && b && da && db);
    Rng noise;
    rng_seed(&noise, 9, 0);
    for (int i = 0; i < NP; i++) {
        for (int j = 0; j < n; j++) a[i * n + j] = proto[i % NPROTO][j] + 0.05f * rng_normal(&noise);
        kmeans_normalise(a + i * n, n);
    }
    memcpy(b, a, sizeof(float) * NP * n);
    Rng r1, r2;
    rng_seed(&r1, 3, 2);
    rng_seed(&r2, 3, 2);
    GlmError err;
    REQUIRE(kmeans_learn(da, a, NP, P, K, &r1, &err) == GLM_OK);
    REQUIRE(kmeans_learn(db, b, NP, P, K, &r2, &err) == GLM_OK);
    CHECK(memcmp(da, db, sizeof(float) * kmeans_dict_floats(P, K)) == 0);
    /* each clean prototype's strongest centroid (of twice as many as there
     * are prototypes, as k-means needs to avoid a poor local optimum), all
     * different */
    int best[NPROTO], seen[K] = {0};
    for (int k = 0; k < NPROTO; k++) {
        float v[n], white[n], act[K];
        memcpy(v, proto[k], sizeof v);
        kmeans_normalise(v, n);
        kmeans_encode(act, v, white, 1, da, P, K);
        best[k] = 0;
        for (int c = 1; c < K; c++)
            if (act[c] > act[best[k]]) best[k] = c;
        CHECK(act[best[k]] > 0);
        seen[best[k]]++;
    }
    for (int c = 0; c < K; c++) CHECK(seen[c] <= 1);
    /* too few patches is an error, not a crash */
    CHECK(kmeans_learn(db, b, K - 1, P, K, &r2, &err) == GLM_EINPUT);
    free(a);
    free(b);
    free(da);
    free(db);
}

static const char *const words[] = {"<pad>", "<start>", "<end>", "<unk>", "red", "circle"};

/* A small model with a dictionary learned from the shape scenes of a
 * generated data set (the real learning step, kmeans_learn_pictures). */
static int dictionary_model(Model *m, const char *dir, uint64_t seed, float **dict_out)
{
    ModelConfig c = model_default_config();
    c.vocab = 6, c.hidden = 8, c.embed = 4, c.proj = 5, c.att = 3;
    c.feat.kmeans = 8, c.feat.kmeans_patch = 5;
    const char *paths[40];
    char buf[40][512];
    for (int i = 0; i < 40; i++) {
        snprintf(buf[i], sizeof buf[i], "%s/images/shapes_%06d.png", dir, i);
        paths[i] = buf[i];
    }
    float *dict = malloc(sizeof(float) * kmeans_dict_floats(c.feat.kmeans_patch, c.feat.kmeans));
    if (!dict) return GLM_ENOMEM;
    Rng r;
    rng_seed(&r, seed, 2);
    GlmError err;
    int rc = kmeans_learn_pictures(dict, paths, 40, &c.feat, &r, &err);
    if (rc) {
        printf("  %s\n", err.msg);
        free(dict);
        return rc;
    }
    c.feat.dict = dict;
    rng_seed(&r, seed, 0);
    rc = model_init(m, &c, words, &r, &err);
    *dict_out = dict;
    return rc;
}

TEST(kmeans_dictionary_is_deterministic_and_survives_the_model_file)
{
    char dir[512], pa[600], pb[600], pc[600], pd[600];
    snprintf(dir, sizeof dir, "%s/km-scenes", test_tmpdir());
    REQUIRE(test_run("%s data shapes --out %s --count 40 --seed 7 --split 1,0,0 --quiet", test_glimpse_bin(), dir) == 0);
    Model m, again, other, back;
    float *d1 = NULL, *d2 = NULL, *d3 = NULL;
    REQUIRE(dictionary_model(&m, dir, 11, &d1) == GLM_OK);
    REQUIRE(dictionary_model(&again, dir, 11, &d2) == GLM_OK);
    REQUIRE(dictionary_model(&other, dir, 12, &d3) == GLM_OK);
    const size_t nd = kmeans_dict_floats(5, 8);
    CHECK(memcmp(d1, d2, nd * sizeof(float)) == 0);
    CHECK(memcmp(d1, d3, nd * sizeof(float)) != 0);   /* the seed matters */
    CHECK(m.dict != d1 && memcmp(m.dict, d1, nd * sizeof(float)) == 0);   /* the model owns a copy */
    snprintf(pa, sizeof pa, "%s/km-a.glm", test_tmpdir());
    snprintf(pb, sizeof pb, "%s/km-b.glm", test_tmpdir());
    snprintf(pc, sizeof pc, "%s/km-c.glm", test_tmpdir());
    snprintf(pd, sizeof pd, "%s/km-d.glm", test_tmpdir());
    GlmError err;
    REQUIRE(model_save(&m, pa, NULL, 0, &err) == GLM_OK);
    REQUIRE(model_save(&again, pb, NULL, 0, &err) == GLM_OK);
    CHECK(test_same_file(pa, pb));
    REQUIRE(model_load(&back, pa, &err) == GLM_OK);
    CHECK_EQ_INT(back.cfg.feat.kmeans, 8);
    CHECK_EQ_INT(back.cfg.feat.kmeans_patch, 5);
    REQUIRE(back.dict && back.cfg.feat.dict == back.dict);
    CHECK(memcmp(back.dict, d1, nd * sizeof(float)) == 0);
    REQUIRE(model_save(&back, pc, NULL, 0, &err) == GLM_OK);
    CHECK(test_same_file(pa, pc));
    /* the loaded model computes the same region vectors */
    const int n = features_regions(&m.cfg.feat) * features_dim(&m.cfg.feat);
    float *fa = malloc(sizeof(float) * n), *fb = malloc(sizeof(float) * n);
    char img[600];
    snprintf(img, sizeof img, "%s/images/shapes_000003.png", dir);
    REQUIRE(fa && fb);
    REQUIRE(features_from_file(fa, NULL, NULL, img, &m.cfg.feat, NULL, &err) == GLM_OK);
    REQUIRE(features_from_file(fb, NULL, NULL, img, &back.cfg.feat, NULL, &err) == GLM_OK);
    CHECK(memcmp(fa, fb, sizeof(float) * n) == 0);
    double mass = 0;   /* and the block is not all zero */
    const FeatLayout lay = features_layout(&m.cfg.feat);
    for (int r = 0; r < features_regions(&m.cfg.feat); r++)
        for (int k = 0; k < 8; k++) mass += fa[r * lay.dim + lay.kmeans + k];
    CHECK(mass > 0.5);
    /* a file whose dictionary is missing says so */
    MfFile f;
    REQUIRE(mf_read(&f, pa, &err) == GLM_OK);
    for (int i = 0; i < f.n_tensors; i++)
        if (!strcmp(f.tensors[i].name, MODEL_DICT_TENSOR)) snprintf(f.tensors[i].name, sizeof f.tensors[i].name, "x");
    f.n_tensors--;   /* the dictionary is the last model tensor: drop it */
    REQUIRE(!strcmp(f.tensors[f.n_tensors].name, "x"));
    REQUIRE(mf_write(pd, &f, &err) == GLM_OK);
    f.n_tensors++;
    mf_free(&f);
    Model bad;
    CHECK(model_load(&bad, pd, &err) == GLM_EINPUT);
    CHECK(strstr(err.msg, MODEL_DICT_TENSOR) != NULL);
    free(fa);
    free(fb);
    free(d1);
    free(d2);
    free(d3);
    model_free(&m);
    model_free(&again);
    model_free(&other);
    model_free(&back);
}

/* The block reads the figure map: one shape on a light and on a dark
 * background gives nearly the same kmeans block, a different shape does
 * not. The dictionary is planted (whitening = identity, unit random
 * centroids), so this tests the encoding and pooling, not the learning. */
TEST(kmeans_block_ignores_the_background)
{
    FeatConfig c = features_default_config();
    c.kmeans = 16, c.kmeans_patch = 6;
    const int pp = 36, K = 16;
    float *dict = calloc(kmeans_dict_floats(6, K), sizeof(float));
    REQUIRE(dict);
    for (int i = 0; i < pp; i++) dict[pp + i * pp + i] = 1.0f;   /* W = I, mu = 0 */
    Rng r;
    rng_seed(&r, 4, 0);
    for (int k = 0; k < K; k++) {
        float *ck = dict + (size_t)(1 + pp + k) * pp;
        double ss = 0;
        for (int i = 0; i < pp; i++) {
            ck[i] = rng_normal(&r);
            ss += ck[i] * ck[i];
        }
        for (int i = 0; i < pp; i++) ck[i] /= (float)sqrt(ss);
    }
    c.dict = dict;
    const int L = features_regions(&c), F = features_dim(&c), off = features_layout(&c).kmeans;
    Image pic[3];
    GlmError err;
    for (int k = 0; k < 3; k++) {
        REQUIRE(image_init(&pic[k], 64, 64, &err) == GLM_OK);
        const float bg = k == 1 ? 0.1f : 0.9f;
        for (int i = 0; i < 64 * 64 * 3; i++) pic[k].data[i] = bg;
        for (int y = 20; y < 40; y++)
            for (int x = 20; x < 40; x++) {
                const int in = k == 2 ? (x - 30) * (x - 30) + (y - 30) * (y - 30) < 100 : 1;   /* square or disc */
                if (in) pic[k].data[3 * (y * 64 + x)] = 0.8f, pic[k].data[3 * (y * 64 + x) + 1] = 0.2f,
                        pic[k].data[3 * (y * 64 + x) + 2] = 0.2f;
            }
    }
    float *v = malloc(sizeof(float) * (size_t)3 * L * F);
    REQUIRE(v);
    for (int k = 0; k < 3; k++) REQUIRE(features_of_image(v + (size_t)k * L * F, &pic[k], &c, NULL, &err) == GLM_OK);
    double same = 0, shape = 0, norm = 0;
    for (int rg = 0; rg < L; rg++)
        for (int k = 0; k < K; k++) {
            const float a = v[rg * F + off + k], b = v[L * F + rg * F + off + k], d = v[2 * L * F + rg * F + off + k];
            same += (a - b) * (a - b), shape += (a - d) * (a - d), norm += a * a;
        }
    printf("  kmeans block: dark background %.3f from light, a disc %.3f (|v|^2 %.2f)\n", sqrt(same), sqrt(shape),
           norm);
    CHECK(norm > 1.0);
    CHECK(sqrt(same) < 0.25 * sqrt(shape));
    free(v);
    free(dict);
    for (int k = 0; k < 3; k++) image_free(&pic[k]);
}
