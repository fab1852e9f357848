/* reinforce.c - the score-function estimator for the region choices; see
 * reinforce.h for the update, step by step, and why. */
#include "reinforce.h"

#include <stdlib.h>
#include <string.h>

#include "vocab.h"

/* The moving-average baseline's memory (eq. 12: b_k = 0.9 b_{k-1} + 0.1 r_k). */
#define BASELINE_KEEP 0.9f
#define BASELINE_TAKE 0.1f
/* Rewards score at most this many words of a caption (captions are max_len long). */
#define REWARD_MAX_WORDS 256

static const char *const reward_names[] = {"cider", "bleu4", "f1", "loglik"};
static const char *const baseline_names[] = {"greedy", "mean", "none"};

const char *reinforce_reward_name(int r) { return r >= 0 && r < 4 ? reward_names[r] : "?"; }
const char *reinforce_baseline_name(int b) { return b >= 0 && b < 3 ? baseline_names[b] : "?"; }

int reinforce_reward_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, reward_names[i])) return i;
    return -1;
}

int reinforce_baseline_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, baseline_names[i])) return i;
    return -1;
}

/* ---- set-up ------------------------------------------------------------ */

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

/* Everything but the references, which r->refs already holds. */
static int init_buffers(Reinforce *r, const ModelConfig *cfg, int B_max, GlmError *err)
{
    const int B = B_max, T = cfg->max_len;
    r->B_max = B, r->T = T;
    int rc = search_init(&r->search, cfg, B, 1, err);
    if (rc) goto fail;
    if (!(r->scratch = metrics_scratch_new(r->refs, T, err))) { rc = GLM_ENOMEM; goto fail; }
    r->rtok = glm_calloc_array((size_t)B * T, sizeof(int32_t));
    r->rreg = glm_calloc_array((size_t)B * T, sizeof(int));
    r->rlen = glm_calloc_array((size_t)B, sizeof(int));
    r->reward = glm_calloc_array((size_t)B, sizeof(float));
    r->base = glm_calloc_array((size_t)B, sizeof(float));
    r->weight = glm_calloc_array((size_t)B, sizeof(float));
    if (!r->rtok || !r->rreg || !r->rlen || !r->reward || !r->base || !r->weight) {
        rc = glm_fail(err, GLM_ENOMEM, "out of memory for the REINFORCE buffers");
        goto fail;
    }
    return GLM_OK;
fail:
    reinforce_free(r);
    return rc;
}

int reinforce_init(Reinforce *r, const ModelConfig *cfg, const Dataset *data, int B_max, GlmError *err)
{
    memset(r, 0, sizeof *r);
    if (!(r->refs = r->own_refs = build_reference_index(data, err))) return GLM_ENOMEM;
    return init_buffers(r, cfg, B_max, err);
}

int reinforce_init_shared(Reinforce *r, const ModelConfig *cfg, const Reinforce *from, int B_max, GlmError *err)
{
    memset(r, 0, sizeof *r);
    r->refs = from->refs;
    return init_buffers(r, cfg, B_max, err);
}

void reinforce_free(Reinforce *r)
{
    search_free(&r->search);
    metrics_scratch_free(r->scratch);
    metrics_index_free(r->own_refs);
    free(r->rtok);
    free(r->rreg);
    free(r->rlen);
    free(r->reward);
    free(r->base);
    free(r->weight);
    memset(r, 0, sizeof *r);
}

/* ---- reward, baseline, advantage ---------------------------------------- */

double reinforce_reward(Reinforce *r, const ReinforceOptions *o, int image, const int32_t *words, int n)
{
    int toks[REWARD_MAX_WORDS];
    n = GLM_MIN(n, REWARD_MAX_WORDS);
    for (int i = 0; i < n; i++) toks[i] = words[i];
    switch (o->reward) {
    case REWARD_BLEU4: return metrics_bleu4_one(r->refs, r->scratch, image, toks, n);
    case REWARD_F1: return metrics_f1_one(r->refs, r->scratch, image, toks, n);
    default: return metrics_cider_one(r->refs, r->scratch, image, toks, n);
    }
}

void reinforce_baselines(Reinforce *r, const ReinforceOptions *o, int B, int have_greedy)
{
    double mean = 0;
    for (int b = 0; b < B; b++) mean += r->reward[b];
    mean /= B;
    for (int b = 0; b < B; b++) {
        if (o->baseline == BASELINE_NONE) r->base[b] = 0;
        else if (o->baseline == BASELINE_MEAN) r->base[b] = r->avg_set ? r->avg : (float)mean;
        else if (!have_greedy) r->base[b] = (float)mean;   /* loglik + greedy: no decode to compare */
    }
    /* The average follows the rewards whatever the baseline, so switching
     * to it (or resuming) starts from a sensible value. */
    r->avg = r->avg_set ? BASELINE_KEEP * r->avg + BASELINE_TAKE * (float)mean : (float)mean;
    r->avg_set = 1;
}

void reinforce_weights(Reinforce *r, const ReinforceOptions *o, int B, ReinforceStats *st)
{
    st->reward = st->baseline = 0;
    for (int b = 0; b < B; b++) {
        r->weight[b] = o->weight * (r->reward[b] - r->base[b]) / (float)B;
        st->reward += r->reward[b] / B;
        st->baseline += r->base[b] / B;
    }
}

/* ---- the two estimators ------------------------------------------------- */

void reinforce_sample(Reinforce *r, const ReinforceOptions *o, const ModelParams *p, const float *x,
                      const int *images, int B, Rng *rng, Rng *rows)
{
    GLM_ASSERT(B >= 1 && B <= r->B_max);
    const int T = r->T;
    /* 1. the self-critical baseline: what the policy's argmax earns */
    if (o->baseline == BASELINE_GREEDY) {
        const SearchOptions greedy = {.beam = 1};
        search_run(&r->search, p, x, B, &greedy);
        for (int b = 0; b < B; b++) {
            const SearchResult *g = &r->search.results[b];
            r->base[b] = (float)reinforce_reward(r, o, images[b], g->words, g->len);
        }
    }
    /* 2-3. a rollout with s_t ~ alpha_t, and its reward */
    /* the greedy decode projected the same regions with the same weights */
    const SearchOptions sample = {.beam = 1, .sample = 1, .rng = rng, .rows = rows,
                                  .same_x = o->baseline == BASELINE_GREEDY};
    search_run(&r->search, p, x, B, &sample);
    for (int b = 0; b < B; b++) {
        const SearchResult *s = &r->search.results[b];
        r->reward[b] = (float)reinforce_reward(r, o, images[b], s->words, s->len);
        int len = GLM_MIN(s->len + s->ended, T);
        len = GLM_MAX(len, 1);
        for (int k = 0; k < T; k++) {
            r->rtok[(size_t)b * T + k] = k < s->len ? s->words[k] : (k == s->len ? VOCAB_END : VOCAB_PAD);
            r->rreg[(size_t)b * T + k] = k < len ? s->regions[k] : 0;
        }
        r->rlen[b] = len;
    }
}

double reinforce_replay(Reinforce *r, DecoderWork *w, ModelParams *grad, const ModelParams *p, const float *x, int B,
                        int same_x)
{
    /* 5. replay the rollout on its own regions: -sum_b w_b sum_t log alpha(s_t) */
    const DecoderLoss loss = {.nll = 0.0f, .reinforce = r->weight};
    const DecoderPick given = {.attention = w->model_attention, .mode = REGIONS_GIVEN, .given = r->rreg,
                               .same_x = same_x};
    decoder_forward(w, p, x, r->rtok, r->rlen, B, r->T, &given, &loss);
    decoder_backward(grad, NULL, w, p);
    return w->stats.loss;
}

void reinforce_rollout(Reinforce *r, const ReinforceOptions *o, DecoderWork *w, ModelParams *grad,
                       const ModelParams *p, const float *x, const int *images, int B, Rng *rng,
                       ReinforceStats *st)
{
    reinforce_sample(r, o, p, x, images, B, rng, NULL);
    /* 4. advantages */
    reinforce_baselines(r, o, B, 1);
    reinforce_weights(r, o, B, st);
    st->loss = reinforce_replay(r, w, grad, p, x, B, 0);
}

void reinforce_loglik(Reinforce *r, const ReinforceOptions *o, DecoderWork *w, int B, ReinforceStats *st)
{
    for (int b = 0; b < B; b++) r->reward[b] = w->caption_logp[b];
    reinforce_baselines(r, o, B, 0);
    reinforce_weights(r, o, B, st);
    const double before = w->stats.loss;
    decoder_set_reinforce(w, r->weight);
    st->loss = w->stats.loss - before;
}

/* ---- the policy's own gradient terms ------------------------------------ */

void reinforce_score_grad(float *de, const float *alpha, int s, float w, int L)
{
    /* d/de_i [-w log alpha_s] = -w (1[i = s] - alpha_i) */
    for (int i = 0; i < L; i++) de[i] += w * alpha[i];
    de[s] -= w;
}

void reinforce_entropy_grad(float *de, const float *alpha, const float *logalpha, float lambda, int L)
{
    /* H = -sum_i alpha_i log alpha_i; d/de_i [-lambda H] = lambda alpha_i (log alpha_i + H) */
    float h = 0;
    for (int i = 0; i < L; i++) h -= alpha[i] * logalpha[i];
    for (int i = 0; i < L; i++) de[i] += lambda * alpha[i] * (logalpha[i] + h);
}
