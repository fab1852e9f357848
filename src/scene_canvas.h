/* scene_canvas.h - the picture's size and shape. A user's picture is
 * seldom a square of the generator's side: it is 96x128 or 300x225 or
 * 300x100, and the feature extractor pads it to a square with its own
 * background and resizes it to the model's input (features.h,
 * keep_aspect). Varied scenes (Scene.vary; glimpse data --canvas) pass
 * through this step after drawing and before scene_degrade, so a model
 * trained on them has seen such pictures, and the noise and JPEG of the
 * degradations fall on the final picture (issue 12).
 *
 * Each scene, square of side S, gets from its own Rng (all draws made
 * first, whatever happens):
 *   extend  p = SCENE_CANVAS_EXTEND_P: one axis (either, half each) grows
 *           to a * S px, a uniform in [SCENE_CANVAS_ASPECT_LO,
 *           SCENE_CANVAS_ASPECT_HI]; the square sits at a uniform offset
 *           along it. The new pixels continue the scene's background: the
 *           plane (per channel) through the mean colours of the square's
 *           four border lines, which carries a gradient on, plus the same
 *           +-3 grey grain the background has. Its low-frequency swell
 *           (+-6 levels) is not continued, so a faint seam may show;
 *   rescale p = SCENE_CANVAS_RESCALE_P: the whole picture is resampled so
 *           that its shorter side is s * S, s log-uniform in
 *           [max(SCENE_CANVAS_SCALE_LO, min_side / S), SCENE_CANVAS_SCALE_HI]
 *           (min_side: the kind's smallest canvas, so nothing gets smaller
 *           than the generator allows), the longer side in proportion.
 *           Area averaging in exact integer arithmetic, on either axis and
 *           either way (growing by 2 repeats each pixel): every output
 *           pixel is the mean of the input it covers.
 *
 * Ground truth stays exact: a box [x0, x1) is shifted by the offset, then
 * becomes [floor(x0 W'/W), ceil(x1 W'/W)) -- exactly the output pixels the
 * object's input pixels reach -- and the same for y. A rescale that would
 * change a stated relation (scene_relation) between two boxes by its
 * rounding is not done (the picture keeps its size); the words and
 * captions never change.
 *
 *     SceneCanvas cv;
 *     if (scene_canvas_init(&cv, S, &err)) ...;
 *     if (scene_canvas_apply(&cv, &scene, SCENE_SHAPES_MIN_SIZE, &r, &err)) ...;
 *     // cv.rgb (cv.h, cv.w, 3), cv.boxes[0 .. scene.n_objects - 1]
 *     scene_canvas_free(&cv);
 *
 * Not here: drawing the scene (scene_draw.h), the degradations
 * (scene_degrade.h), writing files (scene_dataset.h).
 */
#ifndef GLIMPSE_SCENE_CANVAS_H
#define GLIMPSE_SCENE_CANVAS_H

#include <stdint.h>

#include "common.h"
#include "rng.h"
#include "scene_draw.h"

#define SCENE_CANVAS_EXTEND_P 0.35f
#define SCENE_CANVAS_RESCALE_P 0.35f
#define SCENE_CANVAS_ASPECT_LO (4.0f / 3.0f)
#define SCENE_CANVAS_ASPECT_HI 2.0f
#define SCENE_CANVAS_SCALE_LO 0.6f
#define SCENE_CANVAS_SCALE_HI 2.0f
/* The Rng stream (of the data set's seed) the canvas draws from. */
#define SCENE_CANVAS_STREAM 78

typedef struct {
    int w, h;                           /* the picture's size */
    uint8_t *rgb;                       /* (h, w, 3), owned */
    SceneBox boxes[SCENE_MAX_OBJECTS];  /* the scene's boxes in the picture's pixels */
    int size;                           /* the square side it was made for */
    /* work, sized once by scene_canvas_init */
    uint8_t *wide;                      /* (S, 2S, 3) the extended square */
    uint32_t *row;                      /* (4S * 3) one input row resampled along x */
    uint64_t *acc;                      /* (4S * 3) one output row's sums */
} SceneCanvas;

/* The largest picture a size x size scene can become: the longer side
 * (4 x size: extended to 2:1, then grown 2x) and the shorter (2 x size). */
void scene_canvas_bounds(int size, int *longer, int *shorter);

/* Allocates everything for scenes of side size (8..SCENE_MAX_SIZE).
 * GLM_EINPUT, GLM_ENOMEM (c is then empty). */
int scene_canvas_init(SceneCanvas *c, int size, GlmError *err);
void scene_canvas_free(SceneCanvas *c);

/* Makes c's picture and boxes from s (s->size must be c->size; s is not
 * changed), drawing from r. min_side: the shortest side a rescale may
 * give (at most s->size). Always succeeds for valid arguments: GLM_EINPUT
 * otherwise. */
int scene_canvas_apply(SceneCanvas *c, const Scene *s, int min_side, Rng *r, GlmError *err);

#endif
