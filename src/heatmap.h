/* heatmap.h - the attention figure of one captioned image: where each word
 * looked (Xu et al. 2015, sec. 5.4 and fig. 2-3), as a PNG and as an HTML page.
 *
 *     HeatmapInput in = {.img = &img, .name = "circle.png", .caption = "a red circle",
 *                        .n_words = 4, .words = words, .p = p, .region = region,
 *                        .alpha = alpha, .grid = 4, .boxes = boxes};
 *     HeatmapLayout lay = heatmap_default_layout();
 *     Canvas c;
 *     if (heatmap_render(&c, &in, 1, &lay, font, &err) == GLM_OK) {
 *         render_write_png("circle-attention.png", &c, &err);
 *         canvas_free(&c);
 *     }
 *     heatmap_write_html("page.html", &in, 1, &lay, font, &err);
 *
 * The figure: a header (the image's name and the colour-map legend), then
 * panels that wrap into rows of lay->cols. Panel 0 is the input image with
 * the whole caption under it; panel t+1 is word t (the end token included):
 * the image in grey, alpha_t upsampled bilinearly and blended as the colour
 * map (sqrt(alpha) on the map's [0, 1], the same scale in every panel, so a
 * flat alpha looks flat; the step's largest alpha is printed), the region
 * the decoder CHOSE at step t
 * outlined red outside and white inside (hard attention picks one region;
 * the smooth map alone would hide which), and under it the word with its
 * probability.
 * A model with an attention prior (prior.h) adds one panel after the
 * input, "what the model expects to matter": softmax(pi0), the prior alone,
 * on the same colour scale, so the prediction from the image can be set
 * against the per-word choices; the words then start at panel 2.
 *
 * Images are drawn nearest neighbour, so a 64x64 input shown at 192 px
 * keeps its pixels square. The alpha grid covers the image in G x G equal
 * cells, the way features.h stretches the image to its square input; its
 * cell centres are the region windows' centres for the default grid.
 *
 * Not here: running the model (search.h), loading images, the command line
 * (tools/heatmap.c).
 */
#ifndef GLIMPSE_HEATMAP_H
#define GLIMPSE_HEATMAP_H

#include "common.h"
#include "image.h"
#include "render.h"

/* Limits checked by heatmap_check_input (bad input, not invariants). */
#define HEATMAP_MAX_WORDS 512
#define HEATMAP_MAX_GRID 64

/* One captioned image and what the decoder did at each step. Nothing is
 * owned; everything must outlive the calls that take it. */
typedef struct {
    const Image *img;          /* the input image, any size */
    const char *name;          /* shown in the header (a file name); may be NULL */
    const char *caption;       /* the whole caption as text; may be NULL */
    int n_words;               /* T: steps, the end token included; may be 0 */
    const char *const *words;  /* (T) the word chosen at each step (UTF-8) */
    const float *p;            /* (T) its probability, in [0, 1] */
    const int *region;         /* (T) the region chosen at step t, in [0, L) */
    const float *alpha;        /* (T, L) attention weights alpha_t, >= 0 */
    int grid;                  /* G: regions per side, L = G*G */
    const int *boxes;          /* (L, 4) region i is x0, y0, x1, y1 (exclusive)
                                  in image pixels, within the image */
    const float *prior;        /* (L) softmax(pi0) of a model with an attention prior,
                                  >= 0; NULL: none, no prior panel */
} HeatmapInput;

/* The panel of word t: t + 1, or t + 2 after the prior's panel. */
static inline int heatmap_word_panel(const HeatmapInput *in, int t) { return t + (in->prior ? 2 : 1); }

typedef struct {
    int cols;   /* panels per row, >= 1 (default 6) */
    int panel;  /* longer side of each panel's image, px; 0: the smallest
                   whole multiple of the image's longer side that is >= 192
                   (images above 192 px are shown as they are, up to 512) */
} HeatmapLayout;

HeatmapLayout heatmap_default_layout(void);

/* GLM_EINPUT with a reason unless every field is usable: an image, sizes
 * within the limits, T words, probabilities in [0, 1], regions in range,
 * finite non-negative alpha (and prior), boxes inside the image and non-empty. */
int heatmap_check_input(const HeatmapInput *in, GlmError *err);

/* Where panel k (0: the input image, heatmap_word_panel: word t) of the figure for `in`
 * lies in the picture heatmap_render draws for `in` alone: its image area
 * [x, x+w) x [y, y+h) and the text band [text_y, text_y + text_h) under it. */
typedef struct {
    int x, y, w, h;
    int text_y, text_h;
} HeatmapPanel;
HeatmapPanel heatmap_panel(const HeatmapInput *in, const HeatmapLayout *lay, const RenderFont *font,
                           int k);
/* Region i's box in the coordinates of the picture, as drawn in panel k. */
void heatmap_region_rect(int *x0, int *y0, int *x1, int *y1, const HeatmapInput *in,
                         const HeatmapLayout *lay, const RenderFont *font, int k, int region);

/* Draws the figures of n inputs one under the other (n > 1: a contact
 * sheet) into a new canvas *out (caller frees with canvas_free). Checks
 * every input first (GLM_EINPUT naming it); GLM_ENOMEM. */
int heatmap_render(Canvas *out, const HeatmapInput *ins, int n, const HeatmapLayout *lay,
                   const RenderFont *font, GlmError *err);

/* Writes one self-contained HTML page for n inputs (every picture embedded
 * as a PNG data URI; no scripts or styles from elsewhere) to path, through a
 * temporary file and rename. Per image: the caption as buttons, one per
 * word; hovering, focusing or clicking a word shows its heatmap (the region
 * chosen outlined) and its probability; the left and right arrow keys step
 * through the words of the caption used last. Opening the page as
 * page.html#test-click=K clicks word K of the first caption (for tests).
 * Errors as heatmap_render and fileio_write. */
int heatmap_write_html(const char *path, const HeatmapInput *ins, int n, const HeatmapLayout *lay,
                       const RenderFont *font, GlmError *err);

#endif
