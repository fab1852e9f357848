/* meta_tasks.c - see meta_tasks.h: the caption dialects of the meta-learning
 * task family and their in-order checker. */
#include "meta_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

static const char *const order_names[META_N_ORDERS] = {"lr", "rl", "tb", "bt", "large", "colour"};

int meta_task_parse(MetaTask *t, const char *name, GlmError *err)
{
    char buf[META_TASK_NAME_LEN];
    if (strlen(name) >= sizeof buf) return glm_fail(err, GLM_EINPUT, "task '%.40s...': name too long", name);
    strcpy(buf, name);
    char *colon = strchr(buf, ':');
    if (colon) *colon = 0;
    memset(t, 0, sizeof *t);
    t->order = -1;
    for (int i = 0; i < META_N_ORDERS; i++)
        if (!strcmp(buf, order_names[i])) t->order = i;
    if (t->order < 0)
        return glm_fail(err, GLM_EINPUT, "task '%s': order '%s' is not lr, rl, tb, bt, large or colour", name, buf);
    if (!colon) return GLM_OK;
    const char *c = colon + 1;
    for (int i = 0; i < SCENE_N_SIZES; i++)
        if (!strcmp(c, scene_size_word(i))) t->concept = META_CONCEPT_SIZE, t->value = i;
    for (int i = 0; i < SCENE_N_SHAPES; i++)
        if (!strcmp(c, scene_shape_word(i))) t->concept = META_CONCEPT_SHAPE, t->value = i;
    if (t->concept == META_CONCEPT_ALL)
        return glm_fail(err, GLM_EINPUT, "task '%s': concept '%s' is not a size (large, small) or a shape "
                        "(circle, square, triangle, cross)", name, c);
    return GLM_OK;
}

void meta_task_name(char *out, size_t cap, const MetaTask *t)
{
    const char *c = t->concept == META_CONCEPT_SIZE ? scene_size_word(t->value)
                  : t->concept == META_CONCEPT_SHAPE ? scene_shape_word(t->value) : NULL;
    snprintf(out, cap, "%s%s%s", order_names[t->order], c ? ":" : "", c ? c : "");
}

int meta_task_list(MetaTask *tasks, int *n, int max, const char *list, GlmError *err)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[META_TASK_NAME_LEN];
        if (len == 0 || len >= sizeof name)
            return glm_fail(err, GLM_EINPUT, "task list '%s': an empty or too long name", list);
        if (*n >= max) return glm_fail(err, GLM_EINPUT, "task list '%s': more than %d tasks", list, max);
        memcpy(name, p, len);
        name[len] = 0;
        int rc = meta_task_parse(&tasks[*n], name, err);
        if (rc) return rc;
        (*n)++;
        p += len + (e != NULL);
    }
    if (*n == 0) return glm_fail(err, GLM_EINPUT, "the task list is empty");
    return GLM_OK;
}

void meta_family(MetaTask train[META_MAX_TASKS], int *n_train, MetaTask held[META_MAX_TASKS], int *n_held)
{
    GlmError err;
    GLM_ASSERT(meta_task_list(train, n_train, META_MAX_TASKS, META_TRAIN_TASKS, &err) == GLM_OK);
    GLM_ASSERT(meta_task_list(held, n_held, META_MAX_TASKS, META_HELDOUT_TASKS, &err) == GLM_OK);
}

int meta_task_equal(const MetaTask *a, const MetaTask *b)
{
    return a->order == b->order && a->concept == b->concept &&
           (a->concept == META_CONCEPT_ALL || a->value == b->value);
}

/* An object's size, colour and shape indices read from its words (-1 when
 * absent); 0 when it has no shape noun (a fashion item). */
typedef struct {
    int size, colour, shape;
    double cx, cy;
} Attrs;

static int word_index(const char *w, const char *(*word)(int), int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(w, word(i))) return i;
    return -1;
}

static int object_attrs(Attrs *a, const SceneObject *o)
{
    a->size = a->colour = a->shape = -1;
    a->cx = 0.5 * (o->box.x0 + o->box.x1);
    a->cy = 0.5 * (o->box.y0 + o->box.y1);
    if (!scene_words_valid(o->words)) return 0;
    char buf[SCENE_WORDS_LEN];
    strcpy(buf, o->words);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        int k;
        if ((k = word_index(w, scene_size_word, SCENE_N_SIZES)) >= 0) a->size = k;
        if ((k = word_index(w, scene_colour_word, SCENE_N_COLOURS)) >= 0) a->colour = k;
        if ((k = word_index(w, scene_shape_word, SCENE_N_SHAPES)) >= 0) a->shape = k;
    }
    return a->shape >= 0;
}

/* The task's sort: negative when object a comes before b. Ties (which
 * generated scenes do not have) fall back to x, then y, then the index, so
 * the order is total and deterministic. */
static int before(int order, const Attrs *a, int ia, const Attrs *b, int ib)
{
    double k = 0;
    switch (order) {
    case META_ORDER_LR: k = a->cx - b->cx; break;
    case META_ORDER_RL: k = b->cx - a->cx; break;
    case META_ORDER_TB: k = a->cy - b->cy; break;
    case META_ORDER_BT: k = b->cy - a->cy; break;
    case META_ORDER_LARGE: k = b->size - a->size; break;   /* "large" is size 1 */
    case META_ORDER_COLOUR: k = a->colour - b->colour; break;
    }
    if (k == 0) k = a->cx - b->cx;
    if (k == 0) k = a->cy - b->cy;
    if (k == 0) k = ia - ib;
    return k < 0 ? -1 : 1;
}

int meta_task_objects(int idx[SCENE_MAX_OBJECTS], const MetaTask *t, const SceneObject *objs, int n)
{
    GLM_ASSERT(!strcmp(scene_size_word(1), "large"));
    Attrs at[SCENE_MAX_OBJECTS];
    int m = 0;
    n = GLM_MIN(n, SCENE_MAX_OBJECTS);
    for (int i = 0; i < n; i++) {
        if (!object_attrs(&at[i], &objs[i])) continue;
        if (t->concept == META_CONCEPT_SIZE && at[i].size != t->value) continue;
        if (t->concept == META_CONCEPT_SHAPE && at[i].shape != t->value) continue;
        idx[m++] = i;
    }
    /* insertion sort: at most SCENE_MAX_OBJECTS */
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && before(t->order, &at[idx[j]], idx[j], &at[idx[j - 1]], idx[j - 1]) < 0; j--) {
            int s = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = s;
        }
    return m;
}

static const char *article(const char *words)
{
    return strchr("aeiou", words[0]) ? "an" : "a";
}

void meta_task_caption(char *out, size_t cap, const MetaTask *t, const SceneObject *objs, int n)
{
    int idx[SCENE_MAX_OBJECTS];
    const int m = meta_task_objects(idx, t, objs, n);
    if (m == 0) {
        snprintf(out, cap, "nothing");
        return;
    }
    size_t len = 0;
    out[0] = 0;
    for (int k = 0; k < m && len < cap; k++) {
        const SceneObject *o = &objs[idx[k]];
        if (k > 0) {
            int rel = scene_relation(&objs[idx[k - 1]].box, &o->box);
            len += (size_t)snprintf(out + len, cap - len, " %s ", rel == SCENE_REL_NONE ? "and" : scene_relation_name(rel));
            if (len >= cap) break;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s %s", article(o->words), o->words);
    }
}

int meta_tasks_dataset(Dataset *out, const MetaTask *tasks, int n_tasks, const Dataset *base,
                       const DatasetObjects *objs, const char *images_dir, GlmError *err)
{
    memset(out, 0, sizeof *out);
    const int N = base->n_images;
    DatasetRefImage *ims = glm_calloc_array((size_t)N, sizeof *ims);
    char (*caps)[SCENE_CAPTION_LEN] = glm_calloc_array((size_t)N * n_tasks, sizeof *caps);
    const char **refs = glm_calloc_array((size_t)N * n_tasks, sizeof *refs);
    int rc = GLM_OK;
    if (!ims || !caps || !refs) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the task captions");
        goto done;
    }
    for (int i = 0; i < N; i++) {
        int n;
        const SceneObject *o = dataset_objects_find(objs, base->images[i].name, &n);
        if (!o) {
            rc = glm_fail(err, GLM_EINPUT, "%s: no objects for this image in objects.tsv", base->images[i].name);
            goto done;
        }
        for (int j = 0; j < n_tasks; j++) {
            meta_task_caption(caps[(size_t)i * n_tasks + j], SCENE_CAPTION_LEN, &tasks[j], o, n);
            refs[(size_t)i * n_tasks + j] = caps[(size_t)i * n_tasks + j];
        }
        ims[i] = (DatasetRefImage){.name = base->images[i].name, .line = i + 1,
                                   .refs = refs + (size_t)i * n_tasks, .n_refs = n_tasks};
    }
    rc = dataset_load_refs(out, ims, N, "task captions", images_dir, NULL, 1, err);
    if (!rc) GLM_ASSERT(out->n_images == N);
done:
    free(ims);
    free(caps);
    free(refs);
    return rc;
}

/* ---- in-order scoring ------------------------------------------------- */

static int is_attr(const char *w)
{
    return word_index(w, scene_size_word, SCENE_N_SIZES) >= 0 || word_index(w, scene_colour_word, SCENE_N_COLOURS) >= 0;
}

void meta_score_caption(MetaScore *s, const MetaTask *t, const SceneObject *objs, int n,
                        const char *const *toks, int n_toks, const int *regions, const FeatConfig *cfg,
                        int w, int h)
{
    int idx[SCENE_MAX_OBJECTS];
    const int m = meta_task_objects(idx, t, objs, n);
    s->images++;
    s->expected += m;
    int k = 0, right = 0, start = 0;   /* k: phrases read; start: first token of the current run */
    for (int i = 0; i < n_toks; i++) {
        if (is_attr(toks[i])) continue;
        if (word_index(toks[i], scene_shape_word, SCENE_N_SHAPES) < 0) {
            start = i + 1;
            continue;
        }
        /* a phrase: toks[start..i], attributes then this noun */
        if (k < m) {
            char ph[SCENE_WORDS_LEN * 2];
            size_t len = 0;
            ph[0] = 0;
            for (int j = start; j <= i && len < sizeof ph; j++)
                len += (size_t)snprintf(ph + len, sizeof ph - len, "%s%s", j > start ? " " : "", toks[j]);
            const SceneObject *o = &objs[idx[k]];
            if (!strcmp(ph, o->words)) {
                right++;
                s->in_order++;
                if (regions && eval_grounded(cfg, regions[i], w, h, &o->box)) s->grounded++;
            }
        }
        k++;
        start = i + 1;
    }
    if (k == m && right == m) s->exact++;
}

double meta_score_in_order(const MetaScore *s)
{
    return s->expected ? (double)s->in_order / (double)s->expected : 0.0;
}

double meta_score_grounding(const MetaScore *s)
{
    return s->in_order ? (double)s->grounded / (double)s->in_order : 0.0;
}
