/* scene_canvas.c - a scene's square canvas extended to another aspect
 * ratio and resampled to another size, its boxes mapped with it: see
 * scene_canvas.h.
 *
 * Reads top to bottom: buffers, the background plane and the extension,
 * the area resampler, the step itself.
 */
#include "scene_canvas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== */
/* Buffers                                                                */
/* ===================================================================== */

void scene_canvas_bounds(int size, int *longer, int *shorter)
{
    *longer = 4 * size;
    *shorter = 2 * size;
}

int scene_canvas_init(SceneCanvas *c, int size, GlmError *err)
{
    memset(c, 0, sizeof *c);
    if (size < 8 || size > SCENE_MAX_SIZE)
        return glm_fail(err, GLM_EINPUT, "canvas: scene size %d is not 8..%d", size, SCENE_MAX_SIZE);
    int longer, shorter;
    scene_canvas_bounds(size, &longer, &shorter);
    c->rgb = glm_malloc_array((size_t)longer * shorter, 3);
    c->wide = glm_malloc_array((size_t)2 * size * size, 3);
    c->row = glm_malloc_array((size_t)longer * 3, sizeof(uint32_t));
    c->acc = glm_malloc_array((size_t)longer * 3, sizeof(uint64_t));
    if (!c->rgb || !c->wide || !c->row || !c->acc) {
        scene_canvas_free(c);
        return glm_fail(err, GLM_ENOMEM, "out of memory for the canvas of a %dx%d scene", size, size);
    }
    c->size = size;
    return GLM_OK;
}

void scene_canvas_free(SceneCanvas *c)
{
    if (!c) return;
    free(c->rgb);
    free(c->wide);
    free(c->row);
    free(c->acc);
    memset(c, 0, sizeof *c);
}

/* ===================================================================== */
/* The extension: the background carried on                              */
/* ===================================================================== */

static uint8_t clamp_u8(float v)
{
    return (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : v + 0.5f);
}

/* The plane v(x, y) = m + gx (x - (S-1)/2) + gy (y - (S-1)/2) per channel
 * through the mean colours of the square's four border lines: for a
 * picture that is a plane, the top and bottom lines' means differ by
 * exactly gy (S-1), left and right by gx (S-1), and the four average to
 * the centre's value; the grain and swell average out along a line. The
 * border line is background: every object keeps at least a pixel from it
 * (scene_draw.h). */
typedef struct {
    float m[3], gx[3], gy[3], mid;
} Plane;

static Plane border_plane(const uint8_t *rgb /* (S, S, 3) */, int S)
{
    Plane p;
    p.mid = 0.5f * (float)(S - 1);
    for (int c = 0; c < 3; c++) {
        double top = 0, bottom = 0, left = 0, right = 0;
        for (int i = 0; i < S; i++) {
            top += rgb[3 * (size_t)i + c];
            bottom += rgb[3 * ((size_t)(S - 1) * S + i) + c];
            left += rgb[3 * ((size_t)i * S) + c];
            right += rgb[3 * ((size_t)i * S + S - 1) + c];
        }
        top /= S, bottom /= S, left /= S, right /= S;
        p.m[c] = (float)(0.25 * (top + bottom + left + right));
        p.gx[c] = (float)((right - left) / (S - 1));
        p.gy[c] = (float)((bottom - top) / (S - 1));
    }
    return p;
}

/* dst (H, W, 3): the square src (S, S, 3) at (ox, oy), the rest the
 * border plane at the square's own coordinates plus grey grain -3..3,
 * one 32-bit draw of r for every 4 new pixels (as draw_background). */
static void extend(uint8_t *dst, int W, int H, const uint8_t *src, int S, int ox, int oy, Rng *r)
{
    const Plane p = border_plane(src, S);
    uint32_t bits = 0;
    int k = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t *o = dst + 3 * ((size_t)y * W + x);
            const int u = x - ox, v = y - oy;
            if (u >= 0 && u < S && v >= 0 && v < S) {
                memcpy(o, src + 3 * ((size_t)v * S + u), 3);
                continue;
            }
            if ((k & 3) == 0) bits = rng_u32(r);
            const int grain = (int)(((bits >> (8 * (k & 3))) & 0xffu) * 7u >> 8) - 3;
            k++;
            for (int c = 0; c < 3; c++)
                o[c] = clamp_u8(p.m[c] + p.gx[c] * ((float)u - p.mid) + p.gy[c] * ((float)v - p.mid) + (float)grain);
        }
    }
}

/* ===================================================================== */
/* Area resampling                                                        */
/* ===================================================================== */

/* Along one axis, source pixel i covers [i*dn, (i+1)*dn) and output pixel
 * j covers [j*sn, (j+1)*sn) (sn source, dn output pixels): integers, so
 * the weights (the overlaps) are exact and sum to sn for every j. */
static int overlap(long a0, long a1, long b0, long b1)
{
    const long lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? (int)(hi - lo) : 0;
}

/* dst (dh, dw, 3) from src (sh, sw, 3): each output pixel the mean of the
 * source area it covers, rounded. row and acc hold dw * 3 values. */
static void resample(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh, uint32_t *row,
                     uint64_t *acc)
{
    const uint64_t den = (uint64_t)sw * sh;
    for (int y = 0; y < dh; y++) {
        memset(acc, 0, (size_t)dw * 3 * sizeof *acc);
        const int k0 = (int)((long)y * sh / dh), k1 = (int)(((long)(y + 1) * sh - 1) / dh);
        for (int k = k0; k <= k1; k++) {
            const int wy = overlap((long)y * sh, (long)(y + 1) * sh, (long)k * dh, (long)(k + 1) * dh);
            const uint8_t *in = src + 3 * (size_t)k * sw;
            for (int j = 0; j < dw; j++) {
                const int i0 = (int)((long)j * sw / dw), i1 = (int)(((long)(j + 1) * sw - 1) / dw);
                uint32_t s[3] = {0, 0, 0};
                for (int i = i0; i <= i1; i++) {
                    const uint32_t wx = (uint32_t)overlap((long)j * sw, (long)(j + 1) * sw, (long)i * dw, (long)(i + 1) * dw);
                    for (int c = 0; c < 3; c++) s[c] += wx * in[3 * i + c];
                }
                for (int c = 0; c < 3; c++) row[3 * j + c] = s[c];
            }
            for (int j = 0; j < 3 * dw; j++) acc[j] += (uint64_t)wy * row[j];
        }
        uint8_t *o = dst + 3 * (size_t)y * dw;
        for (int j = 0; j < 3 * dw; j++) o[j] = (uint8_t)((acc[j] + den / 2) / den);
    }
}

/* [x0, x1) of sn pixels as the output pixels of dn that its pixels reach. */
static void map_span(int *x0, int *x1, int sn, int dn)
{
    *x0 = (int)((long)*x0 * dn / sn);
    *x1 = (int)(((long)*x1 * dn + sn - 1) / sn);
}

/* ===================================================================== */
/* The step                                                               */
/* ===================================================================== */

int scene_canvas_apply(SceneCanvas *c, const Scene *s, int min_side, Rng *r, GlmError *err)
{
    const int S = s->size, n = s->n_objects;
    if (!c->rgb || S != c->size || min_side < 1 || min_side > S || n < 0 || n > SCENE_MAX_OBJECTS)
        return glm_fail(err, GLM_EINPUT, "canvas: a %d-px scene (of %d objects) on a canvas for %d px, min side %d",
                        S, n, c->size, min_side);
    /* every draw first, so whether one change happens does not move the
     * draws of the other */
    const int extend_it = rng_uniform(r) < SCENE_CANVAS_EXTEND_P;
    const int rescale_it = rng_uniform(r) < SCENE_CANVAS_RESCALE_P;
    const float ua = rng_uniform(r), uo = rng_uniform(r), us = rng_uniform(r);
    const int portrait = rng_uniform(r) < 0.5f;

    int W = S, H = S, ox = 0, oy = 0;
    if (extend_it) {
        const int L = (int)lroundf((float)S * (SCENE_CANVAS_ASPECT_LO + (SCENE_CANVAS_ASPECT_HI - SCENE_CANVAS_ASPECT_LO) * ua));
        const int off = GLM_MIN(L - S, (int)(uo * (float)(L - S + 1)));
        if (portrait) H = L, oy = off;
        else W = L, ox = off;
    }
    for (int i = 0; i < n; i++) {
        const SceneBox *b = &s->objects[i].box;
        c->boxes[i] = (SceneBox){b->x0 + ox, b->y0 + oy, b->x1 + ox, b->y1 + oy};
    }
    int W2 = W, H2 = H;
    if (rescale_it) {
        /* log-uniform, so halving and doubling are as likely */
        const double lo = GLM_MAX((double)SCENE_CANVAS_SCALE_LO, (double)min_side / S);
        const double f = exp(log(lo) + (double)us * (log((double)SCENE_CANVAS_SCALE_HI) - log(lo)));
        const int side = GLM_MAX(min_side, (int)lround(S * f));   /* the shorter side */
        W2 = W == S ? side : (int)(((long)W * side * 2 + S) / (2L * S));
        H2 = H == S ? side : (int)(((long)H * side * 2 + S) / (2L * S));
        SceneBox scaled[SCENE_MAX_OBJECTS];
        for (int i = 0; i < n; i++) {
            scaled[i] = c->boxes[i];
            map_span(&scaled[i].x0, &scaled[i].x1, W, W2);
            map_span(&scaled[i].y0, &scaled[i].y1, H, H2);
        }
        int same = 1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) same &= scene_relation(&scaled[i], &scaled[j]) == scene_relation(&c->boxes[i], &c->boxes[j]);
        if (same) memcpy(c->boxes, scaled, sizeof(SceneBox) * (size_t)n);
        else W2 = W, H2 = H;   /* rounding would change what the captions say */
    }
    const int scaled = W2 != W || H2 != H;
    int longer, shorter;
    scene_canvas_bounds(S, &longer, &shorter);
    GLM_ASSERT(GLM_MAX(W2, H2) <= longer && GLM_MIN(W2, H2) <= shorter && W * H <= 2 * S * S);

    const uint8_t *pic = s->rgb;   /* (H, W, 3) before the rescale */
    if (extend_it) {
        extend(scaled ? c->wide : c->rgb, W, H, s->rgb, S, ox, oy, r);
        pic = scaled ? c->wide : c->rgb;
    }
    if (scaled) resample(c->rgb, W2, H2, pic, W, H, c->row, c->acc);
    else if (!extend_it) memcpy(c->rgb, s->rgb, (size_t)S * S * 3);
    c->w = W2;
    c->h = H2;
    return GLM_OK;
}
