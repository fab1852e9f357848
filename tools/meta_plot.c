/* meta_plot.c - glimpse-meta_plot: the adaptation curves of `glimpse meta
 * eval --csv` as one PNG (render.h), for docs/meta.md and `make meta`.
 *
 *     glimpse-meta_plot --out curves.png [--bar-order X] [--bar-grounding X] \
 *         --panel "held out: bt" random=a1.csv,a2.csv joint=b1.csv reptile=c1.csv \
 *         --panel "held out: colour" ...
 *
 * One column per panel, two rows: in-order object accuracy (top) and
 * grounding (bottom) against adaptation steps, each in [0, 1]. A series
 * LABEL=FILE[,FILE...] is drawn as the mean over its files (seeds) with a
 * pale band from their minimum to their maximum; the files must share the
 * steps (the shortest decides). The quality bars are dashed lines.
 * Not here: running the experiment (tools/meta_experiment.sh).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "render.h"

#define MAX_PANELS 8
#define MAX_SERIES 6
#define MAX_FILES 16
#define MAX_POINTS 1024

typedef struct {
    char label[64];
    int n_files, n_points;
    double step[MAX_POINTS];
    double val[2][MAX_FILES][MAX_POINTS];   /* [metric][file][point] */
} Series;

typedef struct {
    char title[128];
    int n_series;
    Series series[MAX_SERIES];
} Panel;

static Panel panels[MAX_PANELS];
static int n_panels;

static const Rgb colours[MAX_SERIES] = {
    {120, 120, 120}, {31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {148, 103, 189}, {255, 127, 14},
};

/* Reads one CSV (step,in_order,grounding,exact,nll) into file f of s. */
static int read_csv(Series *s, int f, const char *path)
{
    char *buf;
    size_t len;
    GlmError err;
    if (fileio_read(&buf, &len, path, FILEIO_TEXT_MAX, &err)) {
        cli_error("%s", err.msg);
        return 0;
    }
    int n = 0;
    char *save, *line = strtok_r(buf, "\n", &save);
    for (line = line ? strtok_r(NULL, "\n", &save) : NULL; line && n < MAX_POINTS; line = strtok_r(NULL, "\n", &save)) {
        double st, a, g, e, l;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf", &st, &a, &g, &e, &l) != 5) {
            cli_error("%s: line %d is not step,in_order,grounding,exact,nll", path, n + 2);
            free(buf);
            return 0;
        }
        s->step[n] = st, s->val[0][f][n] = a, s->val[1][f][n] = g;
        n++;
    }
    free(buf);
    if (n == 0) {
        cli_error("%s: no points", path);
        return 0;
    }
    s->n_points = f == 0 ? n : GLM_MIN(s->n_points, n);
    return 1;
}

static int add_series(Panel *p, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || p->n_series >= MAX_SERIES) {
        cli_error("'%s': a series is LABEL=FILE[,FILE...] (at most %d per panel)", arg, MAX_SERIES);
        return 0;
    }
    Series *s = &p->series[p->n_series++];
    snprintf(s->label, sizeof s->label, "%.*s", (int)(eq - arg), arg);
    char files[4096];
    snprintf(files, sizeof files, "%s", eq + 1);
    char *save;
    for (char *f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        if (s->n_files >= MAX_FILES) {
            cli_error("'%s': more than %d files", s->label, MAX_FILES);
            return 0;
        }
        if (!read_csv(s, s->n_files, f)) return 0;
        s->n_files++;
    }
    return s->n_files > 0;
}

/* A line of thickness t from (x0, y0) to (x1, y1); dashed when dash > 0. */
static void line(Canvas *c, double x0, double y0, double x1, double y1, int t, Rgb col, int dash)
{
    const double dx = x1 - x0, dy = y1 - y0;
    const int n = (int)(fabs(dx) > fabs(dy) ? fabs(dx) : fabs(dy)) + 1;
    for (int i = 0; i <= n; i++) {
        if (dash && (i / dash) % 2) continue;
        const int x = (int)(x0 + dx * i / n), y = (int)(y0 + dy * i / n);
        render_fill_rect(c, x - t / 2, y - t / 2, x - t / 2 + t, y - t / 2 + t, col);
    }
}

int main(int argc, char **argv)
{
    cli_set_program("glimpse-meta_plot");
    static const struct option opts[] = {
        {"out", 1, 0, 'o'}, {"panel", 1, 0, 'p'}, {"bar-order", 1, 0, 'a'}, {"bar-grounding", 1, 0, 'g'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *out = NULL;
    double bar[2] = {-1, -1};
    int opt;
    opterr = 0;
    /* '-' keeps the series (non-options) in place, after their --panel */
    while ((opt = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'p':
            if (n_panels >= MAX_PANELS) return cli_usage_error(NULL, "more than %d panels", MAX_PANELS);
            snprintf(panels[n_panels++].title, sizeof panels[0].title, "%s", optarg);
            break;
        case 'a': if (!cli_parse_float("--bar-order", optarg, 0, 1, &bar[0])) return 2; break;
        case 'g': if (!cli_parse_float("--bar-grounding", optarg, 0, 1, &bar[1])) return 2; break;
        case 1:
            if (!n_panels) return cli_usage_error(NULL, "'%s': give --panel TITLE before its series", optarg);
            if (!add_series(&panels[n_panels - 1], optarg)) return 2;
            break;
        case 'h':
            printf("usage: glimpse-meta_plot --out FILE.png [--bar-order X] [--bar-grounding X]\n"
                   "                         (--panel TITLE LABEL=FILE[,FILE...]...)...\n\n"
                   "Draws adaptation curves from `glimpse meta eval --csv` files: one column per\n"
                   "panel, in-order object accuracy above, grounding below; each series the mean\n"
                   "over its files (seeds) with a band from their minimum to their maximum.\n"
                   "  --out FILE          the PNG written (required)\n"
                   "  --panel TITLE       starts a panel; the series after it belong to it\n"
                   "  --bar-order X       dashed line at this in-order accuracy (default: none)\n"
                   "  --bar-grounding X   dashed line at this grounding (default: none)\n"
                   "  --help              this text\n");
            return 0;
        default: return cli_bad_option(NULL, opt, argv);
        }
    }
    if (!out) return cli_usage_error(NULL, "--out FILE is required");
    if (!n_panels) return cli_usage_error(NULL, "give at least one --panel with its series");
    for (int p = 0; p < n_panels; p++)
        if (!panels[p].n_series) return cli_usage_error(NULL, "panel '%s' has no series", panels[p].title);
    if (!cli_can_create(out)) return 2;

    const int PW = 360, PH = 220, ML = 50, MT = 34, GAP = 40, LEG = 30;
    const int W = ML + n_panels * (PW + GAP), H = MT + 2 * (PH + GAP) + LEG;
    GlmError err;
    Canvas c;
    if (canvas_init(&c, W, H, RGB_WHITE, &err)) return cli_report(&err);
    RenderFont *font = render_font_load(NULL, 0, &err);
    if (!font) {
        canvas_free(&c);
        return cli_report(&err);
    }
    const char *rows[2] = {"in-order object accuracy", "grounding"};
    for (int p = 0; p < n_panels; p++) {
        const Panel *pn = &panels[p];
        double xmax = 1;
        for (int s = 0; s < pn->n_series; s++)
            if (pn->series[s].step[pn->series[s].n_points - 1] > xmax) xmax = pn->series[s].step[pn->series[s].n_points - 1];
        const int x0 = ML + p * (PW + GAP);
        render_text(&c, font, x0, 8, 15, RGB_BLACK, pn->title);
        for (int r = 0; r < 2; r++) {
            const int y0 = MT + r * (PH + GAP);
#define PX(st) (x0 + (st) / xmax * PW)
#define PY(v) (y0 + PH - (v) * PH)
            for (int k = 0; k <= 4; k++) {   /* grid and y labels */
                char lab[16];
                line(&c, x0, PY(k / 4.0), x0 + PW, PY(k / 4.0), 1, (Rgb){225, 225, 225}, 0);
                snprintf(lab, sizeof lab, "%.2f", k / 4.0);
                render_text(&c, font, x0 - 36, (int)PY(k / 4.0) - 6, 11, RGB_BLACK, lab);
            }
            for (int k = 0; k <= 4; k++) {   /* x labels */
                char lab[16];
                snprintf(lab, sizeof lab, "%.0f", xmax * k / 4.0);
                render_text(&c, font, (int)PX(xmax * k / 4.0) - 8, y0 + PH + 4, 11, RGB_BLACK, lab);
            }
            render_rect_outline(&c, x0, y0, x0 + PW + 1, y0 + PH + 1, 1, RGB_BLACK);
            render_text(&c, font, x0 + 4, y0 + 4, 12, RGB_BLACK, rows[r]);
            if (r == 1) render_text(&c, font, x0 + PW - 110, y0 + PH + 18, 11, RGB_BLACK, "adaptation steps");
            if (bar[r] >= 0) line(&c, x0, PY(bar[r]), x0 + PW, PY(bar[r]), 1, RGB_BLACK, 6);
            for (int s = 0; s < pn->n_series; s++) {   /* bands first, then the means over them */
                const Series *se = &pn->series[s];
                for (int i = 0; i < se->n_points; i++) {
                    double lo = 1, hi = 0;
                    for (int f = 0; f < se->n_files; f++) {
                        lo = GLM_MIN(lo, se->val[r][f][i]);
                        hi = se->val[r][f][i] > hi ? se->val[r][f][i] : hi;
                    }
                    const double xa = PX(se->step[i]), xb = i + 1 < se->n_points ? PX(se->step[i + 1]) : xa + 2;
                    render_blend_rect(&c, (int)xa, (int)PY(hi), (int)xb, (int)PY(lo) + 1, colours[s], 0.18f);
                }
            }
            for (int s = 0; s < pn->n_series; s++) {
                const Series *se = &pn->series[s];
                double px = 0, py = 0;
                for (int i = 0; i < se->n_points; i++) {
                    double m = 0;
                    for (int f = 0; f < se->n_files; f++) m += se->val[r][f][i];
                    m /= se->n_files;
                    if (i) line(&c, px, py, PX(se->step[i]), PY(m), 2, colours[s], 0);
                    px = PX(se->step[i]), py = PY(m);
                }
            }
#undef PX
#undef PY
        }
    }
    /* legend: the first panel's labels */
    int lx = ML;
    for (int s = 0; s < panels[0].n_series; s++) {
        char lab[96];
        snprintf(lab, sizeof lab, "%s (%d seed%s)", panels[0].series[s].label, panels[0].series[s].n_files,
                 panels[0].series[s].n_files == 1 ? "" : "s");
        render_fill_rect(&c, lx, H - LEG + 6, lx + 20, H - LEG + 10, colours[s]);
        lx += 26 + render_text(&c, font, lx + 26, H - LEG, 13, RGB_BLACK, lab) + 20;
    }
    int rc = render_write_png(out, &c, &err);
    render_font_free(font);
    canvas_free(&c);
    if (rc) return cli_report(&err);
    return 0;
}
