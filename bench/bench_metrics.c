/* bench_metrics.c - how long the caption metrics take (`make bench`).
 *
 * A synthetic corpus, generated deterministically from src/rng.h: 5000
 * images with 5 references each, 8-16 words from a 2000-word vocabulary
 * drawn with a Zipf-like skew (so common n-grams repeat across images as in
 * real captions); the candidate of an image is one of its references with
 * about a third of the words replaced. Prints the median of 5 runs of:
 *
 *   corpus, from strings  metrics_corpus_add x 5000 + metrics_corpus_scores
 *                         (tokenizing, interning, index build, all metrics);
 *                         what `glimpse score` does after reading the files
 *   index build, ids      metrics_index_build on the 25000 references
 *   corpus, ids           metrics_index_scores on a built index
 *   per caption           metrics_cider_one / bleu4_one / f1_one, per call
 *
 * Not a test: it checks nothing but that the calls succeed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics_corpus.h"
#include "rng.h"

enum { IMAGES = 5000, REFS = 5, VOCAB = 2000, MIN_LEN = 8, MAX_LEN = 16, RUNS = 5 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Zipf-like word id: u^3 puts most of the mass on small ids. */
static int word(Rng *r)
{
    float u = rng_uniform(r);
    return (int)((float)VOCAB * u * u * u);
}

static int die(const GlmError *err)
{
    fprintf(stderr, "bench_metrics: %s\n", err->msg);
    return 1;
}

int main(void)
{
    static int ref_toks[IMAGES * REFS * MAX_LEN];   /* (IMAGES * REFS, MAX_LEN) */
    static MetricsSeq refs[IMAGES * REFS];
    static int first[IMAGES + 1];
    static int cand_toks[IMAGES * MAX_LEN];         /* (IMAGES, MAX_LEN) */
    static MetricsSeq cands[IMAGES];
    Rng rng;
    rng_seed(&rng, RNG_DEFAULT_SEED, 7);
    for (int i = 0; i < IMAGES; i++) {
        first[i] = i * REFS;
        for (int r = 0; r < REFS; r++) {
            int len = MIN_LEN + (int)rng_below(&rng, MAX_LEN - MIN_LEN + 1);
            int *t = ref_toks + (size_t)(i * REFS + r) * MAX_LEN;
            for (int p = 0; p < len; p++) t[p] = word(&rng);
            refs[i * REFS + r] = (MetricsSeq){t, len};
        }
        const MetricsSeq src = refs[i * REFS + (int)rng_below(&rng, REFS)];
        int *c = cand_toks + (size_t)i * MAX_LEN;
        for (int p = 0; p < src.len; p++) c[p] = rng_below(&rng, 3) == 0 ? word(&rng) : src.toks[p];
        cands[i] = (MetricsSeq){c, src.len};
    }
    first[IMAGES] = IMAGES * REFS;

    /* The same corpus as text: word k is written "wk". */
    static char cand_text[IMAGES][MAX_LEN * 6];
    static char ref_text[IMAGES * REFS][MAX_LEN * 6];
    for (int k = 0; k < IMAGES * (REFS + 1); k++) {
        const MetricsSeq q = k < IMAGES * REFS ? refs[k] : cands[k - IMAGES * REFS];
        char *out = k < IMAGES * REFS ? ref_text[k] : cand_text[k - IMAGES * REFS];
        size_t at = 0;
        for (int p = 0; p < q.len; p++) at += (size_t)sprintf(out + at, "%sw%d", p ? " " : "", q.toks[p]);
    }

    GlmError err = {0};
    double t_str[RUNS], t_build[RUNS], t_ids[RUNS], t_cider[RUNS], t_bleu[RUNS], t_f1[RUNS];
    MetricsScores s_str = {0}, s_ids = {0};
    double sink = 0.0;
    for (int run = 0; run < RUNS; run++) {
        double t0 = now();
        MetricsCorpus *c = metrics_corpus_new(&err);
        if (!c) return die(&err);
        for (int i = 0; i < IMAGES; i++) {
            const char *rt[REFS];
            for (int r = 0; r < REFS; r++) rt[r] = ref_text[i * REFS + r];
            if (metrics_corpus_add(c, NULL, cand_text[i], rt, REFS, &err)) return die(&err);
        }
        if (metrics_corpus_scores(&s_str, c, NULL, &err)) return die(&err);
        t_str[run] = now() - t0;
        metrics_corpus_free(c);

        t0 = now();
        MetricsIndex *ix = metrics_index_build(refs, first, IMAGES, &err);
        if (!ix) return die(&err);
        t_build[run] = now() - t0;

        t0 = now();
        if (metrics_index_scores(&s_ids, ix, cands, NULL, &err)) return die(&err);
        t_ids[run] = now() - t0;

        MetricsScratch *sc = metrics_scratch_new(ix, MAX_LEN, &err);
        if (!sc) return die(&err);
        t0 = now();
        for (int i = 0; i < IMAGES; i++) sink += metrics_cider_one(ix, sc, i, cands[i].toks, cands[i].len);
        t_cider[run] = (now() - t0) / IMAGES;
        t0 = now();
        for (int i = 0; i < IMAGES; i++) sink += metrics_bleu4_one(ix, sc, i, cands[i].toks, cands[i].len);
        t_bleu[run] = (now() - t0) / IMAGES;
        t0 = now();
        for (int i = 0; i < IMAGES; i++) sink += metrics_f1_one(ix, sc, i, cands[i].toks, cands[i].len);
        t_f1[run] = (now() - t0) / IMAGES;
        metrics_scratch_free(sc);
        metrics_index_free(ix);
    }

    printf("metrics: %d images x %d references, %d-%d words, vocabulary %d; median of %d runs\n", IMAGES,
           REFS, MIN_LEN, MAX_LEN, VOCAB, RUNS);
    printf("  corpus, from strings   %8.1f ms   (BLEU-4 %.4f, CIDEr-D %.4f, ROUGE-L %.4f)\n",
           1e3 * median(t_str, RUNS), s_str.bleu[3], s_str.cider, s_str.rouge_l);
    printf("  index build, ids       %8.1f ms\n", 1e3 * median(t_build, RUNS));
    printf("  corpus, ids            %8.1f ms   (BLEU-4 %.4f, CIDEr-D %.4f, ROUGE-L %.4f)\n",
           1e3 * median(t_ids, RUNS), s_ids.bleu[3], s_ids.cider, s_ids.rouge_l);
    printf("  metrics_cider_one      %8.2f us per caption\n", 1e6 * median(t_cider, RUNS));
    printf("  metrics_bleu4_one      %8.2f us per caption\n", 1e6 * median(t_bleu, RUNS));
    printf("  metrics_f1_one         %8.2f us per caption\n", 1e6 * median(t_f1, RUNS));
    /* The string and id paths see the same corpus, so they must agree. */
    if (s_str.cider != s_ids.cider || s_str.bleu[3] != s_ids.bleu[3] || sink != sink) {
        fprintf(stderr, "bench_metrics: string and id scores differ\n");
        return 1;
    }
    return 0;
}
