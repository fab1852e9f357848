/* scene_draw.h - one synthetic scene: its layout and its pixels. Two
 * generators: shape scenes (1-3 anti-aliased circles, squares, triangles and
 * crosses in six colours and two sizes) and fashion scenes (1-3 real, 2-3
 * with vary 0,
 * Fashion-MNIST photos, dark on a light canvas or light on a dark one),
 * each on a textured background (pale, or varied: Scene.vary), each object
 * with its words and pixel box, and the scene's five reference captions
 * (scene_captions, scenes.h).
 *
 *     Scene s;  Rng r;  GlmError err;
 *     if (scene_init(&s, 64, &err)) return err.code;
 *     rng_seed(&r, 1234, 0);
 *     if (scene_make_shapes(&s, &r, &err)) ...;   // s.rgb, s.objects, s.captions
 *     scene_free(&s);
 *
 * Layout rules (docs/data-format.md has the numbers): objects in a scene have
 * distinct words, keep a gap between their boxes and from the border, and no
 * two sit near a diagonal of each other (| |dx| - |dy| | below 8 % of the
 * canvas), so every relation a caption states is clearly true; a layout that
 * breaks a rule is redrawn.
 *
 * Determinism: a scene depends only on r's state (and, for fashion, the
 * photos). The shipped models were trained on these pixels: changing the
 * order of the random draws or the arithmetic changes every data set.
 *
 * Not here: the words and the grammar (scenes.h), reading the Fashion-MNIST
 * files (idx.h), writing PNGs and data set directories (scene_dataset.h).
 */
#ifndef GLIMPSE_SCENE_DRAW_H
#define GLIMPSE_SCENE_DRAW_H

#include <stdint.h>

#include "common.h"
#include "idx.h"
#include "rng.h"
#include "scenes.h"

/* One generated scene. */
typedef struct {
    int size;                               /* canvas side in pixels */
    uint8_t *rgb;                           /* (size, size, 3), owned */
    int n_objects;
    SceneObject objects[SCENE_MAX_OBJECTS];
    int source[SCENE_MAX_OBJECTS];          /* fashion: photo index in its IDX file; shapes: -1 */
    int label[SCENE_MAX_OBJECTS];           /* fashion: class 0..9; shapes: -1 */
    char captions[SCENE_N_REFS][SCENE_CAPTION_LEN];
    /* Set by the caller before making scenes: 0 draws every scene on the
     * pale textured background with fixed object sizes and dark fashion
     * items (the data the version-3 models saw); 1 varies what a caption
     * does not care about, as pictures drawn elsewhere do: a pale, dark or
     * tinted background, often with a linear gradient across it, object
     * sides within +-15% of their size class, and fashion items light on a
     * dark background and dark on a light one. Words and boxes stay exact. */
    int vary;
} Scene;

#define SCENE_SHAPES_DEFAULT_SIZE 64
#define SCENE_FASHION_DEFAULT_SIZE 96
#define SCENE_SHAPES_MIN_SIZE 32    /* below this the small shapes stop being recognisable */
#define SCENE_FASHION_MIN_SIZE 80   /* three 28x28 photos need room to move */
#define SCENE_MAX_SIZE 1024

/* Allocates s->rgb for a size x size canvas. GLM_EINPUT / GLM_ENOMEM. */
int scene_init(Scene *s, int size, GlmError *err);
void scene_free(Scene *s);

/* Draws a shape scene into s (1-3 objects, distinct by size+colour+shape) with
 * its captions, using only r. */
int scene_make_shapes(Scene *s, Rng *r, GlmError *err);
/* Composes 1-3 photos (2-3 when s->vary is 0) of fs with indices in [lo, hi), distinct classes, with
 * their captions. */
int scene_make_fashion(Scene *s, Rng *r, const FashionSet *fs, int lo, int hi, GlmError *err);

/* The drawing colour of a colour word ("red", ...; before the +-6 jitter of
 * each object). Returns 0 (and leaves rgb) for an unknown word. */
int scene_colour_rgb(uint8_t rgb[3], const char *word);

#endif
