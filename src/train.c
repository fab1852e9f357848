/* train.c - see train.h for what one step does and why. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "pool.h"
#include "vocab.h"


TrainOptions train_default_options(void)
{
    return (TrainOptions){
        .reward = REWARD_CIDER, .baseline = BASELINE_GREEDY,
        .entropy = 0.01f, .rl_weight = 0.5f, .soft_mix = 0.0f, .doubly = 1.0f,
        .batch = 32, .min_count = VOCAB_DEFAULT_MIN_COUNT, .lr = 3e-3f, .lr_decay = 0.5f, .lr_decay_every = 3000, .warmup = 100,
        .clip = 5.0f, .steps = 2000, .seed = RNG_DEFAULT_SEED, .threads = 1,
    };
}

int train_preset(const char *name, TrainOptions *o, ModelConfig *mc, long *val_every)
{
    /* Both learn from the canonical (left-to-right) reference only (refs 1):
     * its word order matches the order the policy looks in. A long soft
     * warm-up teaches the context before REINFORCE takes over. */
    if (!strcmp(name, "shapes")) {
        /* 45000 steps since the vectorised decoder (BENCHMARKS.md) made a step
         * about three times cheaper: still inside make models' 30 minutes */
        o->steps = 45000, o->soft_warmup = 6000, o->lr_decay_every = 13500, o->seed = 1, o->refs = 1;
        mc->feat.input = 80, mc->feat.grid = 5, mc->feat.window = 28, mc->feat.stride = 16;
        mc->feat.hog_cells = 3, mc->feat.patch = 6;
        /* the learned patch dictionary (kmeans.h): at 6000 steps it lifted
         * held-out semantic accuracy from 0.742 to 0.825 (README, Results) */
        mc->feat.kmeans = 32, mc->feat.kmeans_patch = 6;
        *val_every = 3000;
        return 1;
    }
    if (!strcmp(name, "fashion")) {
        o->steps = 36000, o->soft_warmup = 3000, o->lr_decay_every = 15000, o->seed = 2, o->refs = 1;
        mc->feat.input = 96, mc->feat.grid = 5, mc->feat.window = 32, mc->feat.stride = 18;
        mc->feat.hog_cells = 4, mc->feat.patch = 8, mc->feat.recentre = 10, mc->proj = 128;
        /* the patch dictionary here too: at 5000 steps on 10000 scenes (one
         * seed) held-out object accuracy 0.675 -> 0.699, grounding 0.683 ->
         * 0.727; Fashion-MNIST test photos named 0.711 -> 0.709 (README) */
        mc->feat.kmeans = 32, mc->feat.kmeans_patch = 6;
        *val_every = 4000;
        return 1;
    }
    return 0;
}

long train_count_pairs(const Dataset *d, int refs)
{
    long n = 0;
    for (int i = 0; i < d->n_images; i++)
        n += refs > 0 ? GLM_MIN(refs, d->images[i].n_captions) : d->images[i].n_captions;
    return n;
}

float train_lr_at(const TrainOptions *o, long step)
{
    double warm = o->warmup > 0 ? GLM_MIN(1.0, (double)(step + 1) / (double)o->warmup) : 1.0;
    double decay = o->lr_decay_every > 0 ? pow(o->lr_decay, (double)step / (double)o->lr_decay_every) : 1.0;
    return (float)(o->lr * warm * decay);
}

int trainer_init(Trainer *t, Model *model, const Dataset *data, const float *x,
                 const TrainOptions *opt, GlmError *err)
{
    memset(t, 0, sizeof *t);
    t->opt = *opt;
    t->model = model;
    t->data = data;
    t->x = x;
    t->T = model->cfg.max_len;
    t->perm_epoch = -1;
    rng_seed(&t->rng, opt->seed, 1);
    const int B = opt->batch, T = t->T;
    const size_t LF = (size_t)features_regions(&model->cfg.feat) * features_dim(&model->cfg.feat);
    GLM_ASSERT(data->ids && data->seq_len - 1 <= T);
    if (opt->threads < 1 || opt->threads > POOL_MAX_THREADS || B < 1)
        return glm_fail(err, GLM_EINPUT, "train: %d threads or batch %d out of range", opt->threads, B);
    int rc = optim_adam_init(&t->adam, model->n_params, err);
    if (rc) goto fail;
    if ((rc = reinforce_init(&t->rl, &model->cfg, data, B, err))) goto fail;
    t->n_shards = GLM_MIN(opt->threads, B);
    t->shards = glm_calloc_array((size_t)t->n_shards, sizeof *t->shards);
    t->grad = glm_calloc_array(model->n_params, sizeof(float));
    t->xe_rows = glm_calloc_array((size_t)B, sizeof(Rng));
    t->roll_rows = glm_calloc_array((size_t)B, sizeof(Rng));
    if (!t->shards || !t->grad || !t->xe_rows || !t->roll_rows) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the training buffers");
        goto fail;
    }
    for (int k = 0; k < t->n_shards; k++) {
        TrainShard *sh = &t->shards[k];
        pool_share(B, t->n_shards, k, &sh->lo, &sh->hi);
        const int nb = sh->hi - sh->lo;
        if ((rc = decoder_work_init(&sh->work, &model->cfg, nb, T, err)) ||
            (rc = reinforce_init_shared(&sh->rl, &model->cfg, &t->rl, nb, err)))
            goto fail;
        if (k > 0 && !(sh->own = glm_calloc_array(model->n_params, sizeof(float)))) {
            rc = glm_fail(err, GLM_ENOMEM, "out of memory for the gradient of worker %d", k);
            goto fail;
        }
        model_params_view(&sh->g, k > 0 ? sh->own : t->grad, &model->cfg);
    }
    if (t->n_shards > 1) {
        /* the workers call BLAS at the same time: each call on its own thread */
        openblas_set_num_threads(1);
        if (!(t->pool = pool_new(t->n_shards, err))) {
            rc = GLM_ENOMEM;
            goto fail;
        }
    }
    t->bx = glm_malloc_array((size_t)B * LF, sizeof(float));
    t->btok = glm_calloc_array((size_t)B * T, sizeof(int32_t));
    t->blen = glm_calloc_array((size_t)B, sizeof(int));
    t->bimg = glm_calloc_array((size_t)B, sizeof(int));
    t->perm = glm_calloc_array((size_t)data->n_captions, sizeof(int));
    t->pairs = glm_calloc_array((size_t)data->n_captions, sizeof(int));
    t->bq = glm_calloc_array((size_t)B * features_regions(&model->cfg.feat), sizeof(float));
    if (!t->bx || !t->btok || !t->blen || !t->bimg || !t->perm || !t->pairs || !t->bq) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the training buffers");
        goto fail;
    }
    model_params_view(&t->g, t->grad, &model->cfg);
    /* The (image, reference) pairs trained on: each image's first opt->refs
     * references, or all of them. */
    for (int i = 0; i < data->n_images; i++)
        for (int k = 0; k < data->images[i].n_captions && (opt->refs <= 0 || k < opt->refs); k++)
            t->pairs[t->n_pairs++] = data->images[i].first + k;
    GLM_ASSERT(t->n_pairs == train_count_pairs(data, opt->refs));
    return GLM_OK;
fail:
    trainer_free(t);
    return rc;
}

void trainer_free(Trainer *t)
{
    pool_free(t->pool);
    for (int k = 0; t->shards && k < t->n_shards; k++) {
        decoder_work_free(&t->shards[k].work);
        reinforce_free(&t->shards[k].rl);
        free(t->shards[k].own);
    }
    free(t->shards);
    free(t->xe_rows);
    free(t->roll_rows);
    optim_adam_free(&t->adam);
    reinforce_free(&t->rl);
    free(t->grad);
    free(t->bx);
    free(t->btok);
    free(t->blen);
    free(t->bimg);
    free(t->perm);
    free(t->pairs);
    free(t->bq);
    memset(t, 0, sizeof *t);
}

/* Fills the batch of step t->step: pair j is number step*B + j of the
 * endless sequence of epochs, each a shuffle seeded from (seed, epoch). */
static void fill_batch(Trainer *t)
{
    const Dataset *d = t->data;
    const int B = t->opt.batch, T = t->T, n = t->n_pairs;
    const size_t LF = (size_t)features_regions(&t->model->cfg.feat) * features_dim(&t->model->cfg.feat);
    for (int j = 0; j < B; j++) {
        long g = t->step * B + j;
        long epoch = g / n;
        if (epoch != t->perm_epoch) {
            Rng shuffle;
            rng_seed(&shuffle, t->opt.seed, 1000 + (uint64_t)epoch);
            for (int i = 0; i < n; i++) t->perm[i] = i;
            rng_shuffle(&shuffle, t->perm, n);
            t->perm_epoch = epoch;
        }
        int c = t->pairs[t->perm[g % n]], img = d->caption_image[c];
        t->bimg[j] = img;
        memcpy(t->bx + j * LF, t->x + (size_t)img * LF, LF * sizeof(float));
        /* ids: <start> w1 .. wn <end>; the decoder wants w1 .. wn <end>. */
        int len = GLM_MIN(d->lengths[c] - 1, T);
        memset(t->btok + (size_t)j * T, 0, (size_t)T * sizeof(int32_t));
        for (int k = 0; k < len; k++) t->btok[(size_t)j * T + k] = d->ids[(size_t)c * d->seq_len + 1 + k];
        t->blen[j] = len;
    }
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* What the workers of one step share (read-only but for their own shard). */
typedef struct {
    Trainer *t;
    ReinforceOptions ro;
    DecoderLoss xe;
    DecoderPick pick;      /* .rows is offset per shard */
    int loglik, rollout;   /* which REINFORCE estimator runs this step */
    int phase;             /* 1 or 2 (train.h) */
} StepJob;

static void shard_phase1(const StepJob *j, TrainShard *sh)
{
    Trainer *t = j->t;
    const ModelParams *p = &t->model->p;
    const int lo = sh->lo, nb = sh->hi - sh->lo, T = t->T;
    const size_t LF = (size_t)features_regions(&t->model->cfg.feat) * features_dim(&t->model->cfg.feat);
    const float *x = t->bx + lo * LF;
    memset(sh->own ? sh->own : t->grad, 0, t->model->n_params * sizeof(float));
    DecoderPick pick = j->pick;
    pick.rows = t->xe_rows + lo;
    DecoderLoss xe = j->xe;   /* the prior's targets: this shard's rows */
    if (xe.prior_target) xe.prior_target += (size_t)lo * features_regions(&t->model->cfg.feat);
    decoder_forward(&sh->work, p, x, t->btok + (size_t)lo * T, t->blen + lo, nb, T, &pick, &xe);
    sh->nll = sh->work.stats.nll;
    sh->entropy = sh->work.stats.entropy;
    sh->loss = sh->work.stats.loss;
    sh->rl_loss = 0;
    /* The paper's reward rides on this pass: r = log p(y | s, a) of its
     * samples; its backward waits for the whole batch's weights. */
    if (j->loglik) {
        memcpy(t->rl.reward + lo, sh->work.caption_logp, (size_t)nb * sizeof(float));
        return;
    }
    decoder_backward(&sh->g, NULL, &sh->work, p);
    if (j->rollout) {
        reinforce_sample(&sh->rl, &j->ro, p, x, t->bimg + lo, nb, NULL, t->roll_rows + lo);
        memcpy(t->rl.reward + lo, sh->rl.reward, (size_t)nb * sizeof(float));
        memcpy(t->rl.base + lo, sh->rl.base, (size_t)nb * sizeof(float));
    }
}

static void shard_phase2(const StepJob *j, TrainShard *sh)
{
    Trainer *t = j->t;
    const ModelParams *p = &t->model->p;
    const int lo = sh->lo, nb = sh->hi - sh->lo;
    const size_t LF = (size_t)features_regions(&t->model->cfg.feat) * features_dim(&t->model->cfg.feat);
    if (j->loglik) {
        const double before = sh->work.stats.loss;
        decoder_set_reinforce(&sh->work, t->rl.weight + lo);
        sh->loss += sh->work.stats.loss - before;
        decoder_backward(&sh->g, NULL, &sh->work, p);
    } else if (j->rollout) {
        memcpy(sh->rl.weight, t->rl.weight + lo, (size_t)nb * sizeof(float));
        /* phase 1's cross-entropy pass on this work had the same batch and weights */
        sh->rl_loss = reinforce_replay(&sh->rl, &sh->work, &sh->g, p, t->bx + lo * LF, nb, 1);
    }
}

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void step_job(void *ctx, int k)
{
    const StepJob *j = ctx;
    TrainShard *sh = &j->t->shards[k];
    const double c0 = thread_seconds();
    if (j->phase == 1) shard_phase1(j, sh);
    else shard_phase2(j, sh);
    sh->cpu += thread_seconds() - c0;
}

static void run_phase(Trainer *t, StepJob *j, int phase)
{
    j->phase = phase;
    double before[POOL_MAX_THREADS], slowest = 0;
    for (int k = 0; k < t->n_shards; k++) before[k] = t->shards[k].cpu;
    if (t->pool) pool_run(t->pool, step_job, j);
    else step_job(j, 0);
    for (int k = 0; k < t->n_shards; k++) slowest = GLM_MAX(slowest, t->shards[k].cpu - before[k]);
    t->cpu_critical += slowest;
}

int trainer_step(Trainer *t, TrainStats *st, GlmError *err)
{
    Model *m = t->model;
    const TrainOptions *o = &t->opt;
    const int B = o->batch, hard = m->cfg.attention == ATTN_HARD;
    const int reinforce = hard && o->rl_weight > 0;
    memset(st, 0, sizeof *st);
    st->step = t->step;
    fill_batch(t);

    long ntok = 0;
    for (int b = 0; b < B; b++) ntok += t->blen[b];
    const int soft_batch = hard && (t->step < o->soft_warmup ||
                                    (o->soft_mix > 0 && rng_uniform(&t->rng) < o->soft_mix));
    st->soft = soft_batch || !hard;
    /* the per-example streams of this step (train.h: Determinism) */
    const uint64_t key = (uint64_t)rng_u32(&t->rng) << 32 | rng_u32(&t->rng);
    for (int b = 0; b < B; b++) {
        rng_seed(&t->xe_rows[b], key, 2 * (uint64_t)b);
        rng_seed(&t->roll_rows[b], key, 2 * (uint64_t)b + 1);
    }

    /* 1. Cross-entropy of the references, regions sampled (or, in a soft
     * batch, blended), and the entropy bonus on alpha; normalised by the
     * whole batch's counts, so the shards' gradients add up to the batch's.
     * With an attention prior and --prior-supervise, its targets (the
     * batch's rows of prior_target; each shard reads its own rows). */
    const int supervise = m->cfg.prior && o->prior_supervise > 0 && t->prior_target;
    const int L = features_regions(&m->cfg.feat);
    for (int b = 0; b < B && supervise; b++)
        memcpy(t->bq + (size_t)b * L, t->prior_target + (size_t)t->bimg[b] * L, (size_t)L * sizeof(float));
    StepJob job = {
        .t = t,
        .ro = {.reward = o->reward, .baseline = o->baseline, .weight = o->rl_weight},
        .xe = {.nll = 1.0f / (float)ntok, .entropy = o->entropy / (float)ntok,
               .doubly = hard ? 0.0f : o->doubly / (float)B,
               .prior = supervise ? o->prior_supervise / (float)B : 0.0f,
               .prior_target = supervise ? t->bq : NULL},
        .pick = {.attention = soft_batch ? ATTN_SOFT : m->cfg.attention, .mode = REGIONS_SAMPLE},
        .loglik = reinforce && !soft_batch && o->reward == REWARD_LOGLIK,
        .rollout = reinforce && !soft_batch && o->reward != REWARD_LOGLIK,
    };
    /* 2. REINFORCE (reinforce.h): rollouts and rewards per shard, the
     * baselines and weights over the whole batch, then the replays. */
    run_phase(t, &job, 1);
    ReinforceStats rs = {0};
    if (job.loglik || job.rollout) {
        reinforce_baselines(&t->rl, &job.ro, B, job.rollout);
        reinforce_weights(&t->rl, &job.ro, B, &rs);
        run_phase(t, &job, 2);
    }
    double nll = 0, ent = 0;
    for (int k = 0; k < t->n_shards; k++) {
        const TrainShard *sh = &t->shards[k];
        nll += sh->nll, ent += sh->entropy;
        st->loss += sh->loss + sh->rl_loss;
        /* the gradients in shard order: the same sums for the same thread count */
        if (k > 0)
            for (size_t i = 0; i < m->n_params; i++) t->grad[i] += sh->own[i];
    }
    st->nll = nll / (double)ntok;
    st->entropy = ent / (double)ntok;
    st->reward = rs.reward;
    st->baseline = rs.baseline;

    if (!isfinite(st->loss) || !all_finite(t->grad, m->n_params))
        return glm_fail(err, GLM_EINPUT, "step %ld: the loss or a gradient is not finite (loss %g); "
                        "try a lower --lr", t->step + 1, st->loss);
    st->grad_norm = optim_clip_grad_norm(t->grad, m->n_params, o->clip);
    AdamConfig ac = optim_adam_default();
    ac.lr = train_lr_at(o, t->step);
    st->lr = ac.lr;
    optim_adam_step(m->params, &t->adam, t->grad, &ac);
    t->step++;
    return GLM_OK;
}
