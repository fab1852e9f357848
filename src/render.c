/* render.c - the drawing primitives of render.h: canvas, nearest-neighbour
 * image blits, bilinear heat upsampling, the colour map, text through
 * stb_truetype (or the built-in stb_easy_font), PNG output through png.h,
 * written by fileio_write (atomic).
 *
 * Not here: anything that knows about captions or attention (heatmap.c). */
#include "render.h"

#include "fileio.h"
#include "png.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_truetype.h>

/* stb_easy_font is header-only: every function is static and we use only
 * some of them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

/* ==== canvas ============================================================= */

int canvas_init(Canvas *c, int w, int h, Rgb fill, GlmError *err)
{
    c->w = c->h = 0;
    c->px = NULL;
    if (w < 1 || h < 1 || w > RENDER_MAX_SIDE || h > RENDER_MAX_SIDE ||
        (long)w * (long)h > RENDER_MAX_PIXELS)
        return glm_fail(err, GLM_EINPUT, "picture size %dx%d out of range (at most %d per side)",
                        w, h, RENDER_MAX_SIDE);
    c->px = glm_malloc_array((size_t)w * (size_t)h, 3);
    if (!c->px) return glm_fail(err, GLM_ENOMEM, "out of memory for a %dx%d picture", w, h);
    c->w = w;
    c->h = h;
    for (size_t i = 0, n = (size_t)w * (size_t)h; i < n; i++) {
        c->px[3 * i + 0] = fill.r;
        c->px[3 * i + 1] = fill.g;
        c->px[3 * i + 2] = fill.b;
    }
    return GLM_OK;
}

void canvas_free(Canvas *c)
{
    free(c->px);
    c->px = NULL;
    c->w = c->h = 0;
}

/* Clamps [*x0, *x1) x [*y0, *y1) to the canvas; 0 when nothing is left. */
static int clip(const Canvas *c, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = GLM_MAX(*x0, 0);
    *y0 = GLM_MAX(*y0, 0);
    *x1 = GLM_MIN(*x1, c->w);
    *y1 = GLM_MIN(*y1, c->h);
    return *x0 < *x1 && *y0 < *y1;
}

static inline uint8_t to_byte(float v)
{
    v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    return (uint8_t)(v * 255.0f + 0.5f);
}

/* dst = dst * (1 - a) + src * a, a in [0, 1]. */
static inline void mix(uint8_t *dst, Rgb src, float a)
{
    dst[0] = (uint8_t)(dst[0] + (src.r - dst[0]) * a + 0.5f);
    dst[1] = (uint8_t)(dst[1] + (src.g - dst[1]) * a + 0.5f);
    dst[2] = (uint8_t)(dst[2] + (src.b - dst[2]) * a + 0.5f);
}

void render_fill_rect(Canvas *c, int x0, int y0, int x1, int y1, Rgb col)
{
    if (!clip(c, &x0, &y0, &x1, &y1)) return;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            uint8_t *p = canvas_at(c, x, y);
            p[0] = col.r;
            p[1] = col.g;
            p[2] = col.b;
        }
}

void render_blend_rect(Canvas *c, int x0, int y0, int x1, int y1, Rgb col, float opacity)
{
    if (!clip(c, &x0, &y0, &x1, &y1)) return;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) mix(canvas_at(c, x, y), col, opacity);
}

void render_rect_outline(Canvas *c, int x0, int y0, int x1, int y1, int thick, Rgb col)
{
    if (thick < 1 || x0 >= x1 || y0 >= y1) return;
    /* A box thinner than two outlines is simply filled. */
    int t = GLM_MIN(thick, GLM_MIN((x1 - x0 + 1) / 2, (y1 - y0 + 1) / 2));
    render_fill_rect(c, x0, y0, x1, y0 + t, col);          /* top */
    render_fill_rect(c, x0, y1 - t, x1, y1, col);          /* bottom */
    render_fill_rect(c, x0, y0 + t, x0 + t, y1 - t, col);  /* left */
    render_fill_rect(c, x1 - t, y0 + t, x1, y1 - t, col);  /* right */
}

/* ==== images and heat ==================================================== */

void render_image(Canvas *c, const Image *img, int x, int y, int w, int h, int grey)
{
    if (w < 1 || h < 1 || img->w < 1 || img->h < 1) return;
    int x0 = x, y0 = y, x1 = x + w, y1 = y + h;
    if (!clip(c, &x0, &y0, &x1, &y1)) return;
    for (int py = y0; py < y1; py++) {
        /* The source pixel under the centre of output pixel (px, py). */
        int sy = (int)(((double)(py - y) + 0.5) * img->h / h);
        sy = GLM_MIN(sy, img->h - 1);
        for (int px = x0; px < x1; px++) {
            int sx = (int)(((double)(px - x) + 0.5) * img->w / w);
            sx = GLM_MIN(sx, img->w - 1);
            const float *s = img->data + ((size_t)sy * img->w + sx) * 3;
            uint8_t *d = canvas_at(c, px, py);
            if (grey) {
                d[0] = d[1] = d[2] = to_byte(0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2]);
            } else {
                d[0] = to_byte(s[0]);
                d[1] = to_byte(s[1]);
                d[2] = to_byte(s[2]);
            }
        }
    }
}

/* Position of output pixel i (of n) in grid-cell coordinates for a grid of G
 * cells: the cell whose centre is at or left of it, and the weight of the
 * next one; clamped beyond the outer centres. */
static void bilinear_coord(int *i0, float *f, int i, int n, int G)
{
    float u = ((float)i + 0.5f) * (float)G / (float)n - 0.5f;
    if (u <= 0.0f) {
        *i0 = 0;
        *f = 0.0f;
    } else if (u >= (float)(G - 1)) {
        *i0 = G - 1;
        *f = 0.0f;
    } else {
        *i0 = (int)u;
        *f = u - (float)*i0;
    }
}

void render_upsample_grid(float *out, const float *grid, int G, int w, int h)
{
    GLM_ASSERT(G >= 1 && w >= 1 && h >= 1);
    for (int y = 0; y < h; y++) {
        int r0;
        float fy;
        bilinear_coord(&r0, &fy, y, h, G);
        int r1 = GLM_MIN(r0 + 1, G - 1);
        for (int x = 0; x < w; x++) {
            int c0;
            float fx;
            bilinear_coord(&c0, &fx, x, w, G);
            int c1 = GLM_MIN(c0 + 1, G - 1);
            float top = grid[r0 * G + c0] * (1.0f - fx) + grid[r0 * G + c1] * fx;
            float bot = grid[r1 * G + c0] * (1.0f - fx) + grid[r1 * G + c1] * fx;
            out[(size_t)y * w + x] = top * (1.0f - fy) + bot * fy;
        }
    }
}

/* ---- the colour map ------------------------------------------------------
 * Designed for this program in the spirit of viridis (van der Walt & Smith,
 * matplotlib 1.5): a path through the OKLab colour space (Ottosson 2020) in
 * which perceived lightness L rises linearly, so equal steps of attention
 * look like equal steps of brightness, and the colours stay readable for
 * the common colour-vision deficiencies (blue to yellow, no red-green
 * contrast). With t in [0, 1]:
 *     L(t) = 0.28 + 0.64 t                     dark to light, evenly
 *     h(t) = 318 - 216 t degrees               violet, blue, teal, green, yellow
 *     C(t) = 0.135 - 0.245 t + 0.3 t^2         chroma, lowest at the teal middle
 * and where a colour falls outside sRGB its chroma is shrunk by 3% steps
 * until it fits. render_cmap_design computes this exactly; the table below
 * holds it at t = i/31 (printed from render_cmap_design; a test checks it)
 * and render_cmap interpolates the table linearly. */
static const float CMAP[RENDER_CMAP_POINTS][3] = {
    {0.2598f, 0.0020f, 0.3222f}, {0.2585f, 0.0640f, 0.3580f}, {0.2557f, 0.1115f, 0.3904f},
    {0.2514f, 0.1519f, 0.4196f}, {0.2459f, 0.1890f, 0.4458f}, {0.2395f, 0.2244f, 0.4694f},
    {0.2324f, 0.2585f, 0.4907f}, {0.2249f, 0.2918f, 0.5100f}, {0.2174f, 0.3244f, 0.5276f},
    {0.2102f, 0.3564f, 0.5436f}, {0.2036f, 0.3880f, 0.5584f}, {0.1979f, 0.4193f, 0.5719f},
    {0.1935f, 0.4503f, 0.5841f}, {0.1907f, 0.4812f, 0.5951f}, {0.1903f, 0.5120f, 0.6047f},
    {0.1927f, 0.5427f, 0.6125f}, {0.1988f, 0.5733f, 0.6185f}, {0.2097f, 0.6037f, 0.6221f},
    {0.2260f, 0.6340f, 0.6231f}, {0.2487f, 0.6640f, 0.6211f}, {0.2780f, 0.6935f, 0.6155f},
    {0.3142f, 0.7223f, 0.6059f}, {0.3573f, 0.7503f, 0.5920f}, {0.4069f, 0.7770f, 0.5731f},
    {0.4628f, 0.8023f, 0.5490f}, {0.5246f, 0.8258f, 0.5190f}, {0.5921f, 0.8471f, 0.4825f},
    {0.6647f, 0.8659f, 0.4384f}, {0.7421f, 0.8818f, 0.3852f}, {0.8239f, 0.8944f, 0.3197f},
    {0.9095f, 0.9033f, 0.2336f}, {0.9985f, 0.9083f, 0.0835f},
};

static double linear_to_srgb(double v)
{
    v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    return v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}

/* OKLab to linear sRGB (Ottosson's matrices); 1 when inside the gamut. */
static int oklab_to_linear(double rgb[3], double L, double a, double b)
{
    double l = L + 0.3963377774 * a + 0.2158037573 * b;
    double m = L - 0.1055613458 * a - 0.0638541728 * b;
    double s = L - 0.0894841775 * a - 1.2914855480 * b;
    l = l * l * l;
    m = m * m * m;
    s = s * s * s;
    rgb[0] = 4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s;
    rgb[1] = -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s;
    rgb[2] = -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s;
    const double eps = 1e-9;
    return rgb[0] >= -eps && rgb[0] <= 1 + eps && rgb[1] >= -eps && rgb[1] <= 1 + eps &&
           rgb[2] >= -eps && rgb[2] <= 1 + eps;
}

void render_cmap_design(float out[3], float t)
{
    double u = t < 0.0f ? 0.0 : t > 1.0f ? 1.0 : (double)t;
    double L = 0.28 + 0.64 * u;
    double h = (318.0 - 216.0 * u) * M_PI / 180.0;
    double C = 0.135 - 0.245 * u + 0.3 * u * u;
    double rgb[3];
    for (int it = 0; it < 60 && !oklab_to_linear(rgb, L, C * cos(h), C * sin(h)); it++)
        C *= 0.97;
    for (int i = 0; i < 3; i++) out[i] = (float)linear_to_srgb(rgb[i]);
}

void render_cmap(float rgb[3], float t)
{
    if (!(t > 0.0f)) t = 0.0f;   /* also NaN */
    if (t > 1.0f) t = 1.0f;
    float u = t * (RENDER_CMAP_POINTS - 1);
    int i = GLM_MIN((int)u, RENDER_CMAP_POINTS - 2);
    float f = u - (float)i;
    for (int k = 0; k < 3; k++) rgb[k] = CMAP[i][k] * (1.0f - f) + CMAP[i + 1][k] * f;
}

Rgb render_cmap_rgb(float t)
{
    float v[3];
    render_cmap(v, t);
    return (Rgb){to_byte(v[0]), to_byte(v[1]), to_byte(v[2])};
}

void render_heat(Canvas *c, int x, int y, const float *heat, int w, int h, float opacity)
{
    int x0 = x, y0 = y, x1 = x + w, y1 = y + h;
    if (!clip(c, &x0, &y0, &x1, &y1)) return;
    for (int py = y0; py < y1; py++)
        for (int px = x0; px < x1; px++)
            mix(canvas_at(c, px, py), render_cmap_rgb(heat[(size_t)(py - y) * w + (px - x)]),
                opacity);
}

/* ==== text =============================================================== */

struct RenderFont {
    int builtin;
    unsigned char *ttf;   /* the whole font file; stbtt keeps pointers into it */
    stbtt_fontinfo info;
    int ascent, descent, line_gap;   /* font units */
    char note[GLM_ERROR_LEN];
};

/* A TrueType font is at most a few MB; 64 MB means a wrong file. */
#define FONT_MAX_BYTES ((size_t)64 << 20)

RenderFont *render_font_load(const char *path, int force_builtin, GlmError *err)
{
    RenderFont *f = calloc(1, sizeof *f);
    if (!f) {
        glm_fail(err, GLM_ENOMEM, "out of memory for a font");
        return NULL;
    }
    f->builtin = 1;
    if (!path) path = RENDER_DEFAULT_FONT;
    if (force_builtin) {
        snprintf(f->note, sizeof f->note, "built-in font requested");
        return f;
    }
    size_t len = 0;
    GlmError why = {0};
    char *ttf;
    if (fileio_read(&ttf, &len, path, FONT_MAX_BYTES, &why) != GLM_OK) {
        snprintf(f->note, sizeof f->note, "%s", why.msg);
        return f;
    }
    f->ttf = (unsigned char *)ttf;
    int off = stbtt_GetFontOffsetForIndex(f->ttf, 0);
    if (len < 12 || off < 0 || !stbtt_InitFont(&f->info, f->ttf, off)) {
        snprintf(f->note, sizeof f->note, "%s: not a TrueType font", path);
        free(f->ttf);
        f->ttf = NULL;
        return f;
    }
    stbtt_GetFontVMetrics(&f->info, &f->ascent, &f->descent, &f->line_gap);
    f->builtin = 0;
    return f;
}

void render_font_free(RenderFont *f)
{
    if (!f) return;
    free(f->ttf);
    free(f);
}

int render_font_is_builtin(const RenderFont *f) { return f->builtin; }
const char *render_font_note(const RenderFont *f) { return f->builtin ? f->note : ""; }

/* Next code point of UTF-8 text; malformed bytes give U+FFFD, one byte each. */
static unsigned utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    unsigned c = p[0];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0) {
        *s += 1;
        return 0xFFFD;
    }
    unsigned cp = n == 0 ? c : c & (0x3F >> n);
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s += 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s += n + 1;
    return cp;
}

/* The built-in font: stb_easy_font's segment glyphs (12 units a line, caps
 * about 7 units tall) drawn with an integer scale so the strokes stay
 * crisp. */
static int easy_scale(int px) { return GLM_MAX(1, (int)lround(px / 12.0)); }

static int easy_char(unsigned cp) { return cp >= 32 && cp < 127 ? (int)cp : '?'; }

static int easy_text(Canvas *c, int x, int y, int px, Rgb col, const char *text, int draw)
{
    const int k = easy_scale(px);
    /* Vertically centre the 7-unit glyph body (plus descenders) in px. */
    const int top = y + GLM_MAX(0, (px - 10 * k) / 2);
    float vbuf[64 * 64];   /* one glyph is at most ~270 bytes of quads */
    int pen = 0;
    for (const char *s = text; *s;) {
        char ch[2] = {(char)easy_char(utf8_next(&s)), 0};
        if (draw) {
            int quads = stb_easy_font_print(0.0f, 0.0f, ch, NULL, vbuf, (int)sizeof vbuf);
            for (int q = 0; q < quads; q++) {
                const float *v0 = vbuf + q * 16, *v2 = vbuf + q * 16 + 8;   /* 4 floats a vertex */
                int qx0 = (int)lroundf(v0[0]) * k, qy0 = (int)lroundf(v0[1]) * k;
                int qx1 = (int)lroundf(v2[0]) * k, qy1 = (int)lroundf(v2[1]) * k;
                render_fill_rect(c, x + pen + qx0, top + qy0, x + pen + qx1, top + qy1, col);
            }
        }
        pen += stb_easy_font_width(ch) * k;
    }
    return pen;
}

/* The TrueType path: glyph coverage from stbtt, blended over the canvas. */
static int ttf_text(Canvas *c, const RenderFont *f, int x, int y, int px, Rgb col,
                    const char *text, int draw)
{
    enum { GLYPH_MAX = 192 };   /* glyph bitmap side limit (px is capped below) */
    static const int MAX_PX = 120;
    if (px > MAX_PX) px = MAX_PX;
    unsigned char bitmap[GLYPH_MAX * GLYPH_MAX];
    float scale = stbtt_ScaleForPixelHeight(&f->info, (float)px);
    int baseline = y + (int)lroundf((float)f->ascent * scale);
    float pen = 0.0f;
    unsigned prev = 0;
    for (const char *s = text; *s;) {
        unsigned cp = utf8_next(&s);
        if (!stbtt_FindGlyphIndex(&f->info, (int)cp)) cp = '?';
        if (prev) pen += scale * (float)stbtt_GetCodepointKernAdvance(&f->info, (int)prev, (int)cp);
        int adv, lsb;
        stbtt_GetCodepointHMetrics(&f->info, (int)cp, &adv, &lsb);
        if (draw) {
            float shift = pen - floorf(pen);
            int bx0, by0, bx1, by1;
            stbtt_GetCodepointBitmapBoxSubpixel(&f->info, (int)cp, scale, scale, shift, 0.0f, &bx0,
                                                &by0, &bx1, &by1);
            int gw = bx1 - bx0, gh = by1 - by0;
            if (gw > 0 && gh > 0 && gw <= GLYPH_MAX && gh <= GLYPH_MAX) {
                stbtt_MakeCodepointBitmapSubpixel(&f->info, bitmap, gw, gh, gw, scale, scale, shift,
                                                  0.0f, (int)cp);
                int ox = x + (int)floorf(pen) + bx0, oy = baseline + by0;
                for (int j = 0; j < gh; j++) {
                    if (oy + j < 0 || oy + j >= c->h) continue;
                    for (int i = 0; i < gw; i++) {
                        unsigned char a = bitmap[j * gw + i];
                        if (!a || ox + i < 0 || ox + i >= c->w) continue;
                        mix(canvas_at(c, ox + i, oy + j), col, (float)a / 255.0f);
                    }
                }
            }
        }
        pen += scale * (float)adv;
        prev = cp;
    }
    return (int)ceilf(pen);
}

int render_text(Canvas *c, const RenderFont *f, int x, int y, int px, Rgb col, const char *text)
{
    if (px < 1 || !text) return 0;
    return f->builtin ? easy_text(c, x, y, px, col, text, 1) : ttf_text(c, f, x, y, px, col, text, 1);
}

int render_text_width(const RenderFont *f, int px, const char *text)
{
    if (px < 1 || !text) return 0;
    return f->builtin ? easy_text(NULL, 0, 0, px, RGB_BLACK, text, 0)
                      : ttf_text(NULL, f, 0, 0, px, RGB_BLACK, text, 0);
}

int render_legend(Canvas *c, const RenderFont *f, int x, int y, int w, int h, int px,
                  const char *lo, const char *hi)
{
    if (w < 2 || h < 1) return 0;
    for (int i = 0; i < w; i++)
        render_fill_rect(c, x + i, y, x + i + 1, y + h, render_cmap_rgb((float)i / (float)(w - 1)));
    render_rect_outline(c, x - 1, y - 1, x + w + 1, y + h + 1, 1, (Rgb){64, 64, 64});
    int ty = y + h + 3;
    if (lo) render_text(c, f, x, ty, px, RGB_BLACK, lo);
    if (hi) render_text(c, f, x + w - render_text_width(f, px, hi), ty, px, RGB_BLACK, hi);
    return h + 3 + render_line_height(px);
}

/* ==== output ============================================================= */

unsigned char *render_png_bytes(const Canvas *c, int *len, GlmError *err)
{
    *len = 0;
    /* canvas_init's limits keep every canvas well inside png.h's and the
     * PNG below 2 GB, so the only failure left is memory. */
    size_t cap = png_work_size(c->w, c->h), n;
    uint8_t *work = cap ? malloc(cap) : NULL;
    if (!work) {
        glm_fail(err, GLM_ENOMEM, "out of memory encoding a %dx%d PNG", c->w, c->h);
        return NULL;
    }
    if (png_encode(work, &n, c->px, c->w, c->h, PNG_LEVEL_SMALL, err) != GLM_OK) {
        free(work);
        return NULL;
    }
    GLM_ASSERT(n <= (size_t)INT32_MAX);
    /* The PNG is work[0 .. n); the rest was scratch. */
    uint8_t *png = realloc(work, n);
    *len = (int)n;
    return png ? png : work;
}

int render_png_data_uri(GlmBuf *b, const Canvas *c, GlmError *err)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int len;
    unsigned char *d = render_png_bytes(c, &len, err);
    if (!d) return GLM_ENOMEM;
    static const char head[] = "data:image/png;base64,";
    glm_buf_put(b, head, sizeof head - 1);
    const size_t n = (size_t)len;
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < n) v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        glm_buf_put(b, q, 4);
    }
    free(d);
    return GLM_OK;
}

int render_write_png(const char *path, const Canvas *c, GlmError *err)
{
    int len;
    unsigned char *png = render_png_bytes(c, &len, err);
    if (!png) return GLM_ENOMEM;
    int rc = fileio_write(path, png, (size_t)len, err);
    free(png);
    return rc;
}
