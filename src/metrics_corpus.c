/* metrics_corpus.c - the metrics on caption text (metrics_corpus.h):
 * interning tokens to ids, MetricsCorpus, and the reader of the reference
 * and candidate files of `glimpse score`.
 *
 * Not here: the scores themselves (metrics.c computes every one of them on
 * the ids this file makes), the tokenization rule (text.c). Prints nothing.
 */
#include "metrics_corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "text.h"
#include "vocab.h"

/* ---- the corpus --------------------------------------------------------- */

/* The number of s in m, where strings are numbered 0, 1, 2 ... in the order
 * they were first interned. A new s is added; then *added (if not NULL) is
 * set to 1 and *stored (if not NULL) gets the map's copy of it. -1 when out
 * of memory. */
static int intern(StrMap *m, const char *s, int *added, const char **stored)
{
    int id = strmap_get(m, s);
    if (added) *added = id < 0;
    if (id >= 0) return id;
    if (m->n >= (size_t)INT32_MAX - 1) return -1;
    id = (int)m->n;
    return strmap_put(m, s, id, stored) == GLM_OK ? id : -1;
}

struct MetricsCorpus {
    StrMap vocab;            /* token -> id */
    int n_images;
    const char **names;      /* (n_images) copies in name_store */
    StrArena name_store;
    int *cand_at;            /* (n_images + 1) candidate i: cand_toks[cand_at[i]..cand_at[i+1]) */
    int *ref_first;          /* (n_images + 1) references of image i, as in metrics_index_build */
    int *ref_at;             /* (n_refs + 1) reference r: ref_toks[ref_at[r]..ref_at[r+1]) */
    int *cand_toks, *ref_toks;
    size_t n_cand_toks, cap_cand_toks, n_ref_toks, cap_ref_toks;
    size_t cap_images, cap_refs;
    char *tokbuf;            /* tokenizer work: bytes */
    char **tokv;             /* tokenizer work: token pointers */
    size_t tokbuf_cap, tokv_cap;
    int n_truncated;         /* captions cut to METRICS_MAX_TOKENS tokens */
    MetricsIndex *ix;        /* built lazily, for ix_images images */
    int ix_images;
};

MetricsCorpus *metrics_corpus_new(GlmError *err)
{
    MetricsCorpus *c = calloc(1, sizeof *c);
    if (c) {
        c->cap_images = 16;
        c->cap_refs = 64;
        c->names = glm_malloc_array(c->cap_images, sizeof *c->names);
        c->cand_at = glm_malloc_array(c->cap_images + 1, sizeof *c->cand_at);
        c->ref_first = glm_malloc_array(c->cap_images + 1, sizeof *c->ref_first);
        c->ref_at = glm_malloc_array(c->cap_refs + 1, sizeof *c->ref_at);
        /* The token arrays exist from the start, so that a caption without
         * tokens is (array + offset, 0), never NULL + 0 (undefined). */
        int toks_ok = !glm_grow((void **)&c->cand_toks, &c->cap_cand_toks, 64, sizeof *c->cand_toks) &&
                      !glm_grow((void **)&c->ref_toks, &c->cap_ref_toks, 64, sizeof *c->ref_toks);
        if (c->names && c->cand_at && c->ref_first && c->ref_at && toks_ok) {
            c->cand_at[0] = 0;
            c->ref_first[0] = 0;
            return c;
        }
        metrics_corpus_free(c);
    }
    glm_fail(err, GLM_ENOMEM, "metrics: out of memory");
    return NULL;
}

void metrics_corpus_free(MetricsCorpus *c)
{
    if (!c) return;
    strmap_free(&c->vocab);
    strarena_free(&c->name_store);
    free(c->names);
    free(c->cand_at);
    free(c->ref_first);
    free(c->ref_at);
    free(c->cand_toks);
    free(c->ref_toks);
    free(c->tokbuf);
    free(c->tokv);
    metrics_index_free(c->ix);
    free(c);
}

/* Tokenizes text and appends the ids of its first METRICS_MAX_TOKENS
 * tokens (what the metrics consider) to *toks (n used, cap); counts the
 * caption in n_truncated if it had more. */
static int corpus_append_text(MetricsCorpus *c, int **toks, size_t *n_toks, size_t *cap, const char *text)
{
    size_t len = strlen(text);
    if (len > (size_t)INT32_MAX / 2) return GLM_EINPUT;
    /* A token is at least one byte and tokens are separated, so at most
     * (len + 1) / 2 of them. */
    int max_toks = (int)GLM_MIN(len / 2 + 1, (size_t)METRICS_MAX_TOKENS);
    if (glm_grow((void **)&c->tokbuf, &c->tokbuf_cap, len + 1, 1) ||
        glm_grow((void **)&c->tokv, &c->tokv_cap, (size_t)max_toks, sizeof *c->tokv))
        return GLM_ENOMEM;
    int cut = 0;
    int n = text_tokenize(text, c->tokbuf, len + 1, c->tokv, max_toks, &cut);
    c->n_truncated += cut;
    if (glm_grow((void **)toks, cap, *n_toks + (size_t)n, sizeof **toks)) return GLM_ENOMEM;
    for (int k = 0; k < n; k++) {
        int id = intern(&c->vocab, c->tokv[k], NULL, NULL);
        if (id < 0) return GLM_ENOMEM;
        (*toks)[(*n_toks)++] = id;
    }
    if (*n_toks > (size_t)INT32_MAX) return GLM_EINPUT;
    return GLM_OK;
}

int metrics_corpus_add(MetricsCorpus *c, const char *name, const char *cand,
                       const char *const *refs, int n_refs, GlmError *err)
{
    if (n_refs < 1)
        return glm_fail(err, GLM_EINPUT, "metrics: image %s has no references", name ? name : "");
    if (c->n_images >= INT32_MAX - 1) return glm_fail(err, GLM_EINPUT, "metrics: too many images");
    int i = c->n_images, r0 = c->ref_first[i];
    if ((size_t)i + 1 > c->cap_images) {
        size_t cap = c->cap_images * 2;
        const char **nm = realloc(c->names, cap * sizeof *nm);
        if (!nm) goto nomem;
        c->names = nm;
        int *ca = realloc(c->cand_at, (cap + 1) * sizeof *ca);
        if (!ca) goto nomem;
        c->cand_at = ca;
        int *rf = realloc(c->ref_first, (cap + 1) * sizeof *rf);
        if (!rf) goto nomem;
        c->ref_first = rf;
        c->cap_images = cap;
    }
    if ((size_t)r0 + (size_t)n_refs > (size_t)INT32_MAX - 1)
        return glm_fail(err, GLM_EINPUT, "metrics: too many references");
    if ((size_t)r0 + (size_t)n_refs > c->cap_refs) {
        size_t cap = c->cap_refs;
        while (cap < (size_t)r0 + (size_t)n_refs) cap *= 2;
        int *ra = realloc(c->ref_at, (cap + 1) * sizeof *ra);
        if (!ra) goto nomem;
        c->ref_at = ra;
        c->cap_refs = cap;
    }
    /* On failure the corpus is rolled back to what it was. */
    size_t keep_c = c->n_cand_toks, keep_r = c->n_ref_toks;
    int keep_truncated = c->n_truncated;
    int rc = corpus_append_text(c, &c->cand_toks, &c->n_cand_toks, &c->cap_cand_toks, cand);
    for (int k = 0; rc == GLM_OK && k < n_refs; k++) {
        c->ref_at[r0 + k] = (int)c->n_ref_toks;
        rc = corpus_append_text(c, &c->ref_toks, &c->n_ref_toks, &c->cap_ref_toks, refs[k]);
    }
    const char *nm = NULL;
    if (rc == GLM_OK && !(nm = strarena_dup(&c->name_store, name ? name : "", name ? strlen(name) : 0)))
        rc = GLM_ENOMEM;
    if (rc != GLM_OK) {
        c->n_cand_toks = keep_c;
        c->n_ref_toks = keep_r;
        c->n_truncated = keep_truncated;
        if (rc == GLM_EINPUT) return glm_fail(err, GLM_EINPUT, "metrics: captions too long");
        goto nomem;
    }
    c->cand_at[i + 1] = (int)c->n_cand_toks;
    c->ref_at[r0 + n_refs] = (int)c->n_ref_toks;
    c->names[i] = nm;
    c->ref_first[i + 1] = r0 + n_refs;
    c->n_images++;
    return GLM_OK;
nomem:
    return glm_fail(err, GLM_ENOMEM, "metrics: out of memory");
}

int metrics_corpus_images(const MetricsCorpus *c) { return c->n_images; }

int metrics_corpus_truncated(const MetricsCorpus *c) { return c->n_truncated; }

const char *metrics_corpus_name(const MetricsCorpus *c, int i)
{
    GLM_ASSERT(i >= 0 && i < c->n_images);
    return c->names[i];
}

MetricsSeq metrics_corpus_candidate(const MetricsCorpus *c, int i)
{
    GLM_ASSERT(i >= 0 && i < c->n_images);
    MetricsSeq s = {c->cand_toks + c->cand_at[i], c->cand_at[i + 1] - c->cand_at[i]};
    return s;
}

const MetricsIndex *metrics_corpus_index(MetricsCorpus *c, GlmError *err)
{
    if (c->ix && c->ix_images == c->n_images) return c->ix;
    if (c->n_images == 0) {
        glm_fail(err, GLM_EINPUT, "metrics: no images to score");
        return NULL;
    }
    metrics_index_free(c->ix);
    c->ix = NULL;
    int n_refs = c->ref_first[c->n_images];
    MetricsSeq *refs = glm_malloc_array((size_t)n_refs, sizeof *refs);
    if (!refs) {
        glm_fail(err, GLM_ENOMEM, "metrics: out of memory");
        return NULL;
    }
    for (int r = 0; r < n_refs; r++) {
        refs[r].toks = c->ref_toks + c->ref_at[r];
        refs[r].len = c->ref_at[r + 1] - c->ref_at[r];
    }
    c->ix = metrics_index_build(refs, c->ref_first, c->n_images, err);
    free(refs);
    c->ix_images = c->n_images;
    return c->ix;
}

int metrics_corpus_scores(MetricsScores *out, MetricsCorpus *c, const MetricsOptions *opt,
                          GlmError *err)
{
    const MetricsIndex *ix = metrics_corpus_index(c, err);
    if (!ix) return err ? err->code : GLM_EINPUT;
    MetricsSeq *cands = glm_malloc_array((size_t)c->n_images, sizeof *cands);
    if (!cands) return glm_fail(err, GLM_ENOMEM, "metrics: out of memory");
    for (int i = 0; i < c->n_images; i++) cands[i] = metrics_corpus_candidate(c, i);
    int rc = metrics_index_scores(out, ix, cands, opt, err);
    free(cands);
    return rc;
}

/* ---- reading reference and candidate files ------------------------------- */

typedef struct {
    int image;           /* number of its NAME */
    const char *text;    /* the caption */
} RefLine;

typedef struct {
    const char *name, *text;
    int image;           /* -1: no reference has this name */
} CandLine;

/* What metrics_corpus_load gathers while fileio_lines walks the two files.
 * The strings point into the file buffers, which the walk cut in place. */
typedef struct {
    const char *refs_path, *cands_path;
    StrMap keys;               /* every NAME#k so far: a second one is an error */
    StrMap images;             /* NAME -> image number, in order of first sight */
    const char **image_name;   /* (n_images) the map's copies of the names */
    size_t image_name_cap;
    RefLine *refs;             /* (n_refs) in file order */
    size_t n_refs, refs_cap;
    StrMap cand_names;         /* every candidate NAME so far */
    CandLine *cands;           /* (n_cands) in file order */
    size_t n_cands, cands_cap;
} Loader;

static void loader_free(Loader *L)
{
    strmap_free(&L->keys);
    strmap_free(&L->images);
    strmap_free(&L->cand_names);
    free(L->image_name);
    free(L->refs);
    free(L->cands);
}

static int loader_nomem(const Loader *L, GlmError *err)
{
    return glm_fail(err, GLM_ENOMEM, "metrics: out of memory reading %s and %s", L->refs_path, L->cands_path);
}

static int nul_byte(GlmError *err, const char *path, int lineno)
{
    return glm_fail(err, GLM_EINPUT, "%s:%d: NUL byte (not a text file?)", path, lineno);
}

/* Lines of nothing but spaces and tabs are skipped, like empty ones. */
static int is_blank(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t') return 0;
    return 1;
}

/* One line of the reference file: NAME#k<TAB>caption. */
static int ref_line(void *ctx, char *s, size_t n, int has_nul, int lineno, GlmError *err)
{
    Loader *L = ctx;
    if (has_nul) return nul_byte(err, L->refs_path, lineno);
    if (is_blank(s, n)) return GLM_OK;
    char *tab = memchr(s, '\t', n);
    if (!tab)
        return glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME#k<TAB>caption, found no tab", L->refs_path, lineno);
    size_t key_len = (size_t)(tab - s), name_len;
    if (text_ref_key(s, key_len, &name_len) != TEXT_KEY_OK)
        return glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME#k<TAB>caption with k a number, found \"%.*s\"",
                        L->refs_path, lineno, (int)GLM_MIN(key_len, 200), s);
    *tab = 0;  /* s is now the key NAME#k, tab + 1 the caption */
    int added;
    if (intern(&L->keys, s, &added, NULL) < 0) return loader_nomem(L, err);
    if (!added)
        return glm_fail(err, GLM_EINPUT, "%s:%d: duplicate reference %.*s", L->refs_path, lineno,
                        (int)GLM_MIN(key_len, 200), s);
    s[name_len] = 0;  /* s is now the name */
    const char *name = NULL;
    int image = intern(&L->images, s, &added, &name);
    if (image < 0 ||
        glm_grow((void **)&L->image_name, &L->image_name_cap, (size_t)image + 1, sizeof *L->image_name) ||
        glm_grow((void **)&L->refs, &L->refs_cap, L->n_refs + 1, sizeof *L->refs))
        return loader_nomem(L, err);
    if (added) L->image_name[image] = name;
    L->refs[L->n_refs++] = (RefLine){image, tab + 1};
    return GLM_OK;
}

/* One line of the candidate file: NAME<TAB>caption. */
static int cand_line(void *ctx, char *s, size_t n, int has_nul, int lineno, GlmError *err)
{
    Loader *L = ctx;
    if (has_nul) return nul_byte(err, L->cands_path, lineno);
    if (is_blank(s, n)) return GLM_OK;
    char *tab = memchr(s, '\t', n);
    if (!tab || tab == s)
        return glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME<TAB>caption, found %s", L->cands_path, lineno,
                        tab ? "an empty name" : "no tab");
    *tab = 0;  /* s is now the name, tab + 1 the caption */
    int added;
    if (intern(&L->cand_names, s, &added, NULL) < 0) return loader_nomem(L, err);
    if (!added)
        return glm_fail(err, GLM_EINPUT, "%s:%d: duplicate candidate for %.*s", L->cands_path, lineno,
                        (int)GLM_MIN(tab - s, 200), s);
    if (glm_grow((void **)&L->cands, &L->cands_cap, L->n_cands + 1, sizeof *L->cands)) return loader_nomem(L, err);
    L->cands[L->n_cands++] = (CandLine){s, tab + 1, strmap_get(&L->images, s)};
    return GLM_OK;
}

/* "a, b, c (and 4 more)" for the first few names of a list. */
static void name_list(char *out, size_t cap, const char *const *names, int n)
{
    size_t at = 0;
    out[0] = 0;
    int shown = GLM_MIN(n, 5);
    for (int i = 0; i < shown && at < cap; i++) {
        int w = snprintf(out + at, cap - at, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        at += (size_t)w;
    }
    if (n > shown && at < cap) snprintf(out + at, cap - at, " (and %d more)", n - shown);
}

/* GLM_EINPUT naming the candidates without references, else the images
 * without a candidate, else GLM_OK. */
static int check_matched(const Loader *L, GlmError *err)
{
    int n_img = (int)L->images.n, n_missing = 0, rc = GLM_OK;
    const char **missing = glm_malloc_array((size_t)GLM_MAX((int)L->n_cands, n_img), sizeof *missing);
    unsigned char *has_cand = glm_calloc_array((size_t)n_img, 1);
    if (!missing || !has_cand) {
        rc = loader_nomem(L, err);
        goto done;
    }
    for (size_t k = 0; k < L->n_cands; k++) {
        if (L->cands[k].image < 0) missing[n_missing++] = L->cands[k].name;
        else has_cand[L->cands[k].image] = 1;
    }
    char list[GLM_ERROR_LEN];
    if (n_missing) {
        name_list(list, sizeof list, missing, n_missing);
        rc = glm_fail(err, GLM_EINPUT, "%s: %d candidate%s no references in %s: %s", L->cands_path, n_missing,
                      n_missing == 1 ? " has" : "s have", L->refs_path, list);
        goto done;
    }
    for (int i = 0; i < n_img; i++)
        if (!has_cand[i]) missing[n_missing++] = L->image_name[i];
    if (n_missing) {
        name_list(list, sizeof list, missing, n_missing);
        rc = glm_fail(err, GLM_EINPUT, "%s: %d image%s references but no candidate in %s: %s", L->refs_path,
                      n_missing, n_missing == 1 ? " has" : "s have", L->cands_path, list);
    }
done:
    free(missing);
    free(has_cand);
    return rc;
}

MetricsCorpus *metrics_corpus_load(const char *refs_path, const char *cands_path, GlmError *err)
{
    Loader L = {.refs_path = refs_path, .cands_path = cands_path};
    MetricsCorpus *c = NULL;
    char *rbuf = NULL, *cbuf = NULL;
    int *first = NULL, *fill = NULL;
    const char **grouped = NULL;
    size_t len;

    if (fileio_read(&rbuf, &len, refs_path, FILEIO_TEXT_MAX, err) ||
        fileio_lines(rbuf, len, ref_line, &L, err) ||
        fileio_read(&cbuf, &len, cands_path, FILEIO_TEXT_MAX, err) ||
        fileio_lines(cbuf, len, cand_line, &L, err))
        goto fail;
    if (L.n_cands == 0) {
        glm_fail(err, GLM_EINPUT, "%s: no candidates", cands_path);
        goto fail;
    }
    if (check_matched(&L, err)) goto fail;

    /* The references grouped by image (counting sort, file order kept). */
    size_t n_img = L.images.n;
    first = glm_calloc_array(n_img + 1, sizeof *first);
    fill = glm_calloc_array(n_img, sizeof *fill);
    grouped = glm_malloc_array(L.n_refs, sizeof *grouped);
    if (!first || !fill || !grouped) {
        loader_nomem(&L, err);
        goto fail;
    }
    for (size_t k = 0; k < L.n_refs; k++) first[L.refs[k].image + 1]++;
    for (size_t i = 0; i < n_img; i++) first[i + 1] += first[i];
    for (size_t k = 0; k < L.n_refs; k++) {
        int i = L.refs[k].image;
        grouped[first[i] + fill[i]++] = L.refs[k].text;
    }

    if (!(c = metrics_corpus_new(err))) goto fail;
    for (size_t k = 0; k < L.n_cands; k++) {
        int i = L.cands[k].image;
        if (metrics_corpus_add(c, L.cands[k].name, L.cands[k].text, grouped + first[i], first[i + 1] - first[i],
                               err))
            goto fail;
    }
    goto done;

fail:
    metrics_corpus_free(c);
    c = NULL;
done:
    loader_free(&L);
    free(rbuf);
    free(cbuf);
    free(first);
    free(fill);
    free(grouped);
    return c;
}
