/* dataset_objects.h - a data set's ground truth: DIR/objects.tsv
 * (docs/data-format.md), the words and pixel box of every object, grouped by
 * image. `glimpse eval` and validation during training check captions
 * against it (scene_check_caption, scenes.h) and ask whether the attended
 * region covers the object named (evaluate.h).
 *
 *     DatasetObjects set;  GlmError err;
 *     if (dataset_objects_load(&set, "data/shapes", &err)) return err.code;
 *     int n;  const SceneObject *objs = dataset_objects_find(&set, "shapes_000001.png", &n);
 *     scene_check_caption(&ck, objs, n, toks, n_toks);
 *     dataset_objects_free(&set);
 *
 * objects.tsv is optional for a data set: without it eval reports the
 * caption metrics only (cli_load_objects decides).
 *
 * Not here: captions and splits (dataset.h), what the words mean and the
 * checker (scenes.h), writing objects.tsv (scene_dataset.h).
 */
#ifndef GLIMPSE_DATASET_OBJECTS_H
#define GLIMPSE_DATASET_OBJECTS_H

#include "common.h"
#include "scenes.h"

/* Every object of a data set's objects.tsv, grouped by image. */
typedef struct {
    char *name;        /* image name as in captions.tsv, e.g. "shapes_000001.png" */
    int first, count;  /* its objects are objects[first .. first + count), by object id */
} DatasetImageObjects;

typedef struct {
    int n_images;
    DatasetImageObjects *images;   /* (n_images) sorted by name */
    int n_objects;
    SceneObject *objects;          /* (n_objects) */
} DatasetObjects;

/* Reads DIR/objects.tsv. Each line is NAME<TAB>ID<TAB>WORDS<TAB>x0 y0 x1 y1;
 * an image's ids must be 0..n-1 (any line order), n <= SCENE_MAX_OBJECTS,
 * the words a noun phrase of known words, the box non-empty; blank lines
 * are skipped, a trailing '\r' is dropped. Returns GLM_OK, GLM_EINPUT (the
 * file is missing, not a regular file or over FILEIO_TEXT_MAX, as for every
 * file fileio_read reads; or a bad line: "FILE:LINE: reason"), GLM_EIO (a
 * read failed), GLM_ENOMEM; on failure *out owns nothing. Free with
 * dataset_objects_free. */
int dataset_objects_load(DatasetObjects *out, const char *dir, GlmError *err);
/* The objects of image `name` (*n of them) or NULL (and *n = 0). */
const SceneObject *dataset_objects_find(const DatasetObjects *set, const char *name, int *n);
void dataset_objects_free(DatasetObjects *set);

#endif
