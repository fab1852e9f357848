/* test_heatmap.c - the attention figure, read back from the PNG it wrote:
 * size, hottest pixels inside the chosen region, the outline, text under
 * every panel (TrueType and built-in font), the colour map, the HTML page
 * (and, where Chromium is installed, a click in a headless browser), and
 * the glimpse-heatmap tool on a tiny random model. */
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

#include "features.h"
#include "heatmap.h"
#include "image.h"
#include "model.h"
#include "render.h"
#include "rng.h"

enum { T_WORDS = 5, G = 4, L = G * G, SIDE = 64 };

/* A synthetic decoder output: alpha_t peaked on the region chosen at t. */
typedef struct {
    Image img;
    const char *words[T_WORDS];
    float p[T_WORDS];
    int region[T_WORDS];
    float alpha[T_WORDS * L];   /* (T, L) */
    int boxes[L * 4];
    HeatmapInput in;
} Synthetic;

static const int CHOSEN[T_WORDS] = {5, 10, 0, 15, 6};

/* grey != 0: a flat mid-grey image, so the blended colour depends on alpha
 * alone; else a picture with a red disc and a blue square. */
static void synthetic(Synthetic *s, int grey)
{
    memset(s, 0, sizeof *s);
    GlmError err;
    if (image_init(&s->img, SIDE, SIDE, &err)) abort();
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            float *px = s->img.data + ((size_t)y * SIDE + x) * 3;
            px[0] = px[1] = px[2] = 0.5f;
            if (grey) continue;
            px[0] = px[1] = px[2] = 0.92f;
            if ((x - 22) * (x - 22) + (y - 24) * (y - 24) < 100) px[0] = 0.9f, px[1] = 0.1f, px[2] = 0.1f;
            if (x >= 40 && x < 56 && y >= 38 && y < 54) px[0] = 0.1f, px[1] = 0.2f, px[2] = 0.9f;
        }
    static const char *const words[T_WORDS] = {"a", "red", "circle", "left", "<end>"};
    for (int t = 0; t < T_WORDS; t++) {
        s->words[t] = words[t];
        s->p[t] = 0.9f - 0.1f * (float)t;
        s->region[t] = CHOSEN[t];
        for (int i = 0; i < L; i++) s->alpha[t * L + i] = 0.4f / (L - 1);
        s->alpha[t * L + CHOSEN[t]] = 0.6f;
    }
    FeatConfig fc = features_default_config();   /* 64-px input, 4x4 grid */
    for (int i = 0; i < L; i++)
        features_region_box(&fc, i / G, i % G, &s->boxes[4 * i], &s->boxes[4 * i + 1],
                            &s->boxes[4 * i + 2], &s->boxes[4 * i + 3]);
    s->in = (HeatmapInput){.img = &s->img, .name = "synthetic.png", .caption = "a red circle left",
                           .n_words = T_WORDS, .words = s->words, .p = s->p, .region = s->region,
                           .alpha = s->alpha, .grid = G, .boxes = s->boxes};
}

/* Renders s, writes the PNG, reads it back (caller frees with stbi_image_free). */
static unsigned char *render_and_read(const Synthetic *s, const HeatmapLayout *lay,
                                      const RenderFont *font, const char *file, int *w, int *h)
{
    GlmError err;
    Canvas c;
    if (heatmap_render(&c, &s->in, 1, lay, font, &err)) {
        test_failed(__FILE__, __LINE__, "heatmap_render: %s", err.msg);
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), file);
    int rc = render_write_png(path, &c, &err);
    int cw = c.w, ch = c.h;
    canvas_free(&c);
    if (rc) {
        test_failed(__FILE__, __LINE__, "render_write_png: %s", err.msg);
        return NULL;
    }
    int comp;
    unsigned char *px = stbi_load(path, w, h, &comp, 3);
    if (px && (*w != cw || *h != ch)) {
        test_failed(__FILE__, __LINE__, "PNG is %dx%d, canvas was %dx%d", *w, *h, cw, ch);
    }
    return px;
}

static const unsigned char *pix(const unsigned char *px, int w, int x, int y)
{
    return px + ((size_t)y * w + x) * 3;
}

static int is_rgb(const unsigned char *p, int r, int g, int b) { return p[0] == r && p[1] == g && p[2] == b; }
static int is_red(const unsigned char *p) { return is_rgb(p, 255, 24, 24); }
static int is_white(const unsigned char *p) { return is_rgb(p, 255, 255, 255); }

static double luminance(const unsigned char *p) { return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]; }

/* The chosen region's box in picture pixels, from the panel's place and the
 * image-pixel box (the panel shows the whole image). */
static void expected_box(int b[4], const Synthetic *s, const HeatmapPanel *p, int region)
{
    const int *ib = s->boxes + 4 * region;
    b[0] = p->x + ib[0] * p->w / SIDE;
    b[1] = p->y + ib[1] * p->h / SIDE;
    b[2] = p->x + ib[2] * p->w / SIDE;
    b[3] = p->y + ib[3] * p->h / SIDE;
}

static RenderFont *font_or_die(int builtin)
{
    GlmError err;
    RenderFont *f = render_font_load(NULL, builtin, &err);
    if (!f) abort();
    return f;
}

TEST(heatmap_png_size_and_panels)
{
    Synthetic s;
    synthetic(&s, 0);
    RenderFont *font = font_or_die(0);
    CHECK(!render_font_is_builtin(font));   /* fonts-dejavu-core is a build dependency */
    HeatmapLayout lay = heatmap_default_layout();
    lay.cols = 4;   /* 6 panels: a row of 4 and a row of 2 */
    int w, h;
    unsigned char *px = render_and_read(&s, &lay, font, "size.png", &w, &h);
    REQUIRE(px);
    HeatmapPanel p0 = heatmap_panel(&s.in, &lay, font, 0);
    /* A 64-px input at a whole multiple >= 192 px: 192. */
    CHECK_EQ_INT(p0.w, 192);
    CHECK_EQ_INT(p0.h, 192);
    HeatmapPanel p3 = heatmap_panel(&s.in, &lay, font, 3), p4 = heatmap_panel(&s.in, &lay, font, 4);
    CHECK_EQ_INT(p4.x, p0.x);          /* panel 4 starts the second row */
    CHECK(p4.y >= p0.text_y + p0.text_h);
    CHECK(p3.x >= p0.x + 3 * p0.w);
    CHECK(w >= 4 * 192 && w < 4 * 192 + 200);
    for (int k = 0; k <= T_WORDS; k++) {
        HeatmapPanel p = heatmap_panel(&s.in, &lay, font, k);
        CHECK(p.x >= 0 && p.y >= 0 && p.x + p.w <= w && p.text_y + p.text_h <= h);
    }
    /* Nearest neighbour: the input panel's pixels come in 3x3 blocks. The
     * red disc's centre pixel (22, 24) is at (66..68, 72..74) in the panel. */
    const unsigned char *c0 = pix(px, w, p0.x + 66, p0.y + 72);
    CHECK(c0[0] > 200 && c0[1] < 60);
    for (int dy = 0; dy < 3; dy++)
        for (int dx = 0; dx < 3; dx++) CHECK(!memcmp(c0, pix(px, w, p0.x + 66 + dx, p0.y + 72 + dy), 3));
    stbi_image_free(px);
    render_font_free(font);
    image_free(&s.img);
}

TEST(heatmap_hottest_pixels_in_chosen_region_with_outline)
{
    Synthetic s;
    synthetic(&s, 1);
    RenderFont *font = font_or_die(0);
    HeatmapLayout lay = heatmap_default_layout();
    int w, h;
    unsigned char *px = render_and_read(&s, &lay, font, "hot.png", &w, &h);
    REQUIRE(px);
    for (int t = 0; t < T_WORDS; t++) {
        HeatmapPanel p = heatmap_panel(&s.in, &lay, font, t + 1);
        int b[4], r[4];
        expected_box(b, &s, &p, s.region[t]);
        heatmap_region_rect(&r[0], &r[1], &r[2], &r[3], &s.in, &lay, font, t + 1, s.region[t]);
        CHECK(!memcmp(b, r, sizeof b));
        /* The hottest pixels: the brightest that are not the outline. */
        double best = -1;
        for (int y = p.y; y < p.y + p.h; y++)
            for (int x = p.x; x < p.x + p.w; x++) {
                const unsigned char *q = pix(px, w, x, y);
                if (!is_red(q) && !is_white(q) && luminance(q) > best) best = luminance(q);
            }
        int hot = 0, hot_inside = 0;
        for (int y = p.y; y < p.y + p.h; y++)
            for (int x = p.x; x < p.x + p.w; x++) {
                const unsigned char *q = pix(px, w, x, y);
                if (is_red(q) || is_white(q) || luminance(q) < best - 1.0) continue;
                hot++;
                hot_inside += x >= b[0] && x < b[2] && y >= b[1] && y < b[3];
            }
        CHECK(hot > 0);
        CHECK_EQ_INT(hot_inside, hot);
        /* The outline: red all along the box's edge, white just inside it,
         * and no red anywhere else in the panel. */
        int edge = 0, red = 0, white_in = 0;
        for (int x = b[0]; x < b[2]; x++) {
            edge += 2;
            red += is_red(pix(px, w, x, b[1])) + is_red(pix(px, w, x, b[3] - 1));
            white_in += is_white(pix(px, w, x, b[1] + 2)) || is_white(pix(px, w, x, b[1] + 3));
        }
        for (int y = b[1]; y < b[3]; y++) {
            edge += 2;
            red += is_red(pix(px, w, b[0], y)) + is_red(pix(px, w, b[2] - 1, y));
        }
        CHECK_EQ_INT(red, edge);
        CHECK(white_in >= (b[2] - b[0]) - 8);
        int stray = 0;
        for (int y = p.y; y < p.y + p.h; y++)
            for (int x = p.x; x < p.x + p.w; x++)
                if (is_red(pix(px, w, x, y)) &&
                    !(x >= b[0] && x < b[2] && y >= b[1] && y < b[3] &&
                      (x < b[0] + 4 || x >= b[2] - 4 || y < b[1] + 4 || y >= b[3] - 4)))
                    stray++;
        CHECK_EQ_INT(stray, 0);
    }
    stbi_image_free(px);
    render_font_free(font);
    image_free(&s.img);
}

/* Dark pixels in the text band under panel k. */
static int text_ink(const unsigned char *px, int w, const HeatmapPanel *p)
{
    int ink = 0;
    for (int y = p->text_y; y < p->text_y + p->text_h; y++)
        for (int x = p->x; x < p->x + p->w; x++) ink += luminance(pix(px, w, x, y)) < 160;
    return ink;
}

static void check_text_bands(int builtin)
{
    Synthetic s;
    synthetic(&s, 0);
    RenderFont *font = font_or_die(builtin);
    CHECK_EQ_INT(render_font_is_builtin(font), builtin);
    HeatmapLayout lay = heatmap_default_layout();
    int w, h;
    unsigned char *px = render_and_read(&s, &lay, font, builtin ? "text-builtin.png" : "text.png", &w, &h);
    REQUIRE(px);
    for (int k = 0; k <= T_WORDS; k++) {
        HeatmapPanel p = heatmap_panel(&s.in, &lay, font, k);
        int ink = text_ink(px, w, &p);
        if (ink < 40) test_failed(__FILE__, __LINE__, "panel %d: %d dark pixels of text", k, ink);
    }
    /* Longer words leave more ink: "circle" (panel 3) against "a" (panel 1). */
    HeatmapPanel p1 = heatmap_panel(&s.in, &lay, font, 1), p3 = heatmap_panel(&s.in, &lay, font, 3);
    CHECK(text_ink(px, w, &p3) > text_ink(px, w, &p1));
    stbi_image_free(px);
    render_font_free(font);
    image_free(&s.img);
}

TEST(heatmap_text_under_every_panel_truetype) { check_text_bands(0); }
TEST(heatmap_text_under_every_panel_builtin_font) { check_text_bands(1); }

TEST(render_font_missing_falls_back)
{
    GlmError err;
    RenderFont *f = render_font_load("/nonexistent/font.ttf", 0, &err);
    REQUIRE(f);
    CHECK(render_font_is_builtin(f));
    CHECK_STR_CONTAINS(render_font_note(f), "/nonexistent/font.ttf");
    Canvas c;
    REQUIRE(canvas_init(&c, 120, 30, RGB_WHITE, &err) == GLM_OK);
    int adv = render_text(&c, f, 2, 2, 16, RGB_BLACK, "abc 123 \xce\xb1");
    CHECK(adv > 20 && adv == render_text_width(f, 16, "abc 123 \xce\xb1"));
    int ink = 0;
    for (int i = 0; i < c.w * c.h; i++) ink += c.px[3 * i] < 128;
    CHECK(ink > 30);
    canvas_free(&c);
    render_font_free(f);
    /* A file that is not a font also falls back. */
    char path[512];
    snprintf(path, sizeof path, "%s/not-a-font.ttf", test_tmpdir());
    FILE *fp = fopen(path, "w");
    REQUIRE(fp);
    fputs("this is not a TrueType font at all", fp);
    fclose(fp);
    f = render_font_load(path, 0, &err);
    REQUIRE(f);
    CHECK(render_font_is_builtin(f));
    render_font_free(f);
}

/* Relative luminance of sRGB values in [0, 1] (linearised). */
static double rel_luminance(const float c[3])
{
    double l[3];
    for (int i = 0; i < 3; i++)
        l[i] = c[i] <= 0.04045 ? c[i] / 12.92 : pow((c[i] + 0.055) / 1.055, 2.4);
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}

TEST(render_cmap_monotonic_and_matches_design)
{
    float prev[3], cur[3], d[3];
    render_cmap(prev, 0.0f);
    for (int i = 1; i <= 512; i++) {
        render_cmap(cur, (float)i / 512.0f);
        if (!(rel_luminance(cur) > rel_luminance(prev)))
            test_failed(__FILE__, __LINE__, "luminance falls at t = %g", i / 512.0);
        memcpy(prev, cur, sizeof cur);
    }
    /* The table is the OKLab design sampled at t = i/31, printed with 4
     * decimals; between the points the straight segments stay within 0.02
     * (5/255) of the curve, which bends most at the yellow end. */
    for (int i = 0; i < RENDER_CMAP_POINTS; i++) {
        float t = (float)i / (RENDER_CMAP_POINTS - 1);
        render_cmap(cur, t);
        render_cmap_design(d, t);
        for (int k = 0; k < 3; k++) CHECK_NEAR(cur[k], d[k], 1e-4);
    }
    double worst = 0;
    for (int i = 0; i <= 3100; i++) {
        float t = (float)i / 3100.0f;
        render_cmap(cur, t);
        render_cmap_design(d, t);
        for (int k = 0; k < 3; k++) worst = fmax(worst, fabs(cur[k] - d[k]));
    }
    CHECK(worst < 0.02);
    /* Dark violet at 0, yellow at 1; clamped outside and for NaN. */
    render_cmap(cur, -1.0f);
    CHECK(cur[2] > cur[1] && rel_luminance(cur) < 0.05);
    render_cmap(cur, 2.0f);
    CHECK(cur[0] > 0.8f && cur[1] > 0.8f && cur[2] < 0.3f);
    render_cmap(cur, NAN);
    render_cmap(d, 0.0f);
    CHECK(!memcmp(cur, d, sizeof cur));
}

TEST(render_upsample_grid_bilinear)
{
    const float grid[4] = {0.0f, 1.0f, 2.0f, 3.0f};   /* (2, 2) */
    float out[8 * 8];                                 /* (8, 8) */
    render_upsample_grid(out, grid, 2, 8, 8);
    /* Cell centres are at pixel 2 and 6 (3.5 - 0.5 of 4-px cells: the
     * centre of pixels 1 and 2, and of 5 and 6). Corners hold the values. */
    CHECK_NEAR(out[0], 0.0f, 1e-6);
    CHECK_NEAR(out[7], 1.0f, 1e-6);
    CHECK_NEAR(out[7 * 8], 2.0f, 1e-6);
    CHECK_NEAR(out[63], 3.0f, 1e-6);
    /* Halfway between the centres: the mean of the four. */
    CHECK_NEAR(0.25f * (out[3 * 8 + 3] + out[3 * 8 + 4] + out[4 * 8 + 3] + out[4 * 8 + 4]), 1.5f, 1e-5);
    /* Along a row it rises monotonically. */
    for (int x = 1; x < 8; x++) CHECK(out[3 * 8 + x] >= out[3 * 8 + x - 1]);
    /* G = 1 gives a constant. */
    float one = 0.25f;
    render_upsample_grid(out, &one, 1, 8, 8);
    for (int i = 0; i < 64; i++) CHECK_NEAR(out[i], 0.25f, 1e-7);
}

TEST(render_primitives_clamp_to_canvas)
{
    GlmError err;
    Canvas c;
    REQUIRE(canvas_init(&c, 10, 8, RGB_WHITE, &err) == GLM_OK);
    render_rect_outline(&c, -5, -5, 5, 4, 2, RGB_BLACK);    /* partly outside */
    render_fill_rect(&c, 20, 20, 30, 30, RGB_BLACK);         /* wholly outside */
    render_rect_outline(&c, 8, 6, 100, 100, 1, RGB_BLACK);
    CHECK(canvas_at(&c, 3, 2)[0] == 0);     /* right side of the first box, x in [3, 5) */
    CHECK(canvas_at(&c, 4, 3)[0] == 0);
    CHECK(canvas_at(&c, 2, 1)[0] == 255);   /* inside it, outside the outline */
    CHECK(canvas_at(&c, 9, 7)[0] == 255);   /* inside the second box, its outline is off-canvas */
    CHECK(canvas_at(&c, 8, 6)[0] == 0);
    canvas_free(&c);
    CHECK_EQ_INT(canvas_init(&c, 0, 5, RGB_WHITE, &err), GLM_EINPUT);
    CHECK(c.px == NULL);
}

TEST(heatmap_rejects_bad_input)
{
    Synthetic s;
    synthetic(&s, 1);
    GlmError err;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_OK);
    s.region[2] = L;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "word 2: region 16");
    s.region[2] = 0;
    s.alpha[3 * L + 1] = NAN;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    s.alpha[3 * L + 1] = 0.0f;
    s.p[0] = 1.5f;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    s.p[0] = 0.5f;
    s.boxes[2] = SIDE + 1;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    Canvas c;
    RenderFont *font = font_or_die(1);
    CHECK_EQ_INT(heatmap_render(&c, &s.in, 1, &(HeatmapLayout){6, 0}, font, &err), GLM_EINPUT);
    CHECK(c.px == NULL);
    s.boxes[2] = 20;
    CHECK_EQ_INT(heatmap_render(&c, &s.in, 1, &(HeatmapLayout){0, 0}, font, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "columns");
    render_font_free(font);
    image_free(&s.img);
}

TEST(render_write_png_unwritable_leaves_nothing)
{
    GlmError err;
    Canvas c;
    REQUIRE(canvas_init(&c, 4, 4, RGB_WHITE, &err) == GLM_OK);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/no-such-dir", test_tmpdir());
    snprintf(path, sizeof path, "%s/out.png", dir);
    CHECK_EQ_INT(render_write_png(path, &c, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, path);
    CHECK(access(dir, F_OK) != 0);
    /* A directory in the way: the temporary file is removed again. */
    snprintf(path, sizeof path, "%s/a-directory.png", test_tmpdir());
    REQUIRE(mkdir(path, 0755) == 0);
    CHECK(render_write_png(path, &c, &err) != GLM_OK);
    CHECK_EQ_INT(test_run("ls '%s' | grep -c 'a-directory.png.tmp'", test_tmpdir()), 1);  /* grep: no match */
    canvas_free(&c);
}

TEST(heatmap_contact_sheet_stacks_figures)
{
    Synthetic a, b;
    synthetic(&a, 0);
    synthetic(&b, 1);
    b.in.n_words = 2;
    RenderFont *font = font_or_die(0);
    HeatmapLayout lay = heatmap_default_layout();
    GlmError err;
    Canvas one, two, sheet;
    HeatmapInput both[2] = {a.in, b.in};
    REQUIRE(heatmap_render(&one, &a.in, 1, &lay, font, &err) == GLM_OK);
    REQUIRE(heatmap_render(&two, &b.in, 1, &lay, font, &err) == GLM_OK);
    REQUIRE(heatmap_render(&sheet, both, 2, &lay, font, &err) == GLM_OK);
    CHECK_EQ_INT(sheet.w, GLM_MAX(one.w, two.w));
    CHECK_EQ_INT(sheet.h, one.h + two.h);
    /* The first figure is drawn the same on the sheet. */
    int same = 1;
    for (int y = 0; y < one.h && same; y++) same = !memcmp(canvas_at(&sheet, 0, y), canvas_at(&one, 0, y), (size_t)one.w * 3);
    CHECK(same);
    canvas_free(&one);
    canvas_free(&two);
    canvas_free(&sheet);
    render_font_free(font);
    image_free(&a.img);
    image_free(&b.img);
}

/* ---- the HTML page ------------------------------------------------------ */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static char *write_page(Synthetic *s, RenderFont *font, const char *file, char *path, size_t size)
{
    GlmError err;
    HeatmapLayout lay = heatmap_default_layout();
    snprintf(path, size, "%s/%s", test_tmpdir(), file);
    if (heatmap_write_html(path, &s->in, 1, &lay, font, &err)) {
        test_failed(__FILE__, __LINE__, "heatmap_write_html: %s", err.msg);
        return NULL;
    }
    return test_slurp(path, NULL);
}

TEST(heatmap_html_self_contained_and_escaped)
{
    Synthetic s;
    synthetic(&s, 0);
    s.in.name = "<b>a&b</b>.png";
    s.words[1] = "\"quoted\"";
    RenderFont *font = font_or_die(0);
    char path[512];
    char *html = write_page(&s, font, "page.html", path, sizeof path);
    REQUIRE(html);
    CHECK_STR_CONTAINS(html, "&lt;b&gt;a&amp;b&lt;/b&gt;.png");
    CHECK(!strstr(html, "<b>a&b"));
    CHECK_STR_CONTAINS(html, ">&quot;quoted&quot;</button>");
    CHECK_EQ_INT(count(html, "<button class=\"w\" data-step="), T_WORDS);
    CHECK_EQ_INT(count(html, "data:image/png;base64,"), T_WORDS + 2);   /* words, image button, view */
    CHECK_STR_CONTAINS(html, "data-region=\"10\"");
    /* Nothing from the network. */
    CHECK(!strstr(html, "http:") && !strstr(html, "https:") && !strstr(html, "src=\"//"));
    free(html);
    render_font_free(font);
    image_free(&s.img);
}

/* The value of attribute attr of the element whose opening tag contains
 * marker (malloc'd), or NULL. */
static char *attr_after(const char *html, const char *marker, const char *attr)
{
    const char *p = strstr(html, marker);
    if (!p) return NULL;
    const char *end = strchr(p, '>');
    char key[64];
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *a = strstr(p, key);
    if (!a || (end && a > end)) return NULL;   /* only this element's attributes */
    a += strlen(key);
    const char *q = strchr(a, '"');
    if (!q) return NULL;
    return strndup(a, (size_t)(q - a));
}

/* Runs headless Chromium on url and leaves the DOM after load in out. */
static int chromium_dump(const char *url, const char *out)
{
    return test_run("timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
                    "--no-first-run --disable-background-networking --disable-component-update "
                    "--disable-sync --user-data-dir='%s/chromium-profile' --dump-dom '%s' > '%s'",
                    test_tmpdir(), url, out);
}

TEST(heatmap_html_click_in_headless_chromium)
{
    if (test_run("command -v chromium") != 0) {
        printf("SKIP heatmap_html_click_in_headless_chromium: chromium is not installed "
               "(tools/install-deps.sh --test installs it)\n");
        return;
    }
    Synthetic s;
    synthetic(&s, 0);
    RenderFont *font = font_or_die(0);
    char path[512], url[600], before[600], after[600];
    char *html = write_page(&s, font, "click.html", path, sizeof path);
    REQUIRE(html);
    /* Without a click the view shows the input image; after clicking word 2
     * it shows word 2's heatmap. */
    snprintf(before, sizeof before, "%s/dom-before.html", test_tmpdir());
    snprintf(after, sizeof after, "%s/dom-after.html", test_tmpdir());
    snprintf(url, sizeof url, "file://%s", path);
    REQUIRE(chromium_dump(url, before) == 0);
    snprintf(url, sizeof url, "file://%s#test-click=2", path);
    REQUIRE(chromium_dump(url, after) == 0);
    char *dom0 = test_slurp(before, NULL), *dom1 = test_slurp(after, NULL);
    REQUIRE(dom0 && dom1);
    char *src0 = attr_after(dom0, "id=\"view0\"", "src");
    char *src1 = attr_after(dom1, "id=\"view0\"", "src");
    char *step1 = attr_after(dom1, "id=\"view0\"", "data-step");
    char *word2 = attr_after(html, "data-step=\"2\" data-p", "data-src");
    REQUIRE(src0 && src1 && step1 && word2);
    CHECK(strcmp(src0, src1) != 0);
    CHECK(strcmp(src1, word2) == 0);
    CHECK(strcmp(step1, "2") == 0);
    CHECK_STR_CONTAINS(dom1, "circle: p = 0.700");   /* the info line shows word 2 */
    free(src0), free(src1), free(step1), free(word2), free(dom0), free(dom1), free(html);
    render_font_free(font);
    image_free(&s.img);
}

/* ---- the glimpse-heatmap tool ------------------------------------------- */

#include <stb_image_write.h>

/* bin/glimpse-heatmap, beside the glimpse binary the runner was given. */
static void tool_path(char *buf, size_t size)
{
    const char *bin = test_glimpse_bin();
    const char *slash = strrchr(bin, '/');
    if (slash)
        snprintf(buf, size, "%.*s/glimpse-heatmap", (int)(slash - bin), bin);
    else
        snprintf(buf, size, "glimpse-heatmap");
}

/* A tiny random model and a 64x64 PNG in the test directory. */
static int tool_fixtures(char *model, char *png, size_t size)
{
    static const char *const words[] = {"<pad>", "<start>", "<end>", "<unk>", "a", "red",
                                        "circle", "blue", "square", "left", "of"};
    ModelConfig cfg = model_default_config();
    cfg.vocab = (int)(sizeof words / sizeof words[0]);
    cfg.max_len = 6;
    Rng rng;
    rng_seed(&rng, 7, 0);
    Model m;
    GlmError err;
    if (model_init(&m, &cfg, words, &rng, &err)) {
        test_failed(__FILE__, __LINE__, "model_init: %s", err.msg);
        return 0;
    }
    snprintf(model, size, "%s/tiny.glm", test_tmpdir());
    int rc = model_save(&m, model, NULL, 0, &err);
    model_free(&m);
    if (rc) {
        test_failed(__FILE__, __LINE__, "model_save: %s", err.msg);
        return 0;
    }
    unsigned char rgb[SIDE * SIDE * 3];
    for (int i = 0; i < SIDE * SIDE; i++) {
        int x = i % SIDE, y = i / SIDE, disc = (x - 22) * (x - 22) + (y - 24) * (y - 24) < 100;
        rgb[3 * i + 0] = disc ? 230 : 235;
        rgb[3 * i + 1] = disc ? 25 : 235;
        rgb[3 * i + 2] = disc ? 25 : 235;
    }
    snprintf(png, size, "%s/disc.png", test_tmpdir());
    return stbi_write_png(png, SIDE, SIDE, 3, rgb, SIDE * 3) != 0;
}

TEST(heatmap_tool_writes_png_and_page)
{
    char tool[512], model[512], png[512], out[600], page[600];
    tool_path(tool, sizeof tool);
    REQUIRE(access(tool, X_OK) == 0);
    REQUIRE(tool_fixtures(model, png, sizeof model));
    snprintf(out, sizeof out, "%s/tool-out.png", test_tmpdir());
    snprintf(page, sizeof page, "%s/tool-page.html", test_tmpdir());
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' --out '%s' --html '%s' --beam 2", tool, model, png, out, page), 0);
    int w, h, comp;
    unsigned char *px = stbi_load(out, &w, &h, &comp, 3);
    REQUIRE(px);
    CHECK(w >= 2 * 192 && h >= 192);   /* the image and at least one word, 192 px each */
    stbi_image_free(px);
    char *html = test_slurp(page, NULL);
    REQUIRE(html);
    CHECK_STR_CONTAINS(html, "disc.png");
    CHECK(count(html, "data:image/png;base64,") >= 3);
    free(html);
    /* Two images without --sheet: one file each, named after the image. */
    char png2[600], base[600], a[700], b[700];
    snprintf(png2, sizeof png2, "%s/other.png", test_tmpdir());
    REQUIRE(test_run("cp '%s' '%s'", png, png2) == 0);
    snprintf(base, sizeof base, "%s/two.png", test_tmpdir());
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' '%s' --out '%s' --cols 3 --panel 128", tool, model, png, png2, base), 0);
    snprintf(a, sizeof a, "%s/two-disc.png", test_tmpdir());
    snprintf(b, sizeof b, "%s/two-other.png", test_tmpdir());
    CHECK(access(a, F_OK) == 0 && access(b, F_OK) == 0);
    CHECK(access(base, F_OK) != 0);
    /* --sheet: both in one. */
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' '%s' --out '%s' --sheet", tool, model, png, png2, base), 0);
    CHECK(access(base, F_OK) == 0);
}

/* Exit 2, one line "glimpse-heatmap: ...naming..." and no output file. */
static void check_bad(const char *what, int status, const char *out, const char *naming)
{
    char errpath[600];
    snprintf(errpath, sizeof errpath, "%s/last.err", test_tmpdir());
    char *msg = test_slurp(errpath, NULL);
    if (status != 2) test_failed(__FILE__, __LINE__, "%s: exit %d, want 2", what, status);
    if (!msg || strncmp(msg, "glimpse-heatmap: ", 17) || !strstr(msg, naming) ||
        strchr(msg, '\n') != msg + strlen(msg) - 1)
        test_failed(__FILE__, __LINE__, "%s: stderr \"%s\", want one line naming %s", what,
                    msg ? msg : "(none)", naming);
    if (access(out, F_OK) == 0) test_failed(__FILE__, __LINE__, "%s: %s was written", what, out);
    free(msg);
}

TEST(heatmap_tool_bad_input_exit_2_nothing_written)
{
    char tool[512], model[512], png[512], out[600], junk[600], nodir[600];
    tool_path(tool, sizeof tool);
    REQUIRE(access(tool, X_OK) == 0);
    REQUIRE(tool_fixtures(model, png, sizeof model));
    snprintf(out, sizeof out, "%s/bad-out.png", test_tmpdir());
    snprintf(junk, sizeof junk, "%s/junk.png", test_tmpdir());
    FILE *f = fopen(junk, "w");
    REQUIRE(f);
    fputs("not a png", f);
    fclose(f);
    check_bad("missing image", test_run("'%s' --model '%s' /nonexistent/x.png --out '%s'", tool, model, out),
              out, "/nonexistent/x.png");
    check_bad("unreadable image", test_run("'%s' --model '%s' '%s' --out '%s'", tool, model, junk, out),
              out, junk);
    check_bad("wrong model file", test_run("'%s' --model '%s' '%s' --out '%s'", tool, png, png, out),
              out, png);
    snprintf(nodir, sizeof nodir, "%s/no-such-dir/out.png", test_tmpdir());
    check_bad("unwritable output", test_run("'%s' --model '%s' '%s' --out '%s'", tool, model, png, nodir),
              nodir, "no-such-dir");
    check_bad("unwritable page", test_run("'%s' --model '%s' '%s' --html '%s'", tool, model, png, nodir),
              nodir, "no-such-dir");
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s'", tool, model, png), 2);   /* no output asked */
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' --out '%s' --beam 0", tool, model, png, out), 2);
    CHECK(access(out, F_OK) != 0);
    /* No temporary file was left anywhere in the directory. */
    CHECK_EQ_INT(test_run("ls '%s' | grep -c tmp-", test_tmpdir()), 1);
}

/* ---- the attention prior's panel (prior.h) -------------------------------- */

/* A prior peaked on region PRIOR_PEAK: the extra panel after the input
 * shows it (hottest pixels in that region, no outline: nothing is chosen),
 * with its title under it; the words move one panel on and keep their
 * outlines. */
enum { PRIOR_PEAK = 9 };

TEST(heatmap_prior_panel_shows_the_prior)
{
    Synthetic s;
    synthetic(&s, 1);
    float prior[L];
    for (int i = 0; i < L; i++) prior[i] = 0.3f / (L - 1);
    prior[PRIOR_PEAK] = 0.7f;
    RenderFont *font = font_or_die(0);
    HeatmapLayout lay = heatmap_default_layout();
    int w0, h0, w, h;
    unsigned char *plain = render_and_read(&s, &lay, font, "noprior.png", &w0, &h0);
    REQUIRE(plain);
    stbi_image_free(plain);
    CHECK_EQ_INT(heatmap_word_panel(&s.in, 0), 1);
    s.in.prior = prior;
    CHECK_EQ_INT(heatmap_word_panel(&s.in, 0), 2);
    unsigned char *px = render_and_read(&s, &lay, font, "prior.png", &w, &h);
    REQUIRE(px);
    CHECK(h > h0);   /* 7 panels at 6 per row: a second row */
    HeatmapPanel p = heatmap_panel(&s.in, &lay, font, 1);
    int b[4];
    expected_box(b, &s, &p, PRIOR_PEAK);
    double best = -1;
    int red = 0;
    for (int y = p.y; y < p.y + p.h; y++)
        for (int x = p.x; x < p.x + p.w; x++) {
            const unsigned char *q = pix(px, w, x, y);
            red += is_red(q);
            if (luminance(q) > best) best = luminance(q);
        }
    CHECK_EQ_INT(red, 0);
    int hot = 0, hot_inside = 0;
    for (int y = p.y; y < p.y + p.h; y++)
        for (int x = p.x; x < p.x + p.w; x++) {
            if (luminance(pix(px, w, x, y)) < best - 1.0) continue;
            hot++;
            hot_inside += x >= b[0] && x < b[2] && y >= b[1] && y < b[3];
        }
    CHECK(hot > 0);
    CHECK_EQ_INT(hot_inside, hot);
    CHECK(text_ink(px, w, &p) > 20);   /* "what the model expects to matter" */
    /* every word panel still outlines its chosen region */
    for (int t = 0; t < T_WORDS; t++) {
        HeatmapPanel q = heatmap_panel(&s.in, &lay, font, heatmap_word_panel(&s.in, t));
        expected_box(b, &s, &q, s.region[t]);
        CHECK(is_red(pix(px, w, b[0], b[1])) && is_red(pix(px, w, b[2] - 1, b[3] - 1)));
    }
    stbi_image_free(px);
    /* a bad prior is bad input */
    GlmError err;
    prior[3] = -0.1f;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "prior[3]");
    prior[3] = NAN;
    CHECK_EQ_INT(heatmap_check_input(&s.in, &err), GLM_EINPUT);
    prior[3] = 0.01f;
    /* the page gets a "prior" button with its own picture */
    char path[600];
    char *html = write_page(&s, font, "prior.html", path, sizeof path);
    REQUIRE(html);
    CHECK_EQ_INT(count(html, ">prior</button>"), 1);
    CHECK_STR_CONTAINS(html, "what the model expects to matter");
    CHECK_EQ_INT(count(html, "data:image/png;base64,"), 2 + 1 + T_WORDS);   /* view + image button, prior, words */
    free(html);
    s.in.prior = NULL;
    html = write_page(&s, font, "noprior.html", path, sizeof path);
    REQUIRE(html);
    CHECK_EQ_INT(count(html, ">prior</button>"), 0);
    free(html);
    render_font_free(font);
    image_free(&s.img);
}

/* The tool: a model with a prior gets the panel (and the page its button);
 * caption --json gives the prior per region, a distribution over the L
 * regions; a model without one has neither. */
TEST(heatmap_tool_and_caption_json_show_the_prior)
{
    char tool[512], model[512], png[512], pmodel[600], page[600], out[600];
    tool_path(tool, sizeof tool);
    REQUIRE(access(tool, X_OK) == 0);
    REQUIRE(tool_fixtures(model, png, sizeof model));
    Model m;
    GlmError err;
    REQUIRE(model_load(&m, model, &err) == GLM_OK);
    ModelConfig cfg = m.cfg;
    cfg.prior = 1;
    Model mp;
    Rng rng;
    rng_seed(&rng, 7, 0);
    REQUIRE(model_init(&mp, &cfg, (const char *const *)m.words, &rng, &err) == GLM_OK);
    for (int k = 0; k < cfg.att; k++) mp.p.prior_v[k] = 4.0f * (rng_uniform(&rng) - 0.5f);   /* not flat */
    snprintf(pmodel, sizeof pmodel, "%s/tiny-prior.glm", test_tmpdir());
    REQUIRE(model_save(&mp, pmodel, NULL, 0, &err) == GLM_OK);
    model_free(&mp);
    model_free(&m);
    snprintf(page, sizeof page, "%s/prior-page.html", test_tmpdir());
    snprintf(out, sizeof out, "%s/prior-out.png", test_tmpdir());
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' --out '%s' --html '%s'", tool, pmodel, png, out, page), 0);
    char *html = test_slurp(page, NULL);
    REQUIRE(html);
    CHECK_EQ_INT(count(html, ">prior</button>"), 1);
    free(html);
    CHECK_EQ_INT(test_run("'%s' --model '%s' '%s' --html '%s'", tool, model, png, page), 0);
    html = test_slurp(page, NULL);
    REQUIRE(html);
    CHECK_EQ_INT(count(html, ">prior</button>"), 0);
    free(html);

    const char *bin = test_glimpse_bin();
    char last[600];
    snprintf(last, sizeof last, "%s/last.out", test_tmpdir());
    CHECK_EQ_INT(test_run("%s caption --model '%s' --json '%s'", bin, pmodel, png), 0);
    char *json = test_slurp(last, NULL);
    REQUIRE(json);
    const char *at = strstr(json, "\"prior\":[");
    REQUIRE(at);
    at += strlen("\"prior\":[");
    double sum = 0, mx = 0;
    int n = 0;
    char *end;
    for (;;) {
        const double v = strtod(at, &end);
        if (end == at) break;
        CHECK(v >= 0);
        sum += v, mx = v > mx ? v : mx, n++;
        at = end;
        if (*at != ',') break;
        at++;
    }
    CHECK_EQ_INT(n, features_regions(&cfg.feat));
    CHECK_NEAR(sum, 1.0, 1e-4);
    CHECK(mx > 1.5 / n);   /* prior_v is not 0: the prior is not flat */
    free(json);
    CHECK_EQ_INT(test_run("%s caption --model '%s' --json '%s'", bin, model, png), 0);
    json = test_slurp(last, NULL);
    REQUIRE(json);
    CHECK(strstr(json, "\"prior\"") == NULL);
    free(json);
    /* glimpse info says which has one */
    CHECK_EQ_INT(test_run("%s info '%s'", bin, pmodel), 0);
    json = test_slurp(last, NULL);
    REQUIRE(json);
    CHECK_STR_CONTAINS(json, "attention prior yes");
    free(json);
    CHECK_EQ_INT(test_run("%s info models/shapes.glm", bin), 0);
    json = test_slurp(last, NULL);
    REQUIRE(json);
    CHECK_STR_CONTAINS(json, "attention prior none");
    free(json);
}
