/* evaluate.c - see evaluate.h. */
#include "evaluate.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search.h"
#include "features.h"
#include "metrics_corpus.h"
#include "pool.h"
#include "text.h"

/* Images decoded together. The batches are the same for every thread count
 * (workers take whole batches), so the captions are too. */
#define EVAL_BATCH 16
/* Images whose features are computed between two progress reports. */
#define EVAL_FEATURE_CHUNK 256

/* ---- region features of a data set, images split across workers -------- */

typedef struct {
    const Dataset *d;
    const FeatConfig *cfg;
    float *x;            /* (n_images, L, F) */
    int *sizes;          /* (n_images, 2) */
    float **scratch;     /* (workers) */
    int *rc;             /* (chunk) features_from_file's status per image */
    int first, n;        /* this chunk: images first .. first + n - 1 */
    int workers;
    size_t per;
} FeatureJob;

static void feature_job(void *ctx, int k)
{
    FeatureJob *j = ctx;
    int lo, hi;
    pool_share(j->n, j->workers, k, &lo, &hi);
    for (int q = lo; q < hi; q++) {
        const int i = j->first + q;
        GlmError why;
        j->rc[q] = features_from_file(j->x + i * j->per, &j->sizes[2 * i], &j->sizes[2 * i + 1], j->d->images[i].path,
                                      j->cfg, j->scratch[k], &why);
    }
}

int eval_features(float **x, int **sizes, Dataset *d, const FeatConfig *cfg, int strict, int threads,
                  void (*progress)(void *ctx, int done, int total), void *ctx, GlmError *err)
{
    const size_t per = (size_t)features_regions(cfg) * features_dim(cfg);
    const int workers = GLM_MAX(1, GLM_MIN(threads, POOL_MAX_THREADS));
    *x = glm_malloc_array((size_t)d->n_images, per * sizeof(float));
    *sizes = glm_malloc_array((size_t)d->n_images, 2 * sizeof(int));
    float *scratch[POOL_MAX_THREADS] = {0};
    int rcs[EVAL_FEATURE_CHUNK];
    Pool *pool = NULL;
    int rc = GLM_OK;
    for (int k = 0; k < workers; k++)
        if (!(scratch[k] = glm_malloc_array(features_scratch_floats(cfg), sizeof(float)))) rc = GLM_ENOMEM;
    if (!*x || !*sizes || rc) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the features of %d images", d->n_images);
        goto done;
    }
    if (workers > 1 && !(pool = pool_new(workers, err))) {
        rc = GLM_ENOMEM;
        goto done;
    }
    const int total = d->n_images;
    /* A chunk is computed in parallel into the slots of its images, then
     * walked in order: a kept image moves down over the dropped ones, so x
     * and d end as the sequential loop left them. */
    for (int i = 0, seen = 0; i < d->n_images && rc == GLM_OK;) {
        FeatureJob job = {.d = d, .cfg = cfg, .x = *x, .sizes = *sizes, .scratch = scratch, .rc = rcs,
                          .first = i, .n = GLM_MIN(EVAL_FEATURE_CHUNK, d->n_images - i), .workers = workers,
                          .per = per};
        if (pool) pool_run(pool, feature_job, &job);
        else feature_job(&job, 0);
        for (int q = 0; q < job.n && rc == GLM_OK; q++, seen++) {
            const int slot = job.first + q;   /* its features; it is image i of d now */
            if (rcs[q] == GLM_OK) {
                if (slot != i) {
                    memmove(*x + i * per, *x + slot * per, per * sizeof(float));
                    (*sizes)[2 * i] = (*sizes)[2 * slot], (*sizes)[2 * i + 1] = (*sizes)[2 * slot + 1];
                }
                i++;
                continue;
            }
            /* the reason again, on this thread (failures are rare) */
            GlmError why = {0};
            rc = features_from_file(*x + i * per, NULL, NULL, d->images[i].path, cfg, scratch[0], &why);
            if (rc == GLM_OK) rc = rcs[q], glm_fail(&why, rc, "%s: unreadable", d->images[i].path);
            if (rc == GLM_EINPUT && !strict && d->n_images > 1) {
                /* unreadable after all (truncated, corrupt): skipped like a missing file */
                rc = dataset_drop_image(d, i, why.msg);
                if (rc) glm_fail(err, rc, "out of memory dropping an image");
                continue;
            }
            glm_fail(err, rc, "%s%s", why.msg, strict && rc == GLM_EINPUT ? " (strict)" : "");
        }
        if (rc == GLM_OK && progress) progress(ctx, seen, total);
    }
done:
    pool_free(pool);
    for (int k = 0; k < workers; k++) free(scratch[k]);
    if (rc) {
        free(*x);
        free(*sizes);
        *x = NULL;
        *sizes = NULL;
    }
    return rc;
}

int eval_grounded(const FeatConfig *cfg, int region, int w, int h, const SceneBox *box)
{
    int x0, y0, x1, y1;
    features_region_cell(cfg, region / cfg->grid, region % cfg->grid, &x0, &y0, &x1, &y1);
    /* The cell from model-input pixels to the picture's: each axis scaled
     * on its own (stretched), or one scale and the padding's offset
     * (keep_aspect, features.h). */
    double sx = (double)w / cfg->input, sy = (double)h / cfg->input, ox0 = 0, oy0 = 0;
    if (cfg->keep_aspect) {
        const double side = GLM_MAX(w, h);
        sx = sy = side / cfg->input;
        ox0 = (double)((long)(side - w) / 2), oy0 = (double)((long)(side - h) / 2);
    }
    double rx0 = x0 * sx - ox0, rx1 = x1 * sx - ox0, ry0 = y0 * sy - oy0, ry1 = y1 * sy - oy0;
    double ox = GLM_MIN(rx1, (double)box->x1) - GLM_MAX(rx0, (double)box->x0);
    double oy = GLM_MIN(ry1, (double)box->y1) - GLM_MAX(ry0, (double)box->y0);
    if (ox <= 0 || oy <= 0) return 0;
    return ox * oy >= EVAL_GROUNDING_OVERLAP * (rx1 - rx0) * (ry1 - ry0);
}

void eval_caption_text(char *out, size_t cap, const Model *m, const int32_t *ids, int n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n && used + 1 < cap; i++) {
        int k = snprintf(out + used, cap - used, "%s%s", i ? " " : "", m->words[ids[i]]);
        if (k < 0) break;
        used += (size_t)k;
    }
}

/* Worker k decodes batch first + k (if there is one) into its own Search. */
typedef struct {
    const Model *m;
    const float *x;
    Search *dec;         /* (workers) */
    int first, n_images;
    SearchOptions opt;
    size_t per;
} DecodeJob;

static void decode_job(void *ctx, int k)
{
    const DecodeJob *j = ctx;
    const int start = (j->first + k) * EVAL_BATCH;
    if (start >= j->n_images) return;
    search_run(&j->dec[k], &j->m->p, j->x + (size_t)start * j->per, GLM_MIN(EVAL_BATCH, j->n_images - start),
               &j->opt);
}

int eval_run(EvalResult *out, const Model *m, const Dataset *d, const float *x, const int *sizes,
             const DatasetObjects *objs, int beam, int threads, FILE *captions_out, GlmError *err)
{
    memset(out, 0, sizeof *out);
    const double t0 = glm_seconds();
    const FeatConfig *fc = &m->cfg.feat;
    const size_t per = (size_t)features_regions(fc) * features_dim(fc);
    const int n_batches = (d->n_images + EVAL_BATCH - 1) / EVAL_BATCH;
    const int workers = GLM_MAX(1, GLM_MIN(GLM_MIN(threads, POOL_MAX_THREADS), n_batches));
    Search dec[POOL_MAX_THREADS];
    memset(dec, 0, sizeof dec);
    int rc = GLM_OK;
    for (int k = 0; k < workers && rc == GLM_OK; k++) rc = search_init(&dec[k], &m->cfg, EVAL_BATCH, beam, err);
    Pool *pool = rc || workers == 1 ? NULL : pool_new(workers, err);
    MetricsCorpus *corpus = rc || (workers > 1 && !pool) ? NULL : metrics_corpus_new(err);
    if (!corpus) {
        pool_free(pool);
        for (int k = 0; k < workers; k++) search_free(&dec[k]);
        return rc ? rc : GLM_ENOMEM;
    }
    long n_semantic = 0, n_objects = 0, n_named = 0, n_grounded = 0, n_counted = 0, n_steps = 0;
    double entropy = 0;
    const int L = features_regions(fc);
    int scene_images = 0;
    char text[4096];
    const char *toks[256];
    DecodeJob job = {.m = m, .x = x, .dec = dec, .n_images = d->n_images, .opt = {.beam = beam}, .per = per};
    for (int b = 0; b < n_batches && rc == GLM_OK; b++) {
        /* every `workers` batches: decode them at once, then score in order */
        if (b % workers == 0) {
            job.first = b;
            if (pool) pool_run(pool, decode_job, &job);
            else decode_job(&job, 0);
        }
        const int start = b * EVAL_BATCH, n = GLM_MIN(EVAL_BATCH, d->n_images - start);
        const Search *sr = &dec[b % workers];
        for (int k = 0; k < n && rc == GLM_OK; k++) {
            const DatasetImage *im = &d->images[start + k];
            const SearchResult *r = &sr->results[k];
            eval_caption_text(text, sizeof text, m, r->words, r->len);
            if (captions_out) {
                text_put_name(captions_out, im->name);
                fprintf(captions_out, "\t%s\n", text);
            }
            rc = metrics_corpus_add(corpus, im->name, text, d->captions + im->first, im->n_captions, err);
            for (int t = 0; t < r->len + r->ended; t++, n_steps++)
                for (int i = 0; i < L; i++) {
                    const double a = r->alpha[(long)t * L + i];
                    if (a > 0) entropy -= a * log(a);
                }
            int n_obj;
            const SceneObject *o = objs ? dataset_objects_find(objs, im->name, &n_obj) : NULL;
            if (!o) continue;
            int nt = GLM_MIN(r->len, (int)(sizeof toks / sizeof toks[0]));
            for (int i = 0; i < nt; i++) toks[i] = m->words[r->words[i]];
            SceneCheck ck;
            scene_check_caption(&ck, o, n_obj, toks, nt);
            scene_images++;
            n_semantic += ck.correct;
            n_counted += ck.n_phrases == n_obj;
            n_objects += n_obj;
            n_named += ck.n_correct;
            for (int j = 0; j < n_obj; j++) {
                int t = ck.noun_tok[j];
                if (t < 0) continue;
                n_grounded += eval_grounded(fc, r->regions[t], sizes[2 * (start + k)],
                                            sizes[2 * (start + k) + 1], &o[j].box);
            }
        }
    }
    if (rc == GLM_OK) rc = metrics_corpus_scores(&out->scores, corpus, NULL, err);
    metrics_corpus_free(corpus);
    pool_free(pool);
    for (int k = 0; k < workers; k++) search_free(&dec[k]);
    if (rc) return rc;
    out->images = d->n_images;
    out->attention_entropy = n_steps ? entropy / (double)n_steps : 0;
    out->has_scenes = scene_images > 0;
    if (out->has_scenes) {
        out->semantic_accuracy = (double)n_semantic / scene_images;
        out->object_accuracy = n_objects ? (double)n_named / n_objects : 0;
        out->grounding_accuracy = n_named ? (double)n_grounded / n_named : 0;
        out->count_accuracy = (double)n_counted / scene_images;
    }
    out->seconds = glm_seconds() - t0;
    return GLM_OK;
}
