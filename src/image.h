/* image.h - RGB float images: loading any format stb_image reads, resizing.
 *
 * An Image is {w, h, data} with data laid out (h, w, 3), RGB in [0, 1].
 * Loading accepts PNG, JPEG, BMP, GIF (first frame), TGA, PNM, PSD; grey,
 * grey+alpha, RGB and RGBA; 8 and 16 bits per channel. Grey is copied to
 * the three channels; alpha is composited over white (so a transparent
 * background looks like paper, not like black).
 *
 * Not here: colour management (sRGB values are used as they are), EXIF
 * orientation, animation (a GIF gives its first frame).
 */
#ifndef GLIMPSE_IMAGE_H
#define GLIMPSE_IMAGE_H

#include "common.h"

/* Refused before decoding, from the header alone (stbi_info): */
#define IMAGE_MAX_SIDE 16384              /* pixels on either side */
#define IMAGE_MAX_PIXELS (64L << 20)      /* 64 Mpx in all */

typedef struct {
    int w, h;
    float *data;   /* (h, w, 3), owned by the Image: free with image_free */
} Image;

/* Allocates a w x h image filled with 0 (black). Returns GLM_OK or GLM_ENOMEM. */
int image_init(Image *img, int w, int h, GlmError *err);
void image_free(Image *img);

/* Loads path into *img (which the caller later frees with image_free).
 * Fails with GLM_EINPUT and "PATH: reason" when the file is missing,
 * unreadable, not an image stb_image can decode, corrupt, truncated, or over
 * the size limits; *img is then left empty. */
int image_load(Image *img, const char *path, GlmError *err);

/* Resamples src into a new w x h image *dst (caller frees). Each axis on its
 * own: area averaging where it shrinks (every source pixel counts with the
 * fraction of it that falls in the output pixel), bilinear where it grows
 * (pixel centres aligned, edges clamped). The aspect ratio is NOT kept: a
 * non-square image is stretched to the model's square input. */
int image_resize(Image *dst, const Image *src, int w, int h, GlmError *err);

#endif
