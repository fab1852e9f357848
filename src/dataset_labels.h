/* dataset_labels.h - a labels file: the user's own pictures and what is in
 * them, one line per object (docs/labels-format.md):
 *
 *     # IMAGE<TAB>WORDS<TAB>x0 y0 x1 y1
 *     kitchen.jpg	small red circle	40 52 78 90
 *     kitchen.jpg	large blue square	120 30 190 100
 *
 * read into what `glimpse eval --data DIR` gets from a generated data set: a
 * Dataset whose five references per image are written from the objects by
 * scene_captions (the generators' grammar, scenes.h), and the
 * DatasetObjects that the checker and grounding need. So every score of
 * `glimpse eval` works on pictures glimpse did not draw.
 *
 *     Dataset d;  DatasetObjects objs;  GlmError err;
 *     if (dataset_labels_load(&d, &objs, "labels.tsv", "pictures", NULL, 0, &err)) return cli_report(&err);
 *     ... eval_features, then dataset_objects_check_size per image, eval_run ...
 *     dataset_objects_free(&objs);  dataset_free(&d);
 *
 * Lines: WORDS is a noun phrase of the scene language (scene_words_valid;
 * written back lowercase, single-spaced), the box is in the picture's own
 * pixels, x1 and y1 exclusive. Blank lines and lines starting with '#' are
 * ignored; a trailing '\r' and blanks around a field are dropped; a UTF-8
 * byte-order mark at the start is skipped. An image's objects are its lines
 * in file order (they need not be adjacent).
 *
 * Bad lines are errors, not skips, since a person wrote them: GLM_EINPUT with
 * "FILE:LINE: reason" for a line without a tab or with other than three
 * fields, an empty or absolute image name or one that is not a picture file
 * by its extension (.png .jpg .jpeg .bmp .gif .tga .pnm .ppm .pgm .psd, any
 * case), words outside the scene language, a bad box (dataset_object_parse),
 * more than SCENE_CAPTION_MAX_OBJECTS objects in one image, a line that
 * repeats an earlier one (same image, words and box), two boxes of an image
 * whose centres lie exactly on a diagonal of each other (no relation can be
 * said, scenes.h), a NUL byte, or a file without any object. Pictures that
 * are listed but missing or unreadable are skipped with a message in
 * d->messages, as in every data set (strict: an error). Whether a box fits
 * its picture is known only once the picture is read:
 * dataset_objects_check_size.
 *
 * Not here: reading pictures (image.h), the words and the grammar
 * (scenes.h), objects.tsv (dataset_objects.h).
 */
#ifndef GLIMPSE_DATASET_LABELS_H
#define GLIMPSE_DATASET_LABELS_H

#include "common.h"
#include "dataset.h"
#include "dataset_objects.h"

/* Reads the labels file path; pictures are images_dir/IMAGE. split_path
 * (may be NULL: every image) is a list of image names to keep, as for
 * dataset_load_flickr. Fills *d and *objs (objs->lines set), which the
 * caller frees with dataset_free and dataset_objects_free; on failure both
 * are left empty. GLM_EINPUT (bad file or line, no usable picture),
 * GLM_EIO, GLM_ENOMEM. */
int dataset_labels_load(Dataset *d, DatasetObjects *objs, const char *path, const char *images_dir,
                        const char *split_path, int strict, GlmError *err);

#endif
