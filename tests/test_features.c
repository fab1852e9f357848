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

/* The blocks of version 3 (figure 0: grey levels, stretched pictures),
 * which these tests pin down; the figure map has tests of its own below. */
static FeatConfig grey_config(void)
{
    FeatConfig c = features_default_config();
    c.figure = 0;
    c.keep_aspect = 0;
    return c;
}

TEST(features_layout_sizes)
{
    FeatConfig c = grey_config();
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
    FeatConfig c = grey_config();
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
    FeatConfig c = grey_config();
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
    FeatConfig c = grey_config();
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
    FeatConfig c = grey_config();
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
    FeatConfig c = grey_config();
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

/* ---- the figure map (version 4) ---------------------------------------- */

/* A w x h picture: background bg (top) fading linearly to bg2 (bottom), a
 * circle (shape 0) or a square (shape 1) of colour fg centred at (cx, cy)
 * with radius r, and a second, blue square at (sx, sy). Coordinates are
 * fractions of the longer side, as a picture drawn at two sizes would be. */
static Image scene_picture(int w, int h, const float bg[3], const float bg2[3], int shape, const float fg[3],
                           float cx, float cy, float r, float sx, float sy)
{
    Image img;
    GlmError err;
    GLM_ASSERT(image_init(&img, w, h, &err) == GLM_OK);
    const float L = (float)(w > h ? w : h), ox = (L - (float)w) / 2, oy = (L - (float)h) / 2;
    const float blue[3] = {0.16f, 0.38f, 0.86f};
    enum { SS = 4 };   /* 4 x 4 samples a pixel: anti-aliased, as drawing programs draw */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float t = (float)y / (float)(h - 1);
            float *p = img.data + 3 * ((size_t)y * w + x);
            for (int c = 0; c < 3; c++) p[c] = 0;
            for (int j = 0; j < SS * SS; j++) {
                const float u = ((float)x + ((float)(j % SS) + 0.5f) / SS + ox) / L;
                const float v = ((float)y + ((float)(j / SS) + 0.5f) / SS + oy) / L;
                const int in = shape == 0 ? (u - cx) * (u - cx) + (v - cy) * (v - cy) < r * r
                                          : fabsf(u - cx) < r * 0.85f && fabsf(v - cy) < r * 0.85f;
                const int sq = fabsf(u - sx) < 0.08f && fabsf(v - sy) < 0.08f;
                for (int c = 0; c < 3; c++)
                    p[c] += (sq ? blue[c] : in ? fg[c] : bg[c] * (1 - t) + bg2[c] * t) / (SS * SS);
            }
        }
    return img;
}

static double feature_distance(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}

/* Issue 12's test of invariance: the same scene drawn on a light and on a
 * dark background, on a gradient, at two canvas sizes and on a non-square
 * canvas gives region vectors much closer to each other than to those of
 * the same layout with another shape. Grey-level features (version 3)
 * fail the same comparison for the dark background. */
TEST(features_figure_map_ignores_background_polarity_and_canvas)
{
    FeatConfig c = features_default_config();   /* figure 1, keep_aspect 1 */
    REQUIRE(c.figure == 1 && c.keep_aspect == 1);
    const int L = features_regions(&c), F = features_dim(&c), n = L * F;
    const float light[3] = {0.92f, 0.92f, 0.9f}, dark[3] = {0.08f, 0.08f, 0.1f}, pale[3] = {0.95f, 0.88f, 0.8f};
    const float grad[3] = {0.6f, 0.65f, 0.7f}, red[3] = {0.86f, 0.14f, 0.14f};
    enum { N_VAR = 6 };
    Image var[N_VAR] = {
        scene_picture(64, 64, light, light, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
        scene_picture(64, 64, dark, dark, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
        scene_picture(128, 128, light, light, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
        scene_picture(64, 64, pale, grad, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
        scene_picture(160, 120, light, light, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
        scene_picture(96, 96, dark, grad, 0, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f),
    };
    const char *names[N_VAR] = {"light 64", "dark 64", "light 128", "gradient", "160x120", "dark-to-grey 96"};
    Image other = scene_picture(64, 64, light, light, 1, red, 0.3f, 0.35f, 0.12f, 0.7f, 0.7f);
    float *f = malloc(sizeof(float) * (size_t)n * (N_VAR + 1));
    REQUIRE(f);
    GlmError err;
    for (int k = 0; k < N_VAR; k++) REQUIRE(features_of_image(f + (size_t)k * n, &var[k], &c, NULL, &err) == GLM_OK);
    REQUIRE(features_of_image(f + (size_t)N_VAR * n, &other, &c, NULL, &err) == GLM_OK);
    const double apart = feature_distance(f, f + (size_t)N_VAR * n, n);   /* circle vs square */
    for (int k = 1; k < N_VAR; k++) {
        const double d = feature_distance(f, f + (size_t)k * n, n);
        printf("  figure map: %-16s %.3f from light 64 (another shape: %.3f)\n", names[k], d, apart);
        if (!(d < 0.5 * apart))
            test_failed(__FILE__, __LINE__, "%s: distance %.3f, not under half of a shape change's %.3f", names[k], d,
                        apart);
    }
    /* the comparison has teeth: grey levels do not survive the dark background */
    FeatConfig g = grey_config();
    const int ng = features_regions(&g) * features_dim(&g);
    float *q = malloc(sizeof(float) * (size_t)ng * 3);
    REQUIRE(q);
    REQUIRE(features_of_image(q, &var[0], &g, NULL, &err) == GLM_OK);
    REQUIRE(features_of_image(q + ng, &var[1], &g, NULL, &err) == GLM_OK);
    REQUIRE(features_of_image(q + 2 * ng, &other, &g, NULL, &err) == GLM_OK);
    const double gd = feature_distance(q, q + ng, ng), ga = feature_distance(q, q + 2 * ng, ng);
    printf("  grey levels: dark 64 %.3f from light 64 (another shape: %.3f)\n", gd, ga);
    CHECK(gd > ga);
    free(q);
    free(f);
    for (int k = 0; k < N_VAR; k++) image_free(&var[k]);
    image_free(&other);
}

/* keep_aspect: a 300x100 picture is padded to 300x300 (its background
 * above and below), and the cell that holds an object maps back onto the
 * object's own pixels. */
TEST(features_keep_aspect_maps_cells_back_to_the_picture)
{
    FeatConfig c = features_default_config();
    const int G = c.grid;
    /* 300 x 100: the padded square spans y -100 .. 200 of the picture; an
     * object at picture (200..240, 30..70) sits at square (200..240, 130..170) */
    int hits = 0;
    for (int i = 0; i < G * G; i++) {
        int x0, y0, x1, y1;
        features_cell_in_picture(&c, i / G, i % G, 300, 100, &x0, &y0, &x1, &y1);
        CHECK(x0 >= 0 && x1 <= 300 && y0 >= 0 && y1 <= 100);
        /* the cell of square pixel (220, 150), i.e. picture (220, 50) */
        int sx0, sy0, sx1, sy1;
        features_region_cell(&c, i / G, i % G, &sx0, &sy0, &sx1, &sy1);
        const double s = 300.0 / c.input;
        if (220 >= sx0 * s && 220 < sx1 * s && 150 >= sy0 * s && 150 < sy1 * s) {
            hits++;
            CHECK(x0 <= 220 && 220 < x1 && y0 <= 50 && 50 < y1);
        }
    }
    CHECK_EQ_INT(hits, 1);
    /* and the features see the object there, not stretched: the same
     * circle on a 300x100 and a 300x300 canvas gives nearly the same vectors */
    const float light[3] = {0.9f, 0.9f, 0.9f}, red[3] = {0.86f, 0.14f, 0.14f};
    Image wide = scene_picture(300, 100, light, light, 0, red, 0.7f, 0.5f, 0.06f, 0.3f, 0.5f);
    Image square = scene_picture(300, 300, light, light, 0, red, 0.7f, 0.5f, 0.06f, 0.3f, 0.5f);
    const int n = features_regions(&c) * features_dim(&c);
    float *a = malloc(sizeof(float) * (size_t)n * 2);
    REQUIRE(a);
    GlmError err;
    REQUIRE(features_of_image(a, &wide, &c, NULL, &err) == GLM_OK);
    REQUIRE(features_of_image(a + n, &square, &c, NULL, &err) == GLM_OK);
    const double d = feature_distance(a, a + n, n);
    printf("  300x100 against 300x300, the same circle: %.3f\n", d);
    CHECK(d < 0.3);
    free(a);
    image_free(&wide);
    image_free(&square);
}
