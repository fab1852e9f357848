/* train.c - see train.h for what one step does and why. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "vocab.h"

TrainOptions train_default_options(void)
{
    return (TrainOptions){
        .reward = REWARD_CIDER, .baseline = BASELINE_GREEDY,
        .entropy = 0.01f, .rl_weight = 0.5f, .soft_mix = 0.0f, .doubly = 1.0f,
        .batch = 32, .lr = 3e-3f, .lr_decay = 0.5f, .lr_decay_every = 3000, .warmup = 100,
        .clip = 5.0f, .steps = 2000, .seed = RNG_DEFAULT_SEED,
    };
}

static const char *reward_names[] = {"cider", "bleu4", "f1", "loglik"};
static const char *baseline_names[] = {"greedy", "mean", "none"};

const char *train_reward_name(int r) { return r >= 0 && r < 4 ? reward_names[r] : "?"; }
const char *train_baseline_name(int b) { return b >= 0 && b < 3 ? baseline_names[b] : "?"; }

int train_reward_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, reward_names[i])) return i;
    return -1;
}

int train_baseline_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, baseline_names[i])) return i;
    return -1;
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

/* The references of every image as token ids without <start>/<end>, for
 * the reward's n-gram index. */
static MetricsIndex *build_reference_index(const Dataset *d, GlmError *err)
{
    MetricsSeq *refs = glm_malloc_array((size_t)d->n_captions, sizeof *refs);
    int *first = glm_malloc_array((size_t)d->n_images + 1, sizeof *first);
    MetricsIndex *ix = NULL;
    if (!refs || !first) {
        glm_fail(err, GLM_ENOMEM, "out of memory for the reward's references");
        goto done;
    }
    /* Captions are grouped by image (dataset.h), in image order. */
    for (int i = 0; i < d->n_images; i++) {
        first[i] = d->images[i].first;
        for (int k = 0; k < d->images[i].n_captions; k++) {
            int c = d->images[i].first + k;
            refs[c].toks = d->ids + (size_t)c * d->seq_len + 1;
            refs[c].len = d->lengths[c] - 2;
        }
    }
    first[d->n_images] = d->n_captions;
    ix = metrics_index_build(refs, first, d->n_images, err);
done:
    free(refs);
    free(first);
    return ix;
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
    int rc = optim_adam_init(&t->adam, model->n_params, err);
    if (rc) goto fail;
    if ((rc = decoder_work_init(&t->work, &model->cfg, B, T, err))) goto fail;
    if ((rc = search_init(&t->dec, &model->cfg, B, 1, err))) goto fail;
    if (!(t->refs = build_reference_index(data, err))) { rc = GLM_ENOMEM; goto fail; }
    if (!(t->scratch = metrics_scratch_new(t->refs, T, err))) { rc = GLM_ENOMEM; goto fail; }
    t->grad = glm_calloc_array(model->n_params, sizeof(float));
    t->bx = glm_malloc_array((size_t)B * LF, sizeof(float));
    t->btok = glm_calloc_array((size_t)B * T, sizeof(int32_t));
    t->rtok = glm_calloc_array((size_t)B * T, sizeof(int32_t));
    t->rreg = glm_calloc_array((size_t)B * T, sizeof(int));
    t->blen = glm_calloc_array((size_t)B, sizeof(int));
    t->rlen = glm_calloc_array((size_t)B, sizeof(int));
    t->bimg = glm_calloc_array((size_t)B, sizeof(int));
    t->reward = glm_calloc_array((size_t)B, sizeof(float));
    t->base = glm_calloc_array((size_t)B, sizeof(float));
    t->weight = glm_calloc_array((size_t)B, sizeof(float));
    t->perm = glm_calloc_array((size_t)data->n_captions, sizeof(int));
    t->pairs = glm_calloc_array((size_t)data->n_captions, sizeof(int));
    if (!t->grad || !t->bx || !t->btok || !t->rtok || !t->rreg || !t->blen || !t->rlen || !t->bimg ||
        !t->reward || !t->base || !t->weight || !t->perm || !t->pairs) {
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
    optim_adam_free(&t->adam);
    decoder_work_free(&t->work);
    search_free(&t->dec);
    metrics_scratch_free(t->scratch);
    metrics_index_free(t->refs);
    free(t->grad);
    free(t->bx);
    free(t->btok);
    free(t->rtok);
    free(t->rreg);
    free(t->blen);
    free(t->rlen);
    free(t->bimg);
    free(t->reward);
    free(t->base);
    free(t->weight);
    free(t->perm);
    free(t->pairs);
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

static double reward_of(Trainer *t, int img, const int32_t *words, int n)
{
    int toks[256];
    n = GLM_MIN(n, 256);
    for (int i = 0; i < n; i++) toks[i] = words[i];
    switch (t->opt.reward) {
    case REWARD_BLEU4: return metrics_bleu4_one(t->refs, t->scratch, img, toks, n);
    case REWARD_F1: return metrics_f1_one(t->refs, t->scratch, img, toks, n);
    default: return metrics_cider_one(t->refs, t->scratch, img, toks, n);
    }
}

/* Baselines for the B rewards in t->reward, into t->base. */
static void baselines(Trainer *t, int greedy_ready)
{
    const int B = t->opt.batch;
    double mean = 0;
    for (int b = 0; b < B; b++) mean += t->reward[b];
    mean /= B;
    for (int b = 0; b < B; b++) {
        if (t->opt.baseline == BASELINE_NONE) t->base[b] = 0;
        else if (t->opt.baseline == BASELINE_MEAN) t->base[b] = t->baseline_set ? t->baseline : (float)mean;
        else if (!greedy_ready) t->base[b] = (float)mean;   /* loglik + greedy: no decode to compare */
    }
    t->baseline = t->baseline_set ? 0.9f * t->baseline + 0.1f * (float)mean : (float)mean;
    t->baseline_set = 1;
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

int trainer_step(Trainer *t, TrainStats *st, GlmError *err)
{
    Model *m = t->model;
    const TrainOptions *o = &t->opt;
    const int B = o->batch, T = t->T, hard = m->cfg.attention == ATTN_HARD;
    memset(st, 0, sizeof *st);
    st->step = t->step;
    fill_batch(t);
    memset(t->grad, 0, m->n_params * sizeof(float));

    long ntok = 0;
    for (int b = 0; b < B; b++) ntok += t->blen[b];
    const int soft_batch = hard && (t->step < o->soft_warmup ||
                                    (o->soft_mix > 0 && rng_uniform(&t->rng) < o->soft_mix));
    st->soft = soft_batch || !hard;

    /* 1. Cross-entropy of the references, regions sampled (or blended). */
    DecoderLoss xe = {.nll = 1.0f / (float)ntok, .entropy = o->entropy / (float)ntok,
                      .doubly = hard ? 0.0f : o->doubly / (float)B};
    if (soft_batch) t->work.attention = ATTN_SOFT;
    decoder_forward(&t->work, &m->p, t->bx, t->btok, t->blen, B, T, NULL, REGIONS_SAMPLE, &t->rng, &xe);
    st->nll = t->work.stats.nll / (double)ntok;
    st->entropy = t->work.stats.entropy / (double)ntok;
    if (hard && !soft_batch && o->reward == REWARD_LOGLIK && o->rl_weight > 0) {
        /* The paper's estimator: r = log p(y | s, a) of these very samples. */
        for (int b = 0; b < B; b++) t->reward[b] = t->work.caption_logp[b];
        baselines(t, 0);
        for (int b = 0; b < B; b++) {
            t->weight[b] = o->rl_weight * (t->reward[b] - t->base[b]) / (float)B;
            st->reward += t->reward[b] / B;
            st->baseline += t->base[b] / B;
        }
        decoder_set_reinforce(&t->work, t->weight);
    }
    st->loss = t->work.stats.loss;
    decoder_backward(&t->g, NULL, &t->work, &m->p);
    t->work.attention = m->cfg.attention;

    /* 2. REINFORCE on a rollout with sampled regions. */
    if (hard && !soft_batch && o->reward != REWARD_LOGLIK && o->rl_weight > 0) {
        if (o->baseline == BASELINE_GREEDY) {
            SearchOptions greedy = {.beam = 1};
            search_run(&t->dec, &m->p, t->bx, B, &greedy);
            for (int b = 0; b < B; b++)
                t->base[b] = (float)reward_of(t, t->bimg[b], t->dec.results[b].words, t->dec.results[b].len);
        }
        SearchOptions sample = {.beam = 1, .sample = 1, .rng = &t->rng};
        search_run(&t->dec, &m->p, t->bx, B, &sample);
        for (int b = 0; b < B; b++) {
            const SearchResult *r = &t->dec.results[b];
            t->reward[b] = (float)reward_of(t, t->bimg[b], r->words, r->len);
            int len = GLM_MIN(r->len + r->ended, T);
            len = GLM_MAX(len, 1);
            for (int k = 0; k < T; k++) {
                t->rtok[(size_t)b * T + k] = k < r->len ? r->words[k] : (k == r->len ? 2 : 0);
                t->rreg[(size_t)b * T + k] = k < len ? r->regions[k] : 0;
            }
            t->rlen[b] = len;
        }
        baselines(t, 1);
        for (int b = 0; b < B; b++) {
            t->weight[b] = o->rl_weight * (t->reward[b] - t->base[b]) / (float)B;
            st->reward += t->reward[b] / B;
            st->baseline += t->base[b] / B;
        }
        DecoderLoss rl = {.nll = 0.0f, .reinforce = t->weight};
        decoder_forward(&t->work, &m->p, t->bx, t->rtok, t->rlen, B, T, t->rreg, REGIONS_GIVEN, NULL, &rl);
        st->loss += t->work.stats.loss;
        decoder_backward(&t->g, NULL, &t->work, &m->p);
    }

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

/* ---- checkpoints ------------------------------------------------------ */

/* A float kept bit for bit in an i64 setting. */
static int64_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (int64_t)u;
}

static float bits_float(int64_t v)
{
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Every option, as (key, pointer, is_float). */
typedef struct {
    const char *key;
    void *field;
    char kind;   /* 'i' int, 'l' long, 'f' float, 'u' uint64 */
} OptRef;

static int option_refs(TrainOptions *o, OptRef *r)
{
    const OptRef table[] = {
        {"train.opt.reward", &o->reward, 'i'},     {"train.opt.baseline", &o->baseline, 'i'},
        {"train.opt.entropy", &o->entropy, 'f'},   {"train.opt.rl_weight", &o->rl_weight, 'f'},
        {"train.opt.soft_mix", &o->soft_mix, 'f'}, {"train.opt.soft_warmup", &o->soft_warmup, 'l'}, {"train.opt.doubly", &o->doubly, 'f'},
        {"train.opt.batch", &o->batch, 'i'},       {"train.opt.lr", &o->lr, 'f'},
        {"train.opt.lr_decay", &o->lr_decay, 'f'}, {"train.opt.lr_decay_every", &o->lr_decay_every, 'l'},
        {"train.opt.warmup", &o->warmup, 'l'},     {"train.opt.clip", &o->clip, 'f'},
        {"train.opt.steps", &o->steps, 'l'},       {"train.opt.refs", &o->refs, 'i'},       {"train.opt.seed", &o->seed, 'u'},
    };
    memcpy(r, table, sizeof table);
    return (int)(sizeof table / sizeof table[0]);
}

#define MAX_OPTS 24

static int64_t opt_get(const OptRef *r)
{
    switch (r->kind) {
    case 'i': return *(int *)r->field;
    case 'l': return *(long *)r->field;
    case 'f': return float_bits(*(float *)r->field);
    default: return (int64_t)*(uint64_t *)r->field;
    }
}

static void opt_set(const OptRef *r, int64_t v)
{
    switch (r->kind) {
    case 'i': *(int *)r->field = (int)v; break;
    case 'l': *(long *)r->field = (long)v; break;
    case 'f': *(float *)r->field = bits_float(v); break;
    default: *(uint64_t *)r->field = (uint64_t)v; break;
    }
}

int trainer_save_checkpoint(const Trainer *t, const char *path, GlmError *err)
{
    TrainOptions o = t->opt;
    OptRef refs[MAX_OPTS];
    int n = option_refs(&o, refs);
    MfSetting s[MAX_OPTS + 8];
    for (int i = 0; i < n; i++) {
        snprintf(s[i].key, sizeof s[i].key, "%s", refs[i].key);
        s[i].value = opt_get(&refs[i]);
    }
    const struct { const char *key; int64_t v; } state[] = {
        {"train.step", t->step},
        {"train.rng_state", (int64_t)t->rng.state},
        {"train.rng_inc", (int64_t)t->rng.inc},
        {"train.baseline", float_bits(t->baseline)},
        {"train.baseline_set", t->baseline_set},
        {"train.adam_step", t->adam.step},
        {"train.best", float_bits(t->best)},
        {"train.best_set", t->best_set},
    };
    int ns = (int)(sizeof state / sizeof state[0]);
    for (int i = 0; i < ns; i++) {
        snprintf(s[n + i].key, sizeof s[n + i].key, "%s", state[i].key);
        s[n + i].value = state[i].v;
    }
    int P = (int)t->model->n_params;
    MfTensor moments[2] = {
        {.name = "train.adam_m", .ndim = 1, .dims = {P}, .data = t->adam.m},
        {.name = "train.adam_v", .ndim = 1, .dims = {P}, .data = t->adam.v},
    };
    return model_save_full(t->model, path, s, n + ns, moments, 2, err);
}

static int need_setting(const MfFile *f, const char *path, const char *key, int64_t *v, GlmError *err)
{
    if (mf_find_setting(f, key, v)) return GLM_OK;
    return glm_fail(err, GLM_EINPUT, "%s: not a training checkpoint (no %s)", path, key);
}

int train_checkpoint_options(TrainOptions *opt, const char *path, GlmError *err)
{
    MfFile f;
    int rc = mf_read(&f, path, err);
    if (rc) return rc;
    OptRef refs[MAX_OPTS];
    int n = option_refs(opt, refs);
    for (int i = 0; i < n && rc == GLM_OK; i++) {
        int64_t v;
        if ((rc = need_setting(&f, path, refs[i].key, &v, err)) == GLM_OK) opt_set(&refs[i], v);
    }
    mf_free(&f);
    return rc;
}

int trainer_restore(Trainer *t, const char *path, GlmError *err)
{
    MfFile f;
    int rc = mf_read(&f, path, err);
    if (rc) return rc;
    int64_t step, st, inc, base, base_set, adam_step, best, best_set;
    if ((rc = need_setting(&f, path, "train.step", &step, err)) ||
        (rc = need_setting(&f, path, "train.rng_state", &st, err)) ||
        (rc = need_setting(&f, path, "train.rng_inc", &inc, err)) ||
        (rc = need_setting(&f, path, "train.baseline", &base, err)) ||
        (rc = need_setting(&f, path, "train.baseline_set", &base_set, err)) ||
        (rc = need_setting(&f, path, "train.adam_step", &adam_step, err)) ||
        (rc = need_setting(&f, path, "train.best", &best, err)) ||
        (rc = need_setting(&f, path, "train.best_set", &best_set, err)))
        goto out;
    const MfTensor *mm = mf_find_tensor(&f, "train.adam_m"), *vv = mf_find_tensor(&f, "train.adam_v");
    if (!mm || !vv || mf_tensor_count(mm) != t->model->n_params || mf_tensor_count(vv) != t->model->n_params) {
        rc = glm_fail(err, GLM_EINPUT, "%s: the optimizer state is missing or does not fit the model", path);
        goto out;
    }
    memcpy(t->adam.m, mm->data, t->model->n_params * sizeof(float));
    memcpy(t->adam.v, vv->data, t->model->n_params * sizeof(float));
    t->adam.step = (long)adam_step;
    t->step = (long)step;
    t->rng.state = (uint64_t)st;
    t->rng.inc = (uint64_t)inc;
    t->baseline = bits_float(base);
    t->baseline_set = (int)base_set;
    t->best = bits_float(best);
    t->best_set = (int)best_set;
out:
    mf_free(&f);
    return rc;
}
