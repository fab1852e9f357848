/* features.h - the CNN-free feature extractor: an image becomes L = G*G
 * region vectors a_i (the "annotation vectors" of Xu et al. 2015, sec. 3.1.1,
 * where a CNN's conv5 grid would stand).
 *
 * The image (resized to input x input) is covered by a G x G grid of square
 * windows of side `window`, `stride` apart, the grid centred on the image:
 * region (r, c) is the window with top-left corner
 *     (off + c*stride, off + r*stride),  off = (input - ((G-1)*stride + window)) / 2.
 * With window > stride the windows overlap, so an object that straddles a grid
 * line is still seen whole by one region. Pixels of a window that fall off the
 * image repeat the nearest edge pixel.
 *
 * Each region's vector is the concatenation of these blocks, in this order
 * (q = color_levels, n = hog_cells, k = orient_bins, p = patch):
 *
 *   block      size     meaning
 *   mean       3        mean R, G, B of the window, in [0, 1]
 *   colour     q^3      joint RGB histogram, each channel cut into q equal
 *                       levels; fraction of the window's pixels per bin
 *   hog        n*n*k    gradient-orientation histograms of the n x n cells of
 *                       the window: unsigned orientation (0..180 degrees),
 *                       bin b centred at b*180/k degrees, magnitude-weighted
 *                       and split linearly between the two nearest bins; the
 *                       block is normalised as v / sqrt(|v|^2 + 1). Bin 0 is a
 *                       horizontal gradient, i.e. a vertical edge.
 *   patch      p*p      the window's grey level (0.299 R + 0.587 G + 0.114 B)
 *                       averaged over a p x p grid of cells, in [0, 1]
 *   moments    5        where the edges are inside the window: edge energy
 *                       e/(e+1) (e = sum of gradient magnitudes / 2 window
 *                       sides), then the magnitude-weighted centre (u, v) and
 *                       spread (std u, std v), window coordinates in [-1, 1];
 *                       a faint window's centre and spread shrink towards 0.
 *                       Says where in the window an object sits and how big
 *                       it is, finer than the grid.
 *   position   2        window centre (x, y) scaled to [-1, 1]
 *   kmeans     K        (kmeans > 0 only) the learned patch dictionary's
 *                       responses (kmeans.h) to the P x P patches of the
 *                       figure map (or grey level) every KMEANS_STEP
 *                       pixels, averaged over the patches centred in the
 *                       window: which learned small shapes the window holds
 *
 * Re-centring (recentre = R > 0): the hog and patch blocks, which describe
 * an object's shape, are read from the window moved onto its edge centroid
 * (a few mean-shift steps: move the window so its centre lies on the
 * magnitude-weighted centre of the gradients it holds), by at most R pixels
 * along each axis. An object that sits off-centre in its window is then
 * described from nearly the same place wherever it lies, as a photo crop
 * centred on it would be; mean, colour, moments and position stay with the
 * fixed window, so where the region is does not move. R = 0 keeps all
 * blocks on the window. On fashion scenes (28-px photos, 32-px windows 18
 * apart) R = 10, with more training scenes, lifted the model's item
 * accuracy from 0.71 to 0.85 (README, Results).
 *
 * The figure map (figure = 1, version 4). Pictures that glimpse did not
 * draw differ in what the caption does not care about: the background's
 * brightness, colour or gradient, whether an item is darker or lighter
 * than it, the global contrast, JPEG noise. So the blocks are read not from
 * the grey level but from how far each pixel stands from the background:
 *   B(x, y)  the background, a plane a + b x + c y per channel fitted (least
 *            squares) to the outermost FEAT_RING pixels of the picture;
 *   d(x, y)  |rgb - B| (Euclidean, over a 3x3 mean, which damps JPEG and
 *            sensor noise);
 *   f(x, y)  (d - t) / (c - t) clamped to [0, 1]: t = 2 x the median d of
 *            the ring (what background texture gives), c = half the 99th
 *            percentile of d (so what stands out half as much as the most
 *            striking object is still wholly figure), at least
 *            t + FEAT_MIN_CONTRAST.
 * f is 0 on the background and 1 on anything clearly not it, whatever the
 * polarity and contrast. With figure = 1 the hog, moment and re-centring
 * gradients and the patch are computed on f instead of grey; the mean
 * block is the mean colour of the window's figure (the colour of what is
 * in it, not of the background; 0.5 grey for an empty window) and the
 * colour histogram counts each pixel with that weight, so it sums to the
 * window's figure coverage. The weight is f^2 of the pixel's own colour
 * (without the 3x3 mean), so the blend of object and background at an
 * anti-aliased edge counts little. figure = 0 is version 3's grey-level
 * blocks.
 *
 * Keeping the aspect ratio (keep_aspect = 1): a picture that is not square
 * is first padded to a square with its own background (image_pad_square,
 * the border's median colour), then resized; features_cell_in_picture
 * maps a region back to the picture's own pixels. keep_aspect = 0
 * stretches it, as version 3 did.
 *
 * Models of version 3 load as version 4 with figure = 0 and keep_aspect =
 * 0, which compute exactly what version 3 did.
 *
 * Not here: anything learned (the model projects these vectors), scale
 * invariance beyond what the window gives.
 */
#ifndef GLIMPSE_FEATURES_H
#define GLIMPSE_FEATURES_H

#include "common.h"
#include "image.h"
#include "rng.h"

#define FEAT_MAX_PATCH 32
/* The block layout and formulas above; a model remembers the version its
 * weights were trained on, and a different one is refused at load. */
#define FEAT_VERSION 4
#define FEAT_RING 2               /* pixels of border the background is fitted to */
#define FEAT_MIN_CONTRAST 0.2f    /* of d (RGB distance), so a blank picture's noise stays faint */

typedef struct {
    int version;       /* FEAT_VERSION */
    int input;         /* image side after resizing, pixels */
    int grid;          /* G: regions per side, L = G*G */
    int window;        /* window side, pixels */
    int stride;        /* distance between window origins, pixels */
    int color_levels;  /* q: levels per channel of the colour histogram */
    int hog_cells;     /* n: cells per side of the orientation histograms */
    int orient_bins;   /* k: orientation bins per cell */
    int patch;         /* p: grey patch cells per side */
    int recentre;      /* R: most pixels the shape blocks' window may move, 0 none */
    int figure;        /* 1: blocks from the figure map against the background (version 4) */
    int keep_aspect;   /* 1: pad to a square with the picture's background before resizing */
    int kmeans;        /* K: centroids of the learned patch dictionary (kmeans.h), 0 none */
    int kmeans_patch;  /* P: their patch side, pixels */
    const float *dict; /* the dictionary, kmeans_dict_floats(P, K) floats, when K > 0;
                          borrowed (a Model owns it) */
} FeatConfig;

/* Offsets of each block inside a region vector, and the total F. */
typedef struct {
    int mean, colour, hog, patch, moments, position, kmeans, dim;
} FeatLayout;

/* The defaults for 64-pixel scenes: 4x4 grid, 24-px windows 16 px apart. */
FeatConfig features_default_config(void);
/* Checks the config is usable (positive sizes, windows that touch the image,
 * hog_cells and patch no larger than the window). GLM_EINPUT with a reason. */
int features_check_config(const FeatConfig *cfg, GlmError *err);
FeatLayout features_layout(const FeatConfig *cfg);
static inline int features_dim(const FeatConfig *cfg) { return features_layout(cfg).dim; }
static inline int features_regions(const FeatConfig *cfg) { return cfg->grid * cfg->grid; }

/* The window of region (r, c) in input pixels, clipped to the image:
 * x0 <= x < x1, y0 <= y < y1. */
void features_region_box(const FeatConfig *cfg, int r, int c, int *x0, int *y0, int *x1, int *y1);

/* The grid cell region (r, c) stands for: the stride x stride square centred
 * on its window, clipped to the image. Windows overlap, cells do not; the
 * cell is what grounding is measured on and what a heatmap outlines. */
void features_region_cell(const FeatConfig *cfg, int r, int c, int *x0, int *y0, int *x1, int *y1);

/* Region r's grid cell (features_region_cell) in the pixels of a w x h
 * picture, as it was brought to the input: stretched, or (keep_aspect)
 * padded to a square first. Clipped to the picture; may be empty (x1 <= x0)
 * for a cell that falls on the padding. */
void features_cell_in_picture(const FeatConfig *cfg, int r, int c, int w, int h, int *x0, int *y0, int *x1,
                              int *y1);

/* Floats of scratch that features_compute needs (four input x input planes,
 * and the patches and responses of the dictionary when there is one). */
size_t features_scratch_floats(const FeatConfig *cfg);

/* out: (L, F) region vectors of img, which must be input x input.
 * scratch: features_scratch_floats(cfg) floats, reused across calls. */
void features_compute(float *out, const Image *img, const FeatConfig *cfg, float *scratch);

/* The one path from a picture of any size to its region vectors, used by
 * training, evaluation, captioning, glimpse regions and the heatmap tool:
 * out (L, F) for img, brought to the input size first when it is not.
 * scratch as above, or NULL to allocate it for the call. */
int features_of_image(float *out, const Image *img, const FeatConfig *cfg, float *scratch, GlmError *err);

/* Up to max P x P patches (P = c->kmeans_patch) of img's figure map (or
 * grey level), brought to the input as features_of_image does, at
 * positions drawn from rng, each normalised (kmeans_normalise); patches
 * that are nearly flat (background) are passed over. out: (max, P*P);
 * *n: how many were written. The dictionary's training data. */
int features_patches(float *out, int *n, int max, const Image *img, const FeatConfig *c, Rng *rng, GlmError *err);

/* Loads path and runs features_of_image; *w, *h (unless NULL) get the
 * picture's own size. */
int features_from_file(float *out, int *w, int *h, const char *path, const FeatConfig *cfg, float *scratch,
                       GlmError *err);

#endif
