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
    int *lines;                    /* (n_objects) the line of its file each object is on */
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
/* One object's words and box as objects.tsv and labels files write them
 * ("small red circle", "x0 y0 x1 y1") into *obj. GLM_EINPUT with
 * "WHERE: reason" (where is e.g. "FILE:LINE") when the words are not a
 * noun phrase of known words (scene_words_valid) or the box is not four
 * integers, negative, empty (x1 <= x0 or y1 <= y0) or beyond 2^20. */
int dataset_object_parse(SceneObject *obj, const char *words, const char *box, const char *where, GlmError *err);

/* Builds *out from n objects given with their image names (names[i] of
 * objs[i], copied) and lines (lines[i], for messages), in any order: grouped by image, the given order kept
 * within an image (it becomes the ids). For readers of other formats
 * (dataset_labels.h); at most SCENE_MAX_OBJECTS per image is the caller's
 * to check. GLM_ENOMEM ("SRC: out of memory"); free with dataset_objects_free. */
int dataset_objects_build(DatasetObjects *out, const char *const *names, const SceneObject *objs,
                          const int *lines, size_t n, const char *src, GlmError *err);

/* GLM_OK when every object of image `name` lies inside a w x h picture
 * (x1 <= w, y1 <= h), else GLM_EINPUT "SRC:LINE: box ... goes past the
 * w x h picture NAME". For callers that have read the picture (a box in
 * the pixels of a resized copy is a labelling mistake, not a miss). */
int dataset_objects_check_size(const DatasetObjects *set, const char *name, int w, int h, const char *src,
                               GlmError *err);

/* The objects of image `name` (*n of them) or NULL (and *n = 0). */
const SceneObject *dataset_objects_find(const DatasetObjects *set, const char *name, int *n);
void dataset_objects_free(DatasetObjects *set);

#endif
