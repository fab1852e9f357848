/* meta.c - Reptile over the caption-dialect tasks, the joint control, and
 * adaptation curves; see meta.h for the algorithm. */
#include "meta.h"

#include <stdlib.h>
#include <string.h>

#include "decoder.h"
#include "rng.h"
#include "search.h"

#define META_EVAL_BATCH 64   /* images decoded (or teacher-forced) at once */

TrainOptions meta_inner_default_options(void)
{
    TrainOptions o = train_default_options();
    o.batch = 16;
    o.lr = 0.01f;
    o.warmup = 0;
    o.lr_decay_every = 0;
    o.soft_warmup = 0;
    o.soft_mix = 0.5f;
    o.refs = 0;
    return o;
}

MetaOptions meta_default_options(void)
{
    return (MetaOptions){.k = 10, .outer = 600, .eps = 1.0f, .eps_end = 0.05f,
                         .inner = meta_inner_default_options(), .seed = 1};
}

/* A fresh optimizer for a new inner loop: Adam's moments and its step (the
 * bias correction) back to zero, through the trainer's public state. */
static void reset_adam(Trainer *t)
{
    memset(t->adam.m, 0, t->adam.n * sizeof(float));
    memset(t->adam.v, 0, t->adam.n * sizeof(float));
    t->adam.step = 0;
}

int meta_reptile(Model *m, const MetaTaskData *tasks, int n_tasks, const MetaOptions *o,
                 MetaProgressFn progress, void *ctx, GlmError *err)
{
    GLM_ASSERT(n_tasks > 0 && o->k > 0);
    const size_t P = m->n_params;
    Trainer *tr = glm_calloc_array((size_t)n_tasks, sizeof *tr);
    float *phi = glm_malloc_array(P, sizeof(float));   /* (P) the meta-parameters */
    int rc = GLM_OK, made = 0;
    if (!tr || !phi) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the meta-parameters");
        goto done;
    }
    for (; made < n_tasks; made++) {
        TrainOptions io = o->inner;
        io.seed = o->inner.seed * 1000 + (uint64_t)made + 1;   /* each task its own batch order */
        if ((rc = trainer_init(&tr[made], m, tasks[made].data, tasks[made].x, &io, err))) goto done;
    }
    memcpy(phi, m->params, P * sizeof(float));
    Rng rng;
    rng_seed(&rng, o->seed, 77);
    for (long it = 0; it < o->outer; it++) {
        const int j = (int)rng_below(&rng, (uint32_t)n_tasks);
        Trainer *t = &tr[j];
        /* 2. theta = phi, k steps of the normal trainer from a fresh Adam */
        memcpy(m->params, phi, P * sizeof(float));
        reset_adam(t);
        TrainStats st = {0};
        for (int s = 0; s < o->k; s++)
            if ((rc = trainer_step(t, &st, err))) {
                memcpy(m->params, phi, P * sizeof(float));
                goto done;
            }
        /* 3. phi += eps_i (theta_k - phi) */
        const double frac = o->outer > 1 ? (double)it / (double)(o->outer - 1) : 0.0;
        const float eps = (float)(o->eps + (o->eps_end - o->eps) * frac);
        for (size_t i = 0; i < P; i++) phi[i] += eps * (m->params[i] - phi[i]);
        if (progress) progress(ctx, it + 1, o->outer, j, &st);
    }
    memcpy(m->params, phi, P * sizeof(float));
done:
    for (int i = 0; i < made; i++) trainer_free(&tr[i]);
    free(tr);
    free(phi);
    return rc;
}

int meta_joint(Model *m, const MetaTaskData *joint, const MetaOptions *o, MetaProgressFn progress, void *ctx,
               GlmError *err)
{
    Trainer t;
    TrainOptions io = o->inner;
    io.seed = o->inner.seed * 1000;
    int rc = trainer_init(&t, m, joint->data, joint->x, &io, err);
    if (rc) return rc;
    TrainStats st = {0};
    for (long it = 0; it < o->outer && !rc; it++) {
        for (int s = 0; s < o->k && !rc; s++) rc = trainer_step(&t, &st, err);
        if (!rc && progress) progress(ctx, it + 1, o->outer, 0, &st);
    }
    trainer_free(&t);
    return rc;
}

int meta_measure(MetaPoint *out, const Model *m, const MetaEvalSet *ev, GlmError *err)
{
    memset(out, 0, sizeof *out);
    const FeatConfig *fc = &m->cfg.feat;
    const size_t per = (size_t)features_regions(fc) * features_dim(fc);
    const Dataset *d = ev->data;
    const int T = m->cfg.max_len;
    Search dec;
    DecoderWork w;
    memset(&w, 0, sizeof w);
    int32_t *tok = glm_calloc_array((size_t)META_EVAL_BATCH * T, sizeof(int32_t));   /* (B, T) */
    int *len = glm_calloc_array(META_EVAL_BATCH, sizeof(int));                      /* (B) */
    float *bx = glm_malloc_array((size_t)META_EVAL_BATCH * per, sizeof(float));       /* (B, L, F) */
    int rc = search_init(&dec, &m->cfg, META_EVAL_BATCH, 1, err);
    if (!rc) rc = decoder_work_init(&w, &m->cfg, META_EVAL_BATCH, T, err);
    if (!rc && (!tok || !len || !bx)) rc = glm_fail(err, GLM_ENOMEM, "out of memory for the evaluation");
    MetaScore sc = {0};
    double nll = 0;
    long ntok = 0;
    const char *toks[SCENE_MAX_CAPTION_WORDS * 4];
    const SearchOptions so = {.beam = 1};
    for (int start = 0; !rc && start < d->n_images; start += META_EVAL_BATCH) {
        const int n = GLM_MIN(META_EVAL_BATCH, d->n_images - start);
        search_run(&dec, &m->p, ev->x + (size_t)start * per, n, &so);
        for (int k = 0; k < n; k++) {
            const DatasetImage *im = &d->images[start + k];
            const SearchResult *r = &dec.results[k];
            int n_obj;
            const SceneObject *o = dataset_objects_find(ev->objs, im->name, &n_obj);
            const int nt = GLM_MIN(r->len, (int)(sizeof toks / sizeof toks[0]));
            for (int i = 0; i < nt; i++) toks[i] = m->words[r->words[i]];
            meta_score_caption(&sc, &ev->task, o, n_obj, toks, nt, r->regions, fc,
                               ev->sizes[2 * (start + k)], ev->sizes[2 * (start + k) + 1]);
            /* the task's (first) reference, teacher-forced */
            const int c = im->first;
            const int l = GLM_MIN(d->lengths[c] - 1, T);
            memset(tok + (size_t)k * T, 0, (size_t)T * sizeof(int32_t));
            for (int i = 0; i < l; i++) tok[(size_t)k * T + i] = d->ids[(size_t)c * d->seq_len + 1 + i];
            len[k] = l;
            ntok += l;
        }
        memcpy(bx, ev->x + (size_t)start * per, (size_t)n * per * sizeof(float));
        const DecoderLoss loss = {.nll = 1.0f};
        const DecoderPick pick = {.attention = m->cfg.attention, .mode = REGIONS_ARGMAX};
        decoder_forward(&w, &m->p, bx, tok, len, n, T, &pick, &loss);
        nll += w.stats.nll;
    }
    if (!rc) {
        out->in_order = meta_score_in_order(&sc);
        out->grounding = meta_score_grounding(&sc);
        out->exact = sc.images ? (double)sc.exact / (double)sc.images : 0.0;
        out->nll = ntok ? nll / (double)ntok : 0.0;
    }
    search_free(&dec);
    decoder_work_free(&w);
    free(tok);
    free(len);
    free(bx);
    return rc;
}

int meta_adapt(MetaPoint *pts, int *n_pts, Model *m, const MetaTaskData *train, const TrainOptions *inner,
               long steps, long every, const MetaEvalSet *ev, GlmError *err)
{
    GLM_ASSERT(every > 0);
    *n_pts = 0;
    Trainer t;
    int rc = trainer_init(&t, m, train->data, train->x, inner, err);   /* a fresh Adam */
    if (rc) return rc;
    if (!(rc = meta_measure(&pts[0], m, ev, err))) *n_pts = 1;
    while (!rc && t.step < steps) {
        TrainStats st;
        if ((rc = trainer_step(&t, &st, err))) break;
        if (t.step % every == 0 || t.step == steps) {
            if ((rc = meta_measure(&pts[*n_pts], m, ev, err))) break;
            pts[*n_pts].step = t.step;
            (*n_pts)++;
        }
    }
    trainer_free(&t);
    return rc;
}

long meta_steps_to(const MetaPoint *pts, int n, double in_order_bar, double grounding_bar)
{
    for (int i = 0; i < n; i++)
        if (pts[i].in_order >= in_order_bar && pts[i].grounding >= grounding_bar) return pts[i].step;
    return -1;
}
