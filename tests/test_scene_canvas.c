/* test_scene_canvas.c - the canvas step (scene_canvas.h): the same Rng
 * gives the same picture; sizes and aspect ratios stay in their ranges;
 * an extension keeps the square and shifts the boxes by its offset, a
 * rescale maps them; in written data sets every object's pixels lie in
 * its box once the picture is padded to a square as the extractor pads
 * it, and grounding (eval_grounded) maps boxes of non-square pictures to
 * the regions that hold them; words and captions do not change; and
 * --canvas 0 (or --vary 0) writes what glimpse wrote before the step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "dataset_objects.h"
#include "evaluate.h"
#include "features.h"
#include "image.h"
#include "scene_canvas.h"
#include "scene_dataset.h"
#include "scene_draw.h"
#include "test.h"

static const char *tpath(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", test_tmpdir(), name);
    return buf;
}

static int gen(const char *dir, SceneKind kind, int count, uint64_t seed, int vary, int degrade, int canvas)
{
    SceneGenParams p = scene_gen_default_params(kind);
    p.count = count;
    p.seed = seed;
    p.vary = vary;
    p.degrade = degrade;
    p.canvas = canvas;
    GlmError err = {0};
    int rc = scene_generate_dataset(dir, &p, NULL, NULL, &err);
    if (rc) test_failed(__FILE__, __LINE__, "generate %s: %s", dir, err.msg);
    return rc;
}

/* ---- the step on its own ----------------------------------------------- */

/* 300 shape scenes of 64 px through the step: the same Rng state gives the
 * same picture; a picture the step left alone is the scene; the others
 * have an aspect ratio in [4:3, 2:1] (either way) or a shorter side in
 * [0.6, 2] x 64, never below the minimum; boxes stay inside. */
TEST(scene_canvas_same_rng_same_picture_and_sizes_in_range)
{
    const int S = 64, N = 300;
    Scene s;
    SceneCanvas a, b;
    GlmError err = {0};
    REQUIRE(scene_init(&s, S, &err) == GLM_OK);
    REQUIRE(scene_canvas_init(&a, S, &err) == GLM_OK);
    REQUIRE(scene_canvas_init(&b, S, &err) == GLM_OK);
    s.vary = 1;
    Rng r, cr;
    rng_seed(&r, 5, 0);
    rng_seed(&cr, 5, SCENE_CANVAS_STREAM);
    int same = 0, wide = 0, tall = 0, resized = 0, untouched = 0;
    for (int i = 0; i < N; i++) {
        REQUIRE(scene_make_shapes(&s, &r, &err) == GLM_OK);
        Rng again = cr;
        REQUIRE(scene_canvas_apply(&a, &s, SCENE_SHAPES_MIN_SIZE, &cr, &err) == GLM_OK);
        REQUIRE(scene_canvas_apply(&b, &s, SCENE_SHAPES_MIN_SIZE, &again, &err) == GLM_OK);
        CHECK(again.state == cr.state);
        same += a.w == b.w && a.h == b.h && !memcmp(a.rgb, b.rgb, (size_t)a.w * a.h * 3) &&
                !memcmp(a.boxes, b.boxes, sizeof(SceneBox) * (size_t)s.n_objects);
        const int lo = GLM_MIN(a.w, a.h), hi = GLM_MAX(a.w, a.h);
        wide += a.w > a.h, tall += a.h > a.w, resized += lo != S;
        if (a.w == S && a.h == S) {
            untouched++;
            CHECK(!memcmp(a.rgb, s.rgb, (size_t)S * S * 3));
            for (int j = 0; j < s.n_objects; j++) CHECK(!memcmp(&a.boxes[j], &s.objects[j].box, sizeof(SceneBox)));
        }
        if (hi != lo && !(hi >= lo * 4.0 / 3.0 - 1.0 && hi <= lo * 2.0 + 1.0))
            test_failed(__FILE__, __LINE__, "scene %d: %dx%d is not between 4:3 and 2:1", i, a.w, a.h);
        if (!(lo >= SCENE_SHAPES_MIN_SIZE && lo >= (int)floor(0.6 * S) && lo <= 2 * S))
            test_failed(__FILE__, __LINE__, "scene %d: shorter side %d out of range", i, lo);
        for (int j = 0; j < s.n_objects; j++) {
            const SceneBox *x = &a.boxes[j];
            if (!(x->x0 >= 0 && x->x0 < x->x1 && x->x1 <= a.w && x->y0 >= 0 && x->y0 < x->y1 && x->y1 <= a.h))
                test_failed(__FILE__, __LINE__, "scene %d object %d: box %d %d %d %d outside %dx%d", i, j, x->x0,
                            x->y0, x->x1, x->y1, a.w, a.h);
        }
    }
    printf("  canvas over %d scenes: %d wide, %d tall, %d resized, %d untouched\n", N, wide, tall, resized, untouched);
    CHECK_EQ_INT(same, N);
    /* p = 0.35 each: 105 +- 25 extended, about as many resized */
    CHECK(wide + tall >= 80 && wide + tall <= 130);
    CHECK(wide >= 25 && tall >= 25);
    CHECK(resized >= 70 && resized <= 135);
    CHECK(untouched >= 100 && untouched <= 160);
    scene_canvas_free(&a);
    scene_canvas_free(&b);
    scene_free(&s);
}

/* The max over channels of |a - b|. */
static int px_diff(const uint8_t *a, const uint8_t *b)
{
    int d = 0;
    for (int c = 0; c < 3; c++) d = GLM_MAX(d, abs(a[c] - b[c]));
    return d;
}

/* An extended picture (not resized: one side is still S) holds the scene
 * byte for byte at one offset along the longer axis, the boxes are
 * shifted by exactly it, and the new pixels carry the background on:
 * across the seam they differ from the square's edge by little (swell
 * +-6, grain +-3 on both sides). A picture only resized (square, side
 * S' != S) has its boxes at [floor(x0 S'/S), ceil(x1 S'/S)) and, when
 * shrunk, the pixels image_resize's area averaging gives (+-1 level). */
TEST(scene_canvas_extension_keeps_the_square_and_rescale_maps_the_boxes)
{
    const int S = 64;
    Scene s;
    SceneCanvas a;
    GlmError err = {0};
    REQUIRE(scene_init(&s, S, &err) == GLM_OK);
    REQUIRE(scene_canvas_init(&a, S, &err) == GLM_OK);
    s.vary = 1;
    Rng r, cr;
    rng_seed(&r, 17, 0);
    rng_seed(&cr, 17, SCENE_CANVAS_STREAM);
    int extended = 0, shrunk = 0, grown = 0, worst_seam = 0, worst_shrink = 0;
    for (int i = 0; i < 200; i++) {
        REQUIRE(scene_make_shapes(&s, &r, &err) == GLM_OK);
        REQUIRE(scene_canvas_apply(&a, &s, SCENE_SHAPES_MIN_SIZE, &cr, &err) == GLM_OK);
        if (GLM_MIN(a.w, a.h) == S && a.w != a.h) {
            extended++;
            const int wide = a.w > a.h, L = GLM_MAX(a.w, a.h);
            int found = -1;
            for (int o = 0; o + S <= L && found < 0; o++) {
                int eq = 1;
                for (int y = 0; y < S && eq; y++)
                    eq = !memcmp(a.rgb + 3 * ((size_t)(y + (wide ? 0 : o)) * a.w + (wide ? o : 0)), s.rgb + 3 * (size_t)y * S,
                                 3 * (size_t)S);
                if (eq) found = o;
            }
            if (found < 0) {
                test_failed(__FILE__, __LINE__, "scene %d: the %dx%d picture does not hold the square scene", i, a.w, a.h);
                continue;
            }
            const int ox = wide ? found : 0, oy = wide ? 0 : found;
            for (int j = 0; j < s.n_objects; j++) {
                const SceneBox *b = &s.objects[j].box, *m = &a.boxes[j];
                if (m->x0 != b->x0 + ox || m->x1 != b->x1 + ox || m->y0 != b->y0 + oy || m->y1 != b->y1 + oy)
                    test_failed(__FILE__, __LINE__, "scene %d object %d: box %d %d %d %d, want %d %d %d %d", i, j, m->x0,
                                m->y0, m->x1, m->y1, b->x0 + ox, b->y0 + oy, b->x1 + ox, b->y1 + oy);
            }
            /* the seams: the pixel just outside the square against the one inside */
            for (int t = 0; t < S; t++) {
                const int xs[2] = {ox - 1, ox + S}, ys[2] = {oy - 1, oy + S};
                for (int e = 0; e < 2; e++) {
                    int x = wide ? xs[e] : t, y = wide ? t : ys[e];
                    if (x < 0 || y < 0 || x >= a.w || y >= a.h) continue;
                    const int xi = wide ? (e ? x - 1 : x + 1) : x, yi = wide ? y : (e ? y - 1 : y + 1);
                    worst_seam = GLM_MAX(worst_seam, px_diff(a.rgb + 3 * ((size_t)y * a.w + x), a.rgb + 3 * ((size_t)yi * a.w + xi)));
                }
            }
        } else if (a.w == a.h && a.w != S) {
            const int T = a.w;
            T < S ? shrunk++ : grown++;
            for (int j = 0; j < s.n_objects; j++) {
                const SceneBox *b = &s.objects[j].box, *m = &a.boxes[j];
                const int x0 = b->x0 * T / S, y0 = b->y0 * T / S, x1 = (b->x1 * T + S - 1) / S, y1 = (b->y1 * T + S - 1) / S;
                if (m->x0 != x0 || m->x1 != x1 || m->y0 != y0 || m->y1 != y1)
                    test_failed(__FILE__, __LINE__, "scene %d object %d at %d px: box %d %d %d %d, want %d %d %d %d", i, j,
                                T, m->x0, m->y0, m->x1, m->y1, x0, y0, x1, y1);
            }
            if (T < S) {
                Image in, out;
                REQUIRE(image_init(&in, S, S, &err) == GLM_OK);
                for (int k = 0; k < S * S * 3; k++) in.data[k] = s.rgb[k] / 255.0f;
                REQUIRE(image_resize(&out, &in, T, T, &err) == GLM_OK);
                for (int k = 0; k < T * T * 3; k++)
                    worst_shrink = GLM_MAX(worst_shrink, abs((int)lroundf(out.data[k] * 255.0f) - a.rgb[k]));
                image_free(&in);
                image_free(&out);
            }
        }
    }
    printf("  %d extended (worst step across a seam %d levels), %d shrunk (worst %d levels from image_resize), %d grown\n",
           extended, worst_seam, shrunk, worst_shrink, grown);
    CHECK(extended >= 15 && shrunk >= 5 && grown >= 5);
    CHECK(worst_seam <= 24);
    CHECK(worst_shrink <= 1);
    scene_canvas_free(&a);
    scene_free(&s);
}

/* ---- written data sets ----------------------------------------------- */

/* How far a pixel is from grey: the backgrounds are grey or tinted (each
 * channel +-28 at most, so up to 62 with grain), the six shape colours are
 * 120..208. */
static float chroma(const float *p)
{
    const float hi = fmaxf(p[0], fmaxf(p[1], p[2])), lo = fminf(p[0], fminf(p[1], p[2]));
    return 255.0f * (hi - lo);
}
#define OBJECT_CHROMA 95.0f

/* Loads a written picture and pads it to a square as the extractor does
 * (image_border_colour, image_pad_square): *ox, *oy the picture's place. */
static int load_padded(Image *sq, int *w, int *h, int *ox, int *oy, const char *dir, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/images/%s", dir, name);
    Image img;
    GlmError err = {0};
    if (image_load(&img, path, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    float bg[3];
    image_border_colour(bg, &img);
    const int rc = image_pad_square(sq, &img, bg, ox, oy, &err);
    *w = img.w, *h = img.h;
    image_free(&img);
    return rc == GLM_OK;
}

/* Shape scenes with the canvas on and no degradation: padded to a square
 * as the extractor pads them, every strongly coloured pixel lies inside
 * some object's box (moved by the padding's offset), every box is at
 * least a fifth such pixels, and the coloured pixels reach within two
 * pixels (times the picture's scale) of every side of their box. */
TEST(scene_canvas_boxes_hold_the_objects_once_padded)
{
    char dir[512];
    REQUIRE(gen(tpath(dir, sizeof dir, "canvas-boxes"), SCENE_KIND_SHAPES, 60, 9, 1, 0, 1) == GLM_OK);
    DatasetObjects set;
    GlmError err = {0};
    REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
    int non_square = 0, stray = 0, thin = 0, loose = 0, objects = 0;
    for (int im = 0; im < set.n_images; im++) {
        Image sq;
        int w, h, ox, oy, n;
        REQUIRE(load_padded(&sq, &w, &h, &ox, &oy, dir, set.images[im].name));
        non_square += w != h;
        const SceneObject *objs = dataset_objects_find(&set, set.images[im].name, &n);
        REQUIRE(objs && n >= 1);
        const int side = sq.w;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                if (chroma(sq.data + 3 * ((size_t)y * side + x)) < OBJECT_CHROMA) continue;
                int in = 0;
                for (int j = 0; j < n; j++) {
                    const SceneBox *b = &objs[j].box;
                    in |= x >= b->x0 + ox && x < b->x1 + ox && y >= b->y0 + oy && y < b->y1 + oy;
                }
                if (!in && stray++ < 5)
                    test_failed(__FILE__, __LINE__, "%s (%dx%d): coloured pixel %d,%d of the padded square is in no box",
                                set.images[im].name, w, h, x, y);
            }
        const int reach = 2 * (int)ceil(GLM_MIN(w, h) / 64.0) + 1;
        for (int j = 0; j < n; j++, objects++) {
            const SceneBox *b = &objs[j].box;
            int cnt = 0, x0 = side, y0 = side, x1 = -1, y1 = -1;
            for (int y = b->y0 + oy; y < b->y1 + oy; y++)
                for (int x = b->x0 + ox; x < b->x1 + ox; x++)
                    if (chroma(sq.data + 3 * ((size_t)y * side + x)) >= OBJECT_CHROMA) {
                        cnt++;
                        x0 = GLM_MIN(x0, x), y0 = GLM_MIN(y0, y), x1 = GLM_MAX(x1, x + 1), y1 = GLM_MAX(y1, y + 1);
                    }
            const int area = (b->x1 - b->x0) * (b->y1 - b->y0);
            if (5 * cnt < area) {
                thin++;
                test_failed(__FILE__, __LINE__, "%s object %d (%s): %d of %d box pixels coloured", set.images[im].name, j,
                            objs[j].words, cnt, area);
            } else if (x0 - (b->x0 + ox) > reach || (b->x1 + ox) - x1 > reach || y0 - (b->y0 + oy) > reach ||
                       (b->y1 + oy) - y1 > reach) {
                loose++;
                test_failed(__FILE__, __LINE__, "%s object %d: coloured %d %d %d %d in box %d %d %d %d (padded)",
                            set.images[im].name, j, x0, y0, x1, y1, b->x0 + ox, b->y0 + oy, b->x1 + ox, b->y1 + oy);
            }
        }
        image_free(&sq);
    }
    printf("  %d of %d pictures non-square; %d objects: %d stray pixels, %d thin, %d loose boxes\n", non_square,
           set.n_images, objects, stray, thin, loose);
    CHECK(non_square >= 10);
    CHECK_EQ_INT(stray, 0);
    dataset_objects_free(&set);
}

/* Grounding on non-square pictures: each picture is brought to the model's
 * input as the extractor brings it (padded with its border colour, then
 * resized; a grid of 8-px cells); an object's pixels are found there by
 * their colour. A region
 * whose cell the object's pixel box covers by half or more must count as
 * grounded by eval_grounded (which works in the picture's pixels, from
 * objects.tsv's box), one it covers by less than a seventh (grown by 2 px
 * for the anti-aliased rims) must not. A
 * grounding that stretched the picture, or forgot the padding's offset,
 * fails this. */
TEST(scene_canvas_grounding_maps_boxes_of_non_square_pictures)
{
    char dir[512];
    REQUIRE(gen(tpath(dir, sizeof dir, "canvas-ground"), SCENE_KIND_SHAPES, 80, 13, 1, 0, 1) == GLM_OK);
    DatasetObjects set;
    GlmError err = {0};
    REQUIRE(dataset_objects_load(&set, dir, &err) == GLM_OK);
    /* the default extractor, on a finer grid (8-px cells instead of 16)
     * so that the objects, shrunk by the padding, still cover whole cells */
    FeatConfig fc = features_default_config();
    fc.grid = 8, fc.window = 12, fc.stride = 8;
    REQUIRE(fc.keep_aspect == 1 && features_check_config(&fc, &err) == GLM_OK);
    const int I = fc.input, L = features_regions(&fc);
    int yes = 0, no = 0, pictures = 0;
    for (int im = 0; im < set.n_images; im++) {
        Image sq, in;
        int w, h, ox, oy, n;
        REQUIRE(load_padded(&sq, &w, &h, &ox, &oy, dir, set.images[im].name));
        const SceneObject *objs = dataset_objects_find(&set, set.images[im].name, &n);
        REQUIRE(objs);
        if (w == h) {
            image_free(&sq);
            continue;
        }
        pictures++;
        REQUIRE(image_resize(&in, &sq, I, I, &err) == GLM_OK);
        for (int j = 0; j < n; j++) {
            char colour[16];
            uint8_t want[3];
            REQUIRE(sscanf(objs[j].words, "%*s %15s", colour) == 1 && scene_colour_rgb(want, colour));
            int shared = 0;
            for (int k = 0; k < n; k++) shared |= k != j && strstr(objs[k].words, colour) != NULL;
            if (shared) continue;   /* tell objects apart by colour alone */
            int x0 = I, y0 = I, x1 = -1, y1 = -1;
            for (int y = 0; y < I; y++)
                for (int x = 0; x < I; x++) {
                    const float *p = in.data + 3 * ((size_t)y * I + x);
                    int d = 0;
                    for (int c = 0; c < 3; c++) d = GLM_MAX(d, abs((int)lroundf(p[c] * 255.0f) - want[c]));
                    if (d > 30) continue;
                    x0 = GLM_MIN(x0, x), y0 = GLM_MIN(y0, y), x1 = GLM_MAX(x1, x + 1), y1 = GLM_MAX(y1, y + 1);
                }
            if (x1 < 0) continue;   /* too small to keep its colour at the input */
            for (int r = 0; r < L; r++) {
                int cx0, cy0, cx1, cy1;
                features_region_cell(&fc, r / fc.grid, r % fc.grid, &cx0, &cy0, &cx1, &cy1);
                /* frac: of the cell under the coloured pixels' box, which the
                 * anti-aliased rims (a triangle's apex) may fall outside;
                 * near: under that box grown by 2 px, which holds them */
                const double cell = (double)(cx1 - cx0) * (cy1 - cy0);
                const int ow = GLM_MIN(cx1, x1) - GLM_MAX(cx0, x0), oh = GLM_MIN(cy1, y1) - GLM_MAX(cy0, y0);
                const int nw = GLM_MIN(cx1, x1 + 2) - GLM_MAX(cx0, x0 - 2), nh = GLM_MIN(cy1, y1 + 2) - GLM_MAX(cy0, y0 - 2);
                const double frac = ow > 0 && oh > 0 ? ow * oh / cell : 0, near = nw > 0 && nh > 0 ? nw * nh / cell : 0;
                const int g = eval_grounded(&fc, r, w, h, &objs[j].box);
                if (frac >= 0.5) {
                    yes++;
                    if (!g)
                        test_failed(__FILE__, __LINE__, "%s (%dx%d) %s: region %d holds %.2f of its cell, not grounded",
                                    set.images[im].name, w, h, objs[j].words, r, frac);
                } else if (near < 1.0 / 7) {
                    no++;
                    if (g)
                        test_failed(__FILE__, __LINE__, "%s (%dx%d) %s: region %d holds %.2f of its cell, grounded",
                                    set.images[im].name, w, h, objs[j].words, r, near);
                }
            }
        }
        image_free(&in);
        image_free(&sq);
    }
    printf("  %d non-square pictures: %d regions must ground, %d must not\n", pictures, yes, no);
    CHECK(pictures >= 15 && yes >= 10 && no >= 100);
    dataset_objects_free(&set);
}

static char *slurp_rel(const char *dir, const char *name, size_t *len)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return test_slurp(p, len);
}

/* objects.tsv without its boxes: name, id and words of every line. */
static char *objects_without_boxes(const char *dir)
{
    size_t len;
    char *s = slurp_rel(dir, "objects.tsv", &len);
    if (!s) return NULL;
    char *out = malloc(len + 1), *o = out;
    int tabs = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') tabs = 0;
        else if (s[i] == '\t' && ++tabs == 3) continue;
        if (tabs < 3) *o++ = s[i];
    }
    *o = 0;
    free(s);
    return out;
}

/* The canvas on or off: the same captions, splits, sources and objects
 * (name, id, words); info.txt says which. */
TEST(scene_canvas_words_and_captions_same_on_and_off)
{
    for (int k = 0; k < 2; k++) {
        const SceneKind kind = k ? SCENE_KIND_FASHION : SCENE_KIND_SHAPES;
        char on[512], off[512], name[64];
        snprintf(name, sizeof name, "canvas-on-%d", k);
        REQUIRE(gen(tpath(on, sizeof on, name), kind, 30, 23, 1, 1, 1) == GLM_OK);
        snprintf(name, sizeof name, "canvas-off-%d", k);
        REQUIRE(gen(tpath(off, sizeof off, name), kind, 30, 23, 1, 1, 0) == GLM_OK);
        static const char *const same[] = {"captions.tsv", "train.txt", "val.txt", "test.txt", "sources.tsv"};
        for (int i = 0; i < (k ? 5 : 4); i++)
            CHECK_EQ_INT(test_run("cmp -s '%s/%s' '%s/%s'", on, same[i], off, same[i]), 0);
        char *a = objects_without_boxes(on), *b = objects_without_boxes(off);
        REQUIRE(a && b);
        CHECK(strlen(a) > 100 && !strcmp(a, b));
        free(a);
        free(b);
        CHECK_EQ_INT(test_run("cmp -s '%s/objects.tsv' '%s/objects.tsv'", on, off), 1);   /* the boxes moved */
        char *ion = slurp_rel(on, "info.txt", NULL), *ioff = slurp_rel(off, "info.txt", NULL);
        REQUIRE(ion && ioff);
        CHECK_STR_CONTAINS(ion, "canvas 1\n");
        CHECK(strstr(ioff, "canvas") == NULL);
        CHECK(strlen(ion) == strlen(ioff) + strlen("canvas 1\n") && !strncmp(ion, ioff, strlen(ioff)));
        free(ion);
        free(ioff);
    }
}

/* FNV-1a 64 over the decoded RGB of every picture (in name order), then
 * objects.tsv and captions.tsv: the same value for the same pixels and
 * text, whatever zlib made of the PNGs. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t dataset_hash(const char *dir, const char *prefix, int count)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < count; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/images/%s_%06d.png", dir, prefix, i);
        int w, hh, ch;
        uint8_t *px = stbi_load(path, &w, &hh, &ch, 3);
        if (!px) {
            test_failed(__FILE__, __LINE__, "%s: cannot decode", path);
            return 0;
        }
        h = fnv(h, px, (size_t)w * hh * 3);
        stbi_image_free(px);
    }
    static const char *const text[2] = {"objects.tsv", "captions.tsv"};
    for (int t = 0; t < 2; t++) {
        size_t len;
        char *s = slurp_rel(dir, text[t], &len);
        if (!s) return 0;
        h = fnv(h, s, len);
        free(s);
    }
    return h;
}

/* --canvas 0, and --vary 0 with the canvas on or off, write what glimpse
 * wrote before the canvas step: the hashes are of 20 scenes (seed 31)
 * written by main at c26956d, computed there independently (ImageMagick's
 * `convert X.png -depth 8 rgb:-` and a Python FNV-1a). */
TEST(scene_canvas_off_writes_the_old_bytes)
{
    static const struct {
        SceneKind kind;
        int vary, canvas;
        uint64_t hash;
    } cases[] = {
        {SCENE_KIND_SHAPES, 1, 0, 0x0aad2a8cda4e07fbull},  {SCENE_KIND_SHAPES, 0, 1, 0x6f2ec8c44e7916abull},
        {SCENE_KIND_SHAPES, 0, 0, 0x6f2ec8c44e7916abull},  {SCENE_KIND_FASHION, 1, 0, 0xce45c7ad84e31af7ull},
        {SCENE_KIND_FASHION, 0, 1, 0xd6391f865035b78bull},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[512], name[64];
        snprintf(name, sizeof name, "canvas-old-%zu", i);
        REQUIRE(gen(tpath(dir, sizeof dir, name), cases[i].kind, 20, 31, cases[i].vary, 1, cases[i].canvas) == GLM_OK);
        const uint64_t h = dataset_hash(dir, cases[i].kind == SCENE_KIND_FASHION ? "fashion" : "shapes", 20);
        if (h != cases[i].hash)
            test_failed(__FILE__, __LINE__, "case %zu (vary %d canvas %d): hash %016llx, main wrote %016llx", i,
                        cases[i].vary, cases[i].canvas, (unsigned long long)h, (unsigned long long)cases[i].hash);
    }
    /* and the canvas on does change the pictures */
    char dir[512];
    REQUIRE(gen(tpath(dir, sizeof dir, "canvas-new"), SCENE_KIND_SHAPES, 20, 31, 1, 1, 1) == GLM_OK);
    CHECK(dataset_hash(dir, "shapes", 20) != cases[0].hash);
}

TEST(scene_canvas_cli_documents_and_checks_the_option)
{
    char p[512];
    CHECK_EQ_INT(test_run("'%s' data --help", test_glimpse_bin()), 0);
    char *out = test_slurp(tpath(p, sizeof p, "last.out"), NULL);
    CHECK_STR_CONTAINS(out, "--canvas 0|1");
    CHECK_STR_CONTAINS(out, "--size square (default 1)");
    free(out);
    char bin[4096];
    REQUIRE(realpath(test_glimpse_bin(), bin));
    CHECK_EQ_INT(test_run("cd '%s' && '%s' data shapes --out cx --canvas 2", test_tmpdir(), bin), 2);
    char *e = test_slurp(tpath(p, sizeof p, "last.err"), NULL);
    CHECK_STR_CONTAINS(e, "--canvas");
    free(e);
    CHECK(test_run("test -e '%s/cx'", test_tmpdir()) != 0);
}
