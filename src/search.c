/* search.c - greedy, sampled and beam-search captioning (see search.h). The
 * step is the decoder's (step.h), run on N*K rows with the images' region
 * vectors repeated per beam. Not here: gradients (decoder.c). */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "step.h"
#include "vocab.h"

#define SEARCH_MAX_BEAM 64
/* Random attention without opt.rng draws from an Rng reset to this seed at
 * every search_run, so evaluation is reproducible. */
#define SEARCH_RANDOM_SEED 0x5eedULL
#define SWAP_PTR(type, a, b) do { type tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

int search_init(Search *d, const ModelConfig *cfg, int N_max, int K, GlmError *err)
{
    memset(d, 0, sizeof *d);
    if (N_max < 1 || N_max > (1 << 16) || K < 1 || K > SEARCH_MAX_BEAM)
        return glm_fail(err, GLM_EINPUT, "search: %d images x beam %d out of range (beam 1..%d)", N_max, K,
                        SEARCH_MAX_BEAM);
    const size_t N = (size_t)N_max, R = N * (size_t)K, T = (size_t)cfg->max_len;
    const size_t L = (size_t)features_regions(&cfg->feat), F = (size_t)features_dim(&cfg->feat);
    const size_t D = (size_t)cfg->proj, H = (size_t)cfg->hidden, E = (size_t)cfg->embed;
    const size_t A = (size_t)cfg->att, V = (size_t)cfg->vocab;
    d->N_max = N_max, d->K = K, d->T = (int)T, d->L = (int)L, d->F = (int)F, d->D = (int)D;
    d->H = (int)H, d->E = (int)E, d->A = (int)A, d->V = (int)V;
    d->attention = cfg->attention;
    d->shape = step_shape(cfg);
    /* sizes are bounded by model_check_config and the limits above, so these
     * products fit in size_t */
    struct { float **p; size_t n; } f[] = {
        {&d->x, R * L * F}, {&d->a, R * L * D}, {&d->amean, R * D}, {&d->wa, R * L * A},
        {&d->pi0, R * L}, {&d->pu, R * L * A},
        {&d->h, R * H}, {&d->c, R * H}, {&d->h2, R * H}, {&d->c2, R * H}, {&d->tc, R * H},
        {&d->h0, R * H}, {&d->c0, R * H},
        {&d->gates, R * 4 * H}, {&d->tt, R * L * A}, {&d->alpha, R * L}, {&d->logalpha, R * L},
        {&d->uh, R * A}, {&d->zraw, R * D}, {&d->beta, R}, {&d->xin, R * (E + D)},
        {&d->deep, R * E}, {&d->prob, R * V}, {&d->logprob, R * V}, {&d->logp, R},
        {&d->hp, R * T}, {&d->hp2, R * T}, {&d->ha, R * T * L}, {&d->ha2, R * T * L},
        {&d->cand_score, (size_t)K},
    };
    struct { int **p; size_t n; } g[] = {
        {&d->s, R}, {&d->y, R}, {&d->live, N}, {&d->budget, N}, {&d->has, N}, {&d->hw, R * T}, {&d->hw2, R * T}, {&d->hr, R * T},
        {&d->hr2, R * T}, {&d->cand_row, (size_t)K}, {&d->cand_word, (size_t)K},
    };
    size_t nf = 0, ng = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) nf += f[i].n;
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) ng += g[i].n;
    /* the results: per image (T) words, regions, p and (T, L) alpha */
    nf += N * (T + T * L);
    ng += N * 2 * T;
    d->block = glm_malloc_array(nf, sizeof(float));
    d->iblock = glm_malloc_array(ng, sizeof(int));
    d->results = glm_calloc_array(N, sizeof(SearchResult));
    if (!d->block || !d->iblock || !d->results) {
        search_free(d);
        return glm_fail(err, GLM_ENOMEM, "search: out of memory for %d images x beam %d", N_max, K);
    }
    float *q = d->block;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) *f[i].p = q, q += f[i].n;
    int *qi = d->iblock;
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) *g[i].p = qi, qi += g[i].n;
    for (size_t n = 0; n < N; n++) {
        SearchResult *r = &d->results[n];
        r->p = q, q += T;
        r->alpha = q, q += T * L;
        r->words = (int32_t *)qi, qi += T;
        r->regions = qi, qi += T;
    }
    return GLM_OK;
}

void search_free(Search *d)
{
    free(d->block);
    free(d->iblock);
    free(d->results);
    memset(d, 0, sizeof *d);
}

/* Copies row `from`'s first n history steps to row `to` of the other buffers. */
static void copy_history(Search *d, int to, int from, int n)
{
    const long T = d->T, L = d->L;
    memcpy(d->hw2 + to * T, d->hw + from * T, (size_t)n * sizeof(int32_t));
    memcpy(d->hr2 + to * T, d->hr + from * T, (size_t)n * sizeof(int));
    memcpy(d->hp2 + to * T, d->hp + from * T, (size_t)n * sizeof(float));
    memcpy(d->ha2 + to * T * L, d->ha + from * T * L, (size_t)n * L * sizeof(float));
}

/* Records candidate (row, word) with score in the sorted top-k list. */
static void cand_insert(Search *d, int *n, int k, float score, int row, int word)
{
    if (*n == k && score <= d->cand_score[k - 1]) return;
    int j = *n < k ? (*n)++ : k - 1;
    while (j > 0 && d->cand_score[j - 1] < score) {
        d->cand_score[j] = d->cand_score[j - 1];
        d->cand_row[j] = d->cand_row[j - 1];
        d->cand_word[j] = d->cand_word[j - 1];
        j--;
    }
    d->cand_score[j] = score, d->cand_row[j] = row, d->cand_word[j] = word;
}

/* Writes row `row`'s history plus step t (word, the row's region, p, alpha)
 * into image n's result if its normalised score beats what is there. */
static void offer_result(Search *d, int n, int row, int t, int word, float logp, int ended, int *have)
{
    SearchResult *r = &d->results[n];
    const float score = logp / (float)(t + 1);
    if (have[0] && score <= r->score) return;
    have[0] = 1;
    const long T = d->T, L = d->L;
    memcpy(r->words, d->hw + row * T, (size_t)t * sizeof(int32_t));
    memcpy(r->regions, d->hr + row * T, (size_t)t * sizeof(int));
    memcpy(r->p, d->hp + row * T, (size_t)t * sizeof(float));
    memcpy(r->alpha, d->ha + row * T * L, (size_t)t * L * sizeof(float));
    r->words[t] = word;
    r->regions[t] = d->s[row];
    r->p[t] = d->prob[(long)row * d->V + word];
    memcpy(r->alpha + t * L, d->alpha + (long)row * L, (size_t)L * sizeof(float));
    r->len = ended ? t : t + 1;
    r->ended = ended;
    r->logp = logp;
    r->score = score;
}

void search_run(Search *d, const ModelParams *p, const float *x, int N, const SearchOptions *opt)
{
    const int K = d->K, T = d->T, L = d->L, F = d->F, H = d->H, V = d->V, R = N * K;
    const int kb = opt->beam < 1 ? 1 : opt->beam;
    GLM_ASSERT(N >= 1 && N <= d->N_max && kb <= K);
    GLM_ASSERT(!opt->sample || opt->rng || opt->rows);
    const int blend = attn_blends(d->attention), random = d->attention == ATTN_RANDOM;
    Rng fixed;
    rng_seed(&fixed, SEARCH_RANDOM_SEED, 0);
    Rng *rng = opt->rng ? opt->rng : &fixed;

    /* every beam row starts from its image's regions and initial state */
    GLM_ASSERT(!opt->same_x || R == d->last_R);
    if (!opt->same_x) {
        for (int r = 0; r < R; r++)
            memcpy(d->x + (long)r * L * F, x + (long)(r / K) * L * F, (size_t)L * F * sizeof(float));
        step_regions(d->a, d->amean, d->h0, d->c0, d->wa, d->x, p, &d->shape, R);
        step_prior(d->pi0, d->pu, d->a, p, &d->shape, R);
    }
    d->last_R = R;
    memcpy(d->h, d->h0, (size_t)R * H * sizeof(float));
    memcpy(d->c, d->c0, (size_t)R * H * sizeof(float));
    for (int n = 0; n < N; n++) d->live[n] = d->budget[n] = kb, d->has[n] = 0;
    for (int r = 0; r < R; r++) d->logp[r] = 0;

    int any_live = 1;
    for (int t = 0; t < T && any_live; t++) {
        /* one decoder step on all rows (finished rows ride along unused) */
        step_attend(d->alpha, d->logalpha, d->tt, d->uh, d->wa, d->h, d->pi0, p, &d->shape, R);
        /* the pick: s_t, the argmax of alpha_t or (rollouts) a sample of it */
        for (int r = 0; r < R; r++) {
            const float *al = d->alpha + (long)r * L;
            const int beams = t == 0 ? 1 : d->live[r / K];   /* at t = 0 the beams are copies */
            const int in_use = r % K < beams;   /* other rows hold stale data: feed them <start> */
            int s = 0;
            if (!blend && (opt->sample || random) && in_use) {
                s = rng_categorical(opt->rows ? &opt->rows[r / K] : rng, al, L);   /* random: no argmax */
            } else {
                for (int i = 1; i < L; i++) s = al[i] > al[s] ? i : s;
            }
            d->s[r] = s;
            d->y[r] = t == 0 || !in_use ? VOCAB_START : d->hw[(long)r * T + t - 1];
        }
        const StepOut out = {.xin = d->xin, .zraw = d->zraw, .beta = d->beta, .gates = d->gates, .c = d->c2,
                             .h = d->h2, .tc = d->tc, .deep = d->deep, .prob = d->prob, .logprob = d->logprob};
        step_advance(&out, d->y, d->s, 1, d->alpha, d->a, d->h, d->c, p, &d->shape, R);

        /* per image: the budget[n] best extensions of its live beams; one that
         * says <end> (or reaches the last step) is finished and spends the budget */
        any_live = 0;
        for (int n = 0; n < N; n++) {
            const int k = d->budget[n];
            if (d->live[n] == 0) continue;
            int nc = 0;
            const int beams = t == 0 ? 1 : d->live[n];
            for (int j = 0; j < beams; j++) {
                const int row = n * K + j;
                const float *lp = d->logprob + (long)row * V;
                for (int v = VOCAB_END; v < V; v++)   /* never <pad> or <start> */
                    cand_insert(d, &nc, k, d->logp[row] + lp[v], row, v);
            }
            int nl = 0;
            for (int ci = 0; ci < nc; ci++) {
                const int row = d->cand_row[ci], word = d->cand_word[ci];
                const float sc = d->cand_score[ci];
                if (word == VOCAB_END || t == T - 1) {
                    offer_result(d, n, row, t, word, sc, word == VOCAB_END, &d->has[n]);
                    d->budget[n]--;
                    continue;
                }
                /* a live beam: the parent's history and state, plus this word */
                const int slot = n * K + nl++;
                copy_history(d, slot, row, t);
                d->hw2[(long)slot * T + t] = word;
                d->hr2[(long)slot * T + t] = d->s[row];
                d->hp2[(long)slot * T + t] = d->prob[(long)row * V + word];
                memcpy(d->ha2 + ((long)slot * T + t) * L, d->alpha + (long)row * L, (size_t)L * sizeof(float));
                /* the old h, c are spent, so they take the new states */
                memcpy(d->h + (long)slot * H, d->h2 + (long)row * H, (size_t)H * sizeof(float));
                memcpy(d->c + (long)slot * H, d->c2 + (long)row * H, (size_t)H * sizeof(float));
                d->logp[slot] = sc;
            }
            d->live[n] = nl;
            any_live |= nl > 0;
        }
        SWAP_PTR(int32_t *, d->hw, d->hw2);
        SWAP_PTR(int *, d->hr, d->hr2);
        SWAP_PTR(float *, d->hp, d->hp2);
        SWAP_PTR(float *, d->ha, d->ha2);
    }
}
