/* features.c - region vectors from pixels: see features.h for the blocks.
 *
 * Per image: one pass makes the grey plane and the gradient (magnitude,
 * orientation); then each region's window is scanned once for the blocks
 * that stay with it and once for the shape blocks (after a few more scans
 * to find its edge centroid when re-centring). No allocation happens per
 * region or per image.
 */
#include "features.h"

#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265358979f

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The mean block of a window with figure coverage m is the figure's colour
 * pulled towards 0.5 grey with the weight of this fraction of the window:
 * a window that holds nothing says "grey", not noise. */
#define FIGURE_MEAN_PRIOR 0.02f
#define D_BINS 512   /* histogram of d for its median and percentile */
/* f reaches 1 at this fraction of the picture's strongest contrast (its
 * 99th percentile of d): an object that stands out half as much as the
 * most striking one is still wholly figure. */
#define FIGURE_SATURATE 0.5f
/* keep_aspect: the largest picture padded as it is, in input sides */
#define PAD_OVERSAMPLE 4

/* Solves the 3x3 system A z = r (Cramer); z = 0 when A is singular. */
static void solve3(double z[3], const double A[3][3], const double r[3])
{
    const double det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                       A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                       A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
    z[0] = z[1] = z[2] = 0;
    if (fabs(det) < 1e-12) return;
    for (int k = 0; k < 3; k++) {
        double M[3][3];
        memcpy(M, A, sizeof M);
        for (int i = 0; i < 3; i++) M[i][k] = r[i];
        z[k] = (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0])) / det;
    }
}

/* The value at which the count of hist (n values, bin width w) reaches
 * frac of n. */
static float hist_quantile(const int *hist, int n, float w, double frac)
{
    long seen = 0;
    for (int b = 0; b < D_BINS; b++)
        if ((seen += hist[b]) >= frac * n) return ((float)b + 0.5f) * w;
    return (float)D_BINS * w;
}

/* What the figure map was made from: the background plane per channel
 * (z[ch] = a, b, c of a + b x/S + c y/S), the texture floor t and the
 * contrast c (features.h). */
typedef struct {
    double z[3][3];
    float t, c;
    int S;
} FigureModel;

/* How much the pixel (x, y) of colour px is figure, from its own colour
 * (no 3x3 mean): the weight of its colour in the colour blocks, so the
 * background colour at an object's edge does not tint the object. */
static float figure_weight(const FigureModel *m, const float *px, int x, int y)
{
    double ss = 0;
    for (int ch = 0; ch < 3; ch++) {
        const double e = px[ch] - (m->z[ch][0] + m->z[ch][1] * x / m->S + m->z[ch][2] * y / m->S);
        ss += e * e;
    }
    const float v = ((float)sqrt(ss) - m->t) / (m->c - m->t);
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The figure map f (S, S) of rgb (S, S, 3), as features.h defines it, and
 * the model it was made from; d (S, S) is scratch. */
static void figure_map(float *f, FigureModel *fm, float *d, const float *rgb, int S)
{
    const int R = GLM_MIN(FEAT_RING, S / 2);
    /* least-squares plane per channel over the ring: [1 x y] z = value */
    double A[3][3] = {{0}}, r[3][3] = {{0}}, z[3][3];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            if (x >= R && x < S - R && y >= R && y < S - R) continue;
            const double u[3] = {1.0, (double)x / S, (double)y / S};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) A[i][j] += u[i] * u[j];
                for (int ch = 0; ch < 3; ch++) r[ch][i] += u[i] * rgb[3 * (y * S + x) + ch];
            }
        }
    for (int ch = 0; ch < 3; ch++) solve3(z[ch], A, r[ch]);
    /* d: distance of the 3x3 mean from the plane */
    const float w = 1.7320508f / D_BINS;   /* d lies in [0, sqrt 3] */
    int all[D_BINS] = {0}, ring[D_BINS] = {0}, n_ring = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            float m[3] = {0, 0, 0};
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const float *p = rgb + 3 * (clampi(y + dy, 0, S - 1) * S + clampi(x + dx, 0, S - 1));
                    m[0] += p[0], m[1] += p[1], m[2] += p[2];
                }
            double ss = 0;
            for (int ch = 0; ch < 3; ch++) {
                const double b = z[ch][0] + z[ch][1] * x / S + z[ch][2] * y / S, e = m[ch] / 9.0 - b;
                ss += e * e;
            }
            const float v = (float)sqrt(ss);
            d[y * S + x] = v;
            const int bin = clampi((int)(v / w), 0, D_BINS - 1);
            all[bin]++;
            if (x < R || x >= S - R || y < R || y >= S - R) ring[bin]++, n_ring++;
        }
    const float t = 2.0f * hist_quantile(ring, n_ring, w, 0.5);
    const float c = GLM_MAX(FIGURE_SATURATE * hist_quantile(all, S * S, w, 0.99), t + FEAT_MIN_CONTRAST);
    for (int i = 0; i < S * S; i++) {
        const float v = (d[i] - t) / (c - t);
        f[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    memcpy(fm->z, z, sizeof z);
    fm->t = t, fm->c = c, fm->S = S;
}

FeatConfig features_default_config(void)
{
    return (FeatConfig){
        .version = FEAT_VERSION, .input = 64, .grid = 4, .window = 24, .stride = 16,
        .color_levels = 3, .hog_cells = 2, .orient_bins = 8, .patch = 4, .recentre = 0, .figure = 1,
        .keep_aspect = 1, .kmeans = 0, .kmeans_patch = 6,
    };
}

int features_check_config(const FeatConfig *c, GlmError *err)
{
    if (c->version != FEAT_VERSION)
        return glm_fail(err, GLM_EINPUT, "feature extractor version %d; this glimpse computes version %d",
                        c->version, FEAT_VERSION);
    if (c->input < 8 || c->input > 1024) return glm_fail(err, GLM_EINPUT, "feature config: input %d not in [8, 1024]", c->input);
    if (c->grid < 1 || c->grid > 32) return glm_fail(err, GLM_EINPUT, "feature config: grid %d not in [1, 32]", c->grid);
    if (c->window < 2 || c->window > c->input) return glm_fail(err, GLM_EINPUT, "feature config: window %d not in [2, input]", c->window);
    if (c->stride < 1 || (c->grid - 1) * c->stride >= c->input)
        return glm_fail(err, GLM_EINPUT, "feature config: stride %d puts windows off the image", c->stride);
    if (c->color_levels < 1 || c->color_levels > 8) return glm_fail(err, GLM_EINPUT, "feature config: color_levels %d not in [1, 8]", c->color_levels);
    if (c->hog_cells < 1 || c->hog_cells > c->window) return glm_fail(err, GLM_EINPUT, "feature config: hog_cells %d not in [1, window]", c->hog_cells);
    if (c->orient_bins < 2 || c->orient_bins > 36) return glm_fail(err, GLM_EINPUT, "feature config: orient_bins %d not in [2, 36]", c->orient_bins);
    if (c->patch < 1 || c->patch > GLM_MIN(c->window, FEAT_MAX_PATCH))
        return glm_fail(err, GLM_EINPUT, "feature config: patch %d not in [1, min(window, %d)]", c->patch, FEAT_MAX_PATCH);
    if (c->recentre < 0 || c->recentre > c->window) return glm_fail(err, GLM_EINPUT, "feature config: recentre %d not in [0, window]", c->recentre);
    if (c->figure < 0 || c->figure > 1) return glm_fail(err, GLM_EINPUT, "feature config: figure %d is not 0 or 1", c->figure);
    if (c->keep_aspect < 0 || c->keep_aspect > 1)
        return glm_fail(err, GLM_EINPUT, "feature config: keep_aspect %d is not 0 or 1", c->keep_aspect);
    if (c->kmeans < 0 || c->kmeans > KMEANS_MAX_K)
        return glm_fail(err, GLM_EINPUT, "feature config: kmeans %d not in [0, %d]", c->kmeans, KMEANS_MAX_K);
    if (c->kmeans > 0 && (c->kmeans_patch < 2 || c->kmeans_patch > GLM_MIN(KMEANS_MAX_PATCH, c->input)))
        return glm_fail(err, GLM_EINPUT, "feature config: kmeans_patch %d not in [2, %d]", c->kmeans_patch,
                        GLM_MIN(KMEANS_MAX_PATCH, c->input));
    return GLM_OK;
}

FeatLayout features_layout(const FeatConfig *c)
{
    FeatLayout l;
    int q = c->color_levels;
    l.mean = 0;
    l.colour = l.mean + 3;
    l.hog = l.colour + q * q * q;
    l.patch = l.hog + c->hog_cells * c->hog_cells * c->orient_bins;
    l.moments = l.patch + c->patch * c->patch;
    l.position = l.moments + 5;
    l.kmeans = l.position + 2;
    l.dim = l.kmeans + (c->kmeans > 0 ? c->kmeans : 0);
    return l;
}

static int grid_offset(const FeatConfig *c)
{
    int span = (c->grid - 1) * c->stride + c->window;
    /* Floor division so negative offsets (windows past the edge) stay symmetric. */
    int d = c->input - span;
    return d >= 0 ? d / 2 : -((-d + 1) / 2);
}

void features_region_box(const FeatConfig *c, int r, int col, int *x0, int *y0, int *x1, int *y1)
{
    int off = grid_offset(c);
    int ax = off + col * c->stride, ay = off + r * c->stride;
    *x0 = GLM_MAX(ax, 0);
    *y0 = GLM_MAX(ay, 0);
    *x1 = GLM_MIN(ax + c->window, c->input);
    *y1 = GLM_MIN(ay + c->window, c->input);
}

void features_region_cell(const FeatConfig *c, int r, int col, int *x0, int *y0, int *x1, int *y1)
{
    int off = grid_offset(c) + (c->window - c->stride) / 2;
    int ax = off + col * c->stride, ay = off + r * c->stride;
    *x0 = GLM_MAX(ax, 0);
    *y0 = GLM_MAX(ay, 0);
    *x1 = GLM_MIN(ax + c->stride, c->input);
    *y1 = GLM_MIN(ay + c->stride, c->input);
}

void features_cell_in_picture(const FeatConfig *c, int r, int col, int w, int h, int *x0, int *y0, int *x1,
                              int *y1)
{
    int cx0, cy0, cx1, cy1;
    features_region_cell(c, r, col, &cx0, &cy0, &cx1, &cy1);
    const int S = c->input;
    if (!c->keep_aspect) {   /* each axis stretched on its own; round outwards */
        *x0 = (int)((long)cx0 * w / S), *y0 = (int)((long)cy0 * h / S);
        *x1 = (int)(((long)cx1 * w + S - 1) / S), *y1 = (int)(((long)cy1 * h + S - 1) / S);
    } else {                 /* one scale, and the padding's offset */
        const long side = GLM_MAX(w, h), ox = (side - w) / 2, oy = (side - h) / 2;
        *x0 = (int)((long)cx0 * side / S - ox), *y0 = (int)((long)cy0 * side / S - oy);
        *x1 = (int)(((long)cx1 * side + S - 1) / S - ox), *y1 = (int)(((long)cy1 * side + S - 1) / S - oy);
    }
    *x0 = clampi(*x0, 0, w), *x1 = clampi(*x1, 0, w), *y0 = clampi(*y0, 0, h), *y1 = clampi(*y1, 0, h);
}

/* The kmeans block's normaliser: a window whose mean responses have a
 * length well above it gives a unit vector (the figure map's objects give
 * 0.1 - 0.3), an empty one stays 0. */
#define POOL_FLOOR 0.05

/* Patches encoded per side: one every KMEANS_STEP pixels. */
static int dict_side(const FeatConfig *c) { return (c->input - c->kmeans_patch) / KMEANS_STEP + 1; }

size_t features_scratch_floats(const FeatConfig *c)
{
    size_t n = (size_t)4 * c->input * c->input;
    if (c->kmeans > 0) {
        const size_t N = (size_t)dict_side(c) * dict_side(c), pp = (size_t)c->kmeans_patch * c->kmeans_patch;
        n += N * (2 * pp + (size_t)c->kmeans);
    }
    return n;
}

/* The P x P patch of map (S, S) at top-left (x, y), normalised. */
static void read_patch(float *v, const float *map, int S, int x, int y, int P)
{
    for (int py = 0; py < P; py++)
        for (int px = 0; px < P; px++) v[py * P + px] = map[(y + py) * S + x + px];
    kmeans_normalise(v, P * P);
}

/* The kmeans block of every region: the dictionary's responses to the
 * patches of map, averaged over those centred in each window.
 * work: the scratch past the four planes. */
static void dictionary_blocks(float *out, const FeatLayout *lay, const FeatConfig *c, const float *map, float *work)
{
    const int S = c->input, P = c->kmeans_patch, K = c->kmeans, n = P * P, side = dict_side(c), W = c->window;
    const long N = (long)side * side;
    float *patches = work, *white = work + N * n, *act = work + 2 * N * n;   /* (N, n) (N, n) (N, K) */
    for (int j = 0; j < side; j++)
        for (int i = 0; i < side; i++) read_patch(patches + ((long)j * side + i) * n, map, S, i * KMEANS_STEP, j * KMEANS_STEP, P);
    kmeans_encode(act, patches, white, N, c->dict, P, K);
    const int off = grid_offset(c);
    for (int r = 0; r < c->grid; r++)
        for (int col = 0; col < c->grid; col++) {
            float *v = out + (size_t)(r * c->grid + col) * lay->dim + lay->kmeans;
            memset(v, 0, (size_t)K * sizeof(float));
            const int ax = off + col * c->stride, ay = off + r * c->stride;
            int count = 0;
            for (int j = 0; j < side; j++) {
                const int cy = j * KMEANS_STEP + P / 2;
                if (cy < ay || cy >= ay + W) continue;
                for (int i = 0; i < side; i++) {
                    const int cx = i * KMEANS_STEP + P / 2;
                    if (cx < ax || cx >= ax + W) continue;
                    const float *a = act + ((long)j * side + i) * K;
                    for (int k = 0; k < K; k++) v[k] += a[k];
                    count++;
                }
            }
            /* the mean response, normalised as v / sqrt(|v|^2 + POOL_FLOOR^2):
             * which learned shapes the window holds, O(1) for an object
             * and still 0 for an empty window */
            double ss = 0;
            for (int k = 0; k < K; k++) {
                if (count) v[k] /= (float)count;
                ss += (double)v[k] * v[k];
            }
            const float norm = (float)(1.0 / sqrt(ss + POOL_FLOOR * POOL_FLOOR));
            for (int k = 0; k < K; k++) v[k] *= norm;
        }
}


/* The blocks that stay with the fixed window at (ax, ay): mean, colour
 * histogram and edge moments. fig: the figure model weighting the colour
 * blocks (figure_weight), or NULL for plain window averages. */
static void window_blocks(float *v, const FeatLayout *lay, int ax, int ay, const FeatConfig *c,
                          const float *rgb, const float *mag, const FigureModel *fig)
{
    const int S = c->input, W = c->window, q = c->color_levels;
    float *mean = v + lay->mean, *hist = v + lay->colour;
    memset(mean, 0, sizeof(float) * 3);
    memset(hist, 0, sizeof(float) * (size_t)(q * q * q));
    /* Edge-energy moments: sum m, m u, m v, m u^2, m v^2 with (u, v) the
     * pixel centre in window coordinates scaled to [-1, 1]. */
    double e0 = 0, eu = 0, ev = 0, euu = 0, evv = 0;
    float mass = 0;   /* sum of the weights */
    for (int wy = 0; wy < W; wy++) {
        const int y = clampi(ay + wy, 0, S - 1);
        for (int wx = 0; wx < W; wx++) {
            const int x = clampi(ax + wx, 0, S - 1);
            const float *px = rgb + 3 * (y * S + x);
            const float fw = fig ? figure_weight(fig, px, x, y) : 1.0f, wt = fw * fw;
            mean[0] += wt * px[0];
            mean[1] += wt * px[1];
            mean[2] += wt * px[2];
            mass += wt;
            int lr = clampi((int)(px[0] * q), 0, q - 1);
            int lg = clampi((int)(px[1] * q), 0, q - 1);
            int lb = clampi((int)(px[2] * q), 0, q - 1);
            hist[(lr * q + lg) * q + lb] += wt;
            const double m = mag[y * S + x];
            const double u = ((double)wx + 0.5) * 2.0 / W - 1.0, vv = ((double)wy + 0.5) * 2.0 / W - 1.0;
            e0 += m;
            eu += m * u;
            ev += m * vv;
            euu += m * u * u;
            evv += m * vv * vv;
        }
    }
    const float inv_area = 1.0f / (float)(W * W);
    if (fig) {
        /* the colour of the figure; a window without any tends to 0.5 grey */
        const float prior = FIGURE_MEAN_PRIOR * (float)(W * W);
        for (int i = 0; i < 3; i++) mean[i] = (mean[i] + 0.5f * prior) / (mass + prior);
    } else {
        for (int i = 0; i < 3; i++) mean[i] *= inv_area;
    }
    for (int i = 0; i < q * q * q; i++) hist[i] *= inv_area;
    /* A full-contrast straight edge across the window has e0 ~ 2W: the
     * energy is reported as e / (e + 1) with e = e0 / 2W. The +W/4 in the
     * divisor pulls the centre and spread of a faint, textured window
     * towards 0 instead of amplifying noise. */
    const double e = e0 / (2.0 * W), d = e0 + 0.25 * W;
    const double cu = eu / d, cv = ev / d;
    float *mo = v + lay->moments;
    mo[0] = (float)(e / (e + 1.0));
    mo[1] = (float)cu;
    mo[2] = (float)cv;
    mo[3] = (float)sqrt(fmax(euu / d - cu * cu, 0.0));
    mo[4] = (float)sqrt(fmax(evv / d - cv * cv, 0.0));
}

/* Mean shift on the gradient magnitude: moves the window at (ax, ay) until
 * its centre sits on the magnitude-weighted centre of what it holds (to the
 * pixel), each axis at most c->recentre pixels away. The W/4 of weight at
 * the current centre keeps a faint window where it is. */
static void edge_centroid_shift(int *dx_out, int *dy_out, int ax, int ay, const FeatConfig *c,
                                const float *mag)
{
    enum { MAX_STEPS = 4 };
    const int S = c->input, W = c->window, R = c->recentre;
    int dx = 0, dy = 0;
    for (int step = 0; step < MAX_STEPS; step++) {
        double e0 = 0.25 * W, eu = 0, ev = 0;
        for (int wy = 0; wy < W; wy++) {
            const int y = clampi(ay + dy + wy, 0, S - 1);
            for (int wx = 0; wx < W; wx++) {
                const double m = mag[y * S + clampi(ax + dx + wx, 0, S - 1)];
                e0 += m;
                eu += m * (wx + 0.5 - 0.5 * W);
                ev += m * (wy + 0.5 - 0.5 * W);
            }
        }
        const int nx = clampi(dx + (int)lround(eu / e0), -R, R);
        const int ny = clampi(dy + (int)lround(ev / e0), -R, R);
        if (nx == dx && ny == dy) break;
        dx = nx;
        dy = ny;
    }
    *dx_out = dx;
    *dy_out = dy;
}

/* The shape blocks of the window at (ax, ay): orientation histograms of its
 * n x n cells and its p x p grey patch. */
static void shape_blocks(float *hog, float *patch, int ax, int ay, const FeatConfig *c,
                         const float *grey, const float *mag, const float *ori)
{
    const int S = c->input, W = c->window, n = c->hog_cells, k = c->orient_bins, P = c->patch;
    memset(hog, 0, sizeof(float) * (size_t)(n * n * k));
    memset(patch, 0, sizeof(float) * (size_t)(P * P));
    for (int wy = 0; wy < W; wy++) {
        const int y = clampi(ay + wy, 0, S - 1);
        const int cy = wy * n / W, py = wy * P / W;
        for (int wx = 0; wx < W; wx++) {
            const int x = clampi(ax + wx, 0, S - 1);
            /* Orientation split between the two nearest bin centres. */
            const float b = ori[y * S + x], m = mag[y * S + x];
            const int b0 = (int)b;
            const float t = b - (float)b0;
            float *cell = hog + (cy * n + wx * n / W) * k;
            cell[b0 % k] += m * (1.0f - t);
            cell[(b0 + 1) % k] += m * t;
            patch[py * P + wx * P / W] += grey[y * S + x];
        }
    }
    /* Scale by the cell side so a full-contrast edge through a cell gives
     * O(1) before normalising; the +1 keeps faint texture faint. */
    const float cell_side = (float)W / (float)n;
    float ss = 0.0f;
    for (int i = 0; i < n * n * k; i++) {
        hog[i] /= cell_side;
        ss += hog[i] * hog[i];
    }
    const float norm = 1.0f / sqrtf(ss + 1.0f);
    for (int i = 0; i < n * n * k; i++) hog[i] *= norm;
    /* span[i]: window rows (or columns) falling in patch cell i; unequal
     * when P does not divide W. */
    int span[FEAT_MAX_PATCH] = {0};
    for (int w = 0; w < W; w++) span[w * P / W]++;
    for (int py = 0; py < P; py++)
        for (int px = 0; px < P; px++) patch[py * P + px] /= (float)(span[py] * span[px]);
}

/* The plane the shape blocks are read from: the figure map (and its model
 * in *fm) or the grey level. d: (S, S) scratch. */
static void base_map(float *map, FigureModel *fm, const Image *img, const FeatConfig *c, float *d)
{
    const int S = c->input;
    if (c->figure) {
        figure_map(map, fm, d, img->data, S);
        return;
    }
    for (int i = 0; i < S * S; i++) {
        const float *p = img->data + 3 * i;
        map[i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
    }
}

void features_compute(float *out, const Image *img, const FeatConfig *c, float *scratch)
{
    GLM_ASSERT(img->w == c->input && img->h == c->input);
    const int S = c->input, k = c->orient_bins, W = c->window;
    const FeatLayout lay = features_layout(c);
    float *grey = scratch;             /* (S, S) grey level, or the figure map */
    float *mag = scratch + S * S;      /* (S, S) gradient magnitude */
    float *ori = scratch + 2 * S * S;  /* (S, S) orientation in bins, [0, k) */

    FigureModel fm;
    base_map(grey, &fm, img, c, scratch + 3 * S * S);
    for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
            /* Central differences, one-sided at the border. */
            float gx = grey[y * S + clampi(x + 1, 0, S - 1)] - grey[y * S + clampi(x - 1, 0, S - 1)];
            float gy = grey[clampi(y + 1, 0, S - 1) * S + x] - grey[clampi(y - 1, 0, S - 1) * S + x];
            float theta = atan2f(gy, gx);      /* (-pi, pi] */
            if (theta < 0) theta += PI_F;      /* unsigned: [0, pi] */
            float b = theta * (float)k / PI_F;
            if (b >= (float)k) b -= (float)k;
            mag[y * S + x] = sqrtf(gx * gx + gy * gy);
            ori[y * S + x] = b;
        }
    }

    const int off = grid_offset(c);
    for (int r = 0; r < c->grid; r++) {
        for (int col = 0; col < c->grid; col++) {
            float *v = out + (size_t)(r * c->grid + col) * lay.dim;
            const int ax = off + col * c->stride, ay = off + r * c->stride;
            window_blocks(v, &lay, ax, ay, c, img->data, mag, c->figure ? &fm : NULL);
            int dx = 0, dy = 0;
            if (c->recentre > 0) edge_centroid_shift(&dx, &dy, ax, ay, c, mag);
            shape_blocks(v + lay.hog, v + lay.patch, ax + dx, ay + dy, c, grey, mag, ori);
            v[lay.position + 0] = ((float)ax + 0.5f * (float)W) / (float)S * 2.0f - 1.0f;
            v[lay.position + 1] = ((float)ay + 0.5f * (float)W) / (float)S * 2.0f - 1.0f;
        }
    }
    if (c->kmeans > 0) {
        GLM_ASSERT(c->dict);
        dictionary_blocks(out, &lay, c, grey, scratch + 4 * S * S);
    }
}

/* img brought to the input size: *out is img itself, or one of the two
 * images the caller frees (stretched, or padded and resized). */
static int to_input(const Image **out, Image *fit, Image *square, Image *small, const Image *img,
                    const FeatConfig *c, GlmError *err)
{
    int rc;
    *fit = *square = *small = (Image){0};
    if (c->keep_aspect && img->w != img->h) {
        /* Padded with its own background (so the shapes keep their shape),
         * then brought to the input below. A picture much larger than the
         * input is first shrunk, aspect kept, to PAD_OVERSAMPLE x the input:
         * padding a 16384 x 1 picture as it is would make a 16384 x 16384
         * one; at 4x the input the rounding of that first shrink moves
         * nothing by more than an eighth of an input pixel. */
        const int S = c->input, longer = GLM_MAX(img->w, img->h), most = PAD_OVERSAMPLE * S;
        float bg[3];
        image_border_colour(bg, img);
        if (longer > most) {
            const int w = GLM_MAX(1, (int)(((long)img->w * most + longer / 2) / longer));
            const int h = GLM_MAX(1, (int)(((long)img->h * most + longer / 2) / longer));
            if ((rc = image_resize(fit, img, w, h, err))) return rc;
            img = fit;
        }
        if ((rc = image_pad_square(square, img, bg, NULL, NULL, err))) return rc;
        img = square;
    }
    if (img->w != c->input || img->h != c->input) {
        if ((rc = image_resize(small, img, c->input, c->input, err))) return rc;
        img = small;
    }
    *out = img;
    return GLM_OK;
}

int features_of_image(float *out, const Image *img, const FeatConfig *c, float *scratch, GlmError *err)
{
    float *own = NULL;
    if (!scratch && !(scratch = own = glm_malloc_array(features_scratch_floats(c), sizeof(float))))
        return glm_fail(err, GLM_ENOMEM, "out of memory for feature scratch");
    Image fit, square, small;
    const Image *in;
    const int rc = to_input(&in, &fit, &square, &small, img, c, err);
    if (rc == GLM_OK) features_compute(out, in, c, scratch);
    image_free(&fit);
    image_free(&square);
    image_free(&small);
    free(own);
    return rc;
}

int features_patches(float *out, int *n, int max, const Image *img, const FeatConfig *c, Rng *rng, GlmError *err)
{
    /* a patch whose values spread less than this is background or the
     * flat inside of an object: it says nothing about shape */
    const float MIN_SPREAD = 0.1f;
    const int S = c->input, P = c->kmeans_patch, pp = P * P;
    *n = 0;
    float *map = glm_malloc_array((size_t)2 * S * S, sizeof(float));
    if (!map) return glm_fail(err, GLM_ENOMEM, "out of memory for a figure map");
    Image fit, square, small;
    const Image *in;
    int rc = to_input(&in, &fit, &square, &small, img, c, err);
    if (rc == GLM_OK) {
        FigureModel fm;
        base_map(map, &fm, in, c, map + S * S);
        /* a few tries per patch wanted, so an empty picture costs little */
        for (int tries = 0; tries < 4 * max && *n < max; tries++) {
            const int x = (int)rng_below(rng, (uint32_t)(S - P + 1)), y = (int)rng_below(rng, (uint32_t)(S - P + 1));
            float lo = 1e30f, hi = -1e30f, *v = out + (size_t)*n * pp;
            for (int py = 0; py < P; py++)
                for (int px = 0; px < P; px++) {
                    const float m = map[(y + py) * S + x + px];
                    lo = GLM_MIN(lo, m), hi = GLM_MAX(hi, m);
                }
            if (hi - lo < MIN_SPREAD) continue;
            read_patch(v, map, S, x, y, P);
            (*n)++;
        }
    }
    image_free(&fit);
    image_free(&square);
    image_free(&small);
    free(map);
    return rc;
}

int features_from_file(float *out, int *w, int *h, const char *path, const FeatConfig *c, float *scratch,
                       GlmError *err)
{
    Image img;
    int rc = image_load(&img, path, err);
    if (rc) return rc;
    if (w) *w = img.w;
    if (h) *h = img.h;
    rc = features_of_image(out, &img, c, scratch, err);
    image_free(&img);
    return rc;
}
