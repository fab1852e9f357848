/* search.h - writing captions with a trained decoder: greedy, sampled and beam search
 * (Xu et al. 2015, sec. 5.2 decode with beam search), batched over images.
 *
 *     Search d;
 *     search_init(&d, &model.cfg, N_max, beam, &err);          // once
 *     SearchOptions opt = {.beam = beam};                        // greedy: beam 1
 *     search_run(&d, &model.p, x, N, &opt);                      // x: (N, L, F)
 *     for (int n = 0; n < N; n++) use(d.results[n]);             // owned by d
 *     search_free(&d);
 *
 * Beam search keeps the K best partial captions per image by summed log
 * probability; a candidate that ends with <end> leaves the beam, which then
 * shrinks by one (K counts finished and live captions together), and the
 * answer is the finished caption with the best length-normalised score
 * logp / (words + 1). Beam 1 is greedy decoding; a beam as large as the
 * number of possible captions is exhaustive search.
 * If no caption ends within max_len steps, the best unfinished one is
 * returned with ended = 0.
 *
 * Regions: hard attention looks at argmax alpha_t, or at a region drawn from
 * alpha_t with opt.rng when opt.sample is set; soft attention uses the
 * blend and reports argmax alpha_t as the word's region. The ablations
 * (model.h): random always draws its region uniformly, from opt.rng when
 * given, else from an Rng reset to a fixed seed at every search_run (so
 * evaluation is reproducible); mean blends all regions equally and reports
 * region 0 (every alpha is 1/L).
 * Every buffer is allocated by search_init; search_run does not allocate.
 */
#ifndef GLIMPSE_SEARCH_H
#define GLIMPSE_SEARCH_H

#include <stdint.h>

#include "common.h"
#include "model.h"
#include "rng.h"
#include "step.h"

typedef struct {
    int beam;     /* K, 1..the K given to search_init; 1 = greedy */
    int sample;   /* hard attention: s_t ~ alpha_t (needs rng) instead of argmax */
    Rng *rng;     /* for sample, and random attention (NULL: a fixed seed) */
    Rng *rows;    /* (N) or NULL: image n draws from rows[n] instead of rng, so its
                     draws do not depend on the other images of the call */
    int same_x;   /* x, N and the parameters are those of the previous call: its
                     region projections and initial states are reused (a rollout
                     after the greedy decode of the same batch) */
} SearchOptions;

/* One image's caption. Step j < len is a word; step len is <end> when ended. */
typedef struct {
    int len;          /* words, not counting <end> */
    int ended;        /* 1 when the caption ended with <end> */
    float logp;       /* sum of log p over the words (and <end>) */
    float score;      /* logp / (len + ended): the length-normalised log-prob */
    int32_t *words;   /* (T) word ids */
    int *regions;     /* (T) region looked at for each word: row = i / G, col = i % G */
    float *p;         /* (T) each word's probability */
    float *alpha;     /* (T, L) attention weights at each step */
} SearchResult;

typedef struct {
    int N_max, K, T, L, F, D, H, E, A, V, attention;
    StepShape shape;                    /* the sizes again as step.h takes them, the gate and init_mean */
    SearchResult *results;   /* (N_max), filled by search_run */
    /* rows R = N * K: image n's beams are rows n*K .. n*K + K-1 */
    float *x, *a, *amean, *wa;          /* (R, L, F), (R, L, D), (R, D), (R, L, A) */
    float *pi0, *pu;                    /* (R, L), (R, L, A) the attention prior (prior.h) */
    float *h, *c, *h2, *c2, *tc;        /* (R, H) */
    float *h0, *c0;                     /* (R, H) the initial states, kept for same_x */
    int last_R;                         /* rows of the previous search_run */
    float *gates;                       /* (R, 4H) */
    float *tt;                          /* (R, L, A) */
    float *alpha, *logalpha;            /* (R, L) */
    float *uh;                          /* (R, A) */
    float *zraw, *beta;                 /* (R, D), (R) */
    float *xin;                         /* (R, E + D) */
    float *deep;                        /* (R, E) */
    float *prob, *logprob;              /* (R, V) */
    float *logp;                        /* (R) beam scores */
    int *s;                             /* (R) this step's regions */
    int32_t *y;                         /* (R) this step's input words */
    int *live;                          /* (N) live beams per image */
    int *budget;                        /* (N) K minus the captions finished so far */
    int *has;                           /* (N) 1 once results[n] holds a caption */
    int32_t *hw, *hw2;                  /* (R, T) word histories (double-buffered) */
    int *hr, *hr2;                      /* (R, T) region histories */
    float *hp, *hp2;                    /* (R, T) word probabilities */
    float *ha, *ha2;                    /* (R, T, L) attention histories */
    float *cand_score;                  /* (K) this image's best candidates */
    int *cand_row, *cand_word;          /* (K) */
    float *block;
    int *iblock;
} Search;

/* Buffers for up to N_max images with beam width K (1..64). GLM_ENOMEM or
 * GLM_EINPUT with a reason. Free with search_free (also after a failure). */
int search_init(Search *d, const ModelConfig *cfg, int N_max, int K, GlmError *err);
void search_free(Search *d);

/* Captions N <= N_max images: x (N, L, F) region vectors. The results are in
 * d->results[0..N-1], owned by d and overwritten by the next call. */
void search_run(Search *d, const ModelParams *p, const float *x, int N, const SearchOptions *opt);

#endif
