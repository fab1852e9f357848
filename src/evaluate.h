/* evaluate.h - captioning a data set split with a model and scoring it:
 * corpus BLEU-1..4, CIDEr-D and ROUGE-L against the references, and, for
 * data sets with ground truth (objects.tsv, or a labels file:
 * dataset_labels.h), semantic, object, grounding and count accuracy. Used
 * by `glimpse eval` and by validation in training.
 *
 * Grounding (hard attention's point): a correctly named object counts as
 * grounded when the region chosen at the step that emitted its noun overlaps
 * the object's box by at least a third of the region's area, the region
 * being its grid cell (features_region_cell) scaled to the image's pixels.
 * grounding_accuracy = grounded / correctly named objects.
 *
 * Count (how many things the caption says there are): an image counts when
 * its caption has as many noun phrases as the image has objects, whatever
 * words they carry (SceneCheck.n_phrases, the checker's lenient phrase scan,
 * so a caption that breaks the grammar is still counted).
 * count_accuracy = such images / images with objects.
 *
 * Not here: decoding itself (search.h), the metric formulas (metrics.h), the
 * caption grammar (scenes.h).
 */
#ifndef GLIMPSE_EVALUATE_H
#define GLIMPSE_EVALUATE_H

#include <stdio.h>

#include "common.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "metrics.h"
#include "model.h"
#include "scenes.h"

#define EVAL_GROUNDING_OVERLAP (1.0 / 3.0)   /* of the region's area; from the definition */

typedef struct {
    MetricsScores scores;
    int has_scenes;            /* the three accuracies below are meaningful */
    double semantic_accuracy;  /* images whose caption is semantically correct */
    double object_accuracy;    /* objects named with exactly their words */
    double grounding_accuracy; /* correctly named objects whose noun looked at them */
    double count_accuracy;     /* images whose caption names as many things as they hold */
    double attention_entropy;  /* mean H(alpha_t) in nats over every decoded step (words and
                                  <end>): how spread the attention is (log L: uniform) */
    int images;
    double seconds;            /* decoding and scoring, not image loading */
} EvalResult;

/* Region vectors of every image of d: *x gets (n_images, L, F), *sizes
 * (n_images, 2) the images' original width and height. Both malloc'd, the
 * caller frees. progress (may be NULL) is called now and then with the
 * number of images done. An image that turns out unreadable (truncated,
 * corrupt) is dropped from d with a skip message, as the loader does with a
 * missing one (dataset_drop_image), and x, sizes cover the images kept;
 * with strict, or when it is the only image, it is an error naming it.
 * threads: workers (pool.h), each on a share of the images; the result is
 * the same for any number. */
int eval_features(float **x, int **sizes, Dataset *d, const FeatConfig *cfg, int strict, int threads,
                  void (*progress)(void *ctx, int done, int total), void *ctx, GlmError *err);

/* 1 when the region `region` of cfg's grid, scaled to an image of size
 * (w, h), overlaps box by at least EVAL_GROUNDING_OVERLAP of its area. */
int eval_grounded(const FeatConfig *cfg, int region, int w, int h, const SceneBox *box);

/* Captions every image of d (x, sizes as from eval_features) with beam K
 * (1 = greedy) and scores the result. objs: the data set's objects, or NULL
 * for plain caption data. captions_out: if not NULL, gets NAME<TAB>caption
 * per image. threads: workers, each decoding whole batches of images (the
 * same batches for any number, so the same captions and scores); a caller
 * with more than one should make BLAS single-threaded. */
int eval_run(EvalResult *out, const Model *m, const Dataset *d, const float *x, const int *sizes,
             const DatasetObjects *objs, int beam, int threads, FILE *captions_out, GlmError *err);

/* Joins the words of ids[0..n) with spaces into out (cap bytes). */
void eval_caption_text(char *out, size_t cap, const Model *m, const int32_t *ids, int n);

#endif
