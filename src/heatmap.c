/* heatmap.c - layout of the attention figure (panels, text bands, header
 * with legend) and the HTML page, on the primitives of render.h.
 *
 * Not here: pixels-level drawing (render.c), the model (search.h). */
#include "heatmap.h"

#include "fileio.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spacing, in pixels, of the figure. */
enum {
    MARGIN = 16,        /* around the figure */
    GAP = 14,           /* between panels, both ways */
    TEXT_PAD = 6,       /* between a panel's image and its text */
    CAPTION_LINES = 4,  /* the input panel's caption wraps to at most this many lines */
    LEGEND_BAR_H = 12,
    DEFAULT_MIN_PANEL = 192,
    DEFAULT_MAX_PANEL = 512,
};

/* How strongly the colour map covers the grey image: enough for the map to
 * read clearly, little enough that the shapes under it stay visible. */
static const float HEAT_OPACITY = 0.65f;

/* The colour of a weight: sqrt(alpha) on the map's [0, 1], the same in
 * every panel. An absolute scale keeps panels comparable and shows a flat
 * alpha as flat (normalising by each step's maximum would paint a uniform
 * 1/L bright yellow everywhere); the square root spreads the small weights
 * a grid of L regions mostly has (1/16 sits at a quarter of the map). */
static float heat_scale(float a) { return sqrtf(GLM_MAX(a, 0.0f)); }

static const Rgb OUTLINE_OUTER = {255, 24, 24};   /* red: contrasts with every colour of the map */
static const Rgb OUTLINE_INNER = {255, 255, 255}; /* white: separates the red from dark violet */
static const Rgb TEXT_MAIN = {20, 20, 20};
static const Rgb TEXT_DIM = {90, 90, 90};
static const Rgb PAPER = {255, 255, 255};
/* The prior's panel (heatmap.h). */
static const char PRIOR_TITLE[] = "what the model expects to matter";

HeatmapLayout heatmap_default_layout(void) { return (HeatmapLayout){.cols = 6, .panel = 0}; }

int heatmap_check_input(const HeatmapInput *in, GlmError *err)
{
    const char *name = in->name ? in->name : "heatmap";
    if (!in->img || !in->img->data || in->img->w < 1 || in->img->h < 1)
        return glm_fail(err, GLM_EINPUT, "%s: no image", name);
    if (in->grid < 1 || in->grid > HEATMAP_MAX_GRID)
        return glm_fail(err, GLM_EINPUT, "%s: grid %d out of range [1, %d]", name, in->grid,
                        HEATMAP_MAX_GRID);
    if (in->n_words < 0 || in->n_words > HEATMAP_MAX_WORDS)
        return glm_fail(err, GLM_EINPUT, "%s: %d words, at most %d", name, in->n_words,
                        HEATMAP_MAX_WORDS);
    const int L = in->grid * in->grid;
    if (in->n_words > 0 && (!in->words || !in->p || !in->region || !in->alpha || !in->boxes))
        return glm_fail(err, GLM_EINPUT, "%s: words, probabilities, regions, alpha or boxes missing",
                        name);
    for (int t = 0; t < in->n_words; t++) {
        if (!in->words[t]) return glm_fail(err, GLM_EINPUT, "%s: word %d missing", name, t);
        if (!(in->p[t] >= 0.0f && in->p[t] <= 1.0f))
            return glm_fail(err, GLM_EINPUT, "%s: word %d: probability %g not in [0, 1]", name, t,
                            (double)in->p[t]);
        if (in->region[t] < 0 || in->region[t] >= L)
            return glm_fail(err, GLM_EINPUT, "%s: word %d: region %d not in [0, %d)", name, t,
                            in->region[t], L);
        for (int i = 0; i < L; i++) {
            float a = in->alpha[(size_t)t * L + i];
            if (!(a >= 0.0f) || !isfinite(a))
                return glm_fail(err, GLM_EINPUT, "%s: word %d: alpha[%d] = %g", name, t, i, (double)a);
        }
    }
    if (in->prior)
        for (int i = 0; i < L; i++)
            if (!(in->prior[i] >= 0.0f) || !isfinite(in->prior[i]))
                return glm_fail(err, GLM_EINPUT, "%s: prior[%d] = %g", name, i, (double)in->prior[i]);
    if (in->boxes)
        for (int i = 0; i < L; i++) {
            const int *b = in->boxes + 4 * i;
            if (b[0] < 0 || b[1] < 0 || b[0] >= b[2] || b[1] >= b[3] || b[2] > in->img->w ||
                b[3] > in->img->h)
                return glm_fail(err, GLM_EINPUT, "%s: region %d box (%d,%d)-(%d,%d) not inside the %dx%d image",
                                name, i, b[0], b[1], b[2], b[3], in->img->w, in->img->h);
        }
    return GLM_OK;
}

/* ==== geometry =========================================================== */

typedef struct {
    int pw, ph;              /* a panel's image area */
    int px_title, px_word, px_small, px_caption;
    int band_h;              /* text band under every panel */
    int header_h;            /* title and legend */
    int cols, rows, panels;
    int w, h;                /* the whole figure */
    int thick;               /* outline width */
} Geometry;

/* Splits text at spaces into at most max_lines lines no wider than width
 * (a single longer word gets a line of its own). starts/lens: (max_lines).
 * When text does not fit, the last line is cut and *cut set. Returns the
 * number of lines. */
static int wrap_text(int *starts, int *lens, int *cut, const RenderFont *font, int px, int width,
                     const char *text, int max_lines)
{
    int n = 0, pos = 0, len = (int)strlen(text);
    char line[1024];
    *cut = 0;
    while (pos < len && n < max_lines) {
        while (pos < len && text[pos] == ' ') pos++;
        if (pos >= len) break;
        int end = pos, best = -1;
        while (end <= len) {
            int e = end;
            while (e < len && text[e] != ' ') e++;
            int l = GLM_MIN(e - pos, (int)sizeof line - 1);
            memcpy(line, text + pos, (size_t)l);
            line[l] = 0;
            if (best >= 0 && render_text_width(font, px, line) > width) break;
            best = e;
            if (e >= len) break;
            end = e + 1;
        }
        starts[n] = pos;
        lens[n] = best - pos;
        n++;
        pos = best;
    }
    while (pos < len && text[pos] == ' ') pos++;
    if (pos < len) *cut = 1;
    return n;
}

static Geometry geometry(const HeatmapInput *in, const HeatmapLayout *lay, const RenderFont *font)
{
    Geometry g;
    const int iw = in->img->w, ih = in->img->h, side = GLM_MAX(iw, ih);
    int P = lay->panel;
    if (P <= 0) P = side >= DEFAULT_MIN_PANEL ? GLM_MIN(side, DEFAULT_MAX_PANEL)
                                              : side * ((DEFAULT_MIN_PANEL + side - 1) / side);
    g.pw = GLM_MAX(1, (int)lround((double)P * iw / side));
    g.ph = GLM_MAX(1, (int)lround((double)P * ih / side));
    /* Text sizes follow the panel so a bigger panel is not a page of tiny text. */
    g.px_word = GLM_MIN(28, GLM_MAX(14, P / 10));
    g.px_small = GLM_MIN(20, GLM_MAX(11, P / 14));
    g.px_caption = GLM_MIN(22, GLM_MAX(12, P / 12));
    g.px_title = GLM_MIN(26, GLM_MAX(15, P / 9));
    g.thick = GLM_MAX(1, P / 96);
    g.panels = 1 + (in->prior != NULL) + in->n_words;
    g.cols = GLM_MAX(1, GLM_MIN(lay->cols, g.panels));
    g.rows = (g.panels + g.cols - 1) / g.cols;

    int starts[CAPTION_LINES], lens[CAPTION_LINES], cut;
    int lines = in->caption ? wrap_text(starts, lens, &cut, font, g.px_caption, g.pw, in->caption,
                                        CAPTION_LINES)
                            : 0;
    int word_band = render_line_height(g.px_word) + render_line_height(g.px_small);
    int cap_band = GLM_MAX(1, lines) * render_line_height(g.px_caption);
    g.band_h = TEXT_PAD + GLM_MAX(word_band, cap_band);
    g.header_h = MARGIN + render_line_height(g.px_title) + 6 + LEGEND_BAR_H + 3 +
                 render_line_height(g.px_small) + GAP;
    g.w = 2 * MARGIN + g.cols * g.pw + (g.cols - 1) * GAP;
    g.h = g.header_h + g.rows * (g.ph + g.band_h) + (g.rows - 1) * GAP + MARGIN;
    return g;
}

static HeatmapPanel panel_at(const Geometry *g, int oy, int k)
{
    HeatmapPanel p;
    int row = k / g->cols, col = k % g->cols;
    p.x = MARGIN + col * (g->pw + GAP);
    p.y = oy + g->header_h + row * (g->ph + g->band_h + GAP);
    p.w = g->pw;
    p.h = g->ph;
    p.text_y = p.y + p.h;
    p.text_h = g->band_h;
    return p;
}

HeatmapPanel heatmap_panel(const HeatmapInput *in, const HeatmapLayout *lay, const RenderFont *font,
                           int k)
{
    Geometry g = geometry(in, lay, font);
    return panel_at(&g, 0, k);
}

/* Region box scaled from image pixels to a w x h area at (x, y). */
static void scale_box(int *x0, int *y0, int *x1, int *y1, const HeatmapInput *in, int region, int x,
                      int y, int w, int h)
{
    const int *b = in->boxes + 4 * region;
    *x0 = x + (int)((long)b[0] * w / in->img->w);
    *y0 = y + (int)((long)b[1] * h / in->img->h);
    *x1 = x + (int)((long)b[2] * w / in->img->w);
    *y1 = y + (int)((long)b[3] * h / in->img->h);
}

void heatmap_region_rect(int *x0, int *y0, int *x1, int *y1, const HeatmapInput *in,
                         const HeatmapLayout *lay, const RenderFont *font, int k, int region)
{
    Geometry g = geometry(in, lay, font);
    HeatmapPanel p = panel_at(&g, 0, k);
    scale_box(x0, y0, x1, y1, in, region, p.x, p.y, p.w, p.h);
}

/* ==== drawing ============================================================ */

/* Word t's picture at (x, y): grey image, alpha_t as colour, chosen region
 * outlined. heat: (g->ph, g->pw) scratch. */
/* Grey image and the weights w (L) as colour at (x, y). */
static void draw_heat_image(Canvas *c, int x, int y, const Geometry *g, const HeatmapInput *in, const float *w,
                            float *heat)
{
    render_image(c, in->img, x, y, g->pw, g->ph, 1);
    render_upsample_grid(heat, w, in->grid, g->pw, g->ph);
    for (size_t i = 0, n = (size_t)g->pw * g->ph; i < n; i++) heat[i] = heat_scale(heat[i]);
    render_heat(c, x, y, heat, g->pw, g->ph, HEAT_OPACITY);
}

static void draw_word_image(Canvas *c, int x, int y, const Geometry *g, const HeatmapInput *in, int t,
                            float *heat)
{
    draw_heat_image(c, x, y, g, in, in->alpha + (size_t)t * in->grid * in->grid, heat);
    int x0, y0, x1, y1;
    scale_box(&x0, &y0, &x1, &y1, in, in->region[t], x, y, g->pw, g->ph);
    render_rect_outline(c, x0, y0, x1, y1, g->thick, OUTLINE_OUTER);
    render_rect_outline(c, x0 + g->thick, y0 + g->thick, x1 - g->thick, y1 - g->thick, g->thick,
                        OUTLINE_INNER);
}

static float max_alpha(const HeatmapInput *in, int t)
{
    const int L = in->grid * in->grid;
    float m = 0.0f;
    for (int i = 0; i < L; i++) m = GLM_MAX(m, in->alpha[(size_t)t * L + i]);
    return m;
}

static const char *alpha_symbol(const RenderFont *font)
{
    return render_font_is_builtin(font) ? "a" : "\xce\xb1";   /* U+03B1 alpha */
}

static void draw_figure(Canvas *c, int oy, const Geometry *g, const HeatmapInput *in,
                        const RenderFont *font, float *heat)
{
    char buf[256];
    /* Header: the name, then the legend and the key to the outline. */
    int y = oy + MARGIN;
    render_text(c, font, MARGIN, y, g->px_title, TEXT_MAIN, in->name ? in->name : "");
    y += render_line_height(g->px_title) + 6;
    int x = MARGIN;
    snprintf(buf, sizeof buf, "attention %s_t  ", alpha_symbol(font));
    x += render_text(c, font, x, y + (LEGEND_BAR_H - g->px_small) / 2, g->px_small, TEXT_DIM, buf);
    int bar_w = GLM_MIN(160, g->w - MARGIN - x);
    if (bar_w >= 40) {
        render_legend(c, font, x, y, bar_w, LEGEND_BAR_H, g->px_small, "0", "1");
        /* Ticks where the square-root scale puts 1/16 and 1/4. */
        static const char *const ticks[] = {"0.0625", "0.25"};
        static const float at[] = {0.0625f, 0.25f};
        for (int i = 0; i < 2; i++) {
            int tx = x + (int)lroundf(heat_scale(at[i]) * (float)(bar_w - 1));
            render_fill_rect(c, tx, y + LEGEND_BAR_H, tx + 1, y + LEGEND_BAR_H + 3, TEXT_DIM);
            render_text(c, font, tx - render_text_width(font, g->px_small, ticks[i]) / 2,
                        y + LEGEND_BAR_H + 3, g->px_small, TEXT_MAIN, ticks[i]);
        }
        x += bar_w + 20;
        snprintf(buf, sizeof buf, "(square-root scale)");
        int sw = render_text_width(font, g->px_small, buf);
        if (x + sw <= g->w - MARGIN) {
            render_text(c, font, x, y + (LEGEND_BAR_H - g->px_small) / 2, g->px_small, TEXT_DIM, buf);
            x += sw + 20;
        }
    }
    /* The key for the outline, where there is room for it. */
    const char *key = "chosen region";
    int key_w = LEGEND_BAR_H + 6 + render_text_width(font, g->px_small, key);
    if (x + key_w <= g->w - MARGIN) {
        int s = LEGEND_BAR_H + 2;
        render_rect_outline(c, x, y - 1, x + s, y - 1 + s, 2, OUTLINE_OUTER);
        render_rect_outline(c, x + 2, y + 1, x + s - 2, y - 3 + s, 1, OUTLINE_INNER);
        render_text(c, font, x + s + 6, y + (LEGEND_BAR_H - g->px_small) / 2, g->px_small, TEXT_DIM,
                    key);
    }

    /* Panel 0: the input image and the caption. */
    HeatmapPanel p = panel_at(g, oy, 0);
    render_image(c, in->img, p.x, p.y, p.w, p.h, 0);
    if (in->caption) {
        int starts[CAPTION_LINES], lens[CAPTION_LINES], cut;
        int n = wrap_text(starts, lens, &cut, font, g->px_caption, g->pw, in->caption, CAPTION_LINES);
        for (int i = 0; i < n; i++) {
            char line[1024];
            int l = GLM_MIN(lens[i], (int)sizeof line - 5);
            memcpy(line, in->caption + starts[i], (size_t)l);
            strcpy(line + l, cut && i == n - 1 ? " ..." : "");
            render_text(c, font, p.x, p.text_y + TEXT_PAD + i * render_line_height(g->px_caption),
                        g->px_caption, TEXT_MAIN, line);
        }
    }
    /* Panel 1 with a prior: softmax(pi0), no region chosen. */
    if (in->prior) {
        p = panel_at(g, oy, 1);
        draw_heat_image(c, p.x, p.y, g, in, in->prior, heat);
        int starts[2], lens[2], cut;
        const int n = wrap_text(starts, lens, &cut, font, g->px_small, g->pw, PRIOR_TITLE, 2);
        for (int i = 0; i < n; i++) {
            char line[64];
            const int l = GLM_MIN(lens[i], (int)sizeof line - 1);
            memcpy(line, PRIOR_TITLE + starts[i], (size_t)l);
            line[l] = 0;
            render_text(c, font, p.x, p.text_y + TEXT_PAD + i * render_line_height(g->px_small), g->px_small,
                        TEXT_MAIN, line);
        }
    }
    /* Then word t. */
    for (int t = 0; t < in->n_words; t++) {
        p = panel_at(g, oy, heatmap_word_panel(in, t));
        draw_word_image(c, p.x, p.y, g, in, t, heat);
        int ty = p.text_y + TEXT_PAD;
        render_text(c, font, p.x, ty, g->px_word, TEXT_MAIN, in->words[t]);
        ty += render_line_height(g->px_word);
        snprintf(buf, sizeof buf, "p %.2f   max %s %.2f", (double)in->p[t], alpha_symbol(font),
                 (double)max_alpha(in, t));
        render_text(c, font, p.x, ty, g->px_small, TEXT_DIM, buf);
    }
}

int heatmap_render(Canvas *out, const HeatmapInput *ins, int n, const HeatmapLayout *lay,
                   const RenderFont *font, GlmError *err)
{
    out->w = out->h = 0;
    out->px = NULL;
    GLM_ASSERT(font && ins);
    if (n < 1) return glm_fail(err, GLM_EINPUT, "no images to draw");
    if (lay->cols < 1 || lay->panel < 0 || lay->panel > 4096)
        return glm_fail(err, GLM_EINPUT, "layout: %d columns of %d px panels out of range", lay->cols,
                        lay->panel);
    long w = 0, h = 0;
    size_t heat_n = 1;
    for (int i = 0; i < n; i++) {
        int rc = heatmap_check_input(&ins[i], err);
        if (rc) return rc;
        Geometry g = geometry(&ins[i], lay, font);
        w = GLM_MAX(w, g.w);
        h += g.h;
        heat_n = GLM_MAX(heat_n, (size_t)g.pw * g.ph);
        if (h > RENDER_MAX_SIDE) break;   /* canvas_init names the problem */
    }
    int rc = canvas_init(out, (int)GLM_MIN(w, RENDER_MAX_SIDE + 1L), (int)GLM_MIN(h, RENDER_MAX_SIDE + 1L),
                         PAPER, err);
    if (rc) return rc;
    float *heat = glm_malloc_array(heat_n, sizeof(float));   /* (ph, pw) */
    if (!heat) {
        canvas_free(out);
        return glm_fail(err, GLM_ENOMEM, "out of memory for the heat map");
    }
    int oy = 0;
    for (int i = 0; i < n; i++) {
        Geometry g = geometry(&ins[i], lay, font);
        if (i > 0) render_fill_rect(out, MARGIN, oy, out->w - MARGIN, oy + 1, (Rgb){200, 200, 200});
        draw_figure(out, oy, &g, &ins[i], font, heat);
        oy += g.h;
    }
    free(heat);
    return GLM_OK;
}

/* ==== the HTML page ====================================================== */

/* The page is built as text in a GlmBuf (common.h): after a failed
 * allocation every append is a no-op and `failed` is checked once at the end. */
typedef GlmBuf Str;

static void str_put(Str *b, const char *s, size_t n) { glm_buf_put(b, s, n); }

static void str_cat(Str *b, const char *s) { str_put(b, s, strlen(s)); }

/* Text made safe for HTML content and quoted attributes. */
static void str_escape(Str *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': str_cat(b, "&amp;"); break;
        case '<': str_cat(b, "&lt;"); break;
        case '>': str_cat(b, "&gt;"); break;
        case '"': str_cat(b, "&quot;"); break;
        case '\'': str_cat(b, "&#39;"); break;
        default: str_put(b, s, 1);
        }
    }
}

/* Appends "data:image/png;base64,..." of canvas c. */
static int str_png_uri(Str *b, const Canvas *c, GlmError *err) { return render_png_data_uri(b, c, err); }

static void str_hex(Str *b, Rgb c) { glm_buf_printf(b, "#%02x%02x%02x", c.r, c.g, c.b); }

static const char PAGE_STYLE[] =
    "body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#141414;background:#fff}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:17px;margin:0 0 8px}\n"
    ".help{color:#555;margin:0 0 10px}\n"
    ".legend{display:flex;flex-wrap:wrap;align-items:center;gap:8px;color:#555;margin-bottom:18px}\n"
    ".legend span{white-space:nowrap}\n"
    ".bar{display:inline-block;width:160px;height:12px;border:1px solid #444}\n"
    ".key{display:inline-block;width:10px;height:10px;border:2px solid #ff1818;outline:1px solid #fff;outline-offset:-3px}\n"
    "section.cap{margin:0 0 28px;padding-top:14px;border-top:1px solid #ccc}\n"
    "figure{margin:0 0 8px}\n"
    "img.view{image-rendering:pixelated;display:block}\n"
    ".info{color:#333;margin-top:6px;min-height:1.3em}\n"
    "button.w{font:inherit;font-size:17px;margin:2px;padding:3px 8px;border:1px solid #bbb;border-radius:4px;background:#f4f4f4;cursor:pointer}\n"
    "button.w.img{color:#666}\n"
    "button.w.on{background:#2a788e;color:#fff;border-color:#2a788e}\n";

/* Small on purpose: show() puts a word's picture and text in place; the
 * buttons and the arrow keys call it. */
static const char PAGE_SCRIPT[] =
    "(function () {\n"
    "  var current = document.querySelector('section.cap');\n"
    "  function show(sec, step) {\n"
    "    var b = sec.querySelector('button.w[data-step=\"' + step + '\"]');\n"
    "    if (!b) return;\n"
    "    var view = sec.querySelector('img.view');\n"
    "    view.src = b.getAttribute('data-src');\n"
    "    view.setAttribute('data-step', String(step));\n"
    "    sec.querySelector('.info').textContent = b.getAttribute('data-info');\n"
    "    sec.querySelectorAll('button.w').forEach(function (x) { x.classList.toggle('on', x === b); });\n"
    "    current = sec;\n"
    "  }\n"
    "  document.querySelectorAll('section.cap').forEach(function (sec) {\n"
    "    sec.querySelectorAll('button.w').forEach(function (b) {\n"
    "      var step = Number(b.getAttribute('data-step'));\n"
    "      ['mouseenter', 'focus', 'click'].forEach(function (ev) {\n"
    "        b.addEventListener(ev, function () { show(sec, step); });\n"
    "      });\n"
    "    });\n"
    "  });\n"
    "  document.addEventListener('keydown', function (e) {\n"
    "    if (!current || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;\n"
    "    var step = Number(current.querySelector('img.view').getAttribute('data-step'));\n"
    "    var last = Number(current.getAttribute('data-words')) - 1;\n"
    "    step = e.key === 'ArrowRight' ? Math.min(last, step + 1) : Math.max(-1, step - 1);\n"
    "    show(current, step);\n"
    "    e.preventDefault();\n"
    "  });\n"
    "  /* Test hook: page.html#test-click=K clicks word K of the first caption. */\n"
    "  var m = /^#test-click=(\\d+)$/.exec(location.hash);\n"
    "  var first = document.querySelector('section.cap');\n"
    "  if (m && first) {\n"
    "    var b = first.querySelector('button.w[data-step=\"' + m[1] + '\"]');\n"
    "    if (b) b.click();\n"
    "  }\n"
    "})();\n";

static int html_section(Str *b, int idx, const HeatmapInput *in, const Geometry *g, Canvas *panel,
                        float *heat, GlmError *err)
{
    const char *name = in->name ? in->name : "image";
    glm_buf_printf(b, "<section class=\"cap\" id=\"cap%d\" data-words=\"%d\">\n<h2>", idx, in->n_words);
    str_escape(b, name);
    str_cat(b, "</h2>\n");

    /* The input image: the picture shown first and the "image" button's. */
    Str input = {0};
    render_image(panel, in->img, 0, 0, g->pw, g->ph, 0);
    int rc = str_png_uri(&input, panel, err);
    if (!rc && input.failed) rc = glm_fail(err, GLM_ENOMEM, "out of memory for the page");
    if (rc) {
        glm_buf_free(&input);
        return rc;
    }
    glm_buf_printf(b, "<figure><img class=\"view\" id=\"view%d\" data-step=\"-1\" width=\"%d\" height=\"%d\" alt=\"",
               idx, g->pw, g->ph);
    str_escape(b, name);
    str_cat(b, "\" src=\"");
    str_cat(b, (const char *)input.data);
    glm_buf_printf(b, "\">\n<figcaption class=\"info\" id=\"info%d\">", idx);
    str_escape(b, in->caption ? in->caption : "");
    str_cat(b, "</figcaption></figure>\n<p class=\"words\">");

    str_cat(b, "<button class=\"w img on\" data-step=\"-1\" data-info=\"");
    str_escape(b, in->caption ? in->caption : "");
    str_cat(b, "\" data-src=\"");
    str_cat(b, (const char *)input.data);
    str_cat(b, "\">image</button>\n");
    glm_buf_free(&input);
    /* the prior's picture: a button of its own (step -2, out of the arrow keys' way) */
    if (in->prior) {
        draw_heat_image(panel, 0, 0, g, in, in->prior, heat);
        str_cat(b, "<button class=\"w img\" data-step=\"-2\" data-info=\"");
        str_escape(b, PRIOR_TITLE);
        str_cat(b, " (the attention prior, from the image alone)\" data-src=\"");
        if ((rc = str_png_uri(b, panel, err))) return rc;
        str_cat(b, "\">prior</button>\n");
    }

    char info[512];
    for (int t = 0; t < in->n_words; t++) {
        draw_word_image(panel, 0, 0, g, in, t, heat);
        const int r = in->region[t];
        snprintf(info, sizeof info, "%s: p = %.3f, region %d (row %d, col %d), max \xce\xb1 %.3f",
                 in->words[t], (double)in->p[t], r, r / in->grid, r % in->grid,
                 (double)max_alpha(in, t));
        glm_buf_printf(b, "<button class=\"w\" data-step=\"%d\" data-p=\"%.4f\" data-region=\"%d\" data-info=\"",
                   t, (double)in->p[t], r);
        str_escape(b, info);
        str_cat(b, "\" data-src=\"");
        if ((rc = str_png_uri(b, panel, err))) return rc;
        str_cat(b, "\">");
        str_escape(b, in->words[t]);
        str_cat(b, "</button>\n");
    }
    str_cat(b, "</p>\n</section>\n");
    return GLM_OK;
}

int heatmap_write_html(const char *path, const HeatmapInput *ins, int n, const HeatmapLayout *lay,
                       const RenderFont *font, GlmError *err)
{
    GLM_ASSERT(font && ins);
    if (n < 1) return glm_fail(err, GLM_EINPUT, "no images to draw");
    if (lay->cols < 1 || lay->panel < 0 || lay->panel > 4096)
        return glm_fail(err, GLM_EINPUT, "layout: %d columns of %d px panels out of range", lay->cols,
                        lay->panel);
    for (int i = 0; i < n; i++) {
        int rc = heatmap_check_input(&ins[i], err);
        if (rc) return rc;
    }
    Str b = {0};
    str_cat(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>glimpse: where each word looked</title>\n<style>\n");
    str_cat(&b, PAGE_STYLE);
    str_cat(&b, "</style>\n</head>\n<body>\n<h1>glimpse: where each word looked</h1>\n"
                "<p class=\"help\">Hover over or click a word of a caption to see where the model "
                "attended when it wrote it; &larr; and &rarr; step through the words.</p>\n"
                "<div class=\"legend\"><span>attention &alpha;<sub>t</sub>:</span><span>0</span>"
                "<span class=\"bar\" style=\"background:linear-gradient(to right");
    for (int i = 0; i <= 8; i++) {
        str_cat(&b, ", ");
        str_hex(&b, render_cmap_rgb((float)i / 8.0f));
    }
    str_cat(&b, ")\"></span><span>1</span><span>(square-root scale)</span>"
                "<span class=\"key\"></span><span>the region chosen</span></div>\n");

    int rc = GLM_OK;
    for (int i = 0; i < n && rc == GLM_OK; i++) {
        Geometry g = geometry(&ins[i], lay, font);
        Canvas panel;
        float *heat = NULL;
        if ((rc = canvas_init(&panel, g.pw, g.ph, PAPER, err))) break;
        heat = glm_malloc_array((size_t)g.pw * g.ph, sizeof(float));   /* (ph, pw) */
        if (!heat)
            rc = glm_fail(err, GLM_ENOMEM, "out of memory for the heat map");
        else
            rc = html_section(&b, i, &ins[i], &g, &panel, heat, err);
        free(heat);
        canvas_free(&panel);
    }
    if (rc == GLM_OK) {
        str_cat(&b, "<script>\n");
        str_cat(&b, PAGE_SCRIPT);
        str_cat(&b, "</script>\n</body>\n</html>\n");
        if (b.failed)
            rc = glm_fail(err, GLM_ENOMEM, "out of memory for the page");
        else
            rc = fileio_write(path, b.data, b.len, err);
    }
    glm_buf_free(&b);
    return rc;
}
