/* scene_degrade.c - noise, blur and a JPEG round trip: see scene_degrade.h. */
#include "scene_degrade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

static uint8_t clamp_u8(float v)
{
    return (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : v + 0.5f);
}

static void add_noise(uint8_t *rgb, int w, int h, Rng *r)
{
    const float sigma = 3.0f + 9.0f * rng_uniform(r);
    const int colour = rng_below(r, 2);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const float g = sigma * rng_normal(r);
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = clamp_u8(rgb[3 * i + c] + (colour && c ? sigma * rng_normal(r) : g));
    }
}

/* [1 2 1] / 4 along x, then along y; edges repeat. */
static int blur(uint8_t *rgb, int w, int h, GlmError *err)
{
    uint8_t *tmp = malloc((size_t)w * h * 3);
    if (!tmp) return glm_fail(err, GLM_ENOMEM, "out of memory blurring a scene");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const int a = rgb[3 * (y * w + (x > 0 ? x - 1 : x)) + c], b = rgb[3 * (y * w + x) + c];
                const int d = rgb[3 * (y * w + (x + 1 < w ? x + 1 : x)) + c];
                tmp[3 * (y * w + x) + c] = (uint8_t)((a + 2 * b + d + 2) / 4);
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                const int a = tmp[3 * ((y > 0 ? y - 1 : y) * w + x) + c], b = tmp[3 * (y * w + x) + c];
                const int d = tmp[3 * ((y + 1 < h ? y + 1 : y) * w + x) + c];
                rgb[3 * (y * w + x) + c] = (uint8_t)((a + 2 * b + d + 2) / 4);
            }
    free(tmp);
    return GLM_OK;
}

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int failed;
} Buffer;

static void buffer_put(void *ctx, void *data, int n)
{
    Buffer *b = ctx;
    if (b->failed || n <= 0) return;
    if (b->len + (size_t)n > b->cap) {
        const size_t cap = 2 * (b->len + (size_t)n);
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p, b->cap = cap;
    }
    memcpy(b->data + b->len, data, (size_t)n);
    b->len += (size_t)n;
}

static int jpeg_round_trip(uint8_t *rgb, int w, int h, int quality, GlmError *err)
{
    Buffer b = {0};
    if (!stbi_write_jpg_to_func(buffer_put, &b, w, h, 3, rgb, quality) || b.failed) {
        free(b.data);
        return glm_fail(err, GLM_ENOMEM, "a scene's JPEG encoding failed (out of memory?)");
    }
    int dw, dh, dc;
    uint8_t *back = stbi_load_from_memory(b.data, (int)b.len, &dw, &dh, &dc, 3);
    free(b.data);
    if (!back || dw != w || dh != h) {
        stbi_image_free(back);
        return glm_fail(err, GLM_EINPUT, "a scene's JPEG did not decode to its own size");
    }
    memcpy(rgb, back, (size_t)w * h * 3);
    stbi_image_free(back);
    return GLM_OK;
}

int scene_degrade(uint8_t *rgb, int w, int h, Rng *r, GlmError *err)
{
    /* all three coins first, so whether one effect happens does not
     * change the draws of another */
    const int noise = rng_uniform(r) < SCENE_NOISE_P, soft = rng_uniform(r) < SCENE_BLUR_P;
    const int jpeg = rng_uniform(r) < SCENE_JPEG_P, quality = 50 + (int)rng_below(r, 46);
    int rc = GLM_OK;
    if (noise) add_noise(rgb, w, h, r);
    if (soft && (rc = blur(rgb, w, h, err))) return rc;
    if (jpeg) rc = jpeg_round_trip(rgb, w, h, quality, err);
    return rc;
}
