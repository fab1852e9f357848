/* test_features.c - the region vectors light up where and how they should. */
#include <stdlib.h>
#include <string.h>

#include "features.h"
#include "test.h"

/* A white S x S image with an axis-aligned rectangle of colour rgb. */
static void paint(Image *img, int x0, int y0, int x1, int y1, const float rgb[3])
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) memcpy(img->data + 3 * (y * img->w + x), rgb, 3 * sizeof(float));
}

static Image white_image(int s)
{
    Image img;
    GlmError err;
    GLM_ASSERT(image_init(&img, s, s, &err) == GLM_OK);
    for (int i = 0; i < s * s * 3; i++) img.data[i] = 1.0f;
    return img;
}

TEST(features_layout_sizes)
{
    FeatConfig c = features_default_config();
    FeatLayout l = features_layout(&c);
    CHECK_EQ_INT(l.mean, 0);
    CHECK_EQ_INT(l.colour, 3);
    CHECK_EQ_INT(l.hog, 3 + 27);
    CHECK_EQ_INT(l.patch, 3 + 27 + 2 * 2 * 8);
    CHECK_EQ_INT(l.moments, 3 + 27 + 32 + 16);
    CHECK_EQ_INT(l.position, 3 + 27 + 32 + 16 + 5);
    CHECK_EQ_INT(l.dim, 85);
    GlmError err;
    CHECK_EQ_INT(features_check_config(&c, &err), GLM_OK);
    c.version = FEAT_VERSION - 1;
    CHECK_EQ_INT(features_check_config(&c, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "version");
    c.version = FEAT_VERSION;
    c.stride = 30;   /* windows 3 * 30 px apart leave the 64-px image */
    CHECK_EQ_INT(features_check_config(&c, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "stride");
}

TEST(features_red_square_lights_only_its_region)
{
    FeatConfig c = features_default_config();
    const FeatLayout lay = features_layout(&c);
    const int L = features_regions(&c), q = c.color_levels;
    const int red_bin = lay.colour + ((q - 1) * q + 0) * q + 0;   /* R high, G and B low */
    float *feat = malloc(sizeof(float) * (size_t)L * lay.dim);
    float *scratch = malloc(sizeof(float) * features_scratch_floats(&c));
    REQUIRE(feat && scratch);
    const float red[3] = {0.9f, 0.05f, 0.05f};
    for (int r = 0; r < c.grid; r++)
        for (int col = 0; col < c.grid; col++) {
            /* An 8-px square at the centre of cell (r, col): the windows of the
             * neighbours reach (window - stride) / 2 = 4 px into this cell, so
             * they never see it. */
            Image img = white_image(c.input);
            int cx = col * c.stride + c.stride / 2, cy = r * c.stride + c.stride / 2;
            paint(&img, cx - 4, cy - 4, cx + 4, cy + 4, red);
            features_compute(feat, &img, &c, scratch);
            for (int i = 0; i < L; i++) {
                float v = feat[(size_t)i * lay.dim + red_bin];
                if (i == r * c.grid + col) CHECK_NEAR(v, 64.0 / (24 * 24), 1e-6);
                else if (v != 0.0f)
                    test_failed(__FILE__, __LINE__, "square in (%d,%d) lights region %d: %g", r, col, i, v);
            }
            /* The mean colour of that region moves towards red, no other does. */
            const float *own = feat + (size_t)(r * c.grid + col) * lay.dim;
            CHECK(own[lay.mean + 1] < 0.95f);
            image_free(&img);
        }
    free(feat);
    free(scratch);
}

/* The orientation histogram of region i summed over its cells. */
static void orientation(const float *feat, const FeatConfig *c, int i, float *out)
{
    const FeatLayout lay = features_layout(c);
    memset(out, 0, sizeof(float) * (size_t)c->orient_bins);
    for (int cell = 0; cell < c->hog_cells * c->hog_cells; cell++)
        for (int b = 0; b < c->orient_bins; b++)
            out[b] += feat[(size_t)i * lay.dim + lay.hog + cell * c->orient_bins + b];
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

TEST(features_edges_light_the_right_orientation_bin)
{
    FeatConfig c = features_default_config();
    const int k = c.orient_bins, L = features_regions(&c), dim = features_dim(&c);
    float *feat = malloc(sizeof(float) * (size_t)L * dim), *scratch = malloc(sizeof(float) * features_scratch_floats(&c));
    REQUIRE(feat && scratch);
    const float black[3] = {0, 0, 0};
    float hist[36];

    /* Vertical edge at x = 40 (inside column 2's window): horizontal gradient -> bin 0. */
    Image img = white_image(c.input);
    paint(&img, 40, 0, 64, 64, black);
    features_compute(feat, &img, &c, scratch);
    orientation(feat, &c, 1 * c.grid + 2, hist);
    CHECK_EQ_INT(argmax(hist, k), 0);
    CHECK(hist[0] > 0.5f);
    CHECK_NEAR(hist[k / 2], 0.0, 1e-6);
    /* A region far from the edge sees nothing. */
    orientation(feat, &c, 1 * c.grid + 0, hist);
    for (int b = 0; b < k; b++) CHECK_NEAR(hist[b], 0.0, 1e-6);
    image_free(&img);

    /* Horizontal edge: vertical gradient -> bin k/2 (90 degrees). */
    img = white_image(c.input);
    paint(&img, 0, 40, 64, 64, black);
    features_compute(feat, &img, &c, scratch);
    orientation(feat, &c, 2 * c.grid + 1, hist);
    CHECK_EQ_INT(argmax(hist, k), k / 2);
    CHECK_NEAR(hist[0], 0.0, 1e-6);
    image_free(&img);

    /* A 45-degree diagonal (black below y = x): gradient at 135 deg -> bin 3k/4. */
    img = white_image(c.input);
    for (int y = 0; y < 64; y++) paint(&img, 0, y, y, y + 1, black);
    features_compute(feat, &img, &c, scratch);
    orientation(feat, &c, 1 * c.grid + 1, hist);
    CHECK_EQ_INT(argmax(hist, k), 3 * k / 4);
    image_free(&img);
    free(feat);
    free(scratch);
}

TEST(features_position_patch_and_batch)
{
    FeatConfig c = features_default_config();
    const FeatLayout lay = features_layout(&c);
    const int L = features_regions(&c);
    /* Two images of different sizes through the one feature path. */
    Image imgs[2];
    GlmError err;
    REQUIRE(image_init(&imgs[0], 64, 64, &err) == GLM_OK);   /* black */
    imgs[1] = white_image(128);
    float *feat = malloc(sizeof(float) * 2 * (size_t)L * lay.dim);
    REQUIRE(feat);
    for (int b = 0; b < 2; b++)
        REQUIRE(features_of_image(feat + (size_t)b * L * lay.dim, &imgs[b], &c, NULL, &err) == GLM_OK);
    for (int i = 0; i < L; i++) {
        const float *a = feat + (size_t)i * lay.dim, *b = feat + (size_t)(L + i) * lay.dim;
        for (int j = 0; j < c.patch * c.patch; j++) {
            CHECK_NEAR(a[lay.patch + j], 0.0, 1e-6);
            CHECK_NEAR(b[lay.patch + j], 1.0, 1e-5);
        }
        /* Window centres: 8, 24, 40, 56 px of 64 -> -0.75, -0.25, 0.25, 0.75. */
        CHECK_NEAR(a[lay.position + 0], -0.75 + 0.5 * (i % c.grid), 1e-6);
        CHECK_NEAR(a[lay.position + 1], -0.75 + 0.5 * (i / c.grid), 1e-6);
        CHECK_NEAR(b[lay.position + 0], a[lay.position + 0], 1e-6);
    }
    /* Region boxes are clipped to the image and overlap their neighbours. */
    int x0, y0, x1, y1;
    features_region_box(&c, 0, 0, &x0, &y0, &x1, &y1);
    CHECK(x0 == 0 && y0 == 0 && x1 == 20 && y1 == 20);
    features_region_box(&c, 3, 1, &x0, &y0, &x1, &y1);
    CHECK(x0 == 12 && y0 == 44 && x1 == 36 && y1 == 64);
    /* Cells tile the image: 16 px squares. */
    features_region_cell(&c, 3, 1, &x0, &y0, &x1, &y1);
    CHECK(x0 == 16 && y0 == 48 && x1 == 32 && y1 == 64);
    features_region_cell(&c, 0, 0, &x0, &y0, &x1, &y1);
    CHECK(x0 == 0 && y0 == 0 && x1 == 16 && y1 == 16);
    image_free(&imgs[0]);
    image_free(&imgs[1]);
    free(feat);
}

TEST(features_moments_say_where_and_how_big)
{
    FeatConfig c = features_default_config();
    const FeatLayout lay = features_layout(&c);
    const int L = features_regions(&c);
    float *feat = malloc(sizeof(float) * (size_t)L * lay.dim), *scratch = malloc(sizeof(float) * features_scratch_floats(&c));
    REQUIRE(feat && scratch);
    const float black[3] = {0, 0, 0};
    const int R = 1 * c.grid + 1;   /* region (1, 1): window x, y in [12, 36) */
    float mo[3][5];
    /* (centre x, half size) of a square in the window of region (1, 1), centre row 24 */
    const int sq[3][2] = {{24, 3}, {30, 3}, {24, 7}};
    for (int k = 0; k < 3; k++) {
        Image img = white_image(c.input);
        paint(&img, sq[k][0] - sq[k][1], 24 - sq[k][1], sq[k][0] + sq[k][1], 24 + sq[k][1], black);
        features_compute(feat, &img, &c, scratch);
        memcpy(mo[k], feat + (size_t)R * lay.dim + lay.moments, sizeof mo[k]);
        image_free(&img);
    }
    /* Centred: centre near 0; moved right by 6 px of a 24-px window (0.5 in
     * [-1, 1] units, shrunk a little by the faintness prior): u > 0.3. */
    CHECK_NEAR(mo[0][1], 0.0, 0.02);
    CHECK_NEAR(mo[0][2], 0.0, 0.02);
    CHECK(mo[1][1] > 0.3f);
    CHECK_NEAR(mo[1][2], 0.0, 0.02);
    /* Bigger square: more edge energy and a wider spread, in both axes. */
    CHECK(mo[2][0] > mo[0][0]);
    CHECK(mo[2][3] > 1.8f * mo[0][3]);
    CHECK(mo[2][4] > 1.8f * mo[0][4]);
    /* A blank window has no energy and no centre. */
    Image img = white_image(c.input);
    features_compute(feat, &img, &c, scratch);
    for (int j = 0; j < 5; j++) CHECK_NEAR(feat[(size_t)R * lay.dim + lay.moments + j], 0.0, 1e-6);
    image_free(&img);
    free(feat);
    free(scratch);
}

/* Squared distance between the shape blocks (hog and patch) of region i of
 * two feature sets. */
static double shape_distance(const float *a, const float *b, const FeatLayout *lay, int i)
{
    double d = 0;
    for (int j = lay->hog; j < lay->moments; j++) {
        double e = a[(size_t)i * lay->dim + j] - b[(size_t)i * lay->dim + j];
        d += e * e;
    }
    return d;
}

TEST(features_recentre_follows_the_object)
{
    /* One dark asymmetric object (a bar with a foot) in the middle window of
     * a 3x3 grid, drawn twice, the second 4 px right and 3 down. Re-centred, the shape
     * blocks of that window describe both from the same place; unmoved, they
     * differ. Mean, colour, moments and position stay with the window. */
    FeatConfig c = features_default_config();
    c.input = 64;
    c.grid = 3;
    c.window = 24;
    c.stride = 20;
    c.hog_cells = 3;
    c.patch = 6;
    const float ink[3] = {0.1f, 0.1f, 0.1f};
    const int L = features_regions(&c), mid = 4;
    double dist[2];
    float *first[2];
    for (int k = 0; k < 2; k++) {
        c.recentre = k ? 6 : 0;
        const FeatLayout lay = features_layout(&c);
        float *f = malloc(sizeof(float) * 2 * (size_t)L * lay.dim), *scratch = malloc(sizeof(float) * features_scratch_floats(&c));
        REQUIRE(f && scratch);
        for (int at = 0; at < 2; at++) {
            Image img = white_image(64);
            const int x = 26 + 4 * at, y = 24 + 3 * at;
            paint(&img, x, y, x + 4, y + 14, ink);
            paint(&img, x, y + 10, x + 10, y + 14, ink);
            features_compute(f + (size_t)at * L * lay.dim, &img, &c, scratch);
            image_free(&img);
        }
        dist[k] = shape_distance(f, f + (size_t)L * lay.dim, &lay, mid);
        first[k] = f;
        free(scratch);
    }
    CHECK(dist[0] > 0.05);
    CHECK(dist[1] < 1e-6 * (1.0 + dist[0]));
    {   /* The window's own blocks are the same with and without re-centring. */
        const FeatLayout lay = features_layout(&c);
        const float *u = first[0] + (size_t)mid * lay.dim, *v = first[1] + (size_t)mid * lay.dim;
        CHECK(memcmp(u, v, sizeof(float) * (size_t)lay.hog) == 0);
        CHECK(memcmp(u + lay.moments, v + lay.moments, sizeof(float) * (size_t)(lay.dim - lay.moments)) == 0);
        CHECK(shape_distance(first[0], first[1], &lay, mid) > 0.0);
    }
    free(first[0]);
    free(first[1]);
    /* On a blank image nothing pulls the window: same vector as R = 0. */
    c.recentre = 6;
    const FeatLayout lay = features_layout(&c);
    float *a = malloc(sizeof(float) * (size_t)L * lay.dim), *b = malloc(sizeof(float) * (size_t)L * lay.dim);
    float *scratch = malloc(sizeof(float) * features_scratch_floats(&c));
    REQUIRE(a && b && scratch);
    Image img = white_image(64);
    features_compute(a, &img, &c, scratch);
    c.recentre = 0;
    features_compute(b, &img, &c, scratch);
    CHECK(memcmp(a, b, sizeof(float) * (size_t)L * lay.dim) == 0);
    GlmError err;
    c.recentre = c.window + 1;
    CHECK_EQ_INT(features_check_config(&c, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "recentre");
    image_free(&img);
    free(a);
    free(b);
    free(scratch);
}
