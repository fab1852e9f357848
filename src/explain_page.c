/* explain_page.c - `glimpse explain --html` and `--png`: the walk-through of
 * one REINFORCE update (explain.h) as one self-contained page, per rollout
 * the heatmaps of alpha_t before and after the step (drawn by heatmap.h,
 * inlined as PNG data URIs by render_png_data_uri), then the text; and the
 * same heatmaps as one PNG. No script,
 * style or picture comes from elsewhere. A short script writes, once the
 * page has loaded, the decoded size of every picture into #decoded, so a
 * headless browser can tell that they are really there. */
#include "explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "heatmap.h"
#include "render.h"

#define EXPLAIN_PNG_COLS 9
#define EXPLAIN_PNG_PANEL 128

static void cat(GlmBuf *b, const char *s) { glm_buf_put(b, s, strlen(s)); }

static void escape(GlmBuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': cat(b, "&amp;"); break;
        case '<': cat(b, "&lt;"); break;
        case '>': cat(b, "&gt;"); break;
        case '"': cat(b, "&quot;"); break;
        default: glm_buf_put(b, s, 1);
        }
    }
}

static const char PAGE_STYLE[] =
    "body{font-family:'DejaVu Sans',sans-serif;margin:24px;color:#141414;background:#fff}\n"
    "h1{font-size:22px}h2{font-size:17px}\n"
    "pre{font-family:'DejaVu Sans Mono',monospace;font-size:13px;line-height:1.35;background:#f6f6f6;"
    "padding:10px;overflow-x:auto}\n"
    "figure{margin:0 0 18px}img{image-rendering:pixelated;max-width:100%}\n"
    "figcaption{color:#444;margin-top:4px}\n";

static const char PAGE_SCRIPT[] =
    "window.addEventListener('load', function () {\n"
    "  var out = [];\n"
    "  document.querySelectorAll('img').forEach(function (i) {\n"
    "    out.push(i.id + ' ' + i.naturalWidth + 'x' + i.naturalHeight);\n"
    "  });\n"
    "  document.getElementById('decoded').textContent = out.join('; ');\n"
    "});\n";

/* What heatmap.h needs to draw rollout a, alpha before or after the step;
 * the strings live in *ft (words, caption, title). */
typedef struct {
    const char *words[256];
    char caption[4096];
    char name[300];
} FigureText;

static HeatmapInput figure_input(FigureText *ft, const Explain *e, const ExplainRollout *a, int after, int k,
                                 const Image *img, const char *name, const int *boxes)
{
    const int n = GLM_MIN(a->n, 256);
    size_t at = 0;
    ft->caption[0] = 0;
    for (int t = 0; t < n; t++) {
        ft->words[t] = e->model->words[a->tok[t]];
        if (t < a->words && at < sizeof ft->caption)
            at += (size_t)snprintf(ft->caption + at, sizeof ft->caption - at, "%s%s", t ? " " : "", ft->words[t]);
    }
    snprintf(ft->name, sizeof ft->name, "%s: rollout %d, A = %+.3f, alpha %s the step", name ? name : "image", k,
             a->advantage, after ? "after" : "before");
    return (HeatmapInput){.img = img, .name = ft->name, .caption = ft->caption, .n_words = n, .words = ft->words,
                          .p = a->p, .region = a->region, .alpha = after ? a->alpha_after : a->alpha,
                          .grid = e->model->cfg.feat.grid, .boxes = boxes};
}

/* One heatmap figure of rollout a (alpha before or after) into b. */
static int figure(GlmBuf *b, const Explain *e, const ExplainRollout *a, int after, int k, const Image *img,
                  const char *name, const int *boxes, const RenderFont *font, GlmError *err)
{
    FigureText ft;
    const HeatmapInput in = figure_input(&ft, e, a, after, k, img, name, boxes);
    HeatmapLayout lay = heatmap_default_layout();
    Canvas c;
    int rc = heatmap_render(&c, &in, 1, &lay, font, err);
    if (rc) return rc;
    char head[256];
    snprintf(head, sizeof head, "<figure><img id=\"%s%d\" width=\"%d\" height=\"%d\" alt=\"alpha_t %s the step\" src=\"",
             after ? "after" : "before", k, c.w, c.h, after ? "after" : "before");
    cat(b, head);
    rc = render_png_data_uri(b, &c, err);
    canvas_free(&c);
    if (rc) return rc;
    snprintf(head, sizeof head, "\"><figcaption>rollout %d: &alpha;<sub>t</sub> %s the step (A = %+.4f); "
                                "the sampled region outlined</figcaption></figure>\n",
             k, after ? "after" : "before", a->advantage);
    cat(b, head);
    return GLM_OK;
}

int explain_write_png(const char *path, const Explain *e, const Image *img, const char *name, const int *boxes,
                      const ExplainRollout *rolls, int n, GlmError *err)
{
    GLM_ASSERT(n >= 1 && n <= 2);
    RenderFont *font = render_font_load(NULL, 0, err);
    if (!font) return GLM_ENOMEM;
    FigureText ft[4];
    HeatmapInput ins[4];
    for (int k = 0; k < n; k++)
        for (int after = 0; after < 2; after++)
            ins[2 * k + after] = figure_input(&ft[2 * k + after], e, &rolls[k], after, k + 1, img, name, boxes);
    /* smaller panels, more to a row: four figures of up to T + 1 panels each */
    HeatmapLayout lay = heatmap_default_layout();
    lay.cols = EXPLAIN_PNG_COLS;
    lay.panel = GLM_MAX(img->w, img->h) <= EXPLAIN_PNG_PANEL ? EXPLAIN_PNG_PANEL : 0;
    Canvas c;
    int rc = heatmap_render(&c, ins, 2 * n, &lay, font, err);
    if (!rc) {
        rc = render_write_png(path, &c, err);
        canvas_free(&c);
    }
    render_font_free(font);
    return rc;
}

int explain_write_html(const char *path, const Explain *e, const char *text, const Image *img, const char *name,
                       const int *boxes, const ExplainRollout *rolls, int n, GlmError *err)
{
    RenderFont *font = render_font_load(NULL, 0, err);
    if (!font) return GLM_ENOMEM;
    GlmBuf b = {0};
    cat(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>glimpse explain: one REINFORCE update</title>\n<style>\n");
    cat(&b, PAGE_STYLE);
    cat(&b, "</style>\n</head>\n<body>\n<h1>glimpse explain: one REINFORCE update on ");
    escape(&b, name ? name : "an image");
    cat(&b, "</h1>\n<p>The pictures first (the walk-through in words and numbers is under them): "
            "for each rollout, where each word looked before the step and after it.</p>\n");
    int rc = GLM_OK;
    for (int k = 0; k < n && rc == GLM_OK; k++) {
        char h[160];
        snprintf(h, sizeof h, "<section id=\"roll%d\"><h2>Rollout %d: advantage %+.4f, log &pi;(s) %.4f &rarr; %.4f</h2>\n",
                 k + 1, k + 1, rolls[k].advantage, rolls[k].logpi, rolls[k].logpi_after);
        cat(&b, h);
        rc = figure(&b, e, &rolls[k], 0, k + 1, img, name, boxes, font, err);
        if (!rc) rc = figure(&b, e, &rolls[k], 1, k + 1, img, name, boxes, font, err);
        cat(&b, "</section>\n");
    }
    cat(&b, "<pre id=\"walk\">");
    escape(&b, text);
    cat(&b, "</pre>\n");
    cat(&b, "<p>Decoded pictures: <span id=\"decoded\"></span></p>\n<script>\n");
    cat(&b, PAGE_SCRIPT);
    cat(&b, "</script>\n</body>\n</html>\n");
    if (!rc && b.failed) rc = glm_fail(err, GLM_ENOMEM, "out of memory for the page");
    if (!rc) rc = fileio_write(path, b.data, b.len, err);
    glm_buf_free(&b);
    render_font_free(font);
    return rc;
}
