/* metrics.c - BLEU-1..4, CIDEr-D, ROUGE-L and the per-caption reward forms
 * over token ids; see metrics.h for the exact conventions and which
 * reference tool each one matches.
 *
 * Layout of the file: hashing, the reference index (build / free), one
 * candidate's n-grams (prepare), the per-metric formulas on a prepared
 * candidate, corpus scoring over ids.
 *
 * Not here: text. Tokenizing, interning words and reading caption files
 * are metrics_corpus.c's; this file sees ids only, and prints nothing.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing ------------------------------------------------------------- */

/* 64-bit hash of an n-gram of ids: each id is folded in with a
 * multiply-xorshift step and the result goes through the splitmix64
 * finaliser, so consecutive ids spread over all slot bits. The table compares
 * the ids themselves on a hash hit, so a collision costs time, never a wrong
 * count. */
static uint64_t hash_ngram(const int *toks, int order)
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

/* ---- the reference index ------------------------------------------------- */

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

/* Whether a[0..n) == b[0..n) for n <= 4 (a loop: memcmp's call costs more). */
static int same_ids(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int ix_find(const MetricsIndex *ix, const int *toks, int order, uint64_t h)
{
    size_t mask = ix->n_slots - 1;
    uint64_t tag = SLOT_TAG(h);
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        uint64_t v = ix->slots[s];
        if (!v) return -1;
        if (SLOT_TAG(v) != tag) continue;
        int g = (int)(uint32_t)v - 1;
        if (ix->ng_order[g] == order && same_ids(ix->ng_toks + (size_t)g * 4, toks, order)) return g;
    }
}

static void ix_put(uint64_t *slots, size_t n_slots, uint64_t h, int g)
{
    size_t s = (size_t)h & (n_slots - 1);
    while (slots[s]) s = (s + 1) & (n_slots - 1);
    slots[s] = SLOT_TAG(h) | (uint32_t)(g + 1);
}

static int ix_rehash(MetricsIndex *ix, size_t n_slots)
{
    uint64_t *slots = glm_calloc_array(n_slots, sizeof *slots);
    if (!slots) return GLM_ENOMEM;
    for (int g = 0; g < ix->n_ngrams; g++) ix_put(slots, n_slots, ix->ng_hash[g], g);
    free(ix->slots);
    ix->slots = slots;
    ix->n_slots = n_slots;
    return GLM_OK;
}

/* The global id of an n-gram (h its hash_ngram), adding it if new; -1 when
 * out of memory. */
static int ix_intern(MetricsIndex *ix, const int *toks, int order, uint64_t h)
{
    int g = ix_find(ix, toks, order, h);
    if (g >= 0) return g;
    if ((size_t)ix->n_ngrams + 1 > ix->n_slots / 2) {
        if (ix->n_slots > SIZE_MAX / 2 || ix->n_ngrams >= INT32_MAX - 1) return -1;
        if (ix_rehash(ix, ix->n_slots * 2)) return -1;
    }
    if ((size_t)ix->n_ngrams == ix->cap_ngrams) {
        size_t cap = ix->cap_ngrams ? ix->cap_ngrams * 2 : 1024;
        unsigned char *o = realloc(ix->ng_order, cap * sizeof *o);
        if (!o) return -1;
        ix->ng_order = o;
        uint64_t *h2 = realloc(ix->ng_hash, cap * sizeof *h2);
        if (!h2) return -1;
        ix->ng_hash = h2;
        int *df = realloc(ix->ng_df, cap * sizeof *df);
        if (!df) return -1;
        ix->ng_df = df;
        int *t = glm_malloc_array(cap, 4 * sizeof *t);
        if (!t) return -1;
        if (ix->n_ngrams) memcpy(t, ix->ng_toks, (size_t)ix->n_ngrams * 4 * sizeof *t);
        free(ix->ng_toks);
        ix->ng_toks = t;
        ix->cap_ngrams = cap;
    }
    g = ix->n_ngrams++;
    memset(ix->ng_toks + (size_t)g * 4, 0, 4 * sizeof *ix->ng_toks);
    memcpy(ix->ng_toks + (size_t)g * 4, toks, (size_t)order * sizeof *toks);
    ix->ng_order[g] = (unsigned char)order;
    ix->ng_hash[g] = h;
    ix->ng_df[g] = 0;
    ix_put(ix->slots, ix->n_slots, h, g);
    return g;
}

void metrics_index_free(MetricsIndex *ix)
{
    if (!ix) return;
    free(ix->ng_toks);
    free(ix->ng_order);
    free(ix->ng_hash);
    free(ix->ng_df);
    free(ix->ng_weight);
    free(ix->slots);
    free(ix->img_ref);
    free(ix->ref_tok);
    free(ix->toks);
    free(ix->ref_norm);
    free(ix->img_ent);
    free(ix->ent_g);
    free(ix->ent_max);
    free(ix->ent_refs_at);
    free(ix->ent_refs);
    free(ix);
}

int metrics_index_images(const MetricsIndex *ix) { return ix->n_images; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Work arrays of metrics_index_build, freed together. */
typedef struct {
    int stamp;        /* last image that saw g, -1 none */
    int local;        /* g's entry number within that image */
} Seen;

/* One (entry, reference) count of the image being built. */
typedef struct {
    int local;        /* the entry, numbered by first sight */
    int ref;          /* the reference within the image */
    int count;
} LocalCount;

typedef struct {
    Seen *seen;       /* (cap) per global id; one struct so one cache miss */
    size_t cap;
    uint64_t *keys;   /* (keys_cap) g << 32 | local, for sorting an image's entries */
    size_t keys_cap;
    int *last;        /* (last_cap) per local entry: where in counts its latest reference's count is */
    size_t last_cap;
    LocalCount *counts; /* (counts_cap) the image's nonzero counts, in reference order */
    size_t counts_cap;
    int *rank;        /* (rank_cap) per local entry: its place among the sorted entries */
    size_t rank_cap;
    uint64_t *hs;     /* (4 * longest reference) n-gram hashes of one reference */
    /* the index's entry arrays: entries and (reference, count) pairs so far */
    size_t n_ent, n_pairs, cap_g, cap_max, cap_at, cap_refs;
} BuildWork;

static void build_work_free(BuildWork *w)
{
    free(w->seen);
    free(w->keys);
    free(w->last);
    free(w->counts);
    free(w->rank);
    free(w->hs);
}

/* Makes sure the per-n-gram work arrays cover every global id so far. */
static int build_work_cover(BuildWork *w, int n_ngrams)
{
    size_t old = w->cap;
    if ((size_t)n_ngrams <= old) return GLM_OK;
    if (glm_grow((void **)&w->seen, &w->cap, (size_t)n_ngrams, sizeof *w->seen)) return GLM_ENOMEM;
    for (size_t i = old; i < w->cap; i++) w->seen[i].stamp = -1;
    return GLM_OK;
}

/* Appends the entries of image i (its references' distinct n-grams, sorted
 * by global id, each with the references that contain it) to ix; counts
 * the image in the df of each. GLM_ENOMEM on failure. */
static int index_image(MetricsIndex *ix, BuildWork *w, int i)
{
    int r0 = ix->img_ref[i], nr = ix->img_ref[i + 1] - r0;
    int n_local = 0;
    size_t n_counts = 0;
    /* Count every n-gram of every reference: local entries numbered by
     * first sight, one LocalCount per (entry, reference) that occurs. */
    for (int r = r0; r < r0 + nr; r++) {
        const int *t = ix->toks + ix->ref_tok[r];
        int len = ix->ref_tok[r + 1] - ix->ref_tok[r];
        /* Hash every n-gram of the reference and prefetch its slot first:
         * the table is far larger than the cache and most lookups miss
         * it; overlapping the misses made the build about 15% faster. */
        uint64_t *hs = w->hs;
        for (int order = 1, k = 0; order <= METRICS_MAX_N; order++)
            for (int p = 0; p + order <= len; p++, k++) {
                hs[k] = hash_ngram(t + p, order);
                __builtin_prefetch(&ix->slots[(size_t)hs[k] & (ix->n_slots - 1)]);
            }
        for (int order = 1; order <= METRICS_MAX_N; order++) {
            for (int p = 0; p + order <= len; p++) {
                int g = ix_intern(ix, t + p, order, *hs++);
                if (g < 0 || build_work_cover(w, ix->n_ngrams)) return GLM_ENOMEM;
                Seen *sn = &w->seen[g];
                if (sn->stamp != i) {
                    sn->stamp = i;
                    sn->local = n_local++;
                    ix->ng_df[g]++;
                    if (glm_grow((void **)&w->keys, &w->keys_cap, (size_t)n_local, sizeof *w->keys) ||
                        glm_grow((void **)&w->last, &w->last_cap, (size_t)n_local, sizeof *w->last))
                        return GLM_ENOMEM;
                    w->keys[n_local - 1] = (uint64_t)g << 32 | (uint32_t)(n_local - 1);
                    w->last[n_local - 1] = -1;
                }
                int *last = &w->last[sn->local];
                if (*last < 0 || w->counts[*last].ref != r - r0) {
                    if (n_counts >= (size_t)INT32_MAX ||
                        glm_grow((void **)&w->counts, &w->counts_cap, n_counts + 1, sizeof *w->counts))
                        return GLM_ENOMEM;
                    *last = (int)n_counts;
                    w->counts[n_counts++] = (LocalCount){sn->local, r - r0, 0};
                }
                w->counts[*last].count++;
            }
        }
    }
    /* Sorted by global id, so a candidate finds its n-grams by bisection.
     * References without tokens leave w->keys NULL: qsort must not see
     * it, even with no elements. */
    if (n_local > 1) qsort(w->keys, (size_t)n_local, sizeof *w->keys, cmp_u64);
    size_t e0 = w->n_ent, p0 = w->n_pairs;
    if (e0 + (size_t)n_local > (size_t)INT32_MAX ||
        glm_grow((void **)&ix->ent_g, &w->cap_g, e0 + (size_t)n_local, sizeof *ix->ent_g) ||
        glm_grow((void **)&ix->ent_max, &w->cap_max, e0 + (size_t)n_local, sizeof *ix->ent_max) ||
        glm_grow((void **)&ix->ent_refs_at, &w->cap_at, e0 + (size_t)n_local + 1, sizeof *ix->ent_refs_at) ||
        glm_grow((void **)&ix->ent_refs, &w->cap_refs, p0 + n_counts, sizeof *ix->ent_refs) ||
        glm_grow((void **)&w->rank, &w->rank_cap, (size_t)n_local, sizeof *w->rank))
        return GLM_ENOMEM;
    ix->img_ent[i] = (int)e0;
    /* The counts grouped by entry in sorted order, by a counting sort (which
     * keeps each entry's references ascending): at[k + 1] first counts
     * entry k's references, then the running sum makes at[k] the place
     * where entry k starts. */
    size_t *at = ix->ent_refs_at + e0;  /* (n_local + 1) */
    for (int k = 0; k < n_local; k++) {
        w->rank[(uint32_t)w->keys[k]] = k;
        ix->ent_g[e0 + (size_t)k] = (int)(w->keys[k] >> 32);
        ix->ent_max[e0 + (size_t)k] = 0;
        at[k + 1] = 0;
    }
    for (size_t c = 0; c < n_counts; c++) at[w->rank[w->counts[c].local] + 1]++;
    at[0] = p0;
    for (int k = 0; k < n_local; k++) at[k + 1] += at[k];
    for (size_t c = 0; c < n_counts; c++) {
        const LocalCount *lc = &w->counts[c];
        int k = w->rank[lc->local];
        ix->ent_refs[at[k]++] = (RefCount){lc->ref, lc->count};
        ix->ent_max[e0 + (size_t)k] = GLM_MAX(ix->ent_max[e0 + (size_t)k], lc->count);
    }
    /* Filling advanced every at[k] to where entry k + 1 starts; shift back. */
    for (int k = n_local; k > 0; k--) at[k] = at[k - 1];
    at[0] = p0;
    w->n_ent = e0 + (size_t)n_local;
    w->n_pairs = p0 + n_counts;
    return GLM_OK;
}

MetricsIndex *metrics_index_build(const MetricsSeq *refs, const int *first, int n_images,
                                  GlmError *err)
{
    if (n_images < 1) {
        glm_fail(err, GLM_EINPUT, "metrics: no images to index");
        return NULL;
    }
    if (first[0] != 0) {
        glm_fail(err, GLM_EINPUT, "metrics: reference offsets must start at 0");
        return NULL;
    }
    for (int i = 0; i < n_images; i++) {
        if (first[i + 1] <= first[i]) {
            glm_fail(err, GLM_EINPUT, "metrics: image %d has no references", i);
            return NULL;
        }
    }
    int n_refs = first[n_images];
    size_t n_toks = 0;
    for (int r = 0; r < n_refs; r++) {
        if (refs[r].len < 0 || (refs[r].len > 0 && !refs[r].toks)) {
            glm_fail(err, GLM_EINPUT, "metrics: reference %d has a bad length", r);
            return NULL;
        }
        n_toks += (size_t)GLM_MIN(refs[r].len, METRICS_MAX_TOKENS);
    }
    if (n_toks > (size_t)INT32_MAX) {
        glm_fail(err, GLM_EINPUT, "metrics: too many reference tokens");
        return NULL;
    }

    MetricsIndex *ix = calloc(1, sizeof *ix);
    BuildWork w = {0};
    if (!ix) goto nomem;
    ix->n_images = n_images;
    ix->n_refs = n_refs;
    ix->log_n = log((double)n_images);
    ix->img_ref = glm_malloc_array((size_t)n_images + 1, sizeof *ix->img_ref);
    ix->ref_tok = glm_malloc_array((size_t)n_refs + 1, sizeof *ix->ref_tok);
    ix->toks = glm_malloc_array(n_toks, sizeof *ix->toks);
    ix->ref_norm = glm_calloc_array((size_t)n_refs * 4, sizeof *ix->ref_norm);
    ix->img_ent = glm_malloc_array((size_t)n_images + 1, sizeof *ix->img_ent);
    if (!ix->img_ref || !ix->ref_tok || !ix->toks || !ix->ref_norm || !ix->img_ent) goto nomem;
    /* Slots for as many n-grams as the references have (distinct ones are
     * fewer), up to 4M slots (32 MB); past that the table grows by doubling. */
    size_t slots = 1024;
    while (slots < n_toks * METRICS_MAX_N && slots < ((size_t)1 << 22)) slots *= 2;
    if (ix_rehash(ix, slots)) goto nomem;
    int longest = 0;
    for (int r = 0; r < n_refs; r++) longest = GLM_MAX(longest, GLM_MIN(refs[r].len, METRICS_MAX_TOKENS));
    w.hs = glm_malloc_array((size_t)longest * METRICS_MAX_N, sizeof *w.hs);
    if (!w.hs) goto nomem;
    memcpy(ix->img_ref, first, ((size_t)n_images + 1) * sizeof *first);
    size_t at = 0;
    for (int r = 0; r < n_refs; r++) {
        ix->ref_tok[r] = (int)at;
        int len = GLM_MIN(refs[r].len, METRICS_MAX_TOKENS);  /* the rest is not considered */
        if (len) memcpy(ix->toks + at, refs[r].toks, (size_t)len * sizeof(int));
        at += (size_t)len;
        ix->max_ref_len = GLM_MAX(ix->max_ref_len, len);
    }
    ix->ref_tok[n_refs] = (int)at;

    /* Entries of all images, appended image by image. */
    for (int i = 0; i < n_images; i++) {
        ix->max_img_refs = GLM_MAX(ix->max_img_refs, first[i + 1] - first[i]);
        if (index_image(ix, &w, i)) goto nomem;
    }
    ix->img_ent[n_images] = (int)w.n_ent;

    /* idf weights, then the reference norms per order. */
    ix->ng_weight = glm_malloc_array((size_t)ix->n_ngrams, sizeof *ix->ng_weight);
    if (!ix->ng_weight) goto nomem;
    for (int g = 0; g < ix->n_ngrams; g++)
        ix->ng_weight[g] = ix->log_n - log((double)GLM_MAX(1, ix->ng_df[g]));
    for (int i = 0; i < n_images; i++) {
        int r0 = first[i];
        for (int e = ix->img_ent[i]; e < ix->img_ent[i + 1]; e++) {
            int g = ix->ent_g[e], o = ix->ng_order[g] - 1;
            for (size_t q = ix->ent_refs_at[e]; q < ix->ent_refs_at[e + 1]; q++) {
                double v = ix->ent_refs[q].count * ix->ng_weight[g];
                ix->ref_norm[(size_t)(r0 + ix->ent_refs[q].ref) * 4 + (size_t)o] += v * v;
            }
        }
    }
    for (size_t k = 0; k < (size_t)n_refs * 4; k++) ix->ref_norm[k] = sqrt(ix->ref_norm[k]);
    build_work_free(&w);
    return ix;

nomem:
    build_work_free(&w);
    metrics_index_free(ix);
    glm_fail(err, GLM_ENOMEM, "metrics: out of memory building the reference index");
    return NULL;
}

/* ---- one candidate's n-grams --------------------------------------------- */

struct MetricsScratch {
    int max_len;
    int max_ref_len, max_img_refs;  /* of the index it was made for */
    /* distinct n-grams of the current candidate */
    int n_ent;
    uint64_t *e_hash;   /* (4 * max_len) */
    int *e_pos;         /* (4 * max_len) first position in the candidate;
                           max_len here and below at most METRICS_MAX_TOKENS */
    int *e_order;       /* (4 * max_len) 1..4 */
    int *e_tf;          /* (4 * max_len) count in the candidate */
    double *e_w;        /* (4 * max_len) idf weight (log N if no reference has it) */
    int *e_ent;         /* (4 * max_len) entry of the image, -1 if its refs lack it */
    uint32_t *slots;    /* (n_slots) local table: entry + 1, 0 = empty */
    size_t n_slots;
    int *lcs;           /* (max_ref_len + 1) one DP row */
    double *ref_dot;    /* (max_img_refs, 4) CIDEr-D dot product with each reference, per order */
    long *ref_match;    /* (max_img_refs) clipped unigram matches with each reference (F1) */
};

MetricsScratch *metrics_scratch_new(const MetricsIndex *ix, int max_len, GlmError *err)
{
    if (max_len < 0 || max_len > (1 << 24)) {
        glm_fail(err, GLM_EINPUT, "metrics: candidate length limit %d out of range", max_len);
        return NULL;
    }
    MetricsScratch *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->max_len = max_len;
    s->max_ref_len = ix->max_ref_len;
    s->max_img_refs = ix->max_img_refs;
    /* Tokens past METRICS_MAX_TOKENS are never looked at. */
    size_t ne = (size_t)GLM_MIN(max_len, METRICS_MAX_TOKENS) * METRICS_MAX_N;
    s->n_slots = 16;
    while (s->n_slots < 2 * ne) s->n_slots *= 2;
    s->e_hash = glm_malloc_array(ne, sizeof *s->e_hash);
    s->e_pos = glm_malloc_array(ne, sizeof *s->e_pos);
    s->e_order = glm_malloc_array(ne, sizeof *s->e_order);
    s->e_tf = glm_malloc_array(ne, sizeof *s->e_tf);
    s->e_w = glm_malloc_array(ne, sizeof *s->e_w);
    s->e_ent = glm_malloc_array(ne, sizeof *s->e_ent);
    s->slots = glm_calloc_array(s->n_slots, sizeof *s->slots);
    s->lcs = glm_malloc_array((size_t)ix->max_ref_len + 1, sizeof *s->lcs);
    s->ref_dot = glm_malloc_array((size_t)ix->max_img_refs * METRICS_MAX_N, sizeof *s->ref_dot);
    s->ref_match = glm_malloc_array((size_t)ix->max_img_refs, sizeof *s->ref_match);
    if (!s->e_hash || !s->e_pos || !s->e_order || !s->e_tf || !s->e_w || !s->e_ent || !s->slots ||
        !s->lcs || !s->ref_dot || !s->ref_match)
        goto nomem;
    return s;
nomem:
    metrics_scratch_free(s);
    glm_fail(err, GLM_ENOMEM, "metrics: out of memory for the scoring scratch");
    return NULL;
}

void metrics_scratch_free(MetricsScratch *s)
{
    if (!s) return;
    free(s->e_hash);
    free(s->e_pos);
    free(s->e_order);
    free(s->e_tf);
    free(s->e_w);
    free(s->e_ent);
    free(s->slots);
    free(s->lcs);
    free(s->ref_dot);
    free(s->ref_match);
    free(s);
}

/* The entry of global id g among image i's entries (bisection), or -1. */
static int image_find(const MetricsIndex *ix, int i, int g)
{
    int lo = ix->img_ent[i], hi = ix->img_ent[i + 1];
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ix->ent_g[mid] < g) lo = mid + 1;
        else hi = mid;
    }
    return lo < ix->img_ent[i + 1] && ix->ent_g[lo] == g ? lo : -1;
}

/* Fills s with the distinct n-grams of toks[0..n) (tf, idf weight, entry in
 * image i), n cut to METRICS_MAX_TOKENS; returns that n, the candidate's
 * length for the formulas. The local table is left empty again for the
 * next call. */
static int cand_prepare(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n)
{
    GLM_ASSERT(image >= 0 && image < ix->n_images);
    GLM_ASSERT(n >= 0 && n <= s->max_len && (n == 0 || toks));
    GLM_ASSERT(s->max_ref_len == ix->max_ref_len && s->max_img_refs == ix->max_img_refs);
    n = GLM_MIN(n, METRICS_MAX_TOKENS);
    size_t mask = s->n_slots - 1;
    int ne = 0;
    for (int order = 1; order <= METRICS_MAX_N; order++) {
        for (int p = 0; p + order <= n; p++) {
            uint64_t h = hash_ngram(toks + p, order);
            size_t slot = (size_t)h & mask;
            int e = -1;
            for (;; slot = (slot + 1) & mask) {
                uint32_t v = s->slots[slot];
                if (!v) break;
                int k = (int)v - 1;
                if (s->e_hash[k] == h && s->e_order[k] == order && same_ids(toks + s->e_pos[k], toks + p, order)) {
                    e = k;
                    break;
                }
            }
            if (e >= 0) {
                s->e_tf[e]++;
                continue;
            }
            e = ne++;
            s->slots[slot] = (uint32_t)e + 1;
            s->e_hash[e] = h;
            s->e_pos[e] = p;
            s->e_order[e] = order;
            s->e_tf[e] = 1;
            __builtin_prefetch(&ix->slots[(size_t)h & (ix->n_slots - 1)]);
        }
    }
    s->n_ent = ne;
    /* The index lookups in a second pass, so the prefetches above overlap
     * (measured: 7.6 -> 4.7 us per metrics_cider_one call, bench_metrics). */
    for (int e = 0; e < ne; e++) {
        int g = ix_find(ix, toks + s->e_pos[e], s->e_order[e], s->e_hash[e]);
        s->e_w[e] = g >= 0 ? ix->ng_weight[g] : ix->log_n;
        s->e_ent[e] = g >= 0 ? image_find(ix, image, g) : -1;
    }
    /* Empty exactly the slots we used (cheaper than clearing the whole table
     * for a short caption). The search is for the entry's own value, not for
     * the first empty slot, so slots emptied earlier in this loop cannot hide
     * it. */
    for (int e = 0; e < ne; e++) {
        size_t slot = (size_t)s->e_hash[e] & mask;
        while (s->slots[slot] != (uint32_t)e + 1) slot = (slot + 1) & mask;
        s->slots[slot] = 0;
    }
    return n;
}

/* ---- the formulas on a prepared candidate -------------------------------- */

/* CIDEr-D of the prepared candidate (length n) against image i, x10. */
static double cider_prepared(const MetricsIndex *ix, const MetricsScratch *s, int image, int n,
                             unsigned wrong)
{
    double norm_c[METRICS_MAX_N] = {0};
    for (int e = 0; e < s->n_ent; e++) {
        double v = s->e_tf[e] * s->e_w[e];
        norm_c[s->e_order[e] - 1] += v * v;
    }
    for (int o = 0; o < METRICS_MAX_N; o++) norm_c[o] = sqrt(norm_c[o]);
    int r0 = ix->img_ref[image], nr = ix->img_ref[image + 1] - r0;
    /* The dot products with every reference at once, from the references
     * that contain each candidate n-gram: the work is the number of such
     * (n-gram, reference) pairs, not n-grams x references. */
    double *dot = s->ref_dot;  /* (nr, 4) */
    memset(dot, 0, (size_t)nr * METRICS_MAX_N * sizeof *dot);
    for (int e = 0; e < s->n_ent; e++) {
        int k = s->e_ent[e];
        if (k < 0) continue;
        double vc = s->e_tf[e] * s->e_w[e];
        int o = s->e_order[e] - 1;
        for (size_t q = ix->ent_refs_at[k]; q < ix->ent_refs_at[k + 1]; q++) {
            double vr = ix->ent_refs[q].count * s->e_w[e];
            dot[(size_t)ix->ent_refs[q].ref * METRICS_MAX_N + (size_t)o] +=
                (wrong & METRICS_WRONG_CIDER_UNCLIPPED ? vc : GLM_MIN(vc, vr)) * vr;
        }
    }
    double total = 0.0;
    for (int j = 0; j < nr; j++) {
        int len_r = ix->ref_tok[r0 + j + 1] - ix->ref_tok[r0 + j];
        double delta = (double)(n - len_r);
        double pen = wrong & METRICS_WRONG_CIDER_NO_PENALTY
                         ? 1.0
                         : exp(-(delta * delta) / (2.0 * METRICS_CIDER_SIGMA * METRICS_CIDER_SIGMA));
        const double *norm_r = ix->ref_norm + (size_t)(r0 + j) * 4;
        const double *dot_j = dot + (size_t)j * METRICS_MAX_N;
        for (int o = 0; o < METRICS_MAX_N; o++)
            if (norm_c[o] != 0.0 && norm_r[o] != 0.0) total += dot_j[o] / (norm_c[o] * norm_r[o]) * pen;
    }
    return 10.0 * total / METRICS_MAX_N / nr;
}

/* Clipped matches (or unclipped, for the wrong variant) and candidate
 * n-gram counts per order. */
static void bleu_counts_prepared(long match[METRICS_MAX_N], long total[METRICS_MAX_N],
                                 const MetricsIndex *ix, const MetricsScratch *s, unsigned wrong)
{
    for (int o = 0; o < METRICS_MAX_N; o++) match[o] = total[o] = 0;
    for (int e = 0; e < s->n_ent; e++) {
        int o = s->e_order[e] - 1, k = s->e_ent[e];
        total[o] += s->e_tf[e];
        if (k >= 0)
            match[o] += wrong & METRICS_WRONG_BLEU_UNCLIPPED ? s->e_tf[e] : GLM_MIN(s->e_tf[e], ix->ent_max[k]);
    }
}

/* The reference length of image i closest to n; ties go to the shorter
 * (to the longer for the wrong variant). */
static int closest_ref_len(const MetricsIndex *ix, int image, int n, unsigned wrong)
{
    int best = -1, longer = (wrong & METRICS_WRONG_BLEU_TIE_LONGER) != 0;
    for (int r = ix->img_ref[image]; r < ix->img_ref[image + 1]; r++) {
        int len = ix->ref_tok[r + 1] - ix->ref_tok[r];
        if (best < 0 || abs(len - n) < abs(best - n) ||
            (abs(len - n) == abs(best - n) && (longer ? len > best : len < best)))
            best = len;
    }
    return best;
}

/* BLEU-1..4 from summed counts (no smoothing). c, r: candidate and
 * reference lengths. */
static void bleu_from_counts(double bleu[METRICS_MAX_N], const double match[METRICS_MAX_N],
                             const double total[METRICS_MAX_N], double c, double r)
{
    double bp = c > r ? 1.0 : c == 0.0 ? 0.0 : exp(1.0 - r / c);
    double log_sum = 0.0;
    int zero = 0;
    for (int o = 0; o < METRICS_MAX_N; o++) {
        if (zero || match[o] <= 0.0 || total[o] <= 0.0) {
            zero = 1;
            bleu[o] = 0.0;
            continue;
        }
        log_sum += log(match[o] / total[o]);
        bleu[o] = bp * exp(log_sum / (o + 1));
    }
}

static double rouge_l_prepared(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks,
                               int n, unsigned wrong)
{
    if (n == 0) return 0.0;
    const double b2 = METRICS_ROUGE_BETA * METRICS_ROUGE_BETA;
    double p_max = 0.0, r_max = 0.0, f_max = 0.0;
    for (int r = ix->img_ref[image]; r < ix->img_ref[image + 1]; r++) {
        const int *t = ix->toks + ix->ref_tok[r];
        int len = ix->ref_tok[r + 1] - ix->ref_tok[r];
        int *row = s->lcs;  /* (len + 1): LCS of toks[0..i) and t[0..j) */
        for (int j = 0; j <= len; j++) row[j] = 0;
        for (int i = 0; i < n; i++) {
            int diag = 0;
            for (int j = 1; j <= len; j++) {
                int up = row[j];
                row[j] = toks[i] == t[j - 1] ? diag + 1 : GLM_MAX(up, row[j - 1]);
                diag = up;
            }
        }
        int lcs = row[len];
        double p = (double)lcs / n, rc = len ? (double)lcs / len : 0.0;
        p_max = GLM_MAX(p_max, p);
        r_max = GLM_MAX(r_max, rc);
        if (p > 0.0 && rc > 0.0) f_max = GLM_MAX(f_max, (1.0 + b2) * p * rc / (rc + b2 * p));
    }
    if (wrong & METRICS_WRONG_ROUGE_MAX_F) return f_max;
    if (p_max == 0.0 || r_max == 0.0) return 0.0;
    return (1.0 + b2) * p_max * r_max / (r_max + b2 * p_max);
}

/* ---- per-caption API ----------------------------------------------------- */

double metrics_cider_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n)
{
    n = cand_prepare(ix, s, image, toks, n);
    return cider_prepared(ix, s, image, n, 0);
}

double metrics_bleu4_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n)
{
    n = cand_prepare(ix, s, image, toks, n);
    long match[METRICS_MAX_N], total[METRICS_MAX_N];
    bleu_counts_prepared(match, total, ix, s, 0);
    if (match[0] == 0) return 0.0;  /* also covers n == 0 */
    double log_sum = log((double)match[0] / (double)n);
    for (int o = 1; o < METRICS_MAX_N; o++) {
        /* Lin & Och add-one; a too-short candidate counts one n-gram (NLTK). */
        double t = (double)GLM_MAX(1L, total[o]);
        log_sum += log((match[o] + 1.0) / (t + 1.0));
    }
    int r = closest_ref_len(ix, image, n, 0);
    double bp = n > r ? 1.0 : exp(1.0 - (double)r / n);
    return bp * exp(log_sum / METRICS_MAX_N);
}

double metrics_f1_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n)
{
    n = cand_prepare(ix, s, image, toks, n);
    int r0 = ix->img_ref[image], nr = ix->img_ref[image + 1] - r0;
    long *match = s->ref_match;  /* (nr) as in cider_prepared: by the references that have the word */
    memset(match, 0, (size_t)nr * sizeof *match);
    for (int e = 0; e < s->n_ent; e++) {
        int k = s->e_ent[e];
        if (s->e_order[e] != 1 || k < 0) continue;
        for (size_t q = ix->ent_refs_at[k]; q < ix->ent_refs_at[k + 1]; q++)
            match[ix->ent_refs[q].ref] += GLM_MIN(s->e_tf[e], ix->ent_refs[q].count);
    }
    double best = 0.0;
    for (int j = 0; j < nr; j++) {
        long m = match[j];
        int len_r = ix->ref_tok[r0 + j + 1] - ix->ref_tok[r0 + j];
        /* F1 = 2PR / (P + R) with P = m/n, R = m/len_r, i.e. 2m / (n + len_r). */
        if (m > 0) best = GLM_MAX(best, 2.0 * (double)m / (double)(n + len_r));
    }
    return best;
}

double metrics_rouge_l_one(const MetricsIndex *ix, MetricsScratch *s, int image, const int *toks, int n)
{
    GLM_ASSERT(image >= 0 && image < ix->n_images);
    GLM_ASSERT(n >= 0 && n <= s->max_len && (n == 0 || toks));
    GLM_ASSERT(s->max_ref_len == ix->max_ref_len && s->max_img_refs == ix->max_img_refs);
    return rouge_l_prepared(ix, s, image, toks, GLM_MIN(n, METRICS_MAX_TOKENS), 0);
}

/* ---- corpus scores over ids ---------------------------------------------- */

MetricsOptions metrics_default_options(void)
{
    MetricsOptions o = {METRICS_BLEU_COCO, 0};
    return o;
}

int metrics_index_scores(MetricsScores *out, const MetricsIndex *ix, const MetricsSeq *cands,
                         const MetricsOptions *opt, GlmError *err)
{
    MetricsOptions o = opt ? *opt : metrics_default_options();
    int max_len = 0;
    for (int i = 0; i < ix->n_images; i++) {
        if (cands[i].len < 0 || (cands[i].len > 0 && !cands[i].toks))
            return glm_fail(err, GLM_EINPUT, "metrics: candidate %d has a bad length", i);
        max_len = GLM_MAX(max_len, GLM_MIN(cands[i].len, METRICS_MAX_TOKENS));
    }
    MetricsScratch *s = metrics_scratch_new(ix, max_len, err);
    if (!s) return err ? err->code : GLM_ENOMEM;

    double match[METRICS_MAX_N] = {0}, total[METRICS_MAX_N] = {0}, c = 0.0, r = 0.0;
    double cider = 0.0, rouge = 0.0, bleu_avg[METRICS_MAX_N] = {0};
    for (int i = 0; i < ix->n_images; i++) {
        const int *t = cands[i].toks;
        int n = cand_prepare(ix, s, i, t, GLM_MIN(cands[i].len, METRICS_MAX_TOKENS));
        long m[METRICS_MAX_N], tot[METRICS_MAX_N];
        bleu_counts_prepared(m, tot, ix, s, o.wrong);
        if (o.bleu == METRICS_BLEU_NLTK)
            for (int k = 0; k < METRICS_MAX_N; k++) tot[k] = GLM_MAX(1L, tot[k]);
        int rl = closest_ref_len(ix, i, n, o.wrong);
        for (int k = 0; k < METRICS_MAX_N; k++) {
            match[k] += (double)m[k];
            total[k] += (double)tot[k];
        }
        c += n;
        r += rl;
        if (o.wrong & METRICS_WRONG_BLEU_SENTENCE_AVG) {
            double dm[METRICS_MAX_N], dt[METRICS_MAX_N], b[METRICS_MAX_N];
            for (int k = 0; k < METRICS_MAX_N; k++) {
                dm[k] = (double)m[k];
                dt[k] = (double)tot[k];
            }
            bleu_from_counts(b, dm, dt, n, rl);
            for (int k = 0; k < METRICS_MAX_N; k++) bleu_avg[k] += b[k];
        }
        cider += cider_prepared(ix, s, i, n, o.wrong);
        rouge += rouge_l_prepared(ix, s, i, t, n, o.wrong);
    }
    metrics_scratch_free(s);

    memset(out, 0, sizeof *out);
    if (o.wrong & METRICS_WRONG_BLEU_SENTENCE_AVG) {
        for (int k = 0; k < METRICS_MAX_N; k++) out->bleu[k] = bleu_avg[k] / ix->n_images;
    } else {
        bleu_from_counts(out->bleu, match, total, c, r);
    }
    out->cider = cider / ix->n_images;
    out->rouge_l = rouge / ix->n_images;
    out->images = ix->n_images;
    return GLM_OK;
}
