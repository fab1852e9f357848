/* metrics_index.h - the reference n-gram index behind metrics.h, shared by
 * the two files that implement it: metrics_index.c builds it, metrics.c
 * scores candidates against it. Not a public interface: everything else
 * goes through metrics.h, where MetricsIndex is opaque.
 */
#ifndef GLIMPSE_METRICS_INDEX_H
#define GLIMPSE_METRICS_INDEX_H

#include <stdint.h>

#include "metrics.h"

/* 64-bit hash of an n-gram of ids: each id is folded in with a
 * multiply-xorshift step and the result goes through the splitmix64
 * finaliser, so consecutive ids spread over all slot bits. The table compares
 * the ids themselves on a hash hit, so a collision costs time, never a wrong
 * count. */
static inline uint64_t metrics_hash_ngram(const int *toks, int order)
{
    uint64_t h = 0x9E3779B97F4A7C15ull * (uint64_t)order;
    for (int i = 0; i < order; i++) {
        h ^= (uint64_t)(uint32_t)toks[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
    return h;
}

/* Whether a[0..n) == b[0..n) for n <= 4 (a loop: memcmp's call costs more). */
static inline int metrics_same_ids(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* An n-gram's count in one reference of an image (ref: 0 .. refs of the
 * image - 1). */
typedef struct {
    int ref;
    int count;
} RefCount;

struct MetricsIndex {
    int n_images, n_refs;
    double log_n;              /* log(N): the idf of an n-gram no reference has */

    /* every distinct reference n-gram, by global id g */
    int n_ngrams;
    size_t cap_ngrams;
    int *ng_toks;              /* (cap_ngrams, 4) ids, unused tail zero */
    unsigned char *ng_order;   /* (cap_ngrams) 1..4 */
    uint64_t *ng_hash;         /* (cap_ngrams) */
    int *ng_df;                /* (cap_ngrams) images whose references contain g */
    double *ng_weight;         /* (n_ngrams) log(N) - log(max(1, df)) */
    uint64_t *slots;           /* (n_slots) hash >> 32 << 32 | (g + 1), 0 = empty; open
                                  addressing. The hash tag in the slot lets a probe
                                  skip other n-grams without touching their rows. */
    size_t n_slots;            /* power of two, load <= 1/2 */

    /* references */
    int *img_ref;              /* (n_images + 1) refs of image i: img_ref[i]..img_ref[i+1]-1 */
    int *ref_tok;              /* (n_refs + 1) tokens of ref r: toks[ref_tok[r]..ref_tok[r+1]-1] */
    int *toks;                 /* (total reference tokens) */
    double *ref_norm;          /* (n_refs, 4) |r| of the tf-idf vector per order */
    int max_ref_len;

    /* per image: its distinct reference n-grams (entries) sorted by g, and
     * for each entry the references of the image that contain it with
     * their counts. Sparse: the references without it take no room, so
     * memory grows with the reference n-grams, not with n-grams x refs. */
    int *img_ent;              /* (n_images + 1) entries of image i: img_ent[i]..img_ent[i+1]-1 */
    int *ent_g;                /* (n_ent) global id */
    int *ent_max;              /* (n_ent) largest count in any one reference (BLEU clip) */
    size_t *ent_refs_at;       /* (n_ent + 1) entry k's references: ent_refs[ent_refs_at[k]..ent_refs_at[k+1]) */
    RefCount *ent_refs;        /* (n_pairs) by entry, each entry's in ascending reference order */
    int max_img_refs;          /* most references of one image */
};

#define SLOT_TAG(h) ((h) >> 32 << 32)

/* The global id of an n-gram (h its metrics_hash_ngram), or -1. */
int metrics_ix_find(const MetricsIndex *ix, const int *toks, int order, uint64_t h);
/* The entry of global id g among image i's entries (bisection), or -1. */
int metrics_image_find(const MetricsIndex *ix, int i, int g);

#endif
