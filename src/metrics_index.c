/* metrics_index.c - building the reference n-gram index (metrics.h,
 * metrics_index.h): every distinct reference n-gram (n = 1..4) interned
 * once with its document frequency and CIDEr-D idf weight, and per image
 * the sparse counts of its references. Not here: scoring (metrics.c). */
#include "metrics_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int metrics_ix_find(const MetricsIndex *ix, const int *toks, int order, uint64_t h)
{
    size_t mask = ix->n_slots - 1;
    uint64_t tag = SLOT_TAG(h);
    for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
        uint64_t v = ix->slots[s];
        if (!v) return -1;
        if (SLOT_TAG(v) != tag) continue;
        int g = (int)(uint32_t)v - 1;
        if (ix->ng_order[g] == order && metrics_same_ids(ix->ng_toks + (size_t)g * 4, toks, order)) return g;
    }
}

int metrics_image_find(const MetricsIndex *ix, int i, int g)
{
    int lo = ix->img_ent[i], hi = ix->img_ent[i + 1];
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ix->ent_g[mid] < g) lo = mid + 1;
        else hi = mid;
    }
    return lo < ix->img_ent[i + 1] && ix->ent_g[lo] == g ? lo : -1;
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
    int g = metrics_ix_find(ix, toks, order, h);
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
                hs[k] = metrics_hash_ngram(t + p, order);
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

