/* metrics.h - caption metrics over token ids: BLEU-1..4, CIDEr-D, ROUGE-L
 * (corpus level, as the COCO caption evaluation code computes them) and fast
 * per-caption forms of CIDEr-D, BLEU-4 and unigram F1 for the REINFORCE
 * reward.
 *
 * References are id sequences, grouped by image, and go into a MetricsIndex,
 * built once per data set: every distinct reference n-gram (n = 1..4) gets a
 * slot in one open-addressing hash table (64-bit hash of the ids, exact
 * comparison of the ids on a hit), with its document frequency and CIDEr-D
 * idf weight. Each image keeps its distinct n-grams, and each of those the
 * references that contain it with their counts: sparse, so memory is
 * linear in the reference n-grams however many references an image has
 * (building peaks at about 130 bytes per distinct n-gram), and scoring a
 * candidate costs its matched (n-gram, reference) pairs plus one step per
 * reference. A candidate is `const int *toks, int n`. Scoring one candidate
 * allocates nothing: it uses a MetricsScratch the caller creates once (one
 * per thread; the index itself is read-only after building and can be
 * shared).
 *
 *     MetricsIndex *ix = metrics_index_build(refs, first, n_images, &err);
 *     MetricsScratch *s = metrics_scratch_new(ix, T_MAX, &err);
 *     double r = metrics_cider_one(ix, s, image, toks, n);   // per sample
 *     metrics_scratch_free(s);
 *     metrics_index_free(ix);
 *
 * Not here: text. Captions as strings (tokenizing, interning the tokens to
 * ids, reading the files of `glimpse score`) are metrics_corpus.h's, which
 * scores them with the functions below. Tokens here are ids: only their
 * equality matters.
 *
 * Conventions (what the numbers mean):
 *
 * BLEU-n (Papineni et al. 2002), corpus level, no smoothing, in [0,1]: for
 *   each candidate the count of each of its n-grams is clipped to the largest
 *   count of that n-gram in any one of its references; the clipped counts and
 *   the candidate n-gram counts are summed over the corpus, p_k = matches_k /
 *   total_k, BLEU-n = BP * (p_1 ... p_n)^(1/n). The reference length of an
 *   image is the reference length closest to the candidate's (ties go to the
 *   shorter); BP = 1 if c > r else exp(1 - r/c), c and r summed over the
 *   corpus, BP = 0 when c = 0. If some p_k = 0 (k <= n) BLEU-n is 0.
 *   Two reference tools implement this and differ in two corners:
 *     - METRICS_BLEU_COCO (default; pycocoevalcap bleu_scorer.py): a candidate
 *       of L tokens has max(0, L-n+1) n-grams. COCO also adds fudge terms:
 *       p_k = (matches + 1e-15) / (total + 1e-9) and the length ratio
 *       (c + 1e-15) / (r + 1e-9). We leave them out. On real data they change
 *       scores by less than 1e-6; they matter only when some p_k is 0, where
 *       COCO reports a tiny positive number (e.g. 1e-5 for BLEU-4) instead
 *       of 0.
 *     - METRICS_BLEU_NLTK (nltk.translate.bleu_score.corpus_bleu, no
 *       smoothing): a candidate shorter than n tokens still counts as 1
 *       n-gram (modified_precision divides by max(1, count)), so empty and
 *       very short candidates lower the precisions a little more than in
 *       COCO. When a p_k is 0 NLTK warns and returns a value below 1e-70,
 *       or exactly 0 when no unigram matches; we return 0.
 *   With every candidate at least 4 tokens long the two modes are equal.
 *
 * CIDEr-D (Vedantam et al. 2015; pycocoevalcap cider_scorer.py), x10 as in
 *   COCO: for n = 1..4 each caption is a vector over n-grams of
 *   tf(g) * (log(N) - log(max(1, df(g)))), where N is the number of images
 *   in the index and df(g) the number of images whose references contain g
 *   (candidates do not count). Against each reference r:
 *     sim_n = sum_g min(c_g, r_g) * r_g / (|c| |r|)   (0 if a norm is 0)
 *   times exp(-(len_c - len_r)^2 / (2 * 6^2)); the score of an image is
 *   10 * mean over n and over its references; the corpus score is the mean
 *   over images. (COCO measures the lengths as bigram counts, len - 1; the
 *   difference only matters when a caption is empty, and then sim is 0.
 *   "0 if a norm is 0" is what current pycocoevalcap does; the 2015 release
 *   divided anyway and produced NaN there.)
 *   An index with one image has N = 1, so every weight is 0 and CIDEr-D is 0.
 *
 * ROUGE-L (Lin 2004; pycocoevalcap rouge.py), in [0,1]: with LCS the longest
 *   common subsequence, P = max over references of LCS/len_c and
 *   R = max over references of LCS/len_r (maximised separately), and
 *   F = (1 + b^2) P R / (R + b^2 P) with b = 1.2 (0 if P or R is 0); the
 *   corpus score is the mean over images.
 *
 * Per-caption reward forms:
 *   metrics_cider_one  - CIDEr-D of one image exactly as above, with the df of
 *                        the index (the training set's, for REINFORCE).
 *   metrics_bleu4_one  - sentence BLEU-4 with Lin & Och (2004) add-one
 *                        smoothing for n >= 2: p_n = (m_n + 1) / (t_n + 1),
 *                        p_1 unsmoothed, t_n = max(1, L-n+1), BLEU 0 when no
 *                        unigram matches; equal to NLTK sentence_bleu with
 *                        SmoothingFunction().method2. Unsmoothed sentence
 *                        BLEU-4 is 0 for most early samples: no gradient.
 *   metrics_f1_one     - unigram F1 with clipped counts, max over references.
 *   metrics_rouge_l_one - ROUGE-L of one image as above.
 *
 * Errors: functions returning int give GLM_OK or a GLM_E* code and fill err;
 * functions returning a pointer give NULL and fill err. The per-caption
 * functions cannot fail (their arguments are checked with GLM_ASSERT).
 */
#ifndef GLIMPSE_METRICS_H
#define GLIMPSE_METRICS_H

#include <stdint.h>

#include "common.h"

#define METRICS_MAX_N 4          /* n-gram orders 1..4 */

/* Every metric considers the first METRICS_MAX_TOKENS tokens of a caption,
 * reference or candidate, and ignores the rest, as if the caption ended
 * there. ROUGE-L's longest common subsequence costs len_c x len_r steps
 * per reference: without a cap, one 1 MB candidate against a 1 MB
 * reference took 24 s. Written captions are tens of words long (and those
 * the model writes at most 256 tokens), so no real score changes; the cap
 * only bounds the cost of odd input. metrics_corpus.h counts the captions
 * it cut, and `glimpse score` reports them on stderr. */
#define METRICS_MAX_TOKENS 1000
#define METRICS_CIDER_SIGMA 6.0  /* Gaussian length penalty of CIDEr-D */
#define METRICS_ROUGE_BETA 1.2   /* recall weight of ROUGE-L (COCO) */

/* Corpus scores. bleu[k] is BLEU-(k+1). */
typedef struct {
    double bleu[METRICS_MAX_N];  /* [0,1] */
    double cider;                /* CIDEr-D, x10: [0, 10 * max ratio] */
    double rouge_l;              /* [0,1] */
    int images;                  /* number of images scored */
} MetricsScores;

typedef enum {
    METRICS_BLEU_COCO = 0,  /* pycocoevalcap counting (default) */
    METRICS_BLEU_NLTK = 1,  /* nltk corpus_bleu counting */
} MetricsBleuMode;

/* Deliberately wrong variants of the metrics. They exist only so the tests
 * can show the fixtures tell right from wrong; never use them for scores. */
enum {
    METRICS_WRONG_BLEU_UNCLIPPED = 1u << 0,    /* n-gram counts not clipped */
    METRICS_WRONG_BLEU_SENTENCE_AVG = 1u << 1, /* mean of per-image BLEU */
    METRICS_WRONG_CIDER_UNCLIPPED = 1u << 2,   /* CIDEr without min(c, r) */
    METRICS_WRONG_CIDER_NO_PENALTY = 1u << 3,  /* no length penalty */
    METRICS_WRONG_ROUGE_MAX_F = 1u << 4,       /* max of per-reference F */
    METRICS_WRONG_BLEU_TIE_LONGER = 1u << 5,   /* closest-length ties to the longer */
};

typedef struct {
    MetricsBleuMode bleu;
    unsigned wrong;  /* 0, or METRICS_WRONG_* bits in tests */
} MetricsOptions;

/* COCO BLEU counting, no wrong variants. */
MetricsOptions metrics_default_options(void);

/* One caption as token ids: any int values, only equality matters. For the
 * reward, encode references so that words outside the vocabulary do not all
 * share the <unk> id (give each unknown word its own id, e.g. a negative
 * one); otherwise an <unk> in a sample matches any unknown reference word. */
typedef struct {
    const int *toks;  /* (len) */
    int len;          /* >= 0 */
} MetricsSeq;

typedef struct MetricsIndex MetricsIndex;
typedef struct MetricsScratch MetricsScratch;

/* Builds the reference index of n_images >= 1 images: the references of
 * image i are refs[first[i] .. first[i+1]-1] (first has n_images + 1
 * entries, first[0] == 0, each image at least one reference). Everything is
 * copied; refs may be freed afterwards. NULL on failure (GLM_EINPUT for an
 * image without references, GLM_ENOMEM). Free with metrics_index_free. */
MetricsIndex *metrics_index_build(const MetricsSeq *refs, const int *first, int n_images,
                                  GlmError *err);
void metrics_index_free(MetricsIndex *ix);
int metrics_index_images(const MetricsIndex *ix);

/* Working memory for scoring candidates of up to max_len tokens against ix
 * (per-caption functions and metrics_index_scores). One per thread. Free
 * with metrics_scratch_free. */
MetricsScratch *metrics_scratch_new(const MetricsIndex *ix, int max_len, GlmError *err);
void metrics_scratch_free(MetricsScratch *s);

/* Per-caption scores of candidate toks[0..n-1] (n <= the scratch's max_len;
 * only the first METRICS_MAX_TOKENS count) against the references of image
 * `image`. No allocation. */
double metrics_cider_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n);
double metrics_bleu4_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n);
double metrics_f1_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n);
double metrics_rouge_l_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n);

/* Corpus scores of cands[i] (one candidate per image of ix, n_images of
 * them). opt NULL means metrics_default_options(). Allocates its own
 * scratch. GLM_EINPUT for a negative length, GLM_ENOMEM. */
int metrics_index_scores(MetricsScores *out, const MetricsIndex *ix, const MetricsSeq *cands,
                         const MetricsOptions *opt, GlmError *err);

#endif
