/* dataset.c - reads image-caption data sets (data directory, Flickr8k token
 * file, COCO captions JSON) into a Dataset; see dataset.h for the formats and
 * for what is skipped and how it is reported.
 *
 * Every loader goes the same way: parse the caption file into candidate
 * images (name, where first seen, caption count) and captions (image, text);
 * pick the split (the split list, or every candidate); drop images without
 * captions and images whose file cannot be read; then copy what is kept into
 * the Dataset with each image's captions consecutive. Strings live in one
 * arena, so a split of any size costs a handful of allocations.
 *
 * Not here: decoding images (image.h), objects.tsv (dataset_objects.c),
 * labels files (dataset_labels.c), the skip bookkeeping, dropping and
 * encoding that every reader shares (dataset_prepare.c), tokenization rules
 * (text.h), printing (the caller prints d->messages).
 */
#include "dataset.h"

#include "fileio.h"
#include "text.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Names in messages are cut to this many bytes so a message fits its slot. */
#define MSG_NAME 80

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

static int has_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    }
    return 0;
}

/* Trims blanks off both ends of s[0..*n); returns the new start. */
static char *trim(char *s, size_t *n)
{
    while (*n && is_space(*s)) s++, (*n)--;
    while (*n && is_space(s[*n - 1])) (*n)--;
    return s;
}

/* ---- the loader's working state ------------------------------------------ */

typedef struct {
    const char *name;   /* the key in Loader.names */
    int where;          /* caption-file line (JSON: images[] index) where it was first seen */
    int n_caps;         /* captions read for it */
    int split_line;     /* its line in the split list, 0 if not listed */
} Candidate;

typedef struct {
    int cand;           /* index into Loader.cands */
    const char *text;   /* trimmed, in Dataset.strings */
} Caption;

typedef struct {
    Dataset *d;
    const char *src;          /* caption file, for messages */
    const char *split_path;   /* split list, for messages */
    int is_json;              /* Candidate.where is an images[] index */
    StrMap names;             /* name -> candidate index */
    Candidate *cands;         /* (n_cands) */
    size_t n_cands, cap_cands;
    Caption *caps;            /* (n_caps) */
    size_t n_caps, cap_caps;
    int *order;               /* (n_order) candidates of the split, in split order */
    size_t n_order, cap_order;
} Loader;

static void loader_free(Loader *L)
{
    strmap_free(&L->names);
    free(L->cands);
    free(L->caps);
    free(L->order);
}

/* Grows *arr (element size elem, capacity *cap) to hold one more than n. */
static int grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return GLM_OK;
    size_t c = *cap ? *cap * 2 : 256;
    /* Counts are ints in the Dataset, so stay well inside int. */
    if (c > (size_t)INT32_MAX / 2) return GLM_ENOMEM;
    void *p = realloc(*(void **)arr, c * elem);
    if (!p) return GLM_ENOMEM;
    *(void **)arr = p;
    *cap = c;
    return GLM_OK;
}

static int nomem(GlmError *err, const char *path)
{
    return glm_fail(err, GLM_ENOMEM, "%s: out of memory", path);
}

/* The candidate called name, created (first seen at `where`) if new; -1 when
 * out of memory. */
static int candidate(Loader *L, const char *name, int where)
{
    int i = strmap_get(&L->names, name);
    if (i >= 0) return i;
    if (grow(&L->cands, &L->cap_cands, L->n_cands, sizeof *L->cands) != GLM_OK) return -1;
    const char *stored;
    if (strmap_put(&L->names, name, (int)L->n_cands, &stored) != GLM_OK) return -1;
    L->cands[L->n_cands] = (Candidate){stored, where, 0, 0};
    return (int)L->n_cands++;
}

/* Records text[0..n) (already trimmed, with a word) as a caption of cand. */
static int add_caption(Loader *L, int cand, const char *text, size_t n)
{
    if (grow(&L->caps, &L->cap_caps, L->n_caps, sizeof *L->caps) != GLM_OK) return GLM_ENOMEM;
    const char *copy = strarena_dup(&L->d->strings, text, n);
    if (!copy) return GLM_ENOMEM;
    L->caps[L->n_caps++] = (Caption){cand, copy};
    L->cands[cand].n_caps++;
    return GLM_OK;
}

/* ---- Flickr8k token format ----------------------------------------------- */

static int flickr_line(void *ctx, char *line, size_t n, int has_nul, int lineno, GlmError *err)
{
    char *s = line;
    Loader *L = ctx;
    Dataset *d = L->d;
    size_t tn = n;
    trim(s, &tn);
    if (tn == 0) return GLM_OK; /* blank line: nothing to lose */
    if (has_nul) {
        dataset_skip(d, DATASET_SKIP_MALFORMED, "%s:%d: NUL byte in the line", L->src, lineno);
        return GLM_OK;
    }
    char *tab = memchr(s, '\t', n);
    if (!tab) {
        dataset_skip(d, DATASET_SKIP_MALFORMED, "%s:%d: no tab between NAME#k and the caption", L->src, lineno);
        return GLM_OK;
    }
    *tab = 0;
    size_t keyn = (size_t)(tab - s);
    s = trim(s, &keyn);
    s[keyn] = 0;
    size_t name_len;
    switch (text_ref_key(s, keyn, &name_len)) {
    case TEXT_KEY_NO_HASH:
        dataset_skip(d, DATASET_SKIP_MALFORMED, "%s:%d: \"%.*s\" is not NAME#k", L->src, lineno, MSG_NAME, s);
        return GLM_OK;
    case TEXT_KEY_NO_NAME:
        dataset_skip(d, DATASET_SKIP_MALFORMED, "%s:%d: \"%.*s\" has no image name before the #", L->src, lineno,
             MSG_NAME, s);
        return GLM_OK;
    case TEXT_KEY_BAD_NUMBER:
        dataset_skip(d, DATASET_SKIP_MALFORMED, "%s:%d: \"%.*s\" is not NAME#k with k a number", L->src, lineno,
             MSG_NAME, s);
        return GLM_OK;
    }
    s[name_len] = 0;
    int c = candidate(L, s, lineno);
    if (c < 0) return nomem(err, L->src);
    size_t cn = (size_t)(line + n - (tab + 1));
    char *cap = trim(tab + 1, &cn);
    if (!has_word(cap, cn)) {
        dataset_skip(d, DATASET_SKIP_EMPTY_CAPTION, "%s:%d: empty caption for %.*s", L->src, lineno, MSG_NAME, s);
        return GLM_OK;
    }
    if (add_caption(L, c, cap, cn) != GLM_OK) return nomem(err, L->src);
    return GLM_OK;
}

/* ---- COCO captions JSON -------------------------------------------------- */

/* 2^53: beyond it a double no longer holds every integer. */
#define JSON_MAX_INT 9007199254740992.0

/* An integral JSON number (COCO ids), else 0. */
static int json_int(const cJSON *item, long long *out)
{
    if (!cJSON_IsNumber(item)) return 0;
    double v = item->valuedouble;
    if (!(v > -JSON_MAX_INT && v < JSON_MAX_INT)) return 0;
    long long i = (long long)v;
    if ((double)i != v) return 0;
    *out = i;
    return 1;
}

/* Line and column (from 1) of byte offset off in buf. */
static void line_col(const char *buf, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') (*line)++, *col = 1;
        else (*col)++;
    }
}

static int coco_parse(Loader *L, char *buf, size_t len, GlmError *err)
{
    Dataset *d = L->d;
    const char *src = L->src;
    const char *nul = memchr(buf, 0, len);
    if (nul) {
        int line, col;
        line_col(buf, (size_t)(nul - buf), &line, &col);
        return glm_fail(err, GLM_EINPUT, "%s: invalid JSON: NUL byte at byte %zu (line %d, column %d)", src,
                        (size_t)(nul - buf), line, col);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (root) {
        while (end < buf + len && is_space(*end)) end++;
        if (end < buf + len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root) {
        size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
        int line, col;
        line_col(buf, off, &line, &col);
        return glm_fail(err, GLM_EINPUT, "%s: invalid JSON near byte %zu (line %d, column %d)", src, off, line,
                        col);
    }

    int rc = GLM_OK;
    StrMap by_id;     /* decimal image id -> candidate */
    strmap_init(&by_id);
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(root, "images");
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(images)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: not a COCO captions file: no \"images\" array", src);
        goto done;
    }
    if (!cJSON_IsArray(anns)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: not a COCO captions file: no \"annotations\" array", src);
        goto done;
    }

    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, images) {
        long long id;
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(it, "file_name");
        char key[32];
        if (!cJSON_IsObject(it) || !json_int(cJSON_GetObjectItemCaseSensitive(it, "id"), &id)) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: images[%d]: no integer \"id\"", src, i);
        } else if (!cJSON_IsString(fn) || !fn->valuestring[0]) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: images[%d]: no \"file_name\" string", src, i);
        } else if (snprintf(key, sizeof key, "%lld", id), strmap_get(&by_id, key) >= 0) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: images[%d]: id %lld repeats images[%d]", src, i, id,
                 L->cands[strmap_get(&by_id, key)].where);
        } else if (strmap_get(&L->names, fn->valuestring) >= 0) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: images[%d]: file_name \"%.*s\" repeats images[%d]", src, i,
                 MSG_NAME, fn->valuestring, L->cands[strmap_get(&L->names, fn->valuestring)].where);
        } else {
            int c = candidate(L, fn->valuestring, i);
            if (c < 0 || strmap_put(&by_id, key, c, NULL) != GLM_OK) {
                rc = nomem(err, src);
                goto done;
            }
        }
        i++;
    }

    i = 0;
    cJSON_ArrayForEach(it, anns) {
        long long id;
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(it, "caption");
        char key[32];
        int c;
        if (!cJSON_IsObject(it) || !json_int(cJSON_GetObjectItemCaseSensitive(it, "image_id"), &id)) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: annotations[%d]: no integer \"image_id\"", src, i);
        } else if (!cJSON_IsString(cap)) {
            dataset_skip(d, DATASET_SKIP_MALFORMED, "%s: annotations[%d]: no \"caption\" string", src, i);
        } else if (snprintf(key, sizeof key, "%lld", id), (c = strmap_get(&by_id, key)) < 0) {
            dataset_skip(d, DATASET_SKIP_UNKNOWN_ID, "%s: annotations[%d]: image_id %lld is not in images[]", src, i, id);
        } else {
            size_t n = strlen(cap->valuestring);
            char *text = trim(cap->valuestring, &n);
            if (!has_word(text, n)) {
                dataset_skip(d, DATASET_SKIP_EMPTY_CAPTION, "%s: annotations[%d]: empty caption for image_id %lld", src,
                     i, id);
            } else if (add_caption(L, c, text, n) != GLM_OK) {
                rc = nomem(err, src);
                goto done;
            }
        }
        i++;
    }
done:
    strmap_free(&by_id);
    cJSON_Delete(root);
    return rc;
}

/* ---- split, checks, and the final copy ----------------------------------- */

static int split_line(void *ctx, char *s, size_t n, int has_nul, int lineno, GlmError *err)
{
    Loader *L = ctx;
    char *name = trim(s, &n);
    if (n == 0) return GLM_OK;
    name[n] = 0;
    int c = has_nul ? -1 : strmap_get(&L->names, name);
    if (c < 0) {
        dataset_skip(L->d, DATASET_SKIP_UNKNOWN_NAME, "%s:%d: image \"%.*s\" is not in %s", L->split_path, lineno,
             MSG_NAME, name, L->src);
        return GLM_OK;
    }
    if (L->cands[c].split_line) {
        dataset_skip(L->d, DATASET_SKIP_MALFORMED, "%s:%d: image \"%.*s\" is listed again (first at line %d)",
             L->split_path, lineno, MSG_NAME, name, L->cands[c].split_line);
        return GLM_OK;
    }
    L->cands[c].split_line = lineno;
    if (grow(&L->order, &L->cap_order, L->n_order, sizeof *L->order) != GLM_OK) return nomem(err, L->split_path);
    L->order[L->n_order++] = c;
    return GLM_OK;
}

static int select_split(Loader *L, GlmError *err)
{
    if (!L->split_path) {
        L->order = glm_malloc_array(L->n_cands, sizeof *L->order);
        if (!L->order) return nomem(err, L->src);
        for (size_t i = 0; i < L->n_cands; i++) L->order[i] = (int)i;
        L->n_order = L->n_cands;
        return GLM_OK;
    }
    char *buf;
    size_t len;
    int rc = fileio_read(&buf, &len, L->split_path, FILEIO_TEXT_MAX, err);
    if (rc != GLM_OK) return rc;
    rc = fileio_lines(buf, len, split_line, L, err);
    free(buf);
    return rc;
}

/* Where a candidate was first seen, for messages: "FILE:LINE" or "FILE: images[i]". */
static void cand_where(char *out, size_t cap, const Loader *L, const Candidate *c)
{
    if (L->is_json) snprintf(out, cap, "%s: images[%d]", L->src, c->where);
    else snprintf(out, cap, "%s:%d", L->src, c->where);
}

/* dir/name in the arena; NULL when out of memory. */
static const char *join_path(StrArena *a, const char *dir, const char *name)
{
    size_t dn = strlen(dir), nn = strlen(name);
    if (dn == 0) return strarena_dup(a, name, nn);
    int slash = dir[dn - 1] != '/';
    char *p = strarena_dup(a, dir, dn + (size_t)slash + nn);
    if (!p) return NULL;
    if (slash) p[dn] = '/';
    memcpy(p + dn + (size_t)slash, name, nn + 1);
    return p;
}

/* Why path cannot be used as an image, or NULL when it can. */
static const char *image_problem(const char *path)
{
    struct stat st;
    if (access(path, R_OK) != 0 || stat(path, &st) != 0) return strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    return NULL;
}

/* Keeps the split's images that have captions and a readable file, and
 * copies them with their captions into d. */
static int finish(Loader *L, const char *images_dir, int strict, GlmError *err)
{
    Dataset *d = L->d;
    int rc = GLM_OK;
    const char **paths = glm_calloc_array(L->n_cands, sizeof *paths);     /* (n_cands) NULL = dropped */
    size_t *start = glm_calloc_array(L->n_cands + 1, sizeof *start);      /* (n_cands + 1) */
    const char **bycand = glm_malloc_array(L->n_caps, sizeof *bycand);    /* (n_caps) grouped by candidate */
    if (!paths || !start || !bycand) goto nomem;

    size_t n_keep = 0, n_keep_caps = 0;
    char where[GLM_ERROR_LEN];
    for (size_t k = 0; k < L->n_order; k++) {
        const Candidate *c = &L->cands[L->order[k]];
        cand_where(where, sizeof where, L, c);
        if (c->n_caps == 0) {
            dataset_skip(d, DATASET_SKIP_NO_CAPTIONS, "%s: image \"%.*s\" has no usable caption", where, MSG_NAME, c->name);
            continue;
        }
        const char *path = join_path(&d->strings, images_dir, c->name);
        if (!path) goto nomem;
        const char *why = image_problem(path);
        if (why) {
            dataset_skip(d, DATASET_SKIP_MISSING_IMAGE, "%s: %s (from %s)", path, why, where);
            continue;
        }
        paths[L->order[k]] = path;
        n_keep++;
        n_keep_caps += (size_t)c->n_caps;
    }

    if (strict && dataset_n_skipped(d) > 0) {
        rc = glm_fail(err, GLM_EINPUT, "%s (strict: %d skipped in all)", d->messages[0], dataset_n_skipped(d));
        goto out;
    }
    if (n_keep == 0) {
        char summary[GLM_ERROR_LEN];
        dataset_skip_summary(summary, sizeof summary, d);
        rc = glm_fail(err, GLM_EINPUT, "%s: no usable image in this split%s%s", L->src, summary[0] ? "; " : "",
                      summary);
        goto out;
    }

    /* Counting sort of the captions by candidate keeps file order within each. */
    for (size_t i = 0; i < L->n_cands; i++) start[i + 1] = start[i] + (size_t)L->cands[i].n_caps;
    for (size_t i = 0; i < L->n_caps; i++) bycand[start[L->caps[i].cand]++] = L->caps[i].text;
    for (size_t i = L->n_cands; i > 0; i--) start[i] = start[i - 1];
    start[0] = 0;

    d->images = glm_malloc_array(n_keep, sizeof *d->images);
    d->captions = glm_malloc_array(n_keep_caps, sizeof *d->captions);
    d->caption_image = glm_malloc_array(n_keep_caps, sizeof *d->caption_image);
    if (!d->images || !d->captions || !d->caption_image) goto nomem;
    int ni = 0, nc = 0;
    for (size_t k = 0; k < L->n_order; k++) {
        int ci = L->order[k];
        if (!paths[ci]) continue;
        const Candidate *c = &L->cands[ci];
        const char *name;
        if (strmap_put(&d->by_name, c->name, ni, &name) != GLM_OK) goto nomem;
        d->images[ni] = (DatasetImage){name, paths[ci], nc, c->n_caps};
        for (int j = 0; j < c->n_caps; j++) {
            d->captions[nc] = bycand[start[ci] + (size_t)j];
            d->caption_image[nc] = ni;
            nc++;
        }
        ni++;
    }
    d->n_images = ni;
    d->n_captions = nc;
    goto out;

nomem:
    rc = nomem(err, L->src);
out:
    free(paths);
    free(start);
    free(bycand);
    return rc;
}

/* ---- the loaders --------------------------------------------------------- */

/* After the caption file was parsed into L (rc its status): selects the
 * split, fills L->d, frees L; on failure L->d is left empty. */
static int load_finish(Loader *L, int rc, const char *images_dir, int strict, GlmError *err)
{
    if (rc == GLM_OK) rc = select_split(L, err);
    if (rc == GLM_OK) rc = finish(L, images_dir, strict, err);
    loader_free(L);
    if (rc != GLM_OK) dataset_free(L->d);
    return rc;
}

/* Parses buf (the caption file, format told by is_json), selects the split
 * and fills d. Frees buf. */
static int load(Dataset *d, char *buf, size_t len, int is_json, const char *src, const char *images_dir,
                const char *split_path, int strict, GlmError *err)
{
    Loader L;
    memset(&L, 0, sizeof L);
    L.d = d;
    L.src = src;
    L.split_path = split_path;
    L.is_json = is_json;
    int rc = is_json ? coco_parse(&L, buf, len, err) : fileio_lines(buf, len, flickr_line, &L, err);
    free(buf);
    return load_finish(&L, rc, images_dir, strict, err);
}

static void dataset_init(Dataset *d) { memset(d, 0, sizeof *d); }

/* Reads a caption file and parses it as Flickr8k tokens (json 0), COCO JSON
 * (json 1), or whichever it looks like (json -1: '{' first means COCO). */
static int load_caption_file(Dataset *d, const char *path, int json, const char *images_dir,
                             const char *split_path, int strict, GlmError *err)
{
    dataset_init(d);
    char *buf;
    size_t len;
    int rc = fileio_read(&buf, &len, path, FILEIO_TEXT_MAX, err);
    if (rc != GLM_OK) return rc;
    /* A UTF-8 byte-order mark (editors on Windows write one) is not text:
     * left in, it hid the '{' of a COCO file, which was then read as a
     * Flickr token file. */
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
        memmove(buf, buf + 3, len - 2);   /* with the NUL */
        len -= 3;
    }
    if (json < 0) {
        size_t i = 0;
        while (i < len && is_space(buf[i])) i++;
        json = i < len && buf[i] == '{';
    }
    return load(d, buf, len, json, path, images_dir, split_path, strict, err);
}

int dataset_load_flickr(Dataset *d, const char *token_path, const char *images_dir, const char *split_path,
                        int strict, GlmError *err)
{
    return load_caption_file(d, token_path, 0, images_dir, split_path, strict, err);
}

int dataset_load_coco(Dataset *d, const char *json_path, const char *images_dir, const char *split_path,
                      int strict, GlmError *err)
{
    return load_caption_file(d, json_path, 1, images_dir, split_path, strict, err);
}

int dataset_load_captions(Dataset *d, const char *captions_path, const char *images_dir, const char *split_path,
                          int strict, GlmError *err)
{
    return load_caption_file(d, captions_path, -1, images_dir, split_path, strict, err);
}

int dataset_load_refs(Dataset *d, const DatasetRefImage *images, int n, const char *src, const char *images_dir,
                      const char *split_path, int strict, GlmError *err)
{
    dataset_init(d);
    Loader L;
    memset(&L, 0, sizeof L);
    L.d = d;
    L.src = src;
    L.split_path = split_path;
    int rc = GLM_OK;
    for (int i = 0; i < n && rc == GLM_OK; i++) {
        int c = candidate(&L, images[i].name, images[i].line);
        if (c < 0) rc = nomem(err, src);
        for (int k = 0; rc == GLM_OK && k < images[i].n_refs; k++)
            if (add_caption(&L, c, images[i].refs[k], strlen(images[i].refs[k])) != GLM_OK) rc = nomem(err, src);
    }
    return load_finish(&L, rc, images_dir, strict, err);
}

int dataset_load_dir(Dataset *d, const char *dir, const char *split, int strict, GlmError *err)
{
    dataset_init(d);
    if (!split || (strcmp(split, "train") != 0 && strcmp(split, "val") != 0 && strcmp(split, "test") != 0))
        return glm_fail(err, GLM_EINPUT, "%s: unknown split \"%s\" (train, val or test)", dir,
                        split ? split : "(null)");
    /* The three paths live in a small arena of their own for the call. */
    StrArena tmp = {0};
    const char *captions = join_path(&tmp, dir, "captions.tsv");
    const char *images = join_path(&tmp, dir, "images");
    size_t sn = strlen(split);
    char list_name[16];
    memcpy(list_name, split, sn);
    memcpy(list_name + sn, ".txt", 5);
    const char *list = join_path(&tmp, dir, list_name);
    int rc;
    if (!captions || !images || !list) {
        rc = nomem(err, dir);
    } else {
        char *buf;
        size_t len;
        rc = fileio_read(&buf, &len, captions, FILEIO_TEXT_MAX, err);
        if (rc == GLM_OK) rc = load(d, buf, len, 0, captions, images, list, strict, err);
    }
    /* Nothing in d points into tmp: messages are copies, image paths were
     * joined into d->strings. */
    strarena_free(&tmp);
    return rc;
}

void dataset_free(Dataset *d)
{
    free(d->images);
    free(d->captions);
    free(d->caption_image);
    free(d->ids);
    free(d->lengths);
    strarena_free(&d->strings);
    strmap_free(&d->by_name);
    dataset_init(d);
}
