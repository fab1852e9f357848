/* image.c - decoding through stb_image (Debian's libstb), conversion to RGB
 * floats, and separable resampling. */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "fileio.h"

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
 * 4 RGBA), each channel scaled by 1/maxval, into RGB with alpha composited
 * over bg (RGB in [0, 1]). */
#define CONVERT_PIXELS(TYPE)                                                      \
    static void convert_##TYPE(float *dst, const TYPE *src, size_t n, int comp,   \
                               float inv_max, const float bg[3])                  \
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
            dst[0] = r * a + bg[0] * (1.0f - a);                                  \
            dst[1] = g * a + bg[1] * (1.0f - a);                                  \
            dst[2] = b * a + bg[2] * (1.0f - a);                                  \
        }                                                                         \
    }                                                                             \
    /* The median colour of the mostly opaque pixels of the border ring     */  \
    /* (w x h picture), or white when the whole border is transparent.      */  \
    static void alpha_background_##TYPE(float bg[3], const TYPE *src, int w, int h, int comp,  \
                                        float inv_max)                            \
    {                                                                             \
        bg[0] = bg[1] = bg[2] = 1.0f;                                             \
        if (comp != 2 && comp != 4) return;                                       \
        int hist[3][256] = {{0}}, n = 0;                                          \
        for (int y = 0; y < h; y++)                                               \
            for (int x = 0; x < w; x += (y == 0 || y == h - 1) ? 1 : GLM_MAX(1, w - 1)) { \
                const TYPE *p = src + ((size_t)y * w + x) * comp;                 \
                if ((float)p[comp - 1] * inv_max < 0.5f) continue;                \
                for (int c = 0; c < 3; c++) {                                     \
                    const float v = (float)p[comp <= 2 ? 0 : c] * inv_max;        \
                    hist[c][(int)(v * 255.0f + 0.5f)]++;                          \
                }                                                                 \
                n++;                                                              \
            }                                                                     \
        for (int c = 0; c < 3 && n > 0; c++) {                                    \
            int k = 0, seen = hist[c][0];                                         \
            while (2 * seen < n) seen += hist[c][++k];                            \
            bg[c] = (float)k / 255.0f;                                            \
        }                                                                         \
    }
typedef unsigned char u8;
typedef unsigned short u16;
CONVERT_PIXELS(u8)
CONVERT_PIXELS(u16)

/* ---- decoding ------------------------------------------------------------

 * The file is read whole (fileio_read: a FIFO or device is refused, the
 * size capped) and stb decodes it from memory through callbacks, which
 * tell us when the decoder wanted bytes past the end: stb itself fills
 * what is missing with zeros and returns an image, so a truncated BMP, TGA,
 * GIF or PSD used to come back as a picture with a black bottom. */

/* The formats stb reads, by their first bytes, to name the format in
 * messages. TGA has no magic: a file stb reads that is none of these is a
 * TGA. */
static const char *format_name(const unsigned char *p, size_t n)
{
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return "PNG";
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return "JPEG";
    if (n >= 4 && !memcmp(p, "GIF8", 4)) return "GIF";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
    if (n >= 4 && !memcmp(p, "8BPS", 4)) return "PSD";
    if (n >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7') return "PNM";
    if (n >= 2 && p[0] == '#' && p[1] == '?') return "HDR";
    if (n >= 92 && !memcmp(p, "\x53\x80\xf6\x34", 4) && !memcmp(p + 88, "PICT", 4)) return "PIC";
    return NULL;
}

/* The most pixels one byte of a file of this format can decode to
 * (image.h says why). */
static double max_pixels_per_byte(const char *fmt)
{
    if (fmt && (!strcmp(fmt, "PNG") || !strcmp(fmt, "JPEG") || !strcmp(fmt, "PIC"))) return IMAGE_MAX_PIXELS_PER_BYTE;
    if (fmt && !strcmp(fmt, "GIF")) return IMAGE_MAX_PIXELS_PER_BYTE_GIF;
    return IMAGE_MAX_PIXELS_PER_BYTE_RLE;   /* BMP, PSD, PNM, HDR, and TGA (fmt NULL) */
}

/* A PNG's IHDR size, read by hand: stb refuses a PNG over its own limits
 * before telling the size, and "unknown image type" would mislead. */
static int png_declared_size(const unsigned char *p, size_t n, unsigned long *w, unsigned long *h)
{
    if (n < 24 || memcmp(p + 12, "IHDR", 4)) return 0;
    *w = (unsigned long)p[16] << 24 | (unsigned long)p[17] << 16 | (unsigned long)p[18] << 8 | p[19];
    *h = (unsigned long)p[20] << 24 | (unsigned long)p[21] << 16 | (unsigned long)p[22] << 8 | p[23];
    return 1;
}

typedef struct {
    const unsigned char *p;
    size_t n, at;
    int past_end;   /* the decoder wanted a byte after the last one */
} MemSource;

static int mem_read(void *user, char *dst, int size)
{
    MemSource *s = user;
    const size_t left = s->n - s->at;
    if (size <= 0) return 0;
    if (left == 0) {
        s->past_end = 1;
        return 0;
    }
    const size_t k = (size_t)size < left ? (size_t)size : left;
    memcpy(dst, s->p + s->at, k);
    s->at += k;
    return (int)k;
}

static void mem_skip(void *user, int n)
{
    MemSource *s = user;
    if (n < 0) {
        s->at = (size_t)-n > s->at ? 0 : s->at - (size_t)-n;
    } else if ((size_t)n > s->n - s->at) {
        s->past_end = 1;
        s->at = s->n;
    } else {
        s->at += (size_t)n;
    }
}

static int mem_eof(void *user)
{
    const MemSource *s = user;
    return s->at >= s->n;
}

static const stbi_io_callbacks mem_callbacks = {mem_read, mem_skip, mem_eof};

/* stb_image 2.27, the version in Debian 12, trusts the code counts of a
 * JPEG Huffman table (DHT): 16 counts of up to 255 codes each, which it
 * writes into arrays of 256 and 257 entries before checking anything, so a
 * table of more than 256 codes overwrites the decoder's state (found by
 * fuzz_image; a heap overflow in every command that reads images). This
 * walks the marker segments as stb does (junk between segments skipped a
 * byte at a time, entropy-coded data up to the next marker, tables between
 * progressive scans too, and a table read on even past the end of its
 * segment, as stb reads it) and finds such a table first. Returns 0 when
 * one is there; 1 for every other file, JPEG or not. */
static int jpeg_tables_fit(const unsigned char *p, size_t n)
{
    size_t at = 1;
    if (n < 2 || p[0] != 0xff) return 1;
    while (at < n && p[at] == 0xff) at++;   /* stb skips fill bytes before SOI too */
    if (at >= n || p[at] != 0xd8) return 1;
    for (at++; at + 1 < n;) {
        if (p[at] != 0xff || p[at + 1] == 0xff) {   /* junk, entropy-coded data, fill */
            at++;
            continue;
        }
        const unsigned m = p[at + 1];
        if (m == 0xd9) return 1;   /* EOI */
        if (m == 0x00 || m == 0x01 || (m >= 0xd0 && m <= 0xd8) || at + 3 >= n) {   /* no length */
            at += 2;
            continue;
        }
        const size_t len = (size_t)p[at + 2] << 8 | p[at + 3];
        if (m == 0xc4) {
            long left = (long)len - 2;
            for (size_t q = at + 4; left > 0 && q < n;) {
                size_t codes = 0;
                for (size_t i = q + 1; i <= q + 16 && i < n; i++) codes += p[i];
                if (codes > 256) return 0;
                q += 17 + codes;
                left -= 17 + (long)codes;
            }
        }
        at += 2 + len;
    }
    return 1;
}

/* Binary PNM (P5 grey, P6 RGB) needs three repairs on stb_image 2.27, the
 * version in Debian 12: it does not notice pixel data cut short (its own
 * short read is not a read past the end, so the check above misses it
 * too), it reads 16-bit samples little-endian where Netpbm stores them
 * big-endian, and it reads the header's numbers into an int without a
 * check (found by fuzz_image: a width of 2^32 + 2 overflowed to 2).
 * pnm_header parses the header as stb does (the same separators and
 * comments) but refuses a number over 2^24, so the caller can refuse such
 * a header and check the data is all there; stb_swaps_pnm16 asks stb
 * itself, so a fixed stb is left alone. */
static int is_pnm(const unsigned char *p, size_t n) { return n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6'); }

static int pnm_header(const unsigned char *p, size_t n, int *maxval, size_t *data_offset)
{
    if (!is_pnm(p, n)) return 0;
    size_t at = 2;
    long v[3];
    for (int i = 0; i < 3; i++) {
        for (;;) {   /* whitespace and # comments, which end at a CR or LF */
            if (at >= n) return 0;
            if (p[at] == '#') while (at < n && p[at] != '\n' && p[at] != '\r') at++;
            else if (p[at] == ' ' || (p[at] >= '\t' && p[at] <= '\r')) at++;
            else break;
        }
        if (p[at] < '0' || p[at] > '9') return 0;
        for (v[i] = 0; at < n && p[at] >= '0' && p[at] <= '9'; at++)
            if ((v[i] = v[i] * 10 + (p[at] - '0')) > 1 << 24) return 0;
        at++;   /* the one whitespace byte that ends the number */
    }
    *maxval = (int)v[2];
    *data_offset = at;
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

/* Checks what the header declares before anything is decoded. */
static int check_declared(const char *path, const unsigned char *p, size_t n, const char *fmt, int w, int h, int comp,
                          GlmError *err)
{
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
        return glm_fail(err, GLM_EINPUT, "%s: image is %dx%d, more than %d pixels on a side", path, w, h,
                        IMAGE_MAX_SIDE);
    if ((long)w * (long)h > IMAGE_MAX_PIXELS)
        return glm_fail(err, GLM_EINPUT, "%s: image is %dx%d, more than %ld Mpx", path, w, h, IMAGE_MAX_PIXELS >> 20);
    if ((double)w * h > IMAGE_FREE_PIXELS + max_pixels_per_byte(fmt) * (double)n)
        return glm_fail(err, GLM_EINPUT, "%s: the %s header declares %dx%d pixels, implausible for a file of %zu bytes "
                        "(corrupt or hostile)", path, fmt ? fmt : "TGA", w, h, n);
    int maxval;
    size_t off;
    if (pnm_header(p, n, &maxval, &off)) {
        const size_t need = (size_t)w * (size_t)h * (size_t)comp * (maxval > 255 ? 2 : 1);
        if (n - off < need)
            return glm_fail(err, GLM_EINPUT, "%s: truncated: %zu bytes of pixel data, %zu needed", path, n - off, need);
    }
    return GLM_OK;
}

int image_load(Image *img, const char *path, GlmError *err)
{
    img->w = img->h = 0;
    img->data = NULL;
    char *file;
    size_t n;
    int rc = fileio_read(&file, &n, path, IMAGE_MAX_FILE_BYTES, err);
    if (rc) return rc;
    const unsigned char *p = (const unsigned char *)file;
    const char *fmt = format_name(p, n);
    int w, h, comp;
    if (n == 0) {
        rc = glm_fail(err, GLM_EINPUT, "%s: empty file, not an image", path);
        goto out;
    }
    if (!jpeg_tables_fit(p, n)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: corrupt JPEG (a Huffman table of more than 256 codes)", path);
        goto out;
    }
    int maxval;
    size_t off;
    if (is_pnm(p, n) && !pnm_header(p, n, &maxval, &off)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: corrupt PNM header (a size or the maximum value missing or over %d)",
                      path, 1 << 24);
        goto out;
    }
    if (!stbi_info_from_memory(p, (int)n, &w, &h, &comp)) {
        unsigned long pw, ph;
        if (fmt && !strcmp(fmt, "PNG") && png_declared_size(p, n, &pw, &ph) &&
            (pw > IMAGE_MAX_SIDE || ph > IMAGE_MAX_SIDE))
            rc = glm_fail(err, GLM_EINPUT, "%s: PNG declares %lux%lu pixels, more than %d on a side", path, pw, ph,
                          IMAGE_MAX_SIDE);
        else if (fmt)
            rc = glm_fail(err, GLM_EINPUT, "%s: corrupt or unsupported %s (%s)", path, fmt,
                          stbi_failure_reason() ? stbi_failure_reason() : "no reason given");
        else
            rc = glm_fail(err, GLM_EINPUT, "%s: not an image glimpse reads (PNG, JPEG, BMP, GIF, TGA, PSD, PNM)", path);
        goto out;
    }
    /* stb 2.27's info reports a top-down BMP's height negative, while its
     * loader decodes abs(height) rows: judge what will be decoded (found by
     * make fuzz: 8000 x -57536 passed every bound and cost 1.4 GB). */
    if (h < 0) h = h == INT_MIN ? INT_MAX : -h;
    if (w < 0) w = w == INT_MIN ? INT_MAX : -w;
    if ((rc = check_declared(path, p, n, fmt, w, h, comp, err))) goto out;
    const int is16 = stbi_is_16_bit_from_memory(p, (int)n);
    const int swap16 = is16 && pnm_header(p, n, &maxval, &off) && stb_swaps_pnm16();
    MemSource src = {.p = p, .n = n};
    void *pixels = is16 ? (void *)stbi_load_16_from_callbacks(&mem_callbacks, &src, &w, &h, &comp, 0)
                        : (void *)stbi_load_from_callbacks(&mem_callbacks, &src, &w, &h, &comp, 0);
    if (!pixels || src.past_end) {
        const char *why = pixels ? "the data ends early" : stbi_failure_reason();
        rc = glm_fail(err, GLM_EINPUT, "%s: truncated or corrupt %s (%s)", path, fmt ? fmt : "image",
                      why && *why ? why : "no reason given");
        stbi_image_free(pixels);
        goto out;
    }
    if ((rc = image_init(img, w, h, err)) == GLM_OK) {
        size_t np = (size_t)w * (size_t)h;
        if (swap16) {
            unsigned short *q = pixels;
            for (size_t i = 0; i < np * (size_t)comp; i++) q[i] = (unsigned short)(q[i] << 8 | q[i] >> 8);
        }
        /* Transparent pixels take the picture's own background, estimated
         * from its opaque border, not a white that may be nothing like it. */
        float bg[3];
        if (is16) {
            alpha_background_u16(bg, pixels, w, h, comp, 1.0f / 65535.0f);
            convert_u16(img->data, pixels, np, comp, 1.0f / 65535.0f, bg);
        } else {
            alpha_background_u8(bg, pixels, w, h, comp, 1.0f / 255.0f);
            convert_u8(img->data, pixels, np, comp, 1.0f / 255.0f, bg);
        }
    }
    stbi_image_free(pixels);
out:
    free(file);
    return rc;
}

void image_border_colour(float bg[3], const Image *img)
{
    /* per-channel median of the outermost ring, by a 256-level histogram */
    int hist[3][256] = {{0}}, n = 0;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x += (y == 0 || y == img->h - 1) ? 1 : GLM_MAX(1, img->w - 1)) {
            const float *p = img->data + 3 * ((size_t)y * img->w + x);
            for (int c = 0; c < 3; c++) {
                const float v = p[c] < 0 ? 0 : p[c] > 1 ? 1 : p[c];
                hist[c][(int)(v * 255.0f + 0.5f)]++;
            }
            n++;
        }
    for (int c = 0; c < 3; c++) {
        int k = 0, seen = hist[c][0];
        while (2 * seen < n) seen += hist[c][++k];
        bg[c] = (float)k / 255.0f;
    }
}

int image_pad_square(Image *dst, const Image *src, const float bg[3], int *off_x, int *off_y, GlmError *err)
{
    const int S = GLM_MAX(src->w, src->h), ox = (S - src->w) / 2, oy = (S - src->h) / 2;
    int rc = image_init(dst, S, S, err);
    if (rc) return rc;
    for (size_t i = 0; i < (size_t)S * S; i++) memcpy(dst->data + 3 * i, bg, 3 * sizeof(float));
    for (int y = 0; y < src->h; y++)
        memcpy(dst->data + 3 * ((size_t)(y + oy) * S + ox), src->data + 3 * (size_t)y * src->w,
               3 * sizeof(float) * (size_t)src->w);
    if (off_x) *off_x = ox;
    if (off_y) *off_y = oy;
    return GLM_OK;
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

int image_pad_square_own(Image *img, GlmError *err)
{
    if (img->w == img->h) return GLM_OK;
    float bg[3];
    image_border_colour(bg, img);
    Image square;
    int rc = image_pad_square(&square, img, bg, NULL, NULL, err);
    if (rc) return rc;
    image_free(img);
    *img = square;
    return GLM_OK;
}
