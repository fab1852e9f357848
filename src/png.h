/* png.h - the one PNG encoder of glimpse: an 8-bit RGB picture to PNG bytes
 * around zlib's deflate. The data set writer (scene_dataset.c) and every
 * picture render.c writes (the heatmaps) go through it.
 *
 *     size_t cap = png_work_size(w, h);       // 0: w or h out of range
 *     uint8_t *work = malloc(cap);            // reusable for any picture up to w x h
 *     size_t len;
 *     if (png_encode(work, &len, rgb, w, h, PNG_LEVEL_FAST, &err)) return err.code;
 *     fwrite(work, 1, len, f);                // the PNG is work[0 .. len)
 *
 * The file: signature, IHDR (8-bit RGB, no interlace), one IDAT, IEND, each
 * chunk with its CRC-32. Rows are unfiltered (filter 0): on the scenes'
 * grainy backgrounds the Sub and Up filters made files larger and slower
 * (measured). The bytes depend only on the pixels, the level and the zlib
 * version; any PNG reader (stb_image included) reads them.
 *
 * Why not stb_image_write, which the project already links: its built-in
 * deflate is slower and compresses less. Measured on this machine for
 * `glimpse data shapes --count 10000 --seed 1` (64x64 scenes, median of 3):
 * 9.75 s and 6.8 KB per image through stb_image_write, 4.6 s and 4.6 KB
 * here at PNG_LEVEL_FAST. On the demo heatmaps (`make demo`) PNG_LEVEL_SMALL
 * gives files 15-18 % smaller than stb_image_write's, and glimpse-heatmap
 * ran in 0.23 s instead of 0.6 s.
 *
 * Not here: reading PNGs (image.h, through stb_image), opening or writing
 * files (the callers do: fileio_write, or the data set writer's own files).
 */
#ifndef GLIMPSE_PNG_H
#define GLIMPSE_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* zlib levels: the data sets write thousands of small pictures, where speed
 * matters; a heatmap is one large picture, where size does. */
#define PNG_LEVEL_FAST 1    /* Z_BEST_SPEED */
#define PNG_LEVEL_SMALL 6   /* zlib's default level */

/* Bytes of the work buffer png_encode needs for a w x h picture (the PNG
 * itself and the raw rows it is compressed from); 0 when a side is < 1 or
 * the picture is too large for one IDAT chunk (about 700 megapixels). */
size_t png_work_size(int w, int h);

/* Encodes rgb (h, w, 3) as a PNG at the start of work (png_work_size(w, h)
 * bytes; the caller owns it and may reuse it), setting *len to its length.
 * level is a zlib level 0..9. Returns GLM_OK, GLM_EINPUT (a side or the
 * level out of range), GLM_ENOMEM (zlib failed, which it does only when
 * out of memory). */
int png_encode(uint8_t *work, size_t *len, const uint8_t *rgb, int w, int h, int level, GlmError *err);

#endif
