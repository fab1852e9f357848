/* scene_draw.c - lays out and draws the shape and fashion scenes
 * (scene_draw.h): the colours' pixel values, the layout rules, the textured
 * background, anti-aliased shapes, photos as ink.
 *
 * Reads top to bottom: colours, layout, canvas, background and shapes,
 * shape scenes, fashion scenes.
 *
 * Not here: the words and captions (scenes.c), files of any kind
 * (scene_dataset.c writes them, idx.c reads the photos).
 */
#include "scene_draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== */
/* Colours                                                                */
/* ===================================================================== */

/* The drawing colour of each colour word, in scene_colour_word order. Chosen
 * so that a coarse histogram (4 levels per channel) puts each in its own
 * bin, also after the +-6 jitter: R,G,B sit near bin centres. */
static const uint8_t colour_rgb[SCENE_N_COLOURS][3] = {
    {220, 36, 36},   /* red    bins (3,0,0) */
    {40, 160, 60},   /* green  bins (0,2,0) */
    {40, 96, 220},   /* blue   bins (0,1,3) */
    {236, 212, 40},  /* yellow bins (3,3,0) */
    {156, 48, 170},  /* purple bins (2,0,2) */
    {240, 150, 32},  /* orange bins (3,2,0) */
};

int scene_colour_rgb(uint8_t rgb[3], const char *word)
{
    for (int i = 0; i < SCENE_N_COLOURS; i++) {
        if (!strcmp(word, scene_colour_word(i))) {
            memcpy(rgb, colour_rgb[i], 3);
            return 1;
        }
    }
    return 0;
}

/* ===================================================================== */
/* Layout                                                                 */
/* ===================================================================== */

/* A pair is "clear" when its centres are not near a diagonal of each other:
 * | |dx| - |dy| | >= margin (in pixels, compared on doubled centres). */
static int pair_clear(const SceneBox *a, const SceneBox *b, int margin)
{
    long dx = labs((long)(b->x0 + b->x1) - (a->x0 + a->x1));
    long dy = labs((long)(b->y0 + b->y1) - (a->y0 + a->y1));
    return labs(dx - dy) >= 2L * margin;
}

static int boxes_apart(const SceneBox *a, const SceneBox *b, int gap)
{
    return a->x1 + gap <= b->x0 || b->x1 + gap <= a->x0 || a->y1 + gap <= b->y0 ||
           b->y1 + gap <= a->y0;
}

/* Margin from the diagonal, as a fraction of the canvas: 0.08 is 5 px at
 * 64 px, about 6 degrees either side of a diagonal at typical distances. */
#define DIAG_MARGIN_FRAC 0.08
#define PLACE_TRIES 200

static int diag_margin(int S) { return GLM_MAX(2, (int)lround(DIAG_MARGIN_FRAC * S)); }

static int layout_clear(const SceneObject *objs, int n, int margin)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (!pair_clear(&objs[i].box, &objs[j].box, margin)) return 0;
    return 1;
}

/* ===================================================================== */
/* Canvas, background, shapes                                             */
/* ===================================================================== */

int scene_init(Scene *s, int size, GlmError *err)
{
    memset(s, 0, sizeof *s);
    if (size < 8 || size > SCENE_MAX_SIZE)
        return glm_fail(err, GLM_EINPUT, "scene size %d is not 8..%d", size, SCENE_MAX_SIZE);
    s->rgb = glm_malloc_array((size_t)size * size, 3);
    if (!s->rgb) return glm_fail(err, GLM_ENOMEM, "out of memory for a %dx%d scene", size, size);
    s->size = size;
    return GLM_OK;
}

void scene_free(Scene *s)
{
    if (!s) return;
    free(s->rgb);
    memset(s, 0, sizeof *s);
}

static uint8_t clamp_u8(float v)
{
    return (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : v + 0.5f);
}

/* Pale background (grey 224..238, each channel tinted by up to +-4), a smooth
 * low-frequency swell (+-6 grey levels) and per-pixel grey grain (+-3
 * levels): enough texture that "background" is not a single colour, far too
 * little to look like an object. The grain is grey (the same on R, G, B)
 * because colour grain made the PNGs 50% bigger and slower to compress. */
#define BG_LATTICE 5

/* vary = 1 (scene_draw.h): half the backgrounds pale (grey 200..245), a
 * quarter dark (15..70), a quarter tinted (any grey 40..230, each channel
 * moved up to +-28); four in ten then get a linear ramp of up to +-40
 * levels in a random direction. Returns the mean grey of the base, which
 * decides the polarity of fashion items. */
static float draw_background(uint8_t *rgb /* (S, S, 3) */, int S, Rng *r, int vary)
{
    float base[3];
    float grey = 224.0f + 14.0f * rng_uniform(r);
    float tint = 4.0f, ramp_x = 0, ramp_y = 0;
    if (vary) {
        const uint32_t kind = rng_below(r, 4);
        grey = kind < 2 ? 200.0f + 45.0f * rng_uniform(r) : kind == 2 ? 15.0f + 55.0f * rng_uniform(r)
                                                                      : 40.0f + 190.0f * rng_uniform(r);
        tint = kind == 3 ? 28.0f : 4.0f;
        if (rng_uniform(r) < 0.4f) {
            const float angle = 6.2831853f * rng_uniform(r), amp = 10.0f + 30.0f * rng_uniform(r);
            ramp_x = amp * cosf(angle) / (float)S, ramp_y = amp * sinf(angle) / (float)S;
        }
    }
    for (int c = 0; c < 3; c++) base[c] = grey - tint + 2.0f * tint * rng_uniform(r);
    float lat[BG_LATTICE][BG_LATTICE];
    for (int i = 0; i < BG_LATTICE; i++)
        for (int j = 0; j < BG_LATTICE; j++) lat[i][j] = -6.0f + 12.0f * rng_uniform(r);
    float step = (float)(S - 1) / (BG_LATTICE - 1);
    uint32_t bits = 0;
    for (int y = 0; y < S; y++) {
        float gy = y / step;
        int iy = GLM_MIN((int)gy, BG_LATTICE - 2);
        float fy = gy - iy;
        for (int x = 0; x < S; x++) {
            float gx = x / step;
            int ix = GLM_MIN((int)gx, BG_LATTICE - 2);
            float fx = gx - ix;
            float swell = (1 - fy) * ((1 - fx) * lat[iy][ix] + fx * lat[iy][ix + 1]) +
                          fy * ((1 - fx) * lat[iy + 1][ix] + fx * lat[iy + 1][ix + 1]);
            int k = (y * S + x) & 3;   /* one 32-bit draw gives the grain of 4 pixels */
            if (k == 0) bits = rng_u32(r);
            int grain = (int)(((bits >> (8 * k)) & 0xffu) * 7u >> 8) - 3;
            uint8_t *px = rgb + ((size_t)y * S + x) * 3;
            const float ramp = ramp_x * (float)(2 * x - S) + ramp_y * (float)(2 * y - S);
            for (int c = 0; c < 3; c++) px[c] = clamp_u8(base[c] + swell + (float)grain + ramp);
        }
    }
    return grey;
}

/* Is the point (u, v), relative to the shape's top-left corner, inside a
 * shape of side s? */
static int shape_inside(int shape, float u, float v, float s)
{
    float h = 0.5f * s;
    switch (shape) {
    case SCENE_SHAPE_CIRCLE: return (u - h) * (u - h) + (v - h) * (v - h) <= h * h;
    case SCENE_SHAPE_SQUARE: return u >= 0 && u < s && v >= 0 && v < s;
    case SCENE_SHAPE_TRIANGLE: /* apex at the top centre, base along the bottom */
        return v >= 0 && v <= s && fabsf(u - h) <= 0.5f * v;
    case SCENE_SHAPE_CROSS: { /* a plus sign with arms a third of the side thick */
        float w = s / 6.0f;
        int in_box = u >= 0 && u <= s && v >= 0 && v <= s;
        return in_box && (fabsf(u - h) <= w || fabsf(v - h) <= w);
    }
    default: GLM_ASSERT(0); return 0;
    }
}

/* Anti-aliased: coverage from 3x3 samples per pixel blends the colour over
 * the background, so edges are soft and position is truly continuous. */
#define AA 3
static void draw_shape(uint8_t *rgb /* (S, S, 3) */, int S, int shape, float fx, float fy, float s,
                       const float col[3], const SceneBox *box)
{
    for (int y = box->y0; y < box->y1; y++) {
        for (int x = box->x0; x < box->x1; x++) {
            int hits = 0;
            for (int sy = 0; sy < AA; sy++)
                for (int sx = 0; sx < AA; sx++)
                    hits += shape_inside(shape, x + (sx + 0.5f) / AA - fx, y + (sy + 0.5f) / AA - fy, s);
            if (!hits) continue;
            float a = (float)hits / (AA * AA);
            uint8_t *px = rgb + ((size_t)y * S + x) * 3;
            for (int c = 0; c < 3; c++) px[c] = clamp_u8(px[c] + a * (col[c] - px[c]));
        }
    }
}

/* ===================================================================== */
/* Shape scenes                                                           */
/* ===================================================================== */

int scene_make_shapes(Scene *s, Rng *r, GlmError *err)
{
    int S = s->size;
    GLM_ASSERT(s->rgb && S >= 8);
    /* Sides scale with the canvas: 12 and 20 px at 64 px. */
    float side[SCENE_N_SIZES] = {12.0f * S / 64.0f, 20.0f * S / 64.0f};
    float pad = S / 32.0f;
    int gap = GLM_MAX(1, S / 32);
    int margin = diag_margin(S);
    struct { int shape, colour, size; float fx, fy, side; } spec[3];
    /* The object count is drawn once, outside the retry loop, so rejected
     * layouts (more likely with 3 objects) do not skew the counts. */
    int n = 1 + (int)rng_below(r, 3);
    for (int attempt = 0;; attempt++) {
        if (attempt == PLACE_TRIES)
            return glm_fail(err, GLM_EINPUT, "shape scene: no layout found on a %dx%d canvas", S, S);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int dup;
            do {   /* distinct size+colour+shape, so every object has its own words */
                spec[i].shape = (int)rng_below(r, SCENE_N_SHAPES);
                spec[i].colour = (int)rng_below(r, SCENE_N_COLOURS);
                spec[i].size = (int)rng_below(r, SCENE_N_SIZES);
                dup = 0;
                for (int j = 0; j < i; j++)
                    dup |= spec[j].shape == spec[i].shape && spec[j].colour == spec[i].colour &&
                           spec[j].size == spec[i].size;
            } while (dup);
            /* varied scenes: the side anywhere within +-15% of its class */
            float sd = side[spec[i].size] * (s->vary ? 0.85f + 0.3f * rng_uniform(r) : 1.0f);
            spec[i].side = sd;
            int placed = 0;
            for (int t = 0; t < 50 && !placed; t++) {
                float fx = pad + rng_uniform(r) * (S - 2 * pad - sd);
                float fy = pad + rng_uniform(r) * (S - 2 * pad - sd);
                SceneBox b = {(int)floorf(fx), (int)floorf(fy), (int)ceilf(fx + sd), (int)ceilf(fy + sd)};
                b.x1 = GLM_MIN(b.x1, S);
                b.y1 = GLM_MIN(b.y1, S);
                placed = 1;
                for (int j = 0; j < i; j++) placed &= boxes_apart(&b, &s->objects[j].box, gap);
                if (placed) {
                    spec[i].fx = fx;
                    spec[i].fy = fy;
                    s->objects[i].box = b;
                    snprintf(s->objects[i].words, SCENE_WORDS_LEN, "%s %s %s", scene_size_word(spec[i].size),
                             scene_colour_word(spec[i].colour), scene_shape_word(spec[i].shape));
                }
            }
            ok = placed;
        }
        if (!ok || !layout_clear(s->objects, n, margin)) continue;
        s->n_objects = n;
        break;
    }
    draw_background(s->rgb, S, r, s->vary);
    for (int i = 0; i < s->n_objects; i++) {
        float col[3];
        for (int c = 0; c < 3; c++)
            col[c] = colour_rgb[spec[i].colour][c] + (float)((int)rng_below(r, 13) - 6);
        draw_shape(s->rgb, S, spec[i].shape, spec[i].fx, spec[i].fy, spec[i].side, col, &s->objects[i].box);
        s->source[i] = -1;
        s->label[i] = -1;
    }
    return scene_captions(s->captions, s->objects, s->n_objects, err);
}

/* ===================================================================== */
/* Fashion scenes                                                         */
/* ===================================================================== */

/* A photo pixel counts as item (for the tight box) from this grey level on;
 * Fashion-MNIST backgrounds are 0 with faint specks below it. */
#define FASHION_INK_MIN 32
/* The darkest the item gets: a photo value of 255 maps to this grey. */
#define FASHION_INK 24.0f


/* Varied scenes draw each item at a side of q pixels, q/28 in
 * [FASHION_SCALE_LO, FASHION_SCALE_HI]: a user's photo is not always 28 px
 * on a 96-px canvas, and the out-of-generator canvases (90-128 px) make the
 * item 21-30 px once brought to the model's input. */
#define FASHION_SCALE_LO 0.75f
#define FASHION_SCALE_HI 1.3f

/* The photo's grey level (0..255) at pixel (x, y) of the item drawn q x q:
 * bilinear between the photo's pixel centres, the photo's own byte when q
 * is its side. */
static float photo_level(const uint8_t *ph /* (28, 28) */, int q, int x, int y)
{
    const int P = FASHION_SIDE;
    if (q == P) return (float)ph[y * P + x];
    const float u = ((float)x + 0.5f) * (float)P / (float)q - 0.5f, v = ((float)y + 0.5f) * (float)P / (float)q - 0.5f;
    const int x0 = (int)floorf(u), y0 = (int)floorf(v);
    const float fx = u - (float)x0, fy = v - (float)y0;
    const int xa = GLM_MAX(0, x0), xb = GLM_MIN(P - 1, x0 + 1), ya = GLM_MAX(0, y0), yb = GLM_MIN(P - 1, y0 + 1);
    const float top = (1 - fx) * ph[ya * P + xa] + fx * ph[ya * P + xb];
    const float bot = (1 - fx) * ph[yb * P + xa] + fx * ph[yb * P + xb];
    return (1 - fy) * top + fy * bot;
}

/* The tight box of the item drawn q x q, in its own coordinates: the
 * pixels of level >= FASHION_INK_MIN (the whole square if none is). */
static SceneBox item_tight_box(const uint8_t *ph, int q)
{
    SceneBox t = {q, q, 0, 0};
    for (int y = 0; y < q; y++)
        for (int x = 0; x < q; x++)
            if (photo_level(ph, q, x, y) >= (float)FASHION_INK_MIN) {
                t.x0 = GLM_MIN(t.x0, x);
                t.y0 = GLM_MIN(t.y0, y);
                t.x1 = GLM_MAX(t.x1, x + 1);
                t.y1 = GLM_MAX(t.y1, y + 1);
            }
    if (t.x1 == 0) t = (SceneBox){0, 0, q, q};
    return t;
}

int scene_make_fashion(Scene *s, Rng *r, const FashionSet *fs, int lo, int hi, GlmError *err)
{
    const int S = s->size, P = FASHION_SIDE;
    GLM_ASSERT(s->rgb);
    if (fs->images.rows != P || fs->images.cols != P || lo < 0 || hi > fs->images.count ||
        hi - lo < 1)
        return glm_fail(err, GLM_EINPUT, "fashion scene: photo range [%d, %d) of %d photos", lo,
                        hi, fs->images.count);
    if (S < SCENE_FASHION_MIN_SIZE)
        return glm_fail(err, GLM_EINPUT, "fashion scene: canvas %d is below %d", S,
                        SCENE_FASHION_MIN_SIZE);
    /* Distinct classes need that many classes in the range; a real split has
     * all ten, a tiny test file might not. */
    int present = 0, seen[FASHION_CLASSES] = {0};
    for (int i = lo; i < hi; i++) seen[fs->labels.labels[i]] = 1;
    for (int c = 0; c < FASHION_CLASSES; c++) present += seen[c];
    if (present < 3)
        return glm_fail(err, GLM_EINPUT, "fashion scene: photos [%d, %d) hold only %d classes, need 3",
                        lo, hi, present);
    int pad = GLM_MAX(1, S / 48), gap = GLM_MAX(1, S / 48);
    int margin = diag_margin(S);
    int px[3], py[3], side[3];
    SceneBox sq[3];
    /* drawn once, as for shapes; varied scenes hold 1-3 items, as a
     * user's picture may (the pale ones keep version 3's 2-3) */
    int n = s->vary ? 1 + (int)rng_below(r, 3) : 2 + (int)rng_below(r, 2);
    for (int attempt = 0;; attempt++) {
        if (attempt == PLACE_TRIES)
            return glm_fail(err, GLM_EINPUT, "fashion scene: no layout found on a %dx%d canvas", S, S);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int dup, idx;
            do {   /* distinct classes, so every item has its own word */
                idx = lo + (int)rng_below(r, (uint32_t)(hi - lo));
                dup = 0;
                for (int j = 0; j < i; j++) dup |= s->label[j] == fs->labels.labels[idx];
            } while (dup);
            s->source[i] = idx;
            s->label[i] = fs->labels.labels[idx];
            const int q = side[i] = s->vary ? (int)lroundf((float)P * (FASHION_SCALE_LO + (FASHION_SCALE_HI - FASHION_SCALE_LO) *
                                                                                          rng_uniform(r)))
                                            : P;
            ok = 0;
            for (int t = 0; t < 50 && !ok; t++) {
                int x = pad + (int)rng_below(r, (uint32_t)(S - 2 * pad - q + 1));
                int y = pad + (int)rng_below(r, (uint32_t)(S - 2 * pad - q + 1));
                sq[i] = (SceneBox){x, y, x + q, y + q};
                ok = 1;
                for (int j = 0; j < i; j++) ok &= boxes_apart(&sq[i], &sq[j], gap);
                px[i] = x;
                py[i] = y;
            }
            if (!ok) break;
            SceneBox t = item_tight_box(fs->images.pixels + (size_t)idx * P * P, q);
            s->objects[i].box = (SceneBox){px[i] + t.x0, py[i] + t.y0, px[i] + t.x1, py[i] + t.y1};
            snprintf(s->objects[i].words, SCENE_WORDS_LEN, "%s", scene_fashion_name(s->label[i]));
        }
        if (!ok || !layout_clear(s->objects, n, margin)) continue;
        s->n_objects = n;
        break;
    }
    const float bg = draw_background(s->rgb, S, r, s->vary);
    /* The photo value (item bright on black) is used as ink coverage, so 0
     * leaves the background and 255 gives the ink; every grey level of the
     * photo survives. Dark ink on a light background, light ink on a dark
     * one (varied scenes only have those). */
    const float ink = bg < 128.0f ? 255.0f - FASHION_INK : FASHION_INK;
    for (int i = 0; i < s->n_objects; i++) {
        const uint8_t *ph = fs->images.pixels + (size_t)s->source[i] * P * P;
        const int q = side[i];
        for (int y = 0; y < q; y++) {
            for (int x = 0; x < q; x++) {
                float a = photo_level(ph, q, x, y) / 255.0f;
                uint8_t *o = s->rgb + ((size_t)(py[i] + y) * S + px[i] + x) * 3;
                for (int c = 0; c < 3; c++) o[c] = clamp_u8(o[c] + a * (ink - o[c]));
            }
        }
    }
    return scene_captions(s->captions, s->objects, s->n_objects, err);
}
