/* image.c - decoding through stb_image (Debian's libstb), conversion to RGB
 * floats, and separable resampling. */
#include "image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

int image_init(Image *img, int w, int h, GlmError *err)
{
    img->w = img->h = 0;
    img->data = NULL;
    if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
        return glm_fail(err, GLM_EINPUT, "image size %dx%d out of range", w, h);
    img->data = glm_calloc_array((size_t)w * (size_t)h, 3 * sizeof(float));
    if (!img->data) return glm_fail(err, GLM_ENOMEM, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    return GLM_OK;
}

void image_free(Image *img)
{
    free(img->data);
    img->data = NULL;
    img->w = img->h = 0;
}

/* Converts n pixels of `comp` channels (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA), each channel scaled by 1/maxval, into RGB with alpha over white. */
#define CONVERT_PIXELS(TYPE)                                                      \
    static void convert_##TYPE(float *dst, const TYPE *src, size_t n, int comp,   \
                               float inv_max)                                     \
    {                                                                             \
        for (size_t i = 0; i < n; i++, src += comp, dst += 3) {                   \
            float r, g, b, a = 1.0f;                                              \
            if (comp <= 2) {                                                      \
                r = g = b = (float)src[0] * inv_max;                              \
                if (comp == 2) a = (float)src[1] * inv_max;                       \
            } else {                                                              \
                r = (float)src[0] * inv_max;                                      \
                g = (float)src[1] * inv_max;                                      \
                b = (float)src[2] * inv_max;                                      \
                if (comp == 4) a = (float)src[3] * inv_max;                       \
            }                                                                     \
            dst[0] = r * a + (1.0f - a);                                          \
            dst[1] = g * a + (1.0f - a);                                          \
            dst[2] = b * a + (1.0f - a);                                          \
        }                                                                         \
    }
typedef unsigned char u8;
typedef unsigned short u16;
CONVERT_PIXELS(u8)
CONVERT_PIXELS(u16)

/* Binary PNM (P5 grey, P6 RGB) needs two repairs on stb_image 2.27, the
 * version in Debian 12: it does not notice pixel data cut short (it returns
 * the image with garbage), and it reads 16-bit samples little-endian where
 * Netpbm stores them big-endian. pnm_header parses the header so the caller
 * can check the data is all there; stb_swaps_pnm16 asks stb itself, so a
 * fixed stb is left alone. */
static int pnm_header(FILE *f, int *maxval, long *data_offset)
{
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6')) return 0;
    long v[3];
    for (int i = 0; i < 3; i++) {
        int c = fgetc(f);
        for (;;) {   /* whitespace and # comments */
            if (c == '#') while (c != EOF && c != '\n') c = fgetc(f);
            else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = fgetc(f);
            else break;
        }
        if (c < '0' || c > '9') return 0;
        for (v[i] = 0; c >= '0' && c <= '9'; c = fgetc(f))
            if ((v[i] = v[i] * 10 + (c - '0')) > 1 << 24) return 0;
        /* c is the one whitespace byte that ends the number */
    }
    *maxval = (int)v[2];
    *data_offset = ftell(f);
    return 1;
}

static int stb_swaps_pnm16(void)
{
    static const unsigned char probe[] = "P5 1 1 65535\n\x01\x02";
    int w, h, c;
    unsigned short *px = stbi_load_16_from_memory(probe, (int)sizeof probe - 1, &w, &h, &c, 1);
    int swaps = px && px[0] == 0x0201;
    stbi_image_free(px);
    return swaps;
}

static int pnm_data_complete(FILE *f, const char *path, int w, int h, int comp, GlmError *err)
{
    int maxval;
    long off;
    int is_pnm = pnm_header(f, &maxval, &off);
    if (!is_pnm || fseek(f, 0, SEEK_END) != 0) return rewind(f), GLM_OK;
    long size = ftell(f);
    rewind(f);
    long need = (long)w * h * comp * (maxval > 255 ? 2 : 1);
    if (size - off < need)
        return glm_fail(err, GLM_EINPUT, "%s: truncated: %ld bytes of pixel data, %ld needed", path,
                        size - off, need);
    return GLM_OK;
}

int image_load(Image *img, const char *path, GlmError *err)
{
    img->w = img->h = 0;
    img->data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return glm_fail(err, GLM_EINPUT, "%s: cannot open: %s", path, strerror(errno));

    int w, h, comp;
    if (!stbi_info_from_file(f, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        fclose(f);
        return glm_fail(err, GLM_EINPUT, "%s: not a readable image (%s)", path,
                        why ? why : "unknown format");
    }
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE) {
        fclose(f);
        return glm_fail(err, GLM_EINPUT, "%s: image is %dx%d, more than %d pixels on a side",
                        path, w, h, IMAGE_MAX_SIDE);
    }
    if ((long)w * (long)h > IMAGE_MAX_PIXELS) {
        fclose(f);
        return glm_fail(err, GLM_EINPUT, "%s: image is %dx%d, more than %ld Mpx", path, w, h,
                        IMAGE_MAX_PIXELS >> 20);
    }

    if (pnm_data_complete(f, path, w, h, comp, err)) {
        fclose(f);
        return GLM_EINPUT;
    }
    int is16 = stbi_is_16_bit_from_file(f);
    int swap16 = 0;
    if (is16) {
        int maxval;
        long off;
        swap16 = pnm_header(f, &maxval, &off) && stb_swaps_pnm16();
        rewind(f);
    }
    void *pixels = is16 ? (void *)stbi_load_from_file_16(f, &w, &h, &comp, 0)
                        : (void *)stbi_load_from_file(f, &w, &h, &comp, 0);
    fclose(f);
    if (!pixels) {
        const char *why = stbi_failure_reason();
        return glm_fail(err, GLM_EINPUT, "%s: cannot decode (%s)", path, why ? why : "corrupt");
    }
    int rc = image_init(img, w, h, err);
    if (rc == GLM_OK) {
        size_t n = (size_t)w * (size_t)h;
        if (swap16) {
            unsigned short *p = pixels;
            for (size_t i = 0; i < n * (size_t)comp; i++) p[i] = (unsigned short)(p[i] << 8 | p[i] >> 8);
        }
        if (is16) convert_u16(img->data, pixels, n, comp, 1.0f / 65535.0f);
        else convert_u8(img->data, pixels, n, comp, 1.0f / 255.0f);
    }
    stbi_image_free(pixels);
    return rc;
}

/* One axis of the resampling: output pixel j takes taps[j*max_taps + k]
 * weights from source pixels first[j] + k, k < count[j]. */
typedef struct {
    int *first, *count;
    float *weight;
    int max_taps;
} Taps;

static int taps_build(Taps *t, int in, int out)
{
    t->max_taps = in > out ? (int)ceil((double)in / out) + 1 : 2;
    t->first = malloc(sizeof(int) * (size_t)out);
    t->count = malloc(sizeof(int) * (size_t)out);
    t->weight = glm_calloc_array((size_t)out * (size_t)t->max_taps, sizeof(float));
    if (!t->first || !t->count || !t->weight) return GLM_ENOMEM;
    double scale = (double)in / out;
    for (int j = 0; j < out; j++) {
        float *w = t->weight + (size_t)j * t->max_taps;
        if (in > out) {
            /* Area: output pixel j covers source interval [a, b). */
            double a = j * scale, b = (j + 1) * scale;
            int i0 = (int)floor(a), i1 = GLM_MIN((int)ceil(b), in);
            t->first[j] = i0;
            t->count[j] = i1 - i0;
            GLM_ASSERT(t->count[j] <= t->max_taps);
            for (int i = i0; i < i1; i++) {
                double lo = GLM_MAX(a, (double)i), hi = GLM_MIN(b, (double)(i + 1));
                w[i - i0] = (float)((hi - lo) / scale);
            }
        } else {
            /* Bilinear with centres aligned: x = (j + 0.5) * in/out - 0.5. */
            double x = (j + 0.5) * scale - 0.5;
            if (x < 0) x = 0;
            if (x > in - 1) x = in - 1;
            int i0 = (int)floor(x);
            double frac = x - i0;
            t->first[j] = i0;
            if (i0 + 1 < in && frac > 0) {
                t->count[j] = 2;
                w[0] = (float)(1.0 - frac);
                w[1] = (float)frac;
            } else {
                t->count[j] = 1;
                w[0] = 1.0f;
            }
        }
    }
    return GLM_OK;
}

static void taps_free(Taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weight);
}

int image_resize(Image *dst, const Image *src, int w, int h, GlmError *err)
{
    int rc = image_init(dst, w, h, err);
    if (rc) return rc;
    Image mid = {0};
    Taps tx = {0}, ty = {0};
    if ((rc = image_init(&mid, w, src->h, err)) != GLM_OK) goto done;
    if (taps_build(&tx, src->w, w) || taps_build(&ty, src->h, h)) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory resizing to %dx%d", w, h);
        goto done;
    }
    /* Horizontal pass: src (src->h, src->w, 3) -> mid (src->h, w, 3). */
    for (int y = 0; y < src->h; y++) {
        const float *row = src->data + (size_t)y * src->w * 3;
        float *o = mid.data + (size_t)y * w * 3;
        for (int j = 0; j < w; j++, o += 3) {
            const float *wt = tx.weight + (size_t)j * tx.max_taps;
            const float *p = row + (size_t)tx.first[j] * 3;
            for (int k = 0; k < tx.count[j]; k++, p += 3) {
                o[0] += wt[k] * p[0];
                o[1] += wt[k] * p[1];
                o[2] += wt[k] * p[2];
            }
        }
    }
    /* Vertical pass: mid (src->h, w, 3) -> dst (h, w, 3). */
    for (int i = 0; i < h; i++) {
        float *o = dst->data + (size_t)i * w * 3;
        const float *wt = ty.weight + (size_t)i * ty.max_taps;
        for (int k = 0; k < ty.count[i]; k++) {
            const float *p = mid.data + (size_t)(ty.first[i] + k) * w * 3;
            for (int x = 0; x < w * 3; x++) o[x] += wt[k] * p[x];
        }
    }
done:
    taps_free(&tx);
    taps_free(&ty);
    image_free(&mid);
    if (rc) image_free(dst);
    return rc;
}
