/* image.h - RGB float images: loading any format stb_image reads, resizing.
 *
 * An Image is {w, h, data} with data laid out (h, w, 3), RGB in [0, 1].
 * Loading accepts PNG, JPEG, BMP, GIF (first frame), TGA, PNM, PSD; grey,
 * grey+alpha, RGB and RGBA; 8 and 16 bits per channel. Grey is copied to
 * the three channels; alpha is composited over the picture's own
 * background, the median colour of its opaque border pixels (white when the
 * whole border is transparent), so transparency looks like the rest of the
 * background, not like a white or black frame.
 *
 * Not here: colour management (sRGB values are used as they are), EXIF
 * orientation, animation (a GIF gives its first frame).
 */
#ifndef GLIMPSE_IMAGE_H
#define GLIMPSE_IMAGE_H

#include "common.h"

/* Refused before decoding, from the file size and the header alone: */
#define IMAGE_MAX_FILE_BYTES ((size_t)256 << 20)   /* 256 MB of file */
#define IMAGE_MAX_SIDE 16384              /* pixels on either side */
#define IMAGE_MAX_PIXELS (64L << 20)      /* 64 Mpx in all */
/* A header that declares more pixels than IMAGE_FREE_PIXELS plus so many
 * per byte of file is a lie, refused before anything is allocated for it
 * (8000x8000 declared in 154 bytes would cost 1 GB):
 *  - PNG, JPEG, PIC: IMAGE_MAX_PIXELS_PER_BYTE. Deflate's best is 1032:1,
 *    so 8 one-bit pixels per inflated byte give ~8300 pixels per PNG byte;
 *    a progressive JPEG can cover a subsampled 32x32 block in one bit of a
 *    DC scan, and PIC's run counts are 16 bits.
 *  - GIF: IMAGE_MAX_PIXELS_PER_BYTE_GIF. An LZW code of 12 bits stands for
 *    at most 4096 pixels, about 2730 per byte.
 *  - BMP, TGA, PSD, PNM, HDR: IMAGE_MAX_PIXELS_PER_BYTE_RLE. They store
 *    whole bytes per pixel or run-length packets of at most 128 pixels in
 *    2 bytes (1-bit BMP: 8 a byte). */
#define IMAGE_FREE_PIXELS (1L << 20)
#define IMAGE_MAX_PIXELS_PER_BYTE 16384.0
#define IMAGE_MAX_PIXELS_PER_BYTE_GIF 4096.0
#define IMAGE_MAX_PIXELS_PER_BYTE_RLE 64.0

typedef struct {
    int w, h;
    float *data;   /* (h, w, 3), owned by the Image: free with image_free */
} Image;

/* Allocates a w x h image filled with 0 (black). Returns GLM_OK or GLM_ENOMEM. */
int image_init(Image *img, int w, int h, GlmError *err);
void image_free(Image *img);

/* Loads path into *img (which the caller later frees with image_free).
 * Fails with GLM_EINPUT and "PATH: reason" when the file is missing, not a
 * regular file, not an image stb_image can decode, corrupt, truncated (in
 * every format: a decoder that wants bytes past the end fails the load), or
 * over the limits above; the reason names the format. *img is then empty. */
int image_load(Image *img, const char *path, GlmError *err);

/* Resamples src into a new w x h image *dst (caller frees). Each axis on its
 * own: area averaging where it shrinks (every source pixel counts with the
 * fraction of it that falls in the output pixel), bilinear where it grows
 * (pixel centres aligned, edges clamped). The aspect ratio is NOT kept: a
 * non-square image is stretched to the model's square input. */
int image_resize(Image *dst, const Image *src, int w, int h, GlmError *err);

/* The median colour of img's outermost ring of pixels (per channel): what
 * a picture's background is, for padding it. */
void image_border_colour(float bg[3], const Image *img);

/* A new square image *dst (caller frees) of side max(w, h), filled with bg,
 * with src in its middle at (*off_x, *off_y) (either may be NULL). The
 * aspect ratio is kept: what is around the picture is its own background. */
int image_pad_square(Image *dst, const Image *src, const float bg[3], int *off_x, int *off_y, GlmError *err);
/* Replaces a picture that is not square by itself padded to a square with
 * its own background (image_border_colour): what a model that keeps the
 * aspect ratio sees, for drawing it. GLM_ENOMEM; img is unchanged then. */
int image_pad_square_own(Image *img, GlmError *err);

#endif
