/* vocab.c - the caption vocabulary, and the string arena and hash map it is
 * built on. See vocab.h for the id layout and the choice of minimum count.
 *
 * Not here: tokenization rules (text.c), reading caption files (dataset.c),
 * storing the vocabulary in a model file (the model-file module calls
 * vocab_words / vocab_from_words).
 */
#include "vocab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* ---- string storage ------------------------------------------------------ */

/* 64 KiB blocks: a COCO split (~400k captions) is ~400 blocks, not 400k mallocs. */
#define STR_BLOCK_BYTES ((size_t)64 * 1024)

struct StrBlock {
    StrBlock *next;
    size_t used, cap;
    char data[];
};

char *strarena_dup(StrArena *a, const char *s, size_t len)
{
    if (len > SIZE_MAX - sizeof(StrBlock) - 1) return NULL;
    StrBlock *b = a->head;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = GLM_MAX(STR_BLOCK_BYTES, len + 1);
        b = malloc(sizeof(StrBlock) + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    char *p = b->data + b->used;
    memcpy(p, s, len);
    p[len] = 0;
    b->used += len + 1;
    return p;
}

void strarena_free(StrArena *a)
{
    StrBlock *b = a->head;
    while (b) {
        StrBlock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- string -> int hash map ---------------------------------------------- */

/* FNV-1a: simple, and good enough for words and file names. */
static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static size_t strmap_slot(const char *const *keys, size_t cap, const char *key)
{
    size_t i = str_hash(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key) != 0) i = (i + 1) & (cap - 1);
    return i;
}

void strmap_init(StrMap *m) { memset(m, 0, sizeof *m); }

void strmap_free(StrMap *m)
{
    free(m->keys);
    free(m->vals);
    strarena_free(&m->store);
    memset(m, 0, sizeof *m);
}

int strmap_get(const StrMap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t i = strmap_slot(m->keys, m->cap, key);
    return m->keys[i] ? m->vals[i] : -1;
}

static int strmap_grow(StrMap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    if (cap < m->cap) return GLM_ENOMEM;
    const char **keys = glm_calloc_array(cap, sizeof *keys);
    int *vals = glm_malloc_array(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return GLM_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = strmap_slot(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return GLM_OK;
}

int strmap_put(StrMap *m, const char *key, int val, const char **stored)
{
    GLM_ASSERT(val >= 0);
    /* Keep the load at most 1/2 so probe runs stay short. */
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != GLM_OK) return GLM_ENOMEM;
    size_t i = strmap_slot(m->keys, m->cap, key);
    if (!m->keys[i]) {
        const char *copy = strarena_dup(&m->store, key, strlen(key));
        if (!copy) return GLM_ENOMEM;
        m->keys[i] = copy;
        m->n++;
    }
    m->vals[i] = val;
    if (stored) *stored = m->keys[i];
    return GLM_OK;
}

/* ---- vocabulary ---------------------------------------------------------- */

static const char *const SPECIALS[VOCAB_N_SPECIAL] = {"<pad>", "<start>", "<end>", "<unk>"};

/* Adds word as the next id. v->words / v->counts have room. */
static int vocab_add(Vocab *v, const char *word, int count)
{
    const char *stored;
    if (strmap_put(&v->ids, word, v->n, &stored) != GLM_OK) return GLM_ENOMEM;
    v->words[v->n] = stored;
    v->counts[v->n] = count;
    v->n++;
    return GLM_OK;
}

/* Allocates room for n ids and adds the specials. */
static int vocab_start(Vocab *v, int n)
{
    memset(v, 0, sizeof *v);
    v->words = glm_malloc_array((size_t)n, sizeof *v->words);
    v->counts = glm_malloc_array((size_t)n, sizeof *v->counts);
    if (!v->words || !v->counts) return GLM_ENOMEM;
    for (int i = 0; i < VOCAB_N_SPECIAL; i++)
        if (vocab_add(v, SPECIALS[i], 0) != GLM_OK) return GLM_ENOMEM;
    return GLM_OK;
}

void vocab_free(Vocab *v)
{
    free(v->words);
    free(v->counts);
    strmap_free(&v->ids);
    memset(v, 0, sizeof *v);
}

typedef struct {
    const char *word;
    int count;
} WordCount;

/* Descending count, then strcmp: a total order, so qsort's instability does
 * not matter and the ids depend only on the counts. */
static int word_count_cmp(const void *pa, const void *pb)
{
    const WordCount *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->word, b->word);
}

int vocab_build(Vocab *v, const char *const *captions, int n, int min_count, GlmError *err)
{
    memset(v, 0, sizeof *v);
    if (min_count < 1) return glm_fail(err, GLM_EINPUT, "minimum word count must be >= 1, not %d", min_count);
    if (n < 0) return glm_fail(err, GLM_EINPUT, "negative number of captions");

    StrMap seen;                    /* word -> index into counts */
    strmap_init(&seen);
    int *counts = NULL;             /* (n_seen) */
    size_t n_seen = 0, counts_cap = 0;
    char *buf = NULL;               /* (buf_cap) tokenizer output */
    char **toks = NULL;             /* (toks_cap) */
    size_t buf_cap = 0, toks_cap = 0;
    WordCount *list = NULL;         /* (n_seen) */
    int rc = GLM_ENOMEM;

    for (int c = 0; c < n; c++) {
        size_t len = strlen(captions[c]);
        /* A token is at least one byte plus a separator: (len + 1) / 2 bound the count. */
        size_t max_toks = len / 2 + 1;
        if (len + 1 > buf_cap) {
            free(buf);
            buf_cap = GLM_MAX(len + 1, 2 * buf_cap);
            if (!(buf = malloc(buf_cap))) goto done;
        }
        if (max_toks > toks_cap) {
            free(toks);
            toks_cap = GLM_MAX(max_toks, 2 * toks_cap);
            if (!(toks = glm_malloc_array(toks_cap, sizeof *toks))) goto done;
        }
        if (max_toks > INT32_MAX) {
            rc = glm_fail(err, GLM_EINPUT, "caption %d is too long", c);
            goto done;
        }
        int nt = text_tokenize(captions[c], buf, buf_cap, toks, (int)max_toks, NULL);
        for (int t = 0; t < nt; t++) {
            int k = strmap_get(&seen, toks[t]);
            if (k >= 0) {
                if (counts[k] < INT32_MAX) counts[k]++;
                continue;
            }
            if (n_seen == counts_cap) {
                size_t cap = counts_cap ? 2 * counts_cap : 1024;
                int *grown = cap <= INT32_MAX ? realloc(counts, cap * sizeof *counts) : NULL;
                if (!grown) goto done;
                counts = grown;
                counts_cap = cap;
            }
            if (strmap_put(&seen, toks[t], (int)n_seen, NULL) != GLM_OK) goto done;
            counts[n_seen++] = 1;
        }
    }

    /* The map's keys are the words; pair them with their counts and sort. */
    list = glm_malloc_array(n_seen, sizeof *list);
    if (!list) goto done;
    size_t n_keep = 0;
    for (size_t i = 0; i < seen.cap; i++) {
        if (!seen.keys[i]) continue;
        int count = counts[seen.vals[i]];
        if (count >= min_count) list[n_keep++] = (WordCount){seen.keys[i], count};
    }
    qsort(list, n_keep, sizeof *list, word_count_cmp);
    if (n_keep > (size_t)(INT32_MAX - VOCAB_N_SPECIAL)) {
        rc = glm_fail(err, GLM_EINPUT, "vocabulary of %zu words is too large", n_keep);
        goto done;
    }

    if (vocab_start(v, VOCAB_N_SPECIAL + (int)n_keep) != GLM_OK) goto done;
    for (size_t i = 0; i < n_keep; i++)
        if (vocab_add(v, list[i].word, list[i].count) != GLM_OK) goto done;
    rc = GLM_OK;

done:
    if (rc == GLM_ENOMEM) glm_fail(err, GLM_ENOMEM, "out of memory building the vocabulary");
    if (rc != GLM_OK) vocab_free(v);
    free(list);
    free(buf);
    free(toks);
    free(counts);
    strmap_free(&seen);
    return rc;
}

static int is_token(const char *w)
{
    if (!*w) return 0;
    for (const char *p = w; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) return 0;
    return 1;
}

int vocab_from_words(Vocab *v, const char *const *words, int n, GlmError *err)
{
    memset(v, 0, sizeof *v);
    if (n < VOCAB_N_SPECIAL)
        return glm_fail(err, GLM_EINPUT, "vocabulary has %d words, fewer than the %d special tokens",
                        n, VOCAB_N_SPECIAL);
    for (int i = 0; i < VOCAB_N_SPECIAL; i++)
        if (!words[i] || strcmp(words[i], SPECIALS[i]) != 0)
            return glm_fail(err, GLM_EINPUT, "vocabulary word %d is \"%.40s\", expected \"%s\"", i,
                            words[i] ? words[i] : "(null)", SPECIALS[i]);
    if (vocab_start(v, n) != GLM_OK) goto nomem;
    for (int i = VOCAB_N_SPECIAL; i < n; i++) {
        if (!words[i] || !is_token(words[i])) {
            vocab_free(v);
            return glm_fail(err, GLM_EINPUT, "vocabulary word %d \"%.40s\" is not a lowercase token", i,
                            words[i] ? words[i] : "(null)");
        }
        int prev = strmap_get(&v->ids, words[i]);
        if (prev >= 0) {
            vocab_free(v);
            return glm_fail(err, GLM_EINPUT, "vocabulary word %d \"%.40s\" repeats word %d", i, words[i], prev);
        }
        if (vocab_add(v, words[i], 0) != GLM_OK) goto nomem;
    }
    return GLM_OK;
nomem:
    vocab_free(v);
    return glm_fail(err, GLM_ENOMEM, "out of memory loading the vocabulary");
}

int vocab_size(const Vocab *v) { return v->n; }

const char *vocab_first_difference(const Vocab *a, const Vocab *b)
{
    for (int i = 0; i < a->n; i++)
        if (strmap_get(&b->ids, a->words[i]) != i) return a->words[i];
    for (int i = 0; i < b->n; i++)
        if (strmap_get(&a->ids, b->words[i]) != i) return b->words[i];
    return NULL;
}

const char *const *vocab_words(const Vocab *v) { return v->words; }

const char *vocab_word(const Vocab *v, int id)
{
    GLM_ASSERT(id >= 0 && id < v->n);
    return v->words[id];
}

int vocab_id(const Vocab *v, const char *word)
{
    int id = strmap_get(&v->ids, word);
    return id >= 0 ? id : VOCAB_UNK;
}

int vocab_encode(int *ids, int *n_ids, int *truncated, const Vocab *v, const char *caption,
                 int max_words, GlmError *err)
{
    if (max_words < 1) return glm_fail(err, GLM_EINPUT, "maximum caption length must be >= 1, not %d", max_words);
    /* Stack buffers cover ordinary captions; long ones or long limits allocate. */
    char sbuf[1024], *sbtoks[64];
    size_t len = strlen(caption);
    char *buf = len + 1 <= sizeof sbuf ? sbuf : malloc(len + 1);
    char **toks = max_words <= 64 ? sbtoks : glm_malloc_array((size_t)max_words, sizeof *toks);
    if (!buf || !toks) {
        if (buf != sbuf) free(buf);
        if (toks != sbtoks) free(toks);
        return glm_fail(err, GLM_ENOMEM, "out of memory encoding a caption");
    }
    int cut = 0;
    int nt = text_tokenize(caption, buf, len + 1, toks, max_words, &cut);
    int k = 0;
    ids[k++] = VOCAB_START;
    for (int t = 0; t < nt; t++) ids[k++] = vocab_id(v, toks[t]);
    ids[k++] = VOCAB_END;
    for (int i = k; i < max_words + 2; i++) ids[i] = VOCAB_PAD;
    *n_ids = k;
    if (truncated) *truncated = cut;
    if (buf != sbuf) free(buf);
    if (toks != sbtoks) free(toks);
    return GLM_OK;
}

size_t vocab_decode(char *out, size_t cap, const Vocab *v, const int *ids, int n)
{
    size_t len = 0;
    if (cap) out[0] = 0;
    for (int i = 0; i < n; i++) {
        GLM_ASSERT(ids[i] >= 0 && ids[i] < v->n);
        if (ids[i] == VOCAB_END) break;
        if (ids[i] == VOCAB_START || ids[i] == VOCAB_PAD) continue;
        const char *w = v->words[ids[i]];
        size_t wl = strlen(w);
        /* Append " " (after the first word) then w, as much as fits. */
        for (size_t j = len ? 0 : 1; j <= wl; j++) {
            char ch = j == 0 ? ' ' : w[j - 1];
            if (cap && len + 1 < cap) {
                out[len] = ch;
                out[len + 1] = 0;
            }
            len++;
        }
    }
    return len;
}
