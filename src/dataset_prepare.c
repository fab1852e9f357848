/* dataset_prepare.c - what every reader shares once a data set is loaded:
 * the skip bookkeeping (counts, messages, summary), finding an image by
 * name, dropping an image found unreadable later, and encoding the
 * captions with a vocabulary (dataset.h). Not here: reading any file
 * (dataset.c, dataset_objects.c, dataset_labels.c). */
#include "dataset.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts a skip of this kind and keeps its message while there is room. */
void dataset_skip(Dataset *d, int kind, const char *fmt, ...)
{
    d->skipped[kind]++;
    if (d->n_messages == DATASET_MAX_MESSAGES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->messages[d->n_messages++], GLM_ERROR_LEN, fmt, ap);
    va_end(ap);
}

int dataset_find(const Dataset *d, const char *name)
{
    const int i = strmap_get(&d->by_name, name);
    return i < d->n_images ? i : -1;   /* a dropped image maps past the end */
}

int dataset_drop_image(Dataset *d, int i, const char *why)
{
    GLM_ASSERT(i >= 0 && i < d->n_images);
    dataset_skip(d, DATASET_SKIP_MISSING_IMAGE, "%s", why);
    const DatasetImage gone = d->images[i];
    const int T = d->seq_len;
    /* its captions leave the caption arrays, the later ones move up */
    for (int c = gone.first + gone.n_captions; c < d->n_captions; c++) {
        const int to = c - gone.n_captions;
        d->captions[to] = d->captions[c];
        d->caption_image[to] = d->caption_image[c] - 1;
        if (d->ids) {
            memcpy(d->ids + (size_t)to * (size_t)T, d->ids + (size_t)c * (size_t)T, (size_t)T * sizeof *d->ids);
            d->lengths[to] = d->lengths[c];
        }
    }
    d->n_captions -= gone.n_captions;
    for (int k = i + 1; k < d->n_images; k++) {
        d->images[k - 1] = d->images[k];
        d->images[k - 1].first -= gone.n_captions;
    }
    d->n_images--;
    /* The names stay in the map (it owns their strings); the later ones
     * get their new indices, and the dropped one an index past the end,
     * which dataset_find reads as absent. */
    for (int k = i; k < d->n_images; k++)
        if (strmap_put(&d->by_name, d->images[k].name, k, NULL) != GLM_OK) return GLM_ENOMEM;
    return strmap_put(&d->by_name, gone.name, INT32_MAX, NULL);
}

int dataset_n_skipped(const Dataset *d)
{
    int n = 0;
    for (int k = 0; k < DATASET_SKIP_KINDS; k++) n += d->skipped[k];
    return n;
}

const char *dataset_skip_name(int kind)
{
    static const char *const names[DATASET_SKIP_KINDS] = {
        [DATASET_SKIP_MALFORMED] = "malformed line or entry",
        [DATASET_SKIP_EMPTY_CAPTION] = "empty caption",
        [DATASET_SKIP_UNKNOWN_ID] = "annotation of an unknown image id",
        [DATASET_SKIP_UNKNOWN_NAME] = "split-list name not in the captions",
        [DATASET_SKIP_NO_CAPTIONS] = "image without captions",
        [DATASET_SKIP_MISSING_IMAGE] = "missing or unreadable image",
    };
    GLM_ASSERT(kind >= 0 && kind < DATASET_SKIP_KINDS);
    return names[kind];
}

int dataset_skip_summary(char *out, size_t cap, const Dataset *d)
{
    int total = dataset_n_skipped(d);
    if (cap) out[0] = 0;
    if (total == 0 || cap == 0) return 0;
    size_t used = 0;
    int w = snprintf(out, cap, "skipped %d:", total);
    used = w > 0 ? GLM_MIN((size_t)w, cap - 1) : 0;
    const char *sep = " ";
    for (int k = 0; k < DATASET_SKIP_KINDS; k++) {
        if (!d->skipped[k]) continue;
        w = snprintf(out + used, cap - used, "%s%d x %s", sep, d->skipped[k], dataset_skip_name(k));
        used += w > 0 ? GLM_MIN((size_t)w, cap - 1 - used) : 0;
        sep = ", ";
    }
    return 1;
}

int dataset_encode(Dataset *d, const Vocab *v, int max_words, GlmError *err)
{
    if (max_words < 1 || max_words > 100000)
        return glm_fail(err, GLM_EINPUT, "maximum caption length must be in [1, 100000], not %d", max_words);
    int T = max_words + 2;
    int *ids = glm_malloc_array((size_t)d->n_captions * (size_t)T, sizeof *ids);   /* (n_captions, T) */
    int *lengths = glm_malloc_array((size_t)d->n_captions, sizeof *lengths);      /* (n_captions) */
    if (!ids || !lengths) {
        free(ids);
        free(lengths);
        return glm_fail(err, GLM_ENOMEM, "out of memory encoding %d captions", d->n_captions);
    }
    int n_trunc = 0;
    long n_unk = 0;
    for (int c = 0; c < d->n_captions; c++) {
        int *row = ids + (size_t)c * (size_t)T;
        int cut;
        int rc = vocab_encode(row, &lengths[c], &cut, v, d->captions[c], max_words, err);
        if (rc != GLM_OK) {
            free(ids);
            free(lengths);
            return rc;
        }
        n_trunc += cut;
        for (int t = 1; t < lengths[c] - 1; t++) n_unk += row[t] == VOCAB_UNK;
    }
    free(d->ids);
    free(d->lengths);
    d->ids = ids;
    d->lengths = lengths;
    d->seq_len = T;
    d->n_truncated = n_trunc;
    d->n_unk = n_unk;
    return GLM_OK;
}
