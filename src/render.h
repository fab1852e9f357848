/* render.h - drawing primitives for the attention pictures: an 8-bit RGB
 * canvas, images scaled up with nearest neighbour, an attention grid upsampled
 * bilinearly, a perceptual colour map, alpha blending, clamped rectangles, a
 * colour-map legend, text, and PNG output.
 *
 *     Canvas c;
 *     if (canvas_init(&c, 640, 480, RGB_WHITE, &err)) return ...;
 *     RenderFont *font = render_font_load(NULL, 0, &err);   // DejaVu Sans, or built-in
 *     render_image(&c, &img, 10, 10, 192, 192);
 *     render_text(&c, font, 10, 210, 16, RGB_BLACK, "a red circle");
 *     render_write_png("out.png", &c, &err);                 // temp file, then rename
 *     render_font_free(font);
 *     canvas_free(&c);
 *
 * Coordinates are pixels, x to the right and y down; rectangles are half-open
 * (x0 <= x < x1, y0 <= y < y1) and every primitive clamps to the canvas, so
 * callers may draw partly (or wholly) outside it.
 *
 * Text: a real TrueType font through stb_truetype (DejaVu Sans from Debian's
 * fonts-dejavu-core); when the font file is missing or unreadable, the
 * built-in stb_easy_font (a segment font in libstb-dev's headers) scaled to
 * the requested size, ASCII only (other characters become '?').
 *
 * Not here: layout of the heatmap figure (heatmap.h), anti-aliased lines,
 * colour management (values are sRGB as they are).
 */
#ifndef GLIMPSE_RENDER_H
#define GLIMPSE_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "image.h"

/* The font render_font_load opens when given NULL. */
#define RENDER_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
/* Canvases larger than this are refused (GLM_EINPUT): a contact sheet of
 * hundreds of captions is a mistake, not a picture. */
#define RENDER_MAX_SIDE 32768
#define RENDER_MAX_PIXELS (256L << 20)

typedef struct {
    uint8_t r, g, b;
} Rgb;

#define RGB_BLACK ((Rgb){0, 0, 0})
#define RGB_WHITE ((Rgb){255, 255, 255})

typedef struct {
    int w, h;
    uint8_t *px;   /* (h, w, 3) sRGB bytes; owned: free with canvas_free */
} Canvas;

/* Allocates a w x h canvas filled with `fill`. GLM_EINPUT when a side is
 * < 1 or over the limits, GLM_ENOMEM when allocation fails. */
int canvas_init(Canvas *c, int w, int h, Rgb fill, GlmError *err);
void canvas_free(Canvas *c);
/* The pixel at (x, y), which must be inside. */
static inline uint8_t *canvas_at(const Canvas *c, int x, int y)
{
    return c->px + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
}

/* ---- filling, blending, outlines -------------------------------------- */

void render_fill_rect(Canvas *c, int x0, int y0, int x1, int y1, Rgb col);
/* Mixes col into the rectangle with weight opacity in [0, 1]. */
void render_blend_rect(Canvas *c, int x0, int y0, int x1, int y1, Rgb col, float opacity);
/* The outline of [x0, x1) x [y0, y1), `thick` pixels wide, drawn inside the
 * rectangle (so a box that touches the canvas edge keeps all four sides). */
void render_rect_outline(Canvas *c, int x0, int y0, int x1, int y1, int thick, Rgb col);

/* ---- images and heat -------------------------------------------------- */

/* Draws img scaled to w x h at (x, y), nearest neighbour: each output pixel
 * takes the source pixel its centre falls in, so an integer scale gives
 * crisp square pixels. grey != 0 draws the luminance instead of colour. */
void render_image(Canvas *c, const Image *img, int x, int y, int w, int h, int grey);

/* out (h, w): the G x G grid (row-major, values any) resampled to w x h
 * bilinearly. Grid cell (r, c) covers [c*w/G, (c+1)*w/G) x [r*h/G, (r+1)*h/G)
 * and its value sits at the cell centre; between centres values are
 * interpolated, beyond the outer centres they are held (edges clamped). */
void render_upsample_grid(float *out, const float *grid, int G, int w, int h);

/* The colour map: t in [0, 1] (clamped) to sRGB in [0, 1], dark violet
 * through blue and green to yellow, lightness rising evenly (see render.c).
 * Interpolates RENDER_CMAP_POINTS control points. */
#define RENDER_CMAP_POINTS 32
void render_cmap(float rgb[3], float t);
Rgb render_cmap_rgb(float t);
/* The design the control points were computed from (OKLab, exact; slower).
 * Exposed so a test can check the table against it. */
void render_cmap_design(float rgb[3], float t);

/* Blends heat (h, w), values in [0, 1], as the colour map over the canvas
 * at (x, y) with weight opacity. */
void render_heat(Canvas *c, int x, int y, const float *heat, int w, int h, float opacity);

/* ---- text ------------------------------------------------------------- */

typedef struct RenderFont RenderFont;

/* Opens the TrueType font at path (NULL: RENDER_DEFAULT_FONT), or the
 * built-in font when force_builtin is set or the file is missing, unreadable
 * or not a font; render_font_note then says why. NULL (GLM_ENOMEM) only when
 * out of memory. Load once and reuse: the file is read here, not per call.
 * Free with render_font_free. */
RenderFont *render_font_load(const char *path, int force_builtin, GlmError *err);
void render_font_free(RenderFont *f);
int render_font_is_builtin(const RenderFont *f);
/* Why the built-in font is used ("" when it is not). */
const char *render_font_note(const RenderFont *f);

/* Draws UTF-8 text with its top at y and left at x, glyphs px pixels tall
 * (ascent to descent). Returns the advance width in pixels. */
int render_text(Canvas *c, const RenderFont *f, int x, int y, int px, Rgb col, const char *text);
/* Width render_text would advance, without drawing. */
int render_text_width(const RenderFont *f, int px, const char *text);
/* Line height for px-sized text (px plus a little leading). */
static inline int render_line_height(int px) { return px + (px + 3) / 4; }

/* A horizontal colour-map bar [x, x+w) x [y, y+h), framed, with lo under
 * its left end and hi under its right end (px-sized text, either may be
 * NULL). Returns the total height drawn (bar plus labels). */
int render_legend(Canvas *c, const RenderFont *f, int x, int y, int w, int h, int px,
                  const char *lo, const char *hi);

/* ---- output ----------------------------------------------------------- */

/* PNG bytes of the canvas (png.h at PNG_LEVEL_SMALL) in a malloc'd buffer
 * (*len bytes; caller frees). NULL with GLM_ENOMEM. */
unsigned char *render_png_bytes(const Canvas *c, int *len, GlmError *err);
/* Appends "data:image/png;base64,..." of the canvas to b (GlmBuf,
 * common.h), for pages that inline their pictures. GLM_ENOMEM when the
 * PNG cannot be made (an append that fails sets b->failed instead). */
int render_png_data_uri(GlmBuf *b, const Canvas *c, GlmError *err);
/* Writes the canvas as a PNG with fileio_write (fileio.h): atomic, never
 * half written; GLM_EINPUT for a bad path, GLM_EIO when writing fails. */
int render_write_png(const char *path, const Canvas *c, GlmError *err);

#endif
