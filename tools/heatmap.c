/* heatmap.c - glimpse-heatmap: caption images with a trained model and draw,
 * for every word, where the decoder looked (alpha_t as a colour map and the
 * region it chose outlined), as PNG figures and/or one HTML page.
 *
 * The decoding is search.h's (the same as `glimpse caption`): the images are
 * loaded once, described by features.h at the model's input size, decoded
 * together, and each SearchResult becomes a HeatmapInput (heatmap.h) over
 * the image as loaded, the region windows scaled from the model's input
 * size to the image.
 *
 * Every input is checked (images readable, model loadable, output
 * directories writable) before anything is written; outputs go to temporary
 * files renamed into place, so a failure leaves no half-written file.
 * Errors: one line "glimpse-heatmap: FILE: reason"; exit 2 for bad input
 * (unreadable image, wrong model file, unwritable output path), 1 for a
 * failure of the system (out of memory, disk full). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "search.h"
#include "features.h"
#include "heatmap.h"
#include "image.h"
#include "model.h"
#include "prior.h"
#include "render.h"
#include "rng.h"
#include "vocab.h"

#define PROG "glimpse-heatmap"
#define DEFAULT_MODEL "shapes.glm"
#define MAX_IMAGES 256   /* one run; a contact sheet of more is unreadable anyway */

static void help(void)
{
    HeatmapLayout d = heatmap_default_layout();
    printf("usage: " PROG " [options] IMAGE... --out OUT.png\n"
           "       " PROG " [options] IMAGE... --html OUT.html\n"
           "\n"
           "Captions each image and draws where each word looked: the input with its\n"
           "caption, then one panel per word (the end token included) with the attention\n"
           "weights alpha_t as a colour map, the region the model chose outlined in red\n"
           "and white, and the word's probability. A model with an attention prior\n"
           "(train --prior 1) gets one more panel after the input, \"what the model expects\n"
           "to matter\": softmax(pi0), predicted from the image alone.\n"
           "\n"
           "options:\n"
           "  --out FILE.png  the figure; with several images one file per image,\n"
           "                  FILE-NAME.png (NAME: the image's file name without extension),\n"
           "                  unless --sheet (default: none)\n"
           "  --sheet         several images: one contact sheet in FILE.png (default: off)\n"
           "  --html FILE     one self-contained HTML page for all images: click or hover\n"
           "                  a word to see its heatmap, left/right keys step (default: none)\n"
           "  --model FILE    the model (default: %s from $GLIMPSE_MODEL, <bin>/../models\n"
           "                  or <prefix>/share/glimpse/models)\n"
           "  --beam K        beam search width, 1 = greedy (default %d)\n"
           "  --sample        hard attention: draw each word's region from alpha_t instead\n"
           "                  of taking the most likely one (default: off)\n"
           "  --seed S        seed for --sample (default %u)\n"
           "  --cols N        panels per row (default %d)\n"
           "  --panel PX      panel side in pixels (default: a whole multiple of the image\n"
           "                  side, at least 192; larger images as they are, up to 512)\n"
           "  --font FILE     TrueType font for the text, a built-in one when it cannot\n"
           "                  be read (default %s)\n"
           "  -h, --help      this text\n"
           "\n"
           "Exit status: 0 ok, 1 runtime failure, 2 bad usage or bad input.\n",
           DEFAULT_MODEL, CLI_DEFAULT_BEAM, RNG_DEFAULT_SEED, d.cols, RENDER_DEFAULT_FONT);
}

/* "dir/out.png" and "images/cat.jpg" give "dir/out-cat.png"; characters
 * other than letters, digits, '.', '-' and '_' in NAME become '_'. */
static void per_image_path(char *buf, size_t size, const char *out, const char *image, int dup)
{
    const char *base = strrchr(image, '/');
    base = base ? base + 1 : image;
    char name[256];
    size_t n = 0;
    const char *dot = strrchr(base, '.');
    for (const char *c = base; *c && c != dot && n + 1 < sizeof name; c++)
        name[n++] = (strchr("._-", *c) || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z')) ? *c : '_';
    name[n] = 0;
    const char *slash = strrchr(out, '/');
    const char *ext = strrchr(out, '.');
    if (!ext || (slash && ext < slash)) ext = out + strlen(out);
    char suffix[32] = "";
    if (dup > 0) snprintf(suffix, sizeof suffix, "-%d", dup + 1);
    snprintf(buf, size, "%.*s-%s%s%s", (int)(ext - out), out, n ? name : "image", suffix,
             *ext ? ext : ".png");
}

/* The longest side a loaded picture is kept at (or --panel, if larger). */
#define KEEP_SIDE 1024

/* Scales *img down, aspect kept, until its longer side is at most side. */
static int shrink_to(Image *img, int side, GlmError *err)
{
    const int longer = GLM_MAX(img->w, img->h);
    if (longer <= side) return GLM_OK;
    const int w = GLM_MAX(1, (int)((long)img->w * side / longer)), h = GLM_MAX(1, (int)((long)img->h * side / longer));
    Image small;
    int rc = image_resize(&small, img, w, h, err);
    if (rc) return rc;
    image_free(img);
    *img = small;
    return GLM_OK;
}

/* What one image needs to be drawn; the strings point into the model. */
typedef struct {
    Image img;
    const char **words;   /* (T) */
    char *caption;
    int *boxes;           /* (L, 4) */
    float *prior;         /* (L) softmax(pi0), models with an attention prior; else NULL */
} Figure;

/* pi0: (L) the image's attention prior scores, or NULL. */
static int build_input(HeatmapInput *in, Figure *fig, const char *path, const Model *m,
                       const SearchResult *r, const float *pi0, GlmError *err)
{
    const FeatConfig *fc = &m->cfg.feat;
    const int G = fc->grid, n_words = r->len + r->ended;
    fig->words = glm_malloc_array((size_t)n_words + 1, sizeof *fig->words);
    fig->boxes = glm_malloc_array((size_t)G * G, 4 * sizeof(int));
    if (!fig->words || !fig->boxes) return glm_fail(err, GLM_ENOMEM, "out of memory");
    size_t len = 1;
    for (int t = 0; t < n_words; t++) {
        fig->words[t] = m->words[r->words[t]];
        if (t < r->len) len += strlen(fig->words[t]) + 1;
    }
    fig->caption = malloc(len);
    if (!fig->caption) return glm_fail(err, GLM_ENOMEM, "out of memory");
    fig->caption[0] = 0;
    for (int t = 0; t < r->len; t++) {
        if (t) strcat(fig->caption, " ");
        strcat(fig->caption, fig->words[t]);
    }
    /* Region cells (what a region stands for in the grid, and what grounding
     * is measured on; the windows that feed the features overlap them) in
     * the picture's pixels (features_cell_in_picture). The picture drawn is
     * square when the model keeps the aspect ratio (padded as the model saw
     * it, main below), so every cell lands on it; at least one pixel each. */
    const int W = fig->img.w, H = fig->img.h;
    for (int i = 0; i < G * G; i++) {
        int *b = fig->boxes + 4 * i;
        features_cell_in_picture(fc, i / G, i % G, W, H, &b[0], &b[1], &b[2], &b[3]);
        b[0] = GLM_MIN(b[0], W - 1), b[1] = GLM_MIN(b[1], H - 1);
        b[2] = GLM_MAX(b[2], b[0] + 1), b[3] = GLM_MAX(b[3], b[1] + 1);
    }
    *in = (HeatmapInput){.img = &fig->img, .name = path, .caption = fig->caption,
                         .n_words = n_words, .words = fig->words, .p = r->p, .region = r->regions,
                         .alpha = r->alpha, .grid = G, .boxes = fig->boxes};
    if (pi0) {
        if (!(fig->prior = glm_malloc_array((size_t)G * G, sizeof(float)))) return glm_fail(err, GLM_ENOMEM, "out of memory");
        prior_softmax(fig->prior, pi0, G * G);
        in->prior = fig->prior;
    }
    return GLM_OK;
}

int main(int argc, char **argv)
{
    cli_set_program(PROG);
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"html", required_argument, 0, 'H'},
        {"sheet", no_argument, 0, 'S'},       {"model", required_argument, 0, 'm'},
        {"beam", required_argument, 0, 'b'},  {"sample", no_argument, 0, 'x'},
        {"seed", required_argument, 0, 's'},  {"cols", required_argument, 0, 'c'},
        {"panel", required_argument, 0, 'p'}, {"font", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *out = NULL, *html = NULL, *model_path = NULL, *font_path = NULL;
    long beam = CLI_DEFAULT_BEAM, seed = RNG_DEFAULT_SEED, v;
    int sheet = 0, sample = 0, opt;
    HeatmapLayout lay = heatmap_default_layout();
    opterr = 0;   /* one line per error: ours */
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out = optarg; break;
        case 'H': html = optarg; break;
        case 'S': sheet = 1; break;
        case 'm': model_path = optarg; break;
        case 'x': sample = 1; break;
        case 'f': font_path = optarg; break;
        case 'b': if (!cli_parse_int("--beam", optarg, 1, 64, &beam)) return 2; break;
        case 's': if (!cli_parse_int("--seed", optarg, 0, 0x7fffffffL, &seed)) return 2; break;
        case 'c': if (!cli_parse_int("--cols", optarg, 1, 64, &v)) return 2; lay.cols = (int)v; break;
        case 'p': if (!cli_parse_int("--panel", optarg, 16, 4096, &v)) return 2; lay.panel = (int)v; break;
        case 'h': help(); return 0;
        default: return cli_bad_option(NULL, opt, argv);
        }
    }
    const int n = argc - optind;
    if (n < 1) return cli_usage_error(NULL, "no image given");
    if (n > MAX_IMAGES) return cli_usage_error(NULL, "more than %d images", MAX_IMAGES);
    if (!out && !html) return cli_usage_error(NULL, "nothing to write: give --out FILE.png and/or --html FILE");
    char **outs = calloc((size_t)n, sizeof *outs);   /* (n) per-image PNG paths, or NULL */
    Figure *figs = calloc((size_t)n, sizeof *figs);   /* (n) */
    HeatmapInput *ins = calloc((size_t)n, sizeof *ins);   /* (n) */
    float *x = NULL;
    RenderFont *font = NULL;
    Model m = {0};
    Search d = {0};
    int have_model = 0, have_decoding = 0, status = 0;
    GlmError err;
    if (!outs || !figs || !ins) {
        cli_error("out of memory");
        status = 1;
        goto done;
    }

    /* Outputs first: their directories must be writable. */
    if (out && (n == 1 || sheet)) {
        if (!cli_can_create(out)) {
            status = 2;
            goto done;
        }
    } else if (out) {
        for (int i = 0; i < n; i++) {
            char buf[4096];
            int dup = 0;
            for (int j = 0; j < i; j++) {
                per_image_path(buf, sizeof buf, out, argv[optind + j], 0);
                char mine[4096];
                per_image_path(mine, sizeof mine, out, argv[optind + i], 0);
                dup += !strcmp(buf, mine);
            }
            per_image_path(buf, sizeof buf, out, argv[optind + i], dup);
            if (!(outs[i] = strdup(buf))) {
                cli_error("out of memory");
                status = 1;
                goto done;
            }
        }
        if (!cli_can_create(outs[0])) {
            status = 2;
            goto done;
        }
    }
    if (html && !cli_can_create(html)) {
        status = 2;
        goto done;
    }

    /* The model, then every image, before any decoding. */
    char found[4096];
    if ((status = cli_load_model(&m, &model_path, found, sizeof found, DEFAULT_MODEL))) goto done;
    have_model = 1;
    const FeatConfig *fc = &m.cfg.feat;
    const int L = features_regions(fc), F = features_dim(fc);
    if (fc->grid > HEATMAP_MAX_GRID) {
        cli_error("%s: grid %d too fine to draw (at most %d)", model_path, fc->grid, HEATMAP_MAX_GRID);
        status = 2;
        goto done;
    }
    x = glm_malloc_array((size_t)n * L, (size_t)F * sizeof(float));   /* (n, L, F) */
    if (!x) {
        cli_error("out of memory for %d images", n);
        status = 1;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        /* The picture is kept, the heat maps are drawn on it, but no larger
         * than a panel can show: one photo of 8000x8000 is 768 MB of floats,
         * so keeping every one at full size ran to gigabytes. */
        if (image_load(&figs[i].img, argv[optind + i], &err) ||
            features_of_image(x + (size_t)i * L * F, &figs[i].img, fc, NULL, &err) ||
            shrink_to(&figs[i].img, GLM_MAX(lay.panel, KEEP_SIDE), &err) ||
            /* drawn as the model saw it (features.h): the grid, the heat
             * and the boxes then sit on the picture's own pixels */
            (fc->keep_aspect && image_pad_square_own(&figs[i].img, &err))) {
            status = cli_report(&err);
            goto done;
        }
    }

    have_decoding = 1;   /* search_free also after a failed init */
    if (search_init(&d, &m.cfg, n, (int)beam, &err)) {
        status = cli_report(&err);
        goto done;
    }
    Rng rng;
    rng_seed(&rng, (uint64_t)seed, 0);
    SearchOptions dopt = {.beam = (int)beam, .sample = sample, .rng = &rng};
    search_run(&d, &m.p, x, n, &dopt);
    for (int i = 0; i < n; i++)
        if (build_input(&ins[i], &figs[i], argv[optind + i], &m, &d.results[i],
                        m.cfg.prior ? d.pi0 + (size_t)i * d.K * d.L : NULL, &err)) {
            status = cli_report(&err);
            goto done;
        }

    if (!(font = render_font_load(font_path, 0, &err))) {
        status = cli_report(&err);
        goto done;
    }
    if (render_font_is_builtin(font))
        cli_error("note: %s; using the built-in font", render_font_note(font));

    /* The pictures. */
    for (int i = 0; out && i < (sheet ? 1 : n); i++) {
        const char *path = (n == 1 || sheet) ? out : outs[i];
        Canvas c;
        if (heatmap_render(&c, sheet ? ins : &ins[i], sheet ? n : 1, &lay, font, &err) ||
            render_write_png(path, &c, &err)) {
            canvas_free(&c);
            status = cli_report(&err);
            goto done;
        }
        printf("%s: %dx%d\n", path, c.w, c.h);
        canvas_free(&c);
    }
    if (html) {
        if (heatmap_write_html(html, ins, n, &lay, font, &err)) {
            status = cli_report(&err);
            goto done;
        }
        printf("%s\n", html);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("standard output: %s", errno ? strerror(errno) : "write failed");
        status = 1;
    }

done:
    for (int i = 0; figs && i < n; i++) {
        image_free(&figs[i].img);
        free(figs[i].caption);
        free(figs[i].words);
        free(figs[i].boxes);
        free(figs[i].prior);
    }
    for (int i = 0; outs && i < n; i++) free(outs[i]);
    free(outs);
    free(figs);
    free(ins);
    free(x);
    render_font_free(font);
    if (have_decoding) search_free(&d);
    if (have_model) model_free(&m);
    return status;
}
