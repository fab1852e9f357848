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
    char **names;            /* (n_images) owned copies */
    int *cand_at;            /* (n_images + 1) candidate i: cand_toks[cand_at[i]..cand_at[i+1]) */
    int *ref_first;          /* (n_images + 1) references of image i, as in metrics_index_build */
    int *ref_at;             /* (n_refs + 1) reference r: ref_toks[ref_at[r]..ref_at[r+1]) */
    int *cand_toks, *ref_toks;
    size_t n_cand_toks, cap_cand_toks, n_ref_toks, cap_ref_toks;
    size_t cap_images, cap_refs;
    char *tokbuf;            /* tokenizer work: bytes */
    char **tokv;             /* tokenizer work: token pointers */
    size_t tokbuf_cap, tokv_cap;
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
        if (c->names && c->cand_at && c->ref_first && c->ref_at) {
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
    if (c->names)
        for (int i = 0; i < c->n_images; i++) free(c->names[i]);
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

/* Tokenizes text and appends its token ids to *toks (n used, cap). */
static int corpus_append_text(MetricsCorpus *c, int **toks, size_t *n_toks, size_t *cap, const char *text)
{
    size_t len = strlen(text);
    if (len > (size_t)INT32_MAX / 2) return GLM_EINPUT;
    if (glm_grow((void **)&c->tokbuf, &c->tokbuf_cap, len + 1, 1) ||
        glm_grow((void **)&c->tokv, &c->tokv_cap, len / 2 + 1, sizeof *c->tokv))
        return GLM_ENOMEM;
    /* A token is at least one byte and tokens are separated, so at most
     * (len + 1) / 2 of them; nothing is ever truncated. */
    int n = text_tokenize(text, c->tokbuf, len + 1, c->tokv, (int)(len / 2 + 1), NULL);
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
        char **nm = realloc(c->names, cap * sizeof *nm);
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
    size_t nlen = name ? strlen(name) : 0;
    char *nm = malloc(nlen + 1);
    if (!nm) goto nomem;
    if (nlen) memcpy(nm, name, nlen);
    nm[nlen] = 0;
    int rc = corpus_append_text(c, &c->cand_toks, &c->n_cand_toks, &c->cap_cand_toks, cand);
    for (int k = 0; rc == GLM_OK && k < n_refs; k++) {
        c->ref_at[r0 + k] = (int)c->n_ref_toks;
        rc = corpus_append_text(c, &c->ref_toks, &c->n_ref_toks, &c->cap_ref_toks, refs[k]);
    }
    if (rc != GLM_OK) {
        free(nm);
        c->n_cand_toks = keep_c;
        c->n_ref_toks = keep_r;
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

/* One line of an input file, NUL-terminated in place, trailing '\r' cut. */
typedef struct {
    char *text;
    int line;
} Line;

/* Splits buf into lines (in place), skipping blank ones; GLM_EINPUT for a
 * NUL byte. *lines is malloc'd. */
static int split_lines(Line **lines, int *n_lines, char *buf, size_t len, const char *path, GlmError *err)
{
    size_t n = 0, cap = 0;
    Line *v = NULL;
    int lineno = 0;
    for (size_t at = 0; at < len;) {
        char *start = buf + at;
        char *nl = memchr(start, '\n', len - at);
        size_t l = nl ? (size_t)(nl - start) : len - at;
        at += l + (nl ? 1 : 0);
        lineno++;
        if (memchr(start, 0, l)) {
            free(v);
            return glm_fail(err, GLM_EINPUT, "%s:%d: NUL byte (not a text file?)", path, lineno);
        }
        if (l && start[l - 1] == '\r') l--;
        start[l] = 0;
        size_t k = 0;
        while (k < l && (start[k] == ' ' || start[k] == '\t')) k++;
        if (k == l) continue;
        if (lineno == INT32_MAX || glm_grow((void **)&v, &cap, n + 1, sizeof *v)) {
            free(v);
            return glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
        }
        v[n].text = start;
        v[n].line = lineno;
        n++;
    }
    *lines = v;
    *n_lines = (int)n;
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

MetricsCorpus *metrics_corpus_load(const char *refs_path, const char *cands_path, GlmError *err)
{
    MetricsCorpus *c = NULL;
    char *rbuf = NULL, *cbuf = NULL;
    Line *rl = NULL, *cl = NULL;
    int n_rl = 0, n_cl = 0;
    StrMap keys = {0}, rnames = {0}, cnames = {0};
    const char **img_name = NULL;  /* (n_img) rnames' copies of the names */
    size_t img_name_cap = 0;
    int *ref_img = NULL, *img_first = NULL, *img_fill = NULL, *cand_img = NULL;
    const char **ref_text = NULL, **missing = NULL;
    int n_img = 0, rc = GLM_OK;
    size_t len;

    if (fileio_read(&rbuf, &len, refs_path, FILEIO_TEXT_MAX, err)) goto fail;
    if (split_lines(&rl, &n_rl, rbuf, len, refs_path, err)) goto fail;
    if (fileio_read(&cbuf, &len, cands_path, FILEIO_TEXT_MAX, err)) goto fail;
    if (split_lines(&cl, &n_cl, cbuf, len, cands_path, err)) goto fail;
    if (n_cl == 0) {
        glm_fail(err, GLM_EINPUT, "%s: no candidates", cands_path);
        goto fail;
    }

    /* References: NAME#k<TAB>caption. */
    ref_img = glm_malloc_array((size_t)n_rl, sizeof *ref_img);
    ref_text = glm_malloc_array((size_t)n_rl, sizeof *ref_text);
    if (!ref_img || !ref_text) goto nomem;
    for (int k = 0; k < n_rl; k++) {
        char *s = rl[k].text, *tab = strchr(s, '\t');
        if (!tab) {
            glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME#k<TAB>caption, found no tab", refs_path, rl[k].line);
            goto fail;
        }
        char *hash = NULL;
        for (char *p = s; p < tab; p++)
            if (*p == '#') hash = p;
        int digits = hash ? (int)(tab - hash - 1) : 0;
        for (int d = 0; d < digits; d++)
            if (hash[1 + d] < '0' || hash[1 + d] > '9') digits = 0;
        if (!hash || hash == s || digits == 0) {
            glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME#k<TAB>caption with k a number, found \"%.*s\"",
                     refs_path, rl[k].line, (int)GLM_MIN(tab - s, 200), s);
            goto fail;
        }
        *tab = 0;  /* s is now the key NAME#k, tab + 1 the caption */
        int added = 0;
        if (intern(&keys, s, &added, NULL) < 0) goto nomem;
        if (!added) {
            glm_fail(err, GLM_EINPUT, "%s:%d: duplicate reference %.*s", refs_path, rl[k].line,
                     (int)GLM_MIN(tab - s, 200), s);
            goto fail;
        }
        *hash = 0;  /* s is now the name */
        const char *name = NULL;
        ref_img[k] = intern(&rnames, s, &added, &name);
        if (ref_img[k] < 0) goto nomem;
        if (added) {
            if (glm_grow((void **)&img_name, &img_name_cap, (size_t)ref_img[k] + 1, sizeof *img_name)) goto nomem;
            img_name[ref_img[k]] = name;
        }
        ref_text[k] = tab + 1;
    }
    n_img = (int)rnames.n;

    /* Group the references by image (counting sort, file order kept). */
    img_first = glm_calloc_array((size_t)n_img + 1, sizeof *img_first);
    img_fill = glm_calloc_array((size_t)n_img + 1, sizeof *img_fill);
    const char **grouped = glm_malloc_array((size_t)n_rl, sizeof *grouped);
    if (!img_first || !img_fill || !grouped) {
        free(grouped);
        goto nomem;
    }
    for (int k = 0; k < n_rl; k++) img_first[ref_img[k] + 1]++;
    for (int i = 0; i < n_img; i++) img_first[i + 1] += img_first[i];
    for (int k = 0; k < n_rl; k++) grouped[img_first[ref_img[k]] + img_fill[ref_img[k]]++] = ref_text[k];
    free(ref_text);
    ref_text = grouped;

    /* Candidates: NAME<TAB>caption, matched to the reference images. */
    cand_img = glm_malloc_array((size_t)n_cl, sizeof *cand_img);
    missing = glm_malloc_array((size_t)GLM_MAX(n_cl, n_img), sizeof *missing);
    if (!cand_img || !missing) goto nomem;
    int n_missing = 0;
    for (int i = 0; i < n_img; i++) img_fill[i] = 0;  /* now: has a candidate */
    for (int k = 0; k < n_cl; k++) {
        char *s = cl[k].text, *tab = strchr(s, '\t');
        if (!tab || tab == s) {
            glm_fail(err, GLM_EINPUT, "%s:%d: expected NAME<TAB>caption, found %s", cands_path, cl[k].line,
                     tab ? "an empty name" : "no tab");
            goto fail;
        }
        *tab = 0;  /* s is now the name, tab + 1 the caption */
        int added = 0;
        if (intern(&cnames, s, &added, NULL) < 0) goto nomem;
        if (!added) {
            glm_fail(err, GLM_EINPUT, "%s:%d: duplicate candidate for %.*s", cands_path, cl[k].line,
                     (int)GLM_MIN(tab - s, 200), s);
            goto fail;
        }
        cand_img[k] = strmap_get(&rnames, s);
        if (cand_img[k] < 0) missing[n_missing++] = s;
        else img_fill[cand_img[k]] = 1;
    }
    if (n_missing) {
        char list[GLM_ERROR_LEN];
        name_list(list, sizeof list, missing, n_missing);
        glm_fail(err, GLM_EINPUT, "%s: %d candidate%s no references in %s: %s", cands_path, n_missing,
                 n_missing == 1 ? " has" : "s have", refs_path, list);
        goto fail;
    }
    for (int i = 0; i < n_img; i++)
        if (!img_fill[i]) missing[n_missing++] = img_name[i];
    if (n_missing) {
        char list[GLM_ERROR_LEN];
        name_list(list, sizeof list, missing, n_missing);
        glm_fail(err, GLM_EINPUT, "%s: %d image%s references but no candidate in %s: %s", refs_path,
                 n_missing, n_missing == 1 ? " has" : "s have", cands_path, list);
        goto fail;
    }

    if (!(c = metrics_corpus_new(err))) goto fail;
    for (int k = 0; k < n_cl; k++) {
        int i = cand_img[k];
        rc = metrics_corpus_add(c, cl[k].text, cl[k].text + strlen(cl[k].text) + 1, ref_text + img_first[i],
                                img_first[i + 1] - img_first[i], err);
        if (rc) goto fail;
    }
    goto done;

nomem:
    glm_fail(err, GLM_ENOMEM, "metrics: out of memory reading %s and %s", refs_path, cands_path);
fail:
    metrics_corpus_free(c);
    c = NULL;
done:
    free(rbuf);
    free(cbuf);
    free(rl);
    free(cl);
    strmap_free(&keys);
    strmap_free(&rnames);
    strmap_free(&cnames);
    free(img_name);
    free(ref_img);
    free(img_first);
    free(img_fill);
    free(cand_img);
    free(ref_text);
    free(missing);
    return c;
}
