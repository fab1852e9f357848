/* meta_tasks.h - the task family of meta-learned attention (`glimpse meta`,
 * meta.h): caption dialects over the shape scenes that differ in *where to
 * look*, and the in-order checker that scores a caption against a task.
 *
 * A task is an order and a concept, named "ORDER" or "ORDER:CONCEPT":
 *   order    lr (left to right, by box centre x), rl, tb (top down, centre
 *            y), bt (bottom up), large (large objects first, then left to
 *            right), colour (by colour in lexicon order: red, green, blue,
 *            yellow, purple, orange; then left to right)
 *   concept  absent (every object), a size word (large, small) or a shape
 *            noun (circle, square, triangle, cross): only the objects of
 *            that concept are named, so the policy must find them.
 * The task's one reference caption of a scene lists the objects it names,
 * in its order, joined by the true relation between each two in a row
 * (scene_relation: "left of", "right of", "above", "below"; "and" on a tie,
 * which generated layouts never have): "a small red circle above a large
 * blue cross". A scene with none of the concept's objects is "nothing".
 * So every task speaks the same words over the same images; only the order
 * and the choice of objects - where the policy has to look at each step -
 * differ, and one set of region vectors serves every task.
 *
 * The family (meta_family): META_TRAIN_TASKS are meta-trained on;
 * META_HELDOUT_TASKS never appear in meta-training, and each is made of
 * parts that do: bt reverses tb as rl reverses lr; colour is a new sort key
 * built like large (a property first, then left to right); rl:small and
 * tb:circle join an order and a concept seen only apart. The split is fixed
 * (not drawn) so that a test can check it; what is drawn per seed is the
 * scenes (`glimpse data shapes --seed`) and the meta-training's task
 * sequence (meta.h).
 *
 * In-order scoring (meta_score_caption): the caption's noun phrases are read
 * in order (each a run of size and colour words ending in a shape noun);
 * the k-th phrase is right when its words are exactly those of the k-th
 * object the task names. in_order / expected is the in-order object
 * accuracy; a right phrase is grounded when the region chosen at the step
 * that emitted its noun covers the object (eval_grounded, evaluate.h), and
 * grounded / in_order is the grounding accuracy. exact counts scenes whose
 * caption has exactly the task's phrases, in order.
 *
 * Everything here is pure and deterministic except meta_tasks_dataset,
 * which checks the image files as every loader does.
 * Not here: the meta-learning (meta.h), reading data sets (dataset.h,
 * dataset_objects.h), the caption grammar of the five references (scenes.h).
 */
#ifndef GLIMPSE_META_TASKS_H
#define GLIMPSE_META_TASKS_H

#include <stddef.h>

#include "common.h"
#include "dataset.h"
#include "dataset_objects.h"
#include "features.h"
#include "scenes.h"

enum { META_ORDER_LR, META_ORDER_RL, META_ORDER_TB, META_ORDER_BT, META_ORDER_LARGE, META_ORDER_COLOUR,
       META_N_ORDERS };
enum { META_CONCEPT_ALL, META_CONCEPT_SIZE, META_CONCEPT_SHAPE };

typedef struct {
    int order;      /* META_ORDER_* */
    int concept;    /* META_CONCEPT_* */
    int value;      /* the size (scenes.h index) or shape of the concept */
} MetaTask;

#define META_TASK_NAME_LEN 32
#define META_TRAIN_TASKS "lr,rl,tb,large,lr:large,tb:small,rl:square,lr:circle,large:triangle"
#define META_HELDOUT_TASKS "bt,colour,rl:small,tb:circle"
#define META_MAX_TASKS 32

/* Parses "ORDER[:CONCEPT]"; GLM_EINPUT naming what is wrong. */
int meta_task_parse(MetaTask *t, const char *name, GlmError *err);
/* The name meta_task_parse reads back, into out (cap bytes). */
void meta_task_name(char *out, size_t cap, const MetaTask *t);
/* Parses a comma-separated list into tasks[0..*n) (at most max);
 * GLM_EINPUT for a bad name, an empty list or too many. */
int meta_task_list(MetaTask *tasks, int *n, int max, const char *list, GlmError *err);
/* The fixed family: META_TRAIN_TASKS and META_HELDOUT_TASKS parsed. */
void meta_family(MetaTask train[META_MAX_TASKS], int *n_train, MetaTask held[META_MAX_TASKS], int *n_held);
/* 1 when a and b are the same task. */
int meta_task_equal(const MetaTask *a, const MetaTask *b);

/* The objects task t names in objs[0..n), in its order: writes their
 * indices into idx and returns how many (0..n). Objects whose words
 * scene_words_valid rejects, or without a shape noun, are never named. */
int meta_task_objects(int idx[SCENE_MAX_OBJECTS], const MetaTask *t, const SceneObject *objs, int n);
/* The task's reference caption of the scene objs[0..n) into out (cap >=
 * SCENE_CAPTION_LEN; longer captions are cut). */
void meta_task_caption(char *out, size_t cap, const MetaTask *t, const SceneObject *objs, int n);

/* Builds a data set over the images of base (same images, same order) whose
 * references are the captions of tasks[0..n_tasks): image i gets n_tasks
 * references, task j's j-th (one task: the task's data set; several: the
 * joint multi-task data set). objs gives every image's objects;
 * images_dir is where base's image files are. GLM_EINPUT when an image has
 * no objects in objs; otherwise as dataset_load_refs. Free with
 * dataset_free. */
int meta_tasks_dataset(Dataset *out, const MetaTask *tasks, int n_tasks, const Dataset *base,
                       const DatasetObjects *objs, const char *images_dir, GlmError *err);

/* Running counts of the in-order checker (see above). */
typedef struct {
    long images;     /* scenes scored */
    long exact;      /* captions with exactly the task's phrases, in order */
    long expected;   /* objects the task names, summed */
    long in_order;   /* of them, named by the phrase at their place */
    long grounded;   /* of those, looked at when their noun was emitted */
} MetaScore;

/* Adds one caption toks[0..n_toks) (words, no start/end) with the region
 * chosen for each token, regions[0..n_toks) (NULL: no grounding counted),
 * for the scene objs[0..n) drawn at w x h pixels, to *s. Never fails. */
void meta_score_caption(MetaScore *s, const MetaTask *t, const SceneObject *objs, int n,
                        const char *const *toks, int n_toks, const int *regions, const FeatConfig *cfg,
                        int w, int h);
/* in_order / expected and grounded / in_order (0 when the divisor is 0). */
double meta_score_in_order(const MetaScore *s);
double meta_score_grounding(const MetaScore *s);

#endif
