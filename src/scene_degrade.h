/* scene_degrade.h - what a camera, a paint program or an encoder does to a
 * picture that the caption does not care about: sensor noise, a slight
 * blur, JPEG's blocks and ringing. Varied scenes (Scene.vary) pass through
 * it after drawing (scene_dataset.c; glimpse data --degrade), so a model
 * trained on them has seen these before it meets a user's JPEG (issue 12).
 *
 * Each effect is drawn independently from the scene's Rng:
 *   noise  p = SCENE_NOISE_P: Gaussian, sigma 3..12 grey levels, either the
 *          same on R, G, B (grey) or per channel (colour), half each;
 *   blur   p = SCENE_BLUR_P: the separable [1 2 1] / 4 kernel once;
 *   jpeg   p = SCENE_JPEG_P: encoded at quality 50..95 and decoded again
 *          (stb_image_write and stb_image, Debian's libstb), last, as a
 *          saved photo would be.
 * Object boxes are not moved: blur spreads an edge by one pixel at most.
 */
#ifndef GLIMPSE_SCENE_DEGRADE_H
#define GLIMPSE_SCENE_DEGRADE_H

#include <stdint.h>

#include "common.h"
#include "rng.h"

#define SCENE_NOISE_P 0.25f
#define SCENE_BLUR_P 0.2f
#define SCENE_JPEG_P 0.3f
/* The Rng stream (of the data set's seed) the effects draw from. */
#define SCENE_DEGRADE_STREAM 77

/* Applies the effects to rgb (h, w, 3) in place. GLM_ENOMEM, or GLM_EINPUT
 * if the JPEG round trip fails (it does not on a valid picture). */
int scene_degrade(uint8_t *rgb, int w, int h, Rng *r, GlmError *err);

#endif
