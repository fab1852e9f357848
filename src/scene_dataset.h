/* scene_dataset.h - `glimpse data shapes|fashion` as a library call: draws
 * count scenes (scene_draw.h) and writes them as a data set directory
 * (docs/data-format.md): images/NAME.png, captions.tsv, objects.tsv, the
 * three split lists, info.txt and, for fashion, sources.tsv.
 *
 *     SceneGenParams p = scene_gen_default_params(SCENE_KIND_SHAPES);
 *     p.count = 10000;
 *     if (scene_generate_dataset("data/shapes", &p, NULL, NULL, &err)) return err.code;
 *
 * The directory is written whole or not at all: into a fresh sibling
 * OUT.tmp-XXXXXX, renamed into place only once every file is complete. The
 * same parameters give the same bytes (no time stamps; PNGs from png.h).
 *
 * Not here: drawing (scene_draw.h), captions (scenes.h), PNG encoding
 * (png.h), reading a data set back (dataset.h, dataset_objects.h), the
 * command line (cmd_data.c).
 */
#ifndef GLIMPSE_SCENE_DATASET_H
#define GLIMPSE_SCENE_DATASET_H

#include <signal.h>
#include <stdint.h>

#include "common.h"

typedef enum { SCENE_KIND_SHAPES, SCENE_KIND_FASHION } SceneKind;

typedef struct {
    SceneKind kind;
    int count;              /* images */
    uint64_t seed;
    int size;               /* the scene's square side (before the canvas step) */
    double split[3];        /* train, val, test fractions, summing to 1 */
    const char *fashion_dir;  /* where the Fashion-MNIST .gz files are */
    int vary;               /* Scene.vary: backgrounds, polarity and sizes varied (default 1) */
    int degrade;            /* with vary: noise, blur, JPEG (scene_degrade.h; default 1) */
    int canvas;             /* with vary: other aspect ratios and sizes (scene_canvas.h; default 1);
                               objects.tsv's boxes are in the written picture's pixels */
    /* Unless NULL: checked before every scene; once nonzero (a signal
     * handler sets it) the generation stops, removes its temporary
     * directory and fails with "interrupted". */
    const volatile sig_atomic_t *stop;
} SceneGenParams;

/* Defaults: 1000 images, seed RNG_DEFAULT_SEED, the kind's default size,
 * split 0.8/0.1/0.1, FASHION_DEFAULT_DIR, vary 1, degrade 1, canvas 1. */
SceneGenParams scene_gen_default_params(SceneKind kind);

/* Called now and then during generation (done of total images written). */
typedef void (*SceneProgressFn)(void *ctx, int done, int total);

/* Writes the data set of docs/data-format.md into out_dir, which must not
 * exist (or be an empty directory). Everything goes to a fresh sibling
 * directory OUT.tmp-XXXXXX that is renamed to out_dir only when complete and
 * deleted on failure, so out_dir is either absent or whole. Fashion: train
 * scenes use training photos 0..90%, val scenes the last 10% of the training
 * photos, test scenes only the t10k photos. progress may be NULL. Returns
 * GLM_EINPUT for bad params or an existing out_dir, GLM_EIO for file system
 * failures, GLM_ENOMEM. */
int scene_generate_dataset(const char *out_dir, const SceneGenParams *p, SceneProgressFn progress,
                           void *ctx, GlmError *err);

/* Train/val/test image counts for count images and the split fractions. */
void scene_split_counts(int counts[3], int count, const double split[3]);

#endif
